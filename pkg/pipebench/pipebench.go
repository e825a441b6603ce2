// Package pipebench measures a running newswatch end to end: it publishes
// synthetic distinct articles to ARTICLES, waits for their alerts on ALERTS,
// and in the same run moves the same number of messages through a
// do-nothing two-hop JetStream relay on the same server, so the pipeline's
// pace reads as a fraction of the broker's. It also reads the target's
// resident memory and heap from its /metrics for soak runs.
package pipebench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/topology"
	"github.com/newswatch/newswatch/pkg/watches"
)

// ErrTimeout is returned when the alerts or relayed messages did not all
// arrive in time.
var ErrTimeout = errors.New("pipebench: timed out")

// Options configure a run.
type Options struct {
	// Articles is how many distinct articles to publish.
	Articles int
	// Rate is articles per second; 0 publishes as fast as the server acks.
	Rate float64
	// Bytes is the approximate size of each article's text.
	Bytes int
	// Timeout bounds the wait for the last alert after the last publish.
	Timeout time.Duration
	// Progress, when set, is called about once a second while waiting.
	Progress func(published, alerted int)
}

// Result is one measured phase.
type Result struct {
	Messages  int
	Elapsed   time.Duration
	Latencies []time.Duration // sorted; pipeline only: article stored → alert stored
}

// PerSecond is messages per wall second.
func (r Result) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Messages) / r.Elapsed.Seconds()
}

// Quantile returns the q-quantile (0..1) of the latencies, 0 without any.
func (r Result) Quantile(q float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(q*float64(len(r.Latencies))+0.5) - 1
	i = max(0, min(i, len(r.Latencies)-1))
	return r.Latencies[i]
}

// Bench runs phases against one server.
type Bench struct {
	js  jetstream.JetStream
	run string // unique per run: the watch id, the token the articles carry
	// phases counts Pipeline calls; each publishes articles of its own.
	phases int
	rng    *rand.Rand
}

// New returns a Bench over js.
func New(js jetstream.JetStream) *Bench {
	seed := uint64(time.Now().UnixNano())
	return &Bench{js: js, run: strconv.FormatUint(seed%1e12, 36), rng: rand.New(rand.NewPCG(seed, 7))}
}

// WatchID is the id of the watch the run adds.
func (b *Bench) WatchID() string { return "bench-" + b.run }

// token is a word only this run's articles contain.
func (b *Bench) token() string { return "zqbench" + b.run }

// article makes the i-th distinct article: pseudo-words from a seeded
// generator, so no two share a sentence, with the run's token once.
func (b *Bench) article(prefix string, i, size int) events.Article {
	var sb strings.Builder
	sb.Grow(size + 64)
	for sb.Len() < size {
		n := 2 + b.rng.IntN(4)
		for range n {
			sb.WriteByte("bcdfghklmnprstvz"[b.rng.IntN(16)])
			sb.WriteByte("aeiou"[b.rng.IntN(5)])
		}
		sb.WriteByte(' ')
		if sb.Len() > size/2 && sb.Len() < size/2+12 {
			sb.WriteString(b.token() + " ")
		}
	}
	now := time.Now().UTC()
	id := fmt.Sprintf("%s-%s-%d", b.WatchID(), prefix, i)
	return events.Article{
		Schema: events.ArticleSchema, ID: id, Feed: "bench", URL: "https://bench.invalid/" + id,
		CanonicalURL: "https://bench.invalid/" + id, Title: fmt.Sprintf("Bench article %d of run %s", i, b.run),
		Source: "bench.invalid", Language: "en", Text: sb.String(), PublishedAt: now, FetchedAt: now,
	}
}

// AddWatch stores the run's watch in the watches bucket and publishes probe
// articles until one alerts, so the measured articles find the watch
// compiled in the analyzer and the notifier.
func (b *Bench) AddWatch(ctx context.Context, watchKV jetstream.KeyValue, timeout time.Duration) error {
	if err := watches.New(watchKV).Put(ctx, config.Watch{ID: b.WatchID(), Query: b.token()}); err != nil {
		return err
	}
	alerts, stop, err := b.alerts(ctx)
	if err != nil {
		return err
	}
	defer stop()
	deadline := time.After(timeout)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		if err := b.publish(ctx, b.article("probe", i, 500)); err != nil {
			return err
		}
		select {
		case <-alerts:
			return nil
		case <-tick.C:
		case <-deadline:
			return fmt.Errorf("%w: no alert for a probe article within %s: is a newswatch analyzer and notifier running on this server?", ErrTimeout, timeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// RemoveWatch deletes the run's watch.
func (b *Bench) RemoveWatch(ctx context.Context, watchKV jetstream.KeyValue) error {
	return watchKV.Delete(ctx, b.WatchID())
}

type alertSeen struct {
	article string
	stored  time.Time
}

// alerts follows the run's alerts from now on.
func (b *Bench) alerts(ctx context.Context) (<-chan alertSeen, func(), error) {
	cons, err := b.js.OrderedConsumer(ctx, topology.StreamAlerts, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{topology.AlertSubject(b.WatchID())},
		DeliverPolicy:  jetstream.DeliverNewPolicy,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("pipebench: following %s: %w", topology.StreamAlerts, err)
	}
	ch := make(chan alertSeen, 4096)
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		var ev struct {
			Data struct {
				ArticleID string `json:"article_id"`
			} `json:"data"`
		}
		meta, err := msg.Metadata()
		if err != nil || json.Unmarshal(msg.Data(), &ev) != nil {
			return
		}
		ch <- alertSeen{article: ev.Data.ArticleID, stored: meta.Timestamp}
	})
	if err != nil {
		return nil, nil, fmt.Errorf("pipebench: following %s: %w", topology.StreamAlerts, err)
	}
	return ch, cc.Stop, nil
}

func (b *Bench) publish(ctx context.Context, a events.Article) error {
	data, err := json.Marshal(a)
	if err != nil {
		return err
	}
	_, err = b.js.Publish(ctx, topology.ArticleSubject(a.Feed), data, jetstream.WithMsgID(a.ID+"-r0"))
	return err
}

// Pipeline publishes opts.Articles distinct articles and waits for an alert
// for each. Latency is from the publish's acknowledgement (the article is
// stored) to the alert's stored timestamp on ALERTS.
func (b *Bench) Pipeline(ctx context.Context, opts Options) (Result, error) {
	alerts, stop, err := b.alerts(ctx)
	if err != nil {
		return Result{}, err
	}
	defer stop()
	b.phases++
	prefix := "p" + strconv.Itoa(b.phases)
	arts := make([]events.Article, opts.Articles)
	payloads := make([][]byte, opts.Articles)
	for i := range arts {
		arts[i] = b.article(prefix, i, opts.Bytes)
		if payloads[i], err = json.Marshal(arts[i]); err != nil {
			return Result{}, err
		}
	}
	var mu sync.Mutex
	stored := make(map[string]time.Time, opts.Articles)
	latencies := make([]time.Duration, 0, opts.Articles)
	pending := map[string]time.Time{} // alerts seen before their ack time was noted
	record := func(id string, at time.Time) {
		if t, ok := stored[id]; ok {
			latencies = append(latencies, at.Sub(t))
			delete(stored, id)
			return
		}
		pending[id] = at
	}

	published := 0
	start := time.Now()
	pubErr := make(chan error, 1)
	go func() {
		var interval time.Duration
		if opts.Rate > 0 {
			interval = time.Duration(float64(time.Second) / opts.Rate)
		}
		futures := make(chan struct {
			id string
			f  jetstream.PubAckFuture
		}, 256)
		done := make(chan struct{})
		go func() { // note each ack's time as it arrives, in order
			defer close(done)
			for p := range futures {
				select {
				case <-p.f.Ok():
					now := time.Now()
					mu.Lock()
					if at, ok := pending[p.id]; ok {
						latencies = append(latencies, at.Sub(now))
						delete(pending, p.id)
					} else {
						stored[p.id] = now
					}
					mu.Unlock()
				case err := <-p.f.Err():
					select {
					case pubErr <- fmt.Errorf("pipebench: publishing %s: %w", p.id, err):
					default:
					}
				}
			}
		}()
		for i := range arts {
			if interval > 0 {
				if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
					time.Sleep(d)
				}
			}
			f, err := b.publishAsync(ctx, topology.ArticleSubject(arts[i].Feed), payloads[i], arts[i].ID+"-r0")
			if err != nil {
				select {
				case pubErr <- err:
				default:
				}
				break
			}
			futures <- struct {
				id string
				f  jetstream.PubAckFuture
			}{arts[i].ID, f}
			mu.Lock()
			published++
			mu.Unlock()
		}
		close(futures)
		<-done
		pubErr <- nil
	}()

	got := map[string]bool{}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var deadline <-chan time.Time
	pubDone := false
	for len(got) < opts.Articles {
		select {
		case a := <-alerts:
			if !strings.Contains(a.article, "-"+prefix+"-") || got[a.article] {
				continue
			}
			got[a.article] = true
			mu.Lock()
			record(a.article, a.stored)
			mu.Unlock()
		case err := <-pubErr:
			if err != nil {
				return Result{}, err
			}
			pubDone = true
			deadline = time.After(opts.Timeout)
		case <-tick.C:
			if opts.Progress != nil {
				mu.Lock()
				p := published
				mu.Unlock()
				opts.Progress(p, len(got))
			}
		case <-deadline:
			return Result{}, fmt.Errorf("%w: %d of %d alerts %s after the last publish", ErrTimeout, len(got), opts.Articles, opts.Timeout)
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
	}
	elapsed := time.Since(start)
	if !pubDone {
		if err := <-pubErr; err != nil {
			return Result{}, err
		}
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(latencies)
	return Result{Messages: opts.Articles, Elapsed: elapsed, Latencies: latencies}, nil
}

// Relay moves n messages of the given size through a do-nothing two-hop
// relay on the same server: streams NWBENCH_A, NWBENCH_B and NWBENCH_C,
// and two durable consumers that each take a message, republish it with a
// Nats-Msg-Id to the next stream and ack it, one message at a time, as a
// pipeline stage does. The streams are deleted afterwards.
func (b *Bench) Relay(ctx context.Context, n, size int, timeout time.Duration) (Result, error) {
	names := []string{"NWBENCH_A", "NWBENCH_B", "NWBENCH_C"}
	subj := func(i int) string { return "nwbench." + b.run + "." + strconv.Itoa(i) }
	for i, name := range names {
		if _, err := b.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name: name, Subjects: []string{subj(i)}, Storage: jetstream.FileStorage, MaxAge: time.Hour,
		}); err != nil {
			return Result{}, fmt.Errorf("pipebench: creating relay stream %s: %w", name, err)
		}
	}
	defer func() {
		for _, name := range names {
			_ = b.js.DeleteStream(context.WithoutCancel(ctx), name)
		}
	}()
	for hop := range 2 {
		cons, err := b.js.CreateOrUpdateConsumer(ctx, names[hop], jetstream.ConsumerConfig{
			Durable: "relay", AckPolicy: jetstream.AckExplicitPolicy, AckWait: 30 * time.Second,
		})
		if err != nil {
			return Result{}, fmt.Errorf("pipebench: relay consumer on %s: %w", names[hop], err)
		}
		next := subj(hop + 1)
		cc, err := cons.Consume(func(msg jetstream.Msg) {
			id := msg.Headers().Get(jetstream.MsgIDHeader)
			if _, err := b.js.Publish(ctx, next, msg.Data(), jetstream.WithMsgID(id)); err != nil {
				_ = msg.Nak()
				return
			}
			_ = msg.Ack()
		})
		if err != nil {
			return Result{}, err
		}
		defer cc.Stop()
	}
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = 'a' + byte(i%26)
	}
	start := time.Now()
	for i := range n {
		if _, err := b.publishAsync(ctx, subj(0), payload, b.run+"-"+strconv.Itoa(i)); err != nil {
			return Result{}, err
		}
	}
	select {
	case <-b.js.PublishAsyncComplete():
	case <-time.After(timeout):
		return Result{}, fmt.Errorf("%w: relay publishes not acknowledged", ErrTimeout)
	}
	last, err := b.js.Stream(ctx, names[2])
	if err != nil {
		return Result{}, err
	}
	deadline := time.Now().Add(timeout)
	for {
		info, err := last.Info(ctx)
		if err != nil {
			return Result{}, err
		}
		if info.State.Msgs >= uint64(n) {
			break
		}
		if time.Now().After(deadline) {
			return Result{}, fmt.Errorf("%w: relay moved %d of %d messages", ErrTimeout, info.State.Msgs, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return Result{Messages: n, Elapsed: time.Since(start)}, nil
}

// publishAsync publishes without waiting for the acknowledgement; when the
// client holds too many unacknowledged publishes it waits for them first.
func (b *Bench) publishAsync(ctx context.Context, subject string, data []byte, msgID string) (jetstream.PubAckFuture, error) {
	for {
		f, err := b.js.PublishAsync(subject, data, jetstream.WithMsgID(msgID))
		if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
			return f, err
		}
		select {
		case <-b.js.PublishAsyncComplete():
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Memory is a process's memory as its /metrics reports it.
type Memory struct {
	Resident  float64 // process_resident_memory_bytes
	HeapInuse float64 // go_memstats_heap_inuse_bytes
}

// ReadMemory scrapes metricsURL (a newswatch /metrics) for its memory.
func ReadMemory(ctx context.Context, metricsURL string) (Memory, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return Memory{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Memory{}, fmt.Errorf("pipebench: reading %s: %w (pass the running newswatch's http.listen address)", metricsURL, err)
	}
	defer resp.Body.Close()
	var m Memory
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		switch name {
		case "process_resident_memory_bytes":
			m.Resident, _ = strconv.ParseFloat(val, 64)
		case "go_memstats_heap_inuse_bytes":
			m.HeapInuse, _ = strconv.ParseFloat(val, 64)
		}
	}
	if m.Resident == 0 && m.HeapInuse == 0 {
		return m, fmt.Errorf("pipebench: %s has no process_resident_memory_bytes or go_memstats_heap_inuse_bytes", metricsURL)
	}
	return m, sc.Err()
}
