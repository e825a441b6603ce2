package k8s_test

import (
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/newswatch/newswatch/pkg/config"
)

// natsChartKeys are the NATS chart 1.x values deploy/nats may set, as the
// chart's values.yaml documents them. A path ending in "*" takes any
// subtree (the chart's merge/patch hooks and free-form maps). Helm ignores
// unknown keys silently, so a typo here would quietly deploy defaults.
var natsChartKeys = []string{
	"config.cluster.enabled",
	"config.cluster.replicas",
	"config.jetstream.enabled",
	"config.jetstream.fileStore.enabled",
	"config.jetstream.fileStore.dir",
	"config.jetstream.fileStore.maxSize",
	"config.jetstream.fileStore.pvc.enabled",
	"config.jetstream.fileStore.pvc.size",
	"config.jetstream.fileStore.pvc.storageClassName",
	"config.jetstream.memoryStore.enabled",
	"config.jetstream.memoryStore.maxSize",
	"config.monitor.enabled",
	"config.monitor.port",
	"container.env.*",
	"container.merge.*",
	"podTemplate.topologySpreadConstraints.*",
	"podDisruptionBudget.enabled",
	"natsBox.enabled",
	"promExporter.enabled",
	"promExporter.podMonitor.enabled",
	"promExporter.podMonitor.merge.*",
}

func leafPaths(prefix string, v any, out *[]string) {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		*out = append(*out, prefix)
		return
	}
	for k, sub := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		if slices.Contains(natsChartKeys, p+".*") {
			*out = append(*out, p+".*")
			continue
		}
		leafPaths(p, sub, out)
	}
}

func loadValues(t *testing.T, files ...string) (map[string]any, []string) {
	t.Helper()
	merged := map[string]any{}
	var paths []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if err := yaml.Unmarshal(data, &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		leafPaths("", v, &paths)
		mergeValues(merged, v)
	}
	return merged, paths
}

// mergeValues merges src into dst the way Helm merges several -f files.
func mergeValues(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				mergeValues(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

func lookup(v map[string]any, path string) any {
	var cur any = v
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

func TestNATSValues(t *testing.T) {
	for _, tc := range []struct {
		name        string
		files       []string
		config      string // newswatch config.yaml run against this NATS
		clustered   bool
		natsServers float64
	}{
		{"prod", []string{"../deploy/nats/values.yaml"}, "base/config.yaml", true, 3},
		{"dev", []string{"../deploy/nats/values.yaml", "../deploy/nats/values-dev.yaml"}, "overlays/dev/config.yaml", false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, paths := loadValues(t, tc.files...)
			sort.Strings(paths)
			for _, p := range slices.Compact(paths) {
				if !slices.Contains(natsChartKeys, p) {
					t.Errorf("%s is not a value the NATS chart documents", p)
				}
			}
			if got := lookup(v, "config.cluster.enabled"); got != tc.clustered {
				t.Errorf("config.cluster.enabled = %v, want %v", got, tc.clustered)
			}
			if lookup(v, "config.jetstream.enabled") != true || lookup(v, "config.jetstream.fileStore.pvc.enabled") != true {
				t.Error("JetStream must be enabled with file storage on a PVC")
			}
			data, err := os.ReadFile(tc.config)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Parse(data, tc.config, nil)
			if err != nil {
				t.Fatal(err)
			}
			servers := 1.0
			if tc.clustered {
				servers, _ = lookup(v, "config.cluster.replicas").(float64)
			}
			if servers != tc.natsServers || float64(cfg.NATS.Replicas) > servers {
				t.Errorf("%s asks for nats.replicas %d on %v NATS servers", tc.config, cfg.NATS.Replicas, servers)
			}
			// Every server stores one replica of each stream, so its file
			// store must hold all stream limits at once.
			streams := cfg.Streams.Articles.MaxBytes + cfg.Streams.Analyzed.MaxBytes + cfg.Streams.Alerts.MaxBytes
			maxSize, err := resource.ParseQuantity(lookup(v, "config.jetstream.fileStore.maxSize").(string))
			if err != nil {
				t.Fatalf("config.jetstream.fileStore.maxSize: %v", err)
			}
			pvc, err := resource.ParseQuantity(lookup(v, "config.jetstream.fileStore.pvc.size").(string))
			if err != nil {
				t.Fatalf("config.jetstream.fileStore.pvc.size: %v", err)
			}
			if maxSize.Value() < streams {
				t.Errorf("fileStore.maxSize %s is below the %d bytes the streams in %s may hold", maxSize.String(), streams, tc.config)
			}
			if maxSize.Cmp(pvc) >= 0 {
				t.Errorf("fileStore.maxSize %s must stay below the volume size %s", maxSize.String(), pvc.String())
			}
		})
	}
}
