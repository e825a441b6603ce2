package k8s_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/pkg/config"
)

// heredocs returns the files docs/deploy.md writes with cat > FILE <<'EOF'.
func heredocs(t *testing.T) map[string]string {
	t.Helper()
	md, err := os.ReadFile("../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?s)cat > (\S+) <<'EOF'\n(.*?)\nEOF\n`)
	files := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(string(md), -1) {
		files[m[1]] = m[2] + "\n"
	}
	return files
}

// TestDeployDocExamples runs the files docs/deploy.md tells readers to
// paste: the all-in-one config must load, and the example overlay must
// render.
func TestDeployDocExamples(t *testing.T) {
	files := heredocs(t)

	t.Run("all-in-one config", func(t *testing.T) {
		data, ok := files["newswatch.yaml"]
		if !ok {
			t.Fatal("docs/deploy.md no longer writes newswatch.yaml; update this test")
		}
		// The environment the Dockerfile sets.
		env := map[string]string{"NEWSWATCH_HTTP_LISTEN": "0.0.0.0:9090", "NEWSWATCH_NATS_STORE_DIR": "/var/lib/newswatch"}
		dockerfile, err := os.ReadFile("../Dockerfile")
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range env {
			if !strings.Contains(string(dockerfile), k+"="+v) {
				t.Errorf("the Dockerfile no longer sets %s=%s", k, v)
			}
		}
		cfg, err := config.Parse([]byte(data), "docs/deploy.md newswatch.yaml", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if err != nil {
			t.Fatal(err)
		}
		if !cfg.Embedded() || cfg.NATS.StoreDir != "/var/lib/newswatch" {
			t.Errorf("the trial config should run the embedded NATS on the image's volume; got url %q store_dir %q", cfg.NATS.URL, cfg.NATS.StoreDir)
		}
	})

	t.Run("own overlay", func(t *testing.T) {
		k, ok := files["my-newswatch/kustomization.yaml"]
		if !ok {
			t.Fatal("docs/deploy.md no longer writes my-newswatch/kustomization.yaml; update this test")
		}
		// The example sits next to the checkout's k8s directory; a
		// temporary directory at the repository root has the same relative
		// paths.
		dir, err := os.MkdirTemp("..", ".deploy-doc-*")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		cfg, err := os.ReadFile("base/config.yaml")
		if err != nil {
			t.Fatal(err)
		}
		for name, data := range map[string]string{"kustomization.yaml": k, "config.yaml": string(cfg)} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		r := decodeAll(t, kustomize(t, dir))
		for _, w := range workers {
			d, ok := r.deployments[w]
			if !ok {
				t.Fatalf("no %s Deployment", w)
			}
			if img := d.Spec.Template.Spec.Containers[0].Image; img != "registry.example.org/newswatch:v0.1.0" {
				t.Errorf("%s image %q: the example's images: entry did not apply", w, img)
			}
		}
	})
}
