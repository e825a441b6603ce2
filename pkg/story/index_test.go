package story

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsServer runs an embedded NATS server with JetStream storing in dir.
func natsServer(t testing.TB, dir string) *server.Server {
	t.Helper()
	srv, err := server.NewServer(&server.Options{JetStream: true, StoreDir: dir, Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server did not start")
	}
	return srv
}

// bucket connects to srv and opens (creating if needed) the stories bucket.
func bucket(t testing.TB, srv *server.Server) jetstream.KeyValue {
	t.Helper()
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.CreateOrUpdateKeyValue(context.Background(), jetstream.KeyValueConfig{Bucket: "stories", History: 1})
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

func newBucket(t testing.TB) jetstream.KeyValue {
	t.Helper()
	srv := natsServer(t, t.TempDir())
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	return bucket(t, srv)
}

type article struct{ id, title, text string }

func load(t testing.TB, name string) article {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name + ".txt")
	if err != nil {
		t.Fatal(err)
	}
	title, text, _ := strings.Cut(string(b), "\n")
	return article{id: "https://example.com/" + name, title: title, text: text}
}

var day = time.Date(2023, 11, 10, 12, 0, 0, 0, time.UTC)

func TestAssign(t *testing.T) {
	ctx := context.Background()
	ix := New(newBucket(t))
	// Order matters: a story's id comes from the first article seen, and
	// each later article must find its story among those before it.
	steps := []struct {
		article string
		offset  time.Duration
		story   string // article whose story it must join ("" = its own)
	}{
		{"drones-wire", 0, ""},
		{"terror-wire", 10 * time.Minute, ""},
		{"drones-syndicated", 40 * time.Minute, "drones-wire"},
		{"quad-blinken", time.Hour, ""},
		{"drones-rewrite", 3 * time.Hour, "drones-wire"},
		{"drones-short", 26 * time.Hour, "drones-wire"},
	}
	got := map[string]string{}
	for _, st := range steps {
		a := load(t, st.article)
		id, err := ix.Assign(ctx, a.id, a.title, a.text, day.Add(st.offset))
		if err != nil {
			t.Fatalf("Assign(%s): %v", st.article, err)
		}
		got[st.article] = id
		want := NewStoryID(a.id)
		if st.story != "" {
			want = got[st.story]
		}
		if id != want {
			t.Errorf("%s: story %s, want %s (the story of %q)", st.article, id, want, cmpOr(st.story, st.article))
		}
	}
	if got["terror-wire"] == got["quad-blinken"] || got["terror-wire"] == got["drones-wire"] {
		t.Errorf("different stories from the same dialogue were merged: %v", got)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestAssignAgainReturnsFirstAnswer(t *testing.T) {
	ctx := context.Background()
	ix := New(newBucket(t))
	wire, rewrite := load(t, "drones-wire"), load(t, "drones-rewrite")
	first, err := ix.Assign(ctx, wire.id, wire.title, wire.text, day)
	if err != nil {
		t.Fatal(err)
	}
	// A revised article (same id, new text) keeps its story.
	again, err := ix.Assign(ctx, wire.id, "Corrected: "+wire.title, load(t, "quad-blinken").text, day.Add(time.Hour))
	if err != nil || again != first {
		t.Fatalf("re-assign = %q, %v; want %q", again, err, first)
	}
	r, err := ix.Assign(ctx, rewrite.id, rewrite.title, rewrite.text, day)
	if err != nil || r != first {
		t.Fatalf("rewrite = %q, %v; want %q", r, err, first)
	}
}

// TestRestart stops the NATS server and starts it again over the same store
// directory, with a new Index: stored stories keep their ids.
func TestRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srv := natsServer(t, dir)
	wire, rewrite, short := load(t, "drones-wire"), load(t, "drones-rewrite"), load(t, "drones-short")
	ix := New(bucket(t, srv))
	first, err := ix.Assign(ctx, wire.id, wire.title, wire.text, day)
	if err != nil {
		t.Fatal(err)
	}
	r1, err := ix.Assign(ctx, rewrite.id, rewrite.title, rewrite.text, day.Add(time.Hour))
	if err != nil || r1 != first {
		t.Fatalf("before restart: rewrite = %q, %v; want %q", r1, err, first)
	}
	srv.Shutdown()
	srv.WaitForShutdown()

	srv = natsServer(t, dir)
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	ix = New(bucket(t, srv))
	for _, a := range []article{wire, rewrite, short} {
		id, err := ix.Assign(ctx, a.id, a.title, a.text, day.Add(2*time.Hour))
		if err != nil || id != first {
			t.Errorf("after restart: %s = %q, %v; want %q", a.id, id, err, first)
		}
	}
}

func TestOptions(t *testing.T) {
	wire, syndicated := load(t, "drones-wire"), load(t, "drones-syndicated")
	tests := []struct {
		name  string
		opts  []Option
		later time.Duration
		same  bool
	}{
		{"defaults", nil, time.Hour, true},
		{"outside the default window", nil, 4 * 24 * time.Hour, false},
		{"earlier copy outside the window", nil, -4 * 24 * time.Hour, false},
		{"wider window", []Option{WithWindow(7 * 24 * time.Hour)}, 4 * 24 * time.Hour, true},
		{"threshold above the copies' similarity", []Option{WithThreshold(0.99)}, time.Hour, false},
		{"unset options keep the defaults", []Option{WithThreshold(0), WithWindow(0)}, time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			ix := New(newBucket(t), tt.opts...)
			a, err := ix.Assign(ctx, wire.id, wire.title, wire.text, day)
			if err != nil {
				t.Fatal(err)
			}
			b, err := ix.Assign(ctx, syndicated.id, syndicated.title, syndicated.text, day.Add(tt.later))
			if err != nil {
				t.Fatal(err)
			}
			if (a == b) != tt.same {
				t.Fatalf("same story = %v, want %v", a == b, tt.same)
			}
		})
	}
}

// TestConcurrentAssign has two analyzers (two Index values on one bucket)
// record copies of a story at once: every copy joins the story and has its
// record in the bucket.
func TestConcurrentAssign(t *testing.T) {
	ctx := context.Background()
	kv := newBucket(t)
	ixs := []*Index{New(kv), New(kv)}
	wire := load(t, "drones-wire")
	first, err := ixs[0].Assign(ctx, wire.id, wire.title, wire.text, day)
	if err != nil {
		t.Fatal(err)
	}
	const copies = 8
	ids := make([]string, copies)
	errs := make([]error, copies)
	var wg sync.WaitGroup
	for i := range copies {
		wg.Go(func() {
			ids[i], errs[i] = ixs[i%2].Assign(ctx, fmt.Sprint("copy-", i), wire.title, fmt.Sprintf("%s Updated at %d:00.", wire.text, i), day.Add(time.Hour))
		})
	}
	wg.Wait()
	for i := range copies {
		if errs[i] != nil || ids[i] != first {
			t.Errorf("copy %d: %q, %v; want %q", i, ids[i], errs[i], first)
		}
		entry, err := kv.Get(ctx, articleKey(fmt.Sprint("copy-", i)))
		if err != nil {
			t.Fatalf("copy %d has no record: %v", i, err)
		}
		if rec, ok := decodeRecord(entry.Value()); !ok || rec.Story != first {
			t.Errorf("copy %d recorded with story %q (ok %v), want %q", i, rec.Story, ok, first)
		}
	}
}

// gatedKV holds every Create until n of them are waiting, so that each
// analyzer has chosen its story before any record reaches the bucket: the
// worst case of two analyzers seeing two copies at the same instant.
type gatedKV struct {
	jetstream.KeyValue
	gate *sync.WaitGroup
}

func (g gatedKV) Create(ctx context.Context, key string, value []byte, opts ...jetstream.KVCreateOpt) (uint64, error) {
	g.gate.Done()
	g.gate.Wait()
	return g.KeyValue.Create(ctx, key, value, opts...)
}

// TestSimultaneousNewStory: two analyzers, each with its own connection,
// see the first two copies of a new story at the same instant; they must
// not create two stories. A restarted analyzer agrees with both.
func TestSimultaneousNewStory(t *testing.T) {
	ctx := context.Background()
	srv := natsServer(t, t.TempDir())
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	kvs := []jetstream.KeyValue{bucket(t, srv), bucket(t, srv)}
	wire, syndicated, rewrite := load(t, "drones-wire"), load(t, "drones-syndicated"), load(t, "drones-rewrite")
	for round, pair := range [][2]article{{wire, syndicated}, {rewrite, wire}, {syndicated, rewrite}} {
		var gate sync.WaitGroup
		gate.Add(2)
		ixs := []*Index{New(gatedKV{kvs[0], &gate}), New(gatedKV{kvs[1], &gate})}
		var ids [2]string
		var errs [2]error
		var wg sync.WaitGroup
		at := day.Add(time.Duration(round) * 10 * DefaultWindow) // each round a new story
		for i := range 2 {
			wg.Go(func() {
				a := pair[i]
				ids[i], errs[i] = ixs[i].Assign(ctx, fmt.Sprint(round, a.id), a.title, a.text, at)
			})
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("round %d: %v %v", round, errs[0], errs[1])
		}
		if ids[0] != ids[1] {
			t.Fatalf("round %d: two copies seen at once made two stories %s and %s", round, ids[0], ids[1])
		}
		if ids[0] != NewStoryID(fmt.Sprint(round, pair[0].id)) && ids[0] != NewStoryID(fmt.Sprint(round, pair[1].id)) {
			t.Fatalf("round %d: story %s is neither copy's new story id", round, ids[0])
		}
		// A new analyzer rebuilt from the bucket, as after a restart.
		fresh := New(kvs[0])
		for i, a := range pair {
			id, err := fresh.Assign(ctx, fmt.Sprint(round, a.id), a.title, a.text, at)
			if err != nil || id != ids[0] {
				t.Errorf("round %d: rebuilt index gives copy %d %q, %v; want %q", round, i, id, err, ids[0])
			}
		}
		// A third copy later joins the same story on either analyzer.
		third := New(kvs[1])
		id, err := third.Assign(ctx, fmt.Sprint(round, "third"), wire.title, wire.text+" (With inputs from PTI)", at.Add(time.Hour))
		if err != nil || id != ids[0] {
			t.Errorf("round %d: third copy %q, %v; want %q", round, id, err, ids[0])
		}
		for _, ix := range append(ixs, fresh, third) {
			ix.Close()
		}
	}
}

func TestEmptyArticleGetsItsOwnStory(t *testing.T) {
	ctx := context.Background()
	ix := New(newBucket(t))
	a, err := ix.Assign(ctx, "a", "", "", day)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ix.Assign(ctx, "b", "", "  \n", day)
	if err != nil {
		t.Fatal(err)
	}
	if a != NewStoryID("a") || b != NewStoryID("b") {
		t.Fatalf("empty articles share a story: %q %q", a, b)
	}
}

// countingKV counts gets and writes so the test can check that Assign's
// cost does not grow with the bucket.
type countingKV struct {
	jetstream.KeyValue
	gets, writes atomic.Int64
}

func (c *countingKV) Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	c.gets.Add(1)
	return c.KeyValue.Get(ctx, key)
}

func (c *countingKV) Create(ctx context.Context, key string, value []byte, opts ...jetstream.KVCreateOpt) (uint64, error) {
	c.writes.Add(1)
	return c.KeyValue.Create(ctx, key, value, opts...)
}

func (c *countingKV) Update(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	c.writes.Add(1)
	return c.KeyValue.Update(ctx, key, value, rev)
}

// TestOneRecordPerArticle: a new article costs one create of one record of
// a few hundred bytes and no get, however many articles the bucket holds.
func TestOneRecordPerArticle(t *testing.T) {
	ctx := context.Background()
	kv := &countingKV{KeyValue: newBucket(t)}
	ix := New(kv)
	for i := range 200 {
		if _, err := ix.Assign(ctx, fmt.Sprint("filler-", i), "", syntheticArticle(i), day); err != nil {
			t.Fatal(err)
		}
	}
	wire := load(t, "drones-wire")
	kv.gets.Store(0)
	kv.writes.Store(0)
	if _, err := ix.Assign(ctx, wire.id, wire.title, wire.text, day); err != nil {
		t.Fatal(err)
	}
	if g, w := kv.gets.Load(), kv.writes.Load(); g != 0 || w != 1 {
		t.Fatalf("Assign over 200 stored articles made %d gets and %d writes, want 0 and 1", g, w)
	}
	st, err := kv.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Values() != 201 {
		t.Errorf("bucket holds %d keys for 201 articles, want one each", st.Values())
	}
	per := st.Bytes() / st.Values()
	t.Logf("%d bytes of bucket per article (value and stream overhead)", per)
	if per > 700 {
		t.Errorf("%d bytes stored per article, want a few hundred", per)
	}
}

// randomArticle makes a distinct article of 300 random words from a
// vocabulary of 50,000: no two share a shingle, as most articles in a
// stream do not.
func randomArticle(i int) string {
	r := rand.New(rand.NewPCG(uint64(i), 42))
	var b strings.Builder
	for range 300 {
		fmt.Fprintf(&b, "w%d ", r.IntN(50000))
	}
	return b.String()
}

// syntheticArticle makes a distinct article of plausible size.
func syntheticArticle(i int) string {
	var b strings.Builder
	for w := range 300 {
		fmt.Fprintf(&b, "w%d ", (i*7919+w*104729)%5003)
	}
	return b.String()
}

func TestStoreErrorsAreReported(t *testing.T) {
	srv := natsServer(t, t.TempDir())
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.CreateKeyValue(context.Background(), jetstream.KeyValueConfig{Bucket: "stories"})
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
	_, err = New(kv).Assign(context.Background(), "x", "title", "some text here", day)
	if !errors.Is(err, ErrStore) || !errors.Is(err, nats.ErrConnectionClosed) {
		t.Fatalf("err = %v, want ErrStore wrapping the connection error", err)
	}
}

func BenchmarkAssign(b *testing.B) {
	ctx := context.Background()
	// Every article distinct, as most are: the cost is the fixed number of
	// gets and writes, not comparisons.
	ix := New(newBucket(b))
	i := 0
	for b.Loop() {
		if _, err := ix.Assign(ctx, fmt.Sprint("bench-", i), "", syntheticArticle(i), day); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "articles/s")
}

// BenchmarkTableMemory reports the in-memory index's heap per article
// record and the time to apply one (as the watch does for every record, at
// start for the whole retention).
func BenchmarkTableMemory(b *testing.B) {
	const n = 20000
	sigs := make([]Signature, n)
	for i := range sigs {
		sigs[i] = Fingerprint("", randomArticle(i))
	}
	var before, after runtime.MemStats
	for b.Loop() {
		runtime.GC()
		runtime.ReadMemStats(&before)
		tb := newTable(Retention(DefaultWindow))
		start := time.Now()
		for i, sig := range sigs {
			tb.apply(articleKey(fmt.Sprint("bench-", i)), record{Story: NewStoryID(fmt.Sprint("bench-", i)), Published: day.Unix(), Shingles: sig.Shingles, Mins: sig.Mins}, day, DefaultWindow, DefaultThreshold)
		}
		elapsed := time.Since(start)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-B/article")
		b.ReportMetric(n/elapsed.Seconds(), "applied/s")
		runtime.KeepAlive(tb)
	}
}
