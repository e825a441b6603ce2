package k8s_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDockerfile checks what the manifests rely on in the image, which CI
// cannot build without a Docker engine: every binary a Deployment runs is
// built, static and trimmed, and the final stage runs as the non-root user
// the pod security contexts name.
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(data)
	stages := regexp.MustCompile(`(?m)^FROM\s+(?:--platform=\S+\s+)?(\S+)`).FindAllStringSubmatch(df, -1)
	if len(stages) < 2 {
		t.Fatalf("want a multi-stage build, found %d FROM lines", len(stages))
	}
	if final := stages[len(stages)-1][1]; final != "gcr.io/distroless/static-debian12:nonroot" {
		t.Errorf("final stage is %s, want gcr.io/distroless/static-debian12:nonroot", final)
	}
	finalStage := df[strings.LastIndex(df, "\nFROM "):]
	if regexp.MustCompile(`(?m)^RUN `).MatchString(finalStage) {
		t.Error("the final stage has a RUN, but distroless has no shell to run it")
	}
	if !regexp.MustCompile(`(?m)^USER 65532(:65532)?$`).MatchString(finalStage) {
		t.Error("the final stage does not run as USER 65532, the runAsUser of the Deployments")
	}
	for _, want := range []string{
		"--mount=type=cache,target=/go/pkg/mod",
		"--mount=type=cache,target=/root/.cache/go-build",
		"CGO_ENABLED=0",
		"go build -trimpath",
		"-X github.com/newswatch/newswatch/pkg/version.Version=${VERSION}",
		"ARG VERSION",
	} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	for _, bin := range append([]string{"newswatch"}, workers...) {
		if !strings.Contains(df, "./cmd/"+bin) || !strings.Contains(finalStage, "/out/"+bin) {
			t.Errorf("the image does not build and install %s, which the Deployments run as /usr/local/bin/%s", bin, bin)
		}
		if _, err := os.Stat("../cmd/" + bin); err != nil {
			t.Errorf("cmd/%s: %v", bin, err)
		}
	}
	ignore, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(ignore), "\n") {
		switch strings.TrimSpace(line) {
		case "cmd", "pkg", "internal", "go.mod", "go.sum", "*.go", "**/*.go":
			t.Errorf(".dockerignore excludes %q, which the build needs", line)
		}
	}
}
