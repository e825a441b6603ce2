package app

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/topics"
)

func TestTopicModelFile(t *testing.T) {
	dir := t.TempDir()
	builtin := topics.DefaultModel()
	user := &topics.Model{Version: topics.ModelVersion, Features: builtin.Features,
		Topics: []topics.TopicModel{{Name: "space", Bias: -3, Threshold: 0.5, Weights: map[string]float64{"w:orbit": 6}}}}
	b, err := user.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "space.json")
	if err := os.WriteFile(good, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var cfg config.Config
	cfg.Analyzer.TopicModelFile = good
	c, err := Classifier(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Topics(); !slices.Contains(got, "space") || !slices.Contains(got, "defence-cooperation") {
		t.Errorf("topics %v: want the file's space beside the built-in ones", got)
	}
	ts := c.Classify("Probe reaches orbit", "")
	if len(ts) == 0 || ts[0].Name != "space" {
		t.Errorf("Classify = %+v, want space", ts)
	}

	other := *user
	other.Features.LeadSentences++
	b, _ = other.Marshal()
	mismatch := filepath.Join(dir, "other.json")
	if err := os.WriteFile(mismatch, b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ file, want string }{
		{filepath.Join(dir, "missing.json"), "remove the key"},
		{mismatch, "--grid=false"},
	} {
		cfg.Analyzer.TopicModelFile = tc.file
		_, err := Classifier(&cfg)
		if err == nil || !strings.Contains(err.Error(), "analyzer.topic_model_file") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming the key and %q", tc.file, err, tc.want)
		}
	}
	cfg.Analyzer.TopicModelFile = mismatch
	if _, err := Classifier(&cfg); !errors.Is(err, topics.ErrModel) {
		t.Errorf("mismatched features: %v, want topics.ErrModel", err)
	}
}
