package fetcher

import (
	"encoding/json"
	"testing"

	"github.com/newswatch/newswatch/pkg/natstest"
	"github.com/newswatch/newswatch/pkg/topology"
)

// FeedStates reads every state in the bucket, skipping deleted keys and
// values that are not a state; List reads every feed, sorted by id.
func TestReadBucketInOnePass(t *testing.T) {
	ctx := t.Context()
	ns := natstest.Start(t)
	states, err := ns.Topo.KV(ctx, topology.BucketFeedState, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	for id, st := range map[string]FeedState{"a": {ConsecutiveFailures: 2, LastError: "503"}, "b": {}, "gone": {}} {
		data, _ := json.Marshal(st)
		if _, err := states.Put(ctx, id, data); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := states.Put(ctx, "junk", []byte("not json")); err != nil {
		t.Fatal(err)
	}
	if err := states.Delete(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	got, err := FeedStates(ctx, states)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["a"].ConsecutiveFailures != 2 || got["a"].LastError != "503" {
		t.Errorf("FeedStates = %+v, want a (2 failures, 503) and b", got)
	}
	if _, ok := got["b"]; !ok {
		t.Errorf("FeedStates = %+v, lacks b", got)
	}

	feeds, err := ns.Topo.KV(ctx, topology.BucketFeeds, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	store := NewStore(feeds)
	for _, id := range []string{"z", "m", "a"} {
		if err := store.Put(ctx, FeedSpec{ID: id, URL: "https://example.com/" + id + ".xml"}); err != nil {
			t.Fatal(err)
		}
	}
	list, err := store.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range list {
		ids = append(ids, f.ID)
	}
	if len(ids) != 3 || ids[0] != "a" || ids[1] != "m" || ids[2] != "z" {
		t.Errorf("List ids = %v, want [a m z]", ids)
	}
}
