package app_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/pkg/app"
	"github.com/newswatch/newswatch/pkg/notifier"
	"github.com/newswatch/newswatch/pkg/topology"
)

// The notifier's record of alerted (watch, story) pairs expires four story
// windows after its last write, also in a bucket an earlier version created
// without expiry.
func TestAlertedRecordsExpireWithTheStoryWindow(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	cfg := parseConfig(t, "nats: {listen: \"127.0.0.1:0\", store_dir: "+dir+"}\nhttp: {listen: \"127.0.0.1:0\"}\nanalyzer: {story_window: 5m}\n")
	if got := notifier.RecordTTL(5 * time.Minute); got != 20*time.Minute {
		t.Fatalf("RecordTTL(5m) = %s, want 20m (four windows)", got)
	}
	if got := notifier.RecordTTL(0); got != 4*72*time.Hour {
		t.Fatalf("RecordTTL(0) = %s, want 288h (four built-in windows)", got)
	}

	// An earlier version's bucket, kept for ever.
	first, err := app.Start(ctx, cfg, []string{app.Analyzer}, true, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.JetStream().CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: topology.BucketAlerted, Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}

	a, err := app.Start(ctx, cfg, []string{app.Notifier}, true, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	kv, err := a.JetStream().KeyValue(ctx, topology.BucketAlerted)
	if err != nil {
		t.Fatal(err)
	}
	st, err := kv.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.TTL() != 20*time.Minute {
		t.Errorf("%s TTL = %s, want 20m (four 5m story windows)", topology.BucketAlerted, st.TTL())
	}
}
