package k8s_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/delivery"
	"github.com/newswatch/newswatch/pkg/topology"
)

var update = flag.Bool("update", false, "rewrite the monitoring component's copies of deploy/prometheus/rules.yaml and deploy/grafana/newswatch.json")

// overlayWant is what each overlay must render to.
type overlayWant struct {
	// replicas per worker; -1 means the field must be absent because an
	// autoscaler owns it.
	replicas     map[string]int32
	natsReplicas int
	monitoring   bool
	autoscaler   string // "", "keda" or "hpa"
}

var overlays = map[string]overlayWant{
	"dev": {
		replicas:     map[string]int32{"fetcher": 1, "analyzer": 1, "notifier": 1},
		natsReplicas: 1,
	},
	"prod": {
		replicas:     map[string]int32{"fetcher": 2, "analyzer": -1, "notifier": -1},
		natsReplicas: 3,
		monitoring:   true,
		autoscaler:   "keda",
	},
	"prod-hpa": {
		replicas:     map[string]int32{"fetcher": 2, "analyzer": -1, "notifier": -1},
		natsReplicas: 3,
		monitoring:   true,
		autoscaler:   "hpa",
	},
}

var workers = []string{"fetcher", "analyzer", "notifier"}

// rendered is one overlay's output, decoded.
type rendered struct {
	deployments     map[string]*appsv1.Deployment // by component
	configMaps      map[string]*corev1.ConfigMap  // by name
	services        []*corev1.Service
	pdbs            []*policyv1.PodDisruptionBudget
	netpols         []*networkingv1.NetworkPolicy
	hpas            []*autoscalingv2.HorizontalPodAutoscaler
	scaledObjects   []*scaledObject
	serviceMonitors []*monitoringv1.ServiceMonitor
	rules           []*monitoringv1.PrometheusRule
	kinds           map[string]int
}

// scaledObject is the part of KEDA's ScaledObject (keda.sh/v1alpha1) that
// newswatch uses. KEDA's Go module is too heavy to import for a test, so
// this structural copy is decoded strictly instead: a misspelt field fails.
type scaledObject struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metadataForStruct `json:"metadata"`
	Spec       struct {
		ScaleTargetRef struct {
			APIVersion string `json:"apiVersion,omitempty"`
			Kind       string `json:"kind,omitempty"`
			Name       string `json:"name"`
		} `json:"scaleTargetRef"`
		PollingInterval *int32 `json:"pollingInterval,omitempty"`
		CooldownPeriod  *int32 `json:"cooldownPeriod,omitempty"`
		MinReplicaCount *int32 `json:"minReplicaCount,omitempty"`
		MaxReplicaCount *int32 `json:"maxReplicaCount,omitempty"`
		Advanced        *struct {
			HorizontalPodAutoscalerConfig *struct {
				Name     string                                         `json:"name,omitempty"`
				Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior,omitempty"`
			} `json:"horizontalPodAutoscalerConfig,omitempty"`
			RestoreToOriginalReplicaCount bool `json:"restoreToOriginalReplicaCount,omitempty"`
		} `json:"advanced,omitempty"`
		Triggers []struct {
			Type              string            `json:"type"`
			Name              string            `json:"name,omitempty"`
			Metadata          map[string]string `json:"metadata"`
			AuthenticationRef *struct {
				Name string `json:"name"`
				Kind string `json:"kind,omitempty"`
			} `json:"authenticationRef,omitempty"`
		} `json:"triggers"`
	} `json:"spec"`
}

type metadataForStruct struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// kustomize renders an overlay with kubectl (or a standalone kustomize).
func kustomize(t *testing.T, dir string) []byte {
	t.Helper()
	var cmd *exec.Cmd
	if p, err := exec.LookPath("kubectl"); err == nil {
		cmd = exec.Command(p, "kustomize", dir)
	} else if p, err := exec.LookPath("kustomize"); err == nil {
		cmd = exec.Command(p, "build", dir)
	} else {
		if os.Getenv("NEWSWATCH_REQUIRE_KUBECTL") != "" {
			t.Fatalf("kubectl is not on PATH and NEWSWATCH_REQUIRE_KUBECTL is set: install kubectl (.ci/deploy-checks does) to render %s", dir)
		}
		t.Skipf("kubectl is not on PATH: skipping the render of %s (set NEWSWATCH_REQUIRE_KUBECTL=1 to make this a failure)", dir)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
	}
	return out
}

// decodeStrict decodes one JSON object into v and fails on any field v's
// type does not have.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the object")
	}
	return nil
}

// decodeAll splits a rendered YAML stream and decodes each object strictly.
func decodeAll(t *testing.T, stream []byte) *rendered {
	t.Helper()
	r := &rendered{
		deployments: map[string]*appsv1.Deployment{},
		configMaps:  map[string]*corev1.ConfigMap{},
		kinds:       map[string]int{},
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(stream)))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("splitting the rendered YAML: %v", err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			t.Fatalf("converting YAML to JSON: %v\n%s", err, doc)
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(js, &head); err != nil {
			t.Fatalf("reading apiVersion and kind: %v", err)
		}
		gvk := head.APIVersion + "/" + head.Kind
		r.kinds[gvk]++
		var obj any
		switch gvk {
		case "v1/Namespace":
			obj = &corev1.Namespace{}
		case "v1/ServiceAccount":
			obj = &corev1.ServiceAccount{}
		case "v1/ConfigMap":
			obj = &corev1.ConfigMap{}
		case "v1/Service":
			s := &corev1.Service{}
			obj = s
			r.services = append(r.services, s)
		case "apps/v1/Deployment":
			obj = &appsv1.Deployment{}
		case "policy/v1/PodDisruptionBudget":
			p := &policyv1.PodDisruptionBudget{}
			obj = p
			r.pdbs = append(r.pdbs, p)
		case "networking.k8s.io/v1/NetworkPolicy":
			n := &networkingv1.NetworkPolicy{}
			obj = n
			r.netpols = append(r.netpols, n)
		case "autoscaling/v2/HorizontalPodAutoscaler":
			h := &autoscalingv2.HorizontalPodAutoscaler{}
			obj = h
			r.hpas = append(r.hpas, h)
		case "keda.sh/v1alpha1/ScaledObject":
			s := &scaledObject{}
			obj = s
			r.scaledObjects = append(r.scaledObjects, s)
		case "monitoring.coreos.com/v1/ServiceMonitor":
			s := &monitoringv1.ServiceMonitor{}
			obj = s
			r.serviceMonitors = append(r.serviceMonitors, s)
		case "monitoring.coreos.com/v1/PrometheusRule":
			p := &monitoringv1.PrometheusRule{}
			obj = p
			r.rules = append(r.rules, p)
		default:
			t.Fatalf("%s %q: no Go type to check this kind against; add one to decodeAll", gvk, head.Metadata.Name)
		}
		if err := decodeStrict(js, obj); err != nil {
			t.Fatalf("%s %q does not decode strictly into its type: %v", gvk, head.Metadata.Name, err)
		}
		// Maps are keyed by decoded fields, so they are filled only now.
		switch o := obj.(type) {
		case *corev1.ConfigMap:
			r.configMaps[o.Name] = o
		case *appsv1.Deployment:
			r.deployments[o.Spec.Template.Labels["app.kubernetes.io/component"]] = o
		}
	}
	return r
}

func renderOverlay(t *testing.T, name string) *rendered {
	t.Helper()
	return decodeAll(t, kustomize(t, path.Join("overlays", name)))
}

func TestOverlaysRender(t *testing.T) {
	for name, want := range overlays {
		t.Run(name, func(t *testing.T) {
			r := renderOverlay(t, name)
			for _, w := range workers {
				d, ok := r.deployments[w]
				if !ok {
					t.Fatalf("no Deployment for the %s", w)
				}
				t.Run(w, func(t *testing.T) {
					checkDeployment(t, r, d, w, want)
				})
			}
			checkDisruptionBudgets(t, r)
			checkServices(t, r)
			checkNetworkPolicies(t, r)
			checkAutoscaling(t, r, want)
			checkMonitoring(t, r, want)
		})
	}
}

func checkDeployment(t *testing.T, r *rendered, d *appsv1.Deployment, component string, want overlayWant) {
	podLabels := labels.Set(d.Spec.Template.Labels)
	if podLabels["app.kubernetes.io/name"] != "newswatch" || podLabels["app.kubernetes.io/component"] != component {
		t.Errorf("pod labels %v: want app.kubernetes.io/name=newswatch and app.kubernetes.io/component=%s", podLabels, component)
	}
	sel, err := metav1LabelSelector(d.Spec.Selector)
	if err != nil || !sel.Matches(podLabels) {
		t.Errorf("selector %v does not match the pod labels %v", d.Spec.Selector, podLabels)
	}
	switch n := want.replicas[component]; {
	case n < 0 && d.Spec.Replicas != nil:
		t.Errorf("spec.replicas is %d; the autoscaler owns it, so the manifest must leave it out", *d.Spec.Replicas)
	case n >= 0 && (d.Spec.Replicas == nil || *d.Spec.Replicas != n):
		t.Errorf("spec.replicas = %v, want %d", d.Spec.Replicas, n)
	}

	pod := d.Spec.Template.Spec
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("automountServiceAccountToken must be false: the workers never call the Kubernetes API")
	}
	if len(pod.TopologySpreadConstraints) == 0 {
		t.Error("no topologySpreadConstraints")
	}
	for _, c := range pod.TopologySpreadConstraints {
		s, err := metav1LabelSelector(c.LabelSelector)
		if err != nil || !s.Matches(podLabels) {
			t.Errorf("topology spread on %s selects %v, not this Deployment's pods", c.TopologyKey, c.LabelSelector)
		}
	}
	psc := pod.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	// 65532 is distroless' nonroot user, which owns /var/lib/newswatch in
	// the image (TestDockerfile).
	if psc.RunAsUser == nil || *psc.RunAsUser != 65532 {
		t.Errorf("pod runAsUser %v, want 65532 (the image's nonroot user)", psc.RunAsUser)
	}
	containers := append(slices.Clone(pod.InitContainers), pod.Containers...)
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	for _, c := range containers {
		checkContainerSecurity(t, c, psc)
	}
	c := pod.Containers[0]
	if !strings.HasPrefix(c.Image, "ghcr.io/newswatch/newswatch:") {
		t.Errorf("image %q is not the newswatch image with a tag", c.Image)
	}
	if want := []string{"/usr/local/bin/" + component}; !slices.Equal(c.Command, want) {
		t.Errorf("command %v, want %v (the Dockerfile installs the binaries there)", c.Command, want)
	}
	checkResources(t, c)
	port := checkProbes(t, c)
	checkConfig(t, r, d, c, port, want)
}

func checkContainerSecurity(t *testing.T, c corev1.Container, psc *corev1.PodSecurityContext) {
	sc := c.SecurityContext
	if sc == nil {
		t.Errorf("container %s: no securityContext", c.Name)
		return
	}
	nonRoot := sc.RunAsNonRoot
	if nonRoot == nil {
		nonRoot = psc.RunAsNonRoot
	}
	if nonRoot == nil || !*nonRoot {
		t.Errorf("container %s: runAsNonRoot is not true", c.Name)
	}
	if uid := sc.RunAsUser; uid != nil && *uid == 0 {
		t.Errorf("container %s: runAsUser 0", c.Name)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("container %s: readOnlyRootFilesystem is not true", c.Name)
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("container %s: allowPrivilegeEscalation is not false", c.Name)
	}
	if sc.Privileged != nil && *sc.Privileged {
		t.Errorf("container %s: privileged", c.Name)
	}
	if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Errorf("container %s: capabilities do not drop ALL", c.Name)
	} else if len(sc.Capabilities.Add) > 0 {
		t.Errorf("container %s: adds capabilities %v", c.Name, sc.Capabilities.Add)
	}
	seccomp := sc.SeccompProfile
	if seccomp == nil {
		seccomp = psc.SeccompProfile
	}
	if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("container %s: seccompProfile is not RuntimeDefault", c.Name)
	}
}

func checkResources(t *testing.T, c corev1.Container) {
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, okReq := c.Resources.Requests[res]
		lim, okLim := c.Resources.Limits[res]
		if !okReq || !okLim {
			t.Errorf("container %s: %s needs both a request and a limit", c.Name, res)
			continue
		}
		if req.Cmp(lim) > 0 {
			t.Errorf("container %s: %s request %s is above the limit %s", c.Name, res, req.String(), lim.String())
		}
	}
}

// checkProbes checks the liveness and readiness probes and returns the
// container port they and the metrics Service use.
func checkProbes(t *testing.T, c corev1.Container) int32 {
	var metrics int32
	for _, p := range c.Ports {
		if p.Name == "metrics" {
			metrics = p.ContainerPort
		}
	}
	if metrics == 0 {
		t.Fatalf("container %s: no port named metrics", c.Name)
	}
	for _, tc := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{
		{"livenessProbe", c.LivenessProbe, "/healthz"},
		{"readinessProbe", c.ReadinessProbe, "/readyz"},
		{"startupProbe", c.StartupProbe, "/healthz"},
	} {
		if tc.probe == nil || tc.probe.HTTPGet == nil {
			t.Errorf("container %s: %s is not an HTTP probe", c.Name, tc.name)
			continue
		}
		g := tc.probe.HTTPGet
		if g.Path != tc.path {
			t.Errorf("container %s: %s path %q, want %q", c.Name, tc.name, g.Path, tc.path)
		}
		if g.Port.String() != "metrics" && g.Port.IntValue() != int(metrics) {
			t.Errorf("container %s: %s port %s is not the metrics port", c.Name, tc.name, g.Port.String())
		}
	}
	return metrics
}

// checkConfig loads the ConfigMap's config.yaml with newswatch's own config
// loader and the container's environment, as the binary will.
func checkConfig(t *testing.T, r *rendered, d *appsv1.Deployment, c corev1.Container, port int32, want overlayWant) {
	i := slices.Index(c.Args, "-config")
	if i < 0 || i+1 >= len(c.Args) {
		t.Fatalf("args %v do not pass -config FILE", c.Args)
	}
	file := c.Args[i+1]
	mount, ok := mountFor(c, file)
	if !ok {
		t.Fatalf("-config %s is not on a mounted volume", file)
	}
	var cmName string
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Name == mount.Name && v.ConfigMap != nil {
			cmName = v.ConfigMap.Name
		}
	}
	cm, ok := r.configMaps[cmName]
	if !ok {
		t.Fatalf("-config %s: volume %q is not a ConfigMap from this overlay", file, mount.Name)
	}
	key := strings.TrimPrefix(strings.TrimPrefix(file, mount.MountPath), "/")
	data, ok := cm.Data[key]
	if !ok {
		t.Fatalf("ConfigMap %s has no key %q", cmName, key)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env[e.Name] = e.Value
		}
	}
	cfg, err := config.Parse([]byte(data), cmName+"/"+key, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("the mounted config does not load: %v", err)
	}
	if cfg.Embedded() {
		t.Error("nats.url is empty: the workers would each start an embedded NATS server")
	}
	if cfg.NATS.Replicas != want.natsReplicas {
		t.Errorf("nats.replicas = %d, want %d", cfg.NATS.Replicas, want.natsReplicas)
	}
	host, p, err := net.SplitHostPort(cfg.HTTP.Listen)
	if err != nil || p != fmt.Sprint(port) || (host != "0.0.0.0" && host != "" && host != "::") {
		t.Errorf("http.listen %q: probes and Prometheus reach the pod on port %d of its address, so it must listen on 0.0.0.0:%d", cfg.HTTP.Listen, port, port)
	}
	if cfg.Log.Format != "json" {
		t.Errorf("log.format %q: cluster log collectors want json", cfg.Log.Format)
	}
	// Every *_file a sink or the NATS connection names must be on a volume
	// of a container that reads it: the notifier for sinks, every worker for
	// NATS credentials.
	var files []string
	for _, f := range []string{cfg.NATS.CredentialsFile, cfg.NATS.NKeySeedFile, cfg.NATS.PasswordFile, cfg.NATS.TokenFile, cfg.NATS.TLS.CAFile, cfg.NATS.TLS.CertFile, cfg.NATS.TLS.KeyFile} {
		if f != "" {
			files = append(files, f)
		}
	}
	if d.Spec.Template.Labels["app.kubernetes.io/component"] == "notifier" {
		for _, s := range cfg.Sinks {
			var spec map[string]any
			if err := s.Spec.Decode(&spec); err != nil {
				t.Fatalf("sink %s: %v", s.Name, err)
			}
			for k, v := range spec {
				if strings.HasSuffix(k, "_file") {
					files = append(files, fmt.Sprint(v))
				}
			}
		}
	}
	for _, f := range files {
		if _, ok := mountFor(c, f); !ok {
			t.Errorf("config names file %s, which is on no volume mounted in container %s", f, c.Name)
		}
	}
	for _, s := range cfg.Sinks {
		var spec map[string]any
		_ = s.Spec.Decode(&spec)
		for _, k := range []string{"secret", "password", "token"} {
			if _, ok := spec[k]; ok {
				t.Errorf("sink %s has a literal %q in the ConfigMap; mount it from a Secret and use %s_file", s.Name, k, k)
			}
		}
	}
}

func mountFor(c corev1.Container, file string) (corev1.VolumeMount, bool) {
	for _, m := range c.VolumeMounts {
		if strings.HasPrefix(file, strings.TrimSuffix(m.MountPath, "/")+"/") {
			return m, true
		}
	}
	return corev1.VolumeMount{}, false
}

func checkDisruptionBudgets(t *testing.T, r *rendered) {
	for _, w := range workers {
		pods := labels.Set(r.deployments[w].Spec.Template.Labels)
		n := 0
		for _, p := range r.pdbs {
			s, err := metav1LabelSelector(p.Spec.Selector)
			if err == nil && s.Matches(pods) {
				n++
				if p.Spec.MaxUnavailable == nil && p.Spec.MinAvailable == nil {
					t.Errorf("PodDisruptionBudget %s sets neither maxUnavailable nor minAvailable", p.Name)
				}
			}
		}
		if n != 1 {
			t.Errorf("%s pods are covered by %d PodDisruptionBudgets, want 1", w, n)
		}
	}
}

func checkServices(t *testing.T, r *rendered) {
	for _, w := range workers {
		pods := labels.Set(r.deployments[w].Spec.Template.Labels)
		found := false
		for _, s := range r.services {
			if len(s.Spec.Selector) == 0 || !labels.SelectorFromSet(s.Spec.Selector).Matches(pods) {
				continue
			}
			if s.Name != "newswatch-"+w {
				t.Errorf("Service %s selects the %s pods; the alert rules expect the job (Service name) newswatch-%s", s.Name, w, w)
			}
			for _, p := range s.Spec.Ports {
				if p.Name == "metrics" && p.TargetPort.String() == "metrics" {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("no Service exposes the metrics port of the %s pods", w)
		}
	}
}

// privateRanges must be excluded from every internet egress rule.
var privateRanges = []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "127.0.0.0/8", "100.64.0.0/10"}

func checkNetworkPolicies(t *testing.T, r *rendered) {
	type egress struct{ nats, dnsUDP, dnsTCP bool }
	for _, w := range workers {
		pods := labels.Set(r.deployments[w].Spec.Template.Labels)
		var got egress
		ingressIsolated, egressIsolated := false, false
		var internetPorts []int
		for _, np := range r.netpols {
			s, err := metav1LabelSelector(&np.Spec.PodSelector)
			if err != nil || !s.Matches(pods) {
				continue
			}
			for _, pt := range np.Spec.PolicyTypes {
				ingressIsolated = ingressIsolated || pt == networkingv1.PolicyTypeIngress
				egressIsolated = egressIsolated || pt == networkingv1.PolicyTypeEgress
			}
			for _, in := range np.Spec.Ingress {
				if len(in.From) == 0 {
					t.Errorf("NetworkPolicy %s: an ingress rule with no from admits everyone", np.Name)
				}
				for _, peer := range in.From {
					if peer.IPBlock != nil || peer.NamespaceSelector == nil || peer.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != "monitoring" {
						t.Errorf("NetworkPolicy %s: ingress from %+v; only the monitoring namespace may connect", np.Name, peer)
					}
				}
				for _, p := range in.Ports {
					if p.Port == nil || (p.Port.String() != "metrics" && p.Port.IntValue() != 9090) {
						t.Errorf("NetworkPolicy %s: ingress port %v; only the metrics port is open", np.Name, p.Port)
					}
				}
				if len(in.Ports) == 0 {
					t.Errorf("NetworkPolicy %s: ingress rule opens every port", np.Name)
				}
			}
			for _, eg := range np.Spec.Egress {
				if len(eg.To) == 0 || len(eg.Ports) == 0 {
					t.Errorf("NetworkPolicy %s: an egress rule without peers or ports opens everything", np.Name)
					continue
				}
				for _, peer := range eg.To {
					switch {
					case peer.IPBlock != nil:
						checkIPBlock(t, np.Name, peer.IPBlock)
						for _, p := range eg.Ports {
							internetPorts = append(internetPorts, p.Port.IntValue())
						}
					case peer.NamespaceSelector != nil && peer.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] == "nats":
						if peer.PodSelector == nil || peer.PodSelector.MatchLabels["app.kubernetes.io/name"] != "nats" {
							t.Errorf("NetworkPolicy %s: the NATS rule admits any pod of namespace nats", np.Name)
						}
						for _, p := range eg.Ports {
							got.nats = got.nats || p.Port.IntValue() == 4222
						}
					case peer.NamespaceSelector != nil && peer.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] == "kube-system":
						if peer.PodSelector == nil || peer.PodSelector.MatchLabels["k8s-app"] != "kube-dns" {
							t.Errorf("NetworkPolicy %s: the DNS rule admits any kube-system pod", np.Name)
						}
						for _, p := range eg.Ports {
							if p.Port.IntValue() != 53 {
								t.Errorf("NetworkPolicy %s: DNS rule opens port %v", np.Name, p.Port)
							}
							got.dnsUDP = got.dnsUDP || (p.Protocol != nil && *p.Protocol == corev1.ProtocolUDP)
							got.dnsTCP = got.dnsTCP || (p.Protocol != nil && *p.Protocol == corev1.ProtocolTCP)
						}
					default:
						t.Errorf("NetworkPolicy %s: unexpected egress peer %+v", np.Name, peer)
					}
				}
			}
		}
		if !ingressIsolated || !egressIsolated {
			t.Errorf("%s pods are not isolated for both ingress and egress", w)
		}
		if !got.nats || !got.dnsUDP || !got.dnsTCP {
			t.Errorf("%s pods: egress to NATS 4222 %v, DNS UDP %v, DNS TCP %v; all three are needed", w, got.nats, got.dnsUDP, got.dnsTCP)
		}
		slices.Sort(internetPorts)
		internetPorts = slices.Compact(internetPorts)
		var allowed []int
		switch w {
		case "fetcher":
			allowed = []int{80, 443}
		case "notifier":
			allowed = []int{80, 443, 465, 587}
		}
		if !slices.Equal(internetPorts, allowed) {
			t.Errorf("%s pods may reach the internet on ports %v, want %v", w, internetPorts, allowed)
		}
	}
}

func checkIPBlock(t *testing.T, policy string, b *networkingv1.IPBlock) {
	_, all, err := net.ParseCIDR(b.CIDR)
	if err != nil {
		t.Errorf("NetworkPolicy %s: bad cidr %q", policy, b.CIDR)
		return
	}
	if all.IP.To4() == nil {
		for _, want := range []string{"fc00::/7", "fe80::/10", "::1/128"} {
			if !slices.Contains(b.Except, want) {
				t.Errorf("NetworkPolicy %s: %s does not except %s", policy, b.CIDR, want)
			}
		}
		return
	}
	for _, want := range privateRanges {
		if !slices.Contains(b.Except, want) {
			t.Errorf("NetworkPolicy %s: %s does not except %s", policy, b.CIDR, want)
		}
	}
}

func checkAutoscaling(t *testing.T, r *rendered, want overlayWant) {
	targets := map[string]string{} // Deployment name -> scaler kind
	claim := func(name, by string) {
		if _, ok := r.deploymentByName(name); !ok {
			t.Errorf("%s targets Deployment %q, which this overlay does not render", by, name)
		}
		if prev, ok := targets[name]; ok {
			t.Errorf("Deployment %s is scaled by both %s and %s; they would fight", name, prev, by)
		}
		targets[name] = by
	}
	for _, h := range r.hpas {
		if h.Spec.ScaleTargetRef.Kind != "Deployment" {
			t.Errorf("HPA %s targets a %s", h.Name, h.Spec.ScaleTargetRef.Kind)
		}
		claim(h.Spec.ScaleTargetRef.Name, "HPA "+h.Name)
	}
	wantTrigger := map[string]string{
		topology.StreamArticles: topology.ConsumerAnalyzer,
		topology.StreamAnalyzed: topology.ConsumerNotifier,
		topology.StreamAlerts:   "", // delivery-<sink>, checked below
	}
	for _, so := range r.scaledObjects {
		claim(so.Spec.ScaleTargetRef.Name, "ScaledObject "+so.Metadata.Name)
		if so.Spec.MinReplicaCount == nil || *so.Spec.MinReplicaCount < 1 {
			t.Errorf("ScaledObject %s may scale to zero; a consumer with no replica lets the backlog sit unseen", so.Metadata.Name)
		}
		if len(so.Spec.Triggers) == 0 {
			t.Errorf("ScaledObject %s has no triggers", so.Metadata.Name)
		}
		for _, tr := range so.Spec.Triggers {
			if tr.Type != "nats-jetstream" {
				t.Errorf("ScaledObject %s: trigger type %q, want nats-jetstream", so.Metadata.Name, tr.Type)
				continue
			}
			for _, k := range []string{"natsServerMonitoringEndpoint", "account", "stream", "consumer", "lagThreshold"} {
				if tr.Metadata[k] == "" {
					t.Errorf("ScaledObject %s: nats-jetstream trigger lacks %s", so.Metadata.Name, k)
				}
			}
			for k := range tr.Metadata {
				if !slices.Contains([]string{"natsServerMonitoringEndpoint", "account", "stream", "consumer", "lagThreshold", "activationLagThreshold", "useHttps"}, k) {
					t.Errorf("ScaledObject %s: the nats-jetstream scaler has no metadata key %q", so.Metadata.Name, k)
				}
			}
			c, ok := wantTrigger[tr.Metadata["stream"]]
			valid := ok && c == tr.Metadata["consumer"]
			if tr.Metadata["stream"] == topology.StreamAlerts {
				// One delivery consumer per sink: delivery-<sink name>.
				sinkName, isDelivery := strings.CutPrefix(tr.Metadata["consumer"], delivery.ConsumerName(""))
				valid = isDelivery && sinkName != ""
			}
			if !valid {
				t.Errorf("ScaledObject %s: stream %q consumer %q is not one of newswatch's durable consumers", so.Metadata.Name, tr.Metadata["stream"], tr.Metadata["consumer"])
			}
			if _, _, err := net.SplitHostPort(tr.Metadata["natsServerMonitoringEndpoint"]); err != nil {
				t.Errorf("ScaledObject %s: natsServerMonitoringEndpoint %q is not host:port", so.Metadata.Name, tr.Metadata["natsServerMonitoringEndpoint"])
			}
		}
	}
	for _, w := range []string{"analyzer", "notifier"} {
		by := targets["newswatch-"+w]
		switch want.autoscaler {
		case "keda":
			if !strings.HasPrefix(by, "ScaledObject") {
				t.Errorf("newswatch-%s is scaled by %q, want a KEDA ScaledObject", w, by)
			}
		case "hpa":
			if !strings.HasPrefix(by, "HPA") {
				t.Errorf("newswatch-%s is scaled by %q, want an HPA", w, by)
			}
		case "":
			if by != "" {
				t.Errorf("newswatch-%s is scaled by %s in an overlay without autoscaling", w, by)
			}
		}
	}
	if _, ok := targets["newswatch-fetcher"]; ok {
		t.Error("the fetcher is autoscaled; its load follows the feed list, not a queue, and leases already spread it")
	}
}

func (r *rendered) deploymentByName(name string) (*appsv1.Deployment, bool) {
	for _, d := range r.deployments {
		if d.Name == name {
			return d, true
		}
	}
	return nil, false
}

func checkMonitoring(t *testing.T, r *rendered, want overlayWant) {
	if !want.monitoring {
		if len(r.serviceMonitors)+len(r.rules) > 0 {
			t.Error("Prometheus Operator objects in an overlay meant for clusters without the operator")
		}
		return
	}
	if len(r.serviceMonitors) != 1 {
		t.Fatalf("%d ServiceMonitors, want 1", len(r.serviceMonitors))
	}
	sm := r.serviceMonitors[0]
	sel, err := metav1LabelSelector(&sm.Spec.Selector)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range workers {
		found := false
		for _, s := range r.services {
			if s.Name == "newswatch-"+w && sel.Matches(labels.Set(s.Labels)) {
				found = true
			}
		}
		if !found {
			t.Errorf("ServiceMonitor %s does not select the Service newswatch-%s", sm.Name, w)
		}
	}
	if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "metrics" || sm.Spec.Endpoints[0].Path != "/metrics" {
		t.Errorf("ServiceMonitor endpoints %+v: want port metrics, path /metrics", sm.Spec.Endpoints)
	}
	if sm.Spec.JobLabel != "" {
		t.Errorf("ServiceMonitor jobLabel %q: the rules expect job to be the Service name", sm.Spec.JobLabel)
	}
	if len(r.rules) != 1 {
		t.Fatalf("%d PrometheusRules, want 1", len(r.rules))
	}
	fileSpec := loadRulesFile(t)
	gotJSON, _ := json.Marshal(r.rules[0].Spec)
	wantJSON, _ := json.Marshal(fileSpec)
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Error("the rendered PrometheusRule differs from deploy/prometheus/rules.yaml; run go test ./k8s -run TestMonitoringCopies -update")
	}
	var dash *corev1.ConfigMap
	for _, cm := range r.configMaps {
		if cm.Labels["grafana_dashboard"] == "1" {
			dash = cm
		}
	}
	if dash == nil {
		t.Fatal("no ConfigMap labelled grafana_dashboard=1 for the Grafana sidecar")
	}
	src, err := os.ReadFile("../deploy/grafana/newswatch.json")
	if err != nil {
		t.Fatal(err)
	}
	if dash.Data["newswatch.json"] != string(src) {
		t.Error("the dashboard ConfigMap differs from deploy/grafana/newswatch.json; run go test ./k8s -run TestMonitoringCopies -update")
	}
}

// loadRulesFile decodes deploy/prometheus/rules.yaml strictly into the
// Prometheus Operator's rule types.
func loadRulesFile(t *testing.T) monitoringv1.PrometheusRuleSpec {
	t.Helper()
	data, err := os.ReadFile("../deploy/prometheus/rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatalf("deploy/prometheus/rules.yaml: %v", err)
	}
	var spec monitoringv1.PrometheusRuleSpec
	if err := decodeStrict(js, &spec); err != nil {
		t.Fatalf("deploy/prometheus/rules.yaml does not decode strictly as PrometheusRule groups: %v", err)
	}
	return spec
}
