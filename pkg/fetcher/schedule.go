package fetcher

import (
	"container/heap"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/topology"
)

// entry is one feed in the schedule. Only the scheduler goroutine touches it.
type entry struct {
	feed    config.Feed
	host    string
	next    time.Time
	index   int // position in the heap; -1 while running, paused or removed
	running bool
	paused  bool
	removed bool
	backlog bool // its last poll left items: the next one is a continuation
}

// feedHeap orders entries by next poll time.
type feedHeap []*entry

func (h feedHeap) Len() int           { return len(h) }
func (h feedHeap) Less(i, j int) bool { return h[i].next.Before(h[j].next) }
func (h feedHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *feedHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *feedHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.index = -1
	return e
}

type job struct {
	e    *entry
	feed config.Feed // a copy: the scheduler may change e.feed meanwhile
	slot *heldSlot
}

type jobDone struct {
	e       *entry
	next    time.Time
	backlog bool
}

// heldSlot is a host slot the scheduler took before handing a feed to a
// worker; the feed's own request uses it instead of waiting for another.
type heldSlot struct {
	host string
	mu   sync.Mutex
	used bool
}

type heldSlotKey struct{}

// take reports whether the caller may use the held slot for host.
func (s *heldSlot) take(host string) bool {
	if s == nil || s.host != host {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used {
		return false
	}
	s.used = true
	return true
}

// Run polls the feeds until ctx ends. A single scheduler keeps every feed
// on a heap ordered by its next poll and hands due feeds to a pool of
// fetcher.concurrency workers as soon as one is free, so the sustained rate
// equals the burst rate: nothing waits for a tick. A feed whose host already
// has its requests in flight, or was asked within the minimum gap, goes back
// on the heap for later while the workers take other hosts' feeds.
//
// With WithFeedStore the set of feeds follows the newswatch_feeds bucket;
// with WithLeases each poll first claims the feed's lease.
//
// When ctx ends, no poll starts; polls in flight stop at their next item and
// save their feed's state (next poll: at once), and those still inside an
// item after fetcher.shutdown_grace are cancelled, writing nothing for that
// item. Once the last write is acknowledged, every lease this replica holds
// is released, so another replica (or this one restarted, under a new
// owner) takes the feeds over at once.
func (f *Fetcher) Run(ctx context.Context) error {
	f.stopping.Store(false)
	sets := make(chan []FeedSpec, 1)
	errc := make(chan error, 1)
	if f.store != nil {
		go func() {
			err := f.store.Follow(ctx, f.logger, func(list []FeedSpec) {
				select { // keep only the newest set
				case <-sets:
				default:
				}
				sets <- list
			})
			if err != nil {
				errc <- err
			}
		}()
	} else {
		list := make([]FeedSpec, len(f.feeds))
		for i, fd := range f.feeds {
			list[i] = FeedSpec{ID: fd.ID, URL: fd.URL, Interval: fd.Interval}
		}
		sets <- list
	}
	f.preloadStates(ctx)

	workers := max(f.cfg.Concurrency, 1)
	due := make(chan job, workers)
	done := make(chan jobDone, workers)
	// Polls run on their own context, which outlives ctx by the shutdown
	// grace.
	pollCtx, cancelPolls := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelPolls()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case j := <-due:
					next, backlog := f.runJob(pollCtx, j)
					done <- jobDone{e: j.e, next: next, backlog: backlog}
				}
			}
		}()
	}
	defer func() {
		f.stopping.Store(true)
		grace := time.AfterFunc(f.shutdownGrace, cancelPolls)
		wg.Wait()
		grace.Stop()
		if f.leases != nil {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			f.leases.releaseAll(rctx)
			cancel()
			f.metrics.LeasesHeld.Set(0)
		}
	}()

	s := &scheduler{f: f, entries: map[string]*entry{}}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	// Continuations of backlogs leave a worker free for the other feeds
	// (when there are two or more).
	busy, catchingUp := 0, 0
	maxCatchingUp := max(workers-1, 1)
	for {
		now := f.now()
		for busy < workers && s.heap.Len() > 0 {
			e := s.heap[0]
			if e.next.After(now) {
				break
			}
			if e.backlog && catchingUp >= maxCatchingUp {
				e.next = now.Add(backlogRetry)
				heap.Fix(&s.heap, 0)
				continue
			}
			if ok, at := f.hosts.tryAcquire(e.host, time.Now()); !ok {
				e.next = at
				heap.Fix(&s.heap, 0)
				f.metrics.HostDeferrals.Inc()
				continue
			}
			heap.Pop(&s.heap)
			e.running = true
			busy++
			if e.backlog {
				catchingUp++
			}
			due <- job{e: e, feed: e.feed, slot: &heldSlot{host: e.host}} // never blocks: busy < workers
		}
		// Every worker busy while a feed is due: polls in flight yield
		// after their slice. When the earliest feed is not due yet, wake
		// when it is, to say so.
		contended := busy >= workers && s.heap.Len() > 0 && !s.heap[0].next.After(now)
		f.contended.Store(contended)
		var wake <-chan time.Time
		if s.heap.Len() > 0 && !contended {
			timer.Reset(s.heap[0].next.Sub(now))
			wake = timer.C
		}
		select {
		case <-ctx.Done():
			return nil
		case err := <-errc:
			return err
		case list := <-sets:
			s.apply(ctx, list, now)
		case d := <-done:
			busy--
			e := d.e
			if e.backlog {
				catchingUp--
			}
			e.running = false
			e.backlog = d.backlog
			if !e.removed && !e.paused {
				e.next = d.next
				heap.Push(&s.heap, e)
			}
		case <-wake:
		}
	}
}

// scheduler holds the schedule; only Run's goroutine uses it.
type scheduler struct {
	f       *Fetcher
	entries map[string]*entry
	heap    feedHeap
}

// apply makes the schedule follow the feeds in list.
func (s *scheduler) apply(ctx context.Context, list []FeedSpec, now time.Time) {
	f := s.f
	keep := make(map[string]bool, len(list))
	var released []string
	for _, spec := range list {
		if spec.Interval <= 0 {
			spec.Interval = f.cfg.DefaultInterval
		}
		keep[spec.ID] = true
		fd := spec.Feed()
		e := s.entries[spec.ID]
		if e == nil {
			e = &entry{feed: fd, host: hostOf(fd.URL), index: -1, paused: spec.Paused, next: f.initialNext(spec.ID, now)}
			s.entries[spec.ID] = e
			if !e.paused {
				heap.Push(&s.heap, e)
			}
			continue
		}
		if fd.Interval < e.feed.Interval && e.next.After(now.Add(fd.Interval)) {
			e.next = now.Add(fd.Interval)
		}
		if fd.URL != e.feed.URL {
			e.next = now // a new address is worth a look at once
		}
		e.feed, e.host = fd, hostOf(fd.URL)
		switch {
		case spec.Paused && !e.paused:
			e.paused = true
			if e.index >= 0 {
				heap.Remove(&s.heap, e.index)
			}
			released = append(released, spec.ID)
		case !spec.Paused && e.paused:
			e.paused = false
			e.next = now
			if !e.running {
				heap.Push(&s.heap, e)
			}
		case e.index >= 0:
			heap.Fix(&s.heap, e.index)
		}
	}
	for _, id := range released {
		f.trackBackoff(id, 0) // a paused or removed feed is not in backoff
	}
	for id, e := range s.entries {
		if keep[id] {
			continue
		}
		f.trackBackoff(id, 0)
		e.removed = true
		if e.index >= 0 {
			heap.Remove(&s.heap, e.index)
		}
		delete(s.entries, id)
		released = append(released, id)
	}
	active := 0
	for _, e := range s.entries {
		if !e.paused {
			active++
		}
	}
	f.metrics.Feeds.Set(float64(active))
	if f.leases != nil && len(released) > 0 {
		go func() {
			for _, id := range released {
				f.leases.release(ctx, id)
			}
			f.metrics.LeasesHeld.Set(float64(f.leases.count()))
		}()
	}
}

// initialNext is when a feed first comes due in this process: when its
// state says, else now.
func (f *Fetcher) initialNext(id string, now time.Time) time.Time {
	f.stMu.Lock()
	st, ok := f.states[id]
	f.stMu.Unlock()
	if ok && st.NextPoll.After(now) {
		return st.NextPoll
	}
	return now
}

// preloadStates reads the whole feed state bucket in one stream instead of
// one request per feed, so a replica with 50,000 feeds starts in seconds.
func (f *Fetcher) preloadStates(ctx context.Context) {
	loaded, err := FeedStates(ctx, f.state)
	if err != nil {
		f.logger.Warn("feed states not preloaded; each is read at its first poll", "err", err)
		return
	}
	f.stMu.Lock()
	for k, v := range loaded {
		if _, ok := f.states[k]; !ok {
			f.states[k] = v
		}
	}
	f.stMu.Unlock()
}

// backlogRetry is how soon the scheduler looks again at a backlog waiting
// for its turn.
const backlogRetry = 100 * time.Millisecond

// runJob claims the feed's lease when replicas share feeds, polls it and
// returns when it is next due, and whether it left items for that poll.
func (f *Fetcher) runJob(ctx context.Context, j job) (time.Time, bool) {
	feed := j.feed
	defer func() {
		if j.slot.take(j.slot.host) { // the poll never reached its request
			f.hosts.release(j.slot.host)
		}
	}()
	if f.stopping.Load() {
		return j.e.next, j.e.backlog
	}
	now := f.now()
	if f.leases != nil && !f.leases.holds(feed.ID, now.Add(f.cfg.Timeout)) {
		// Not held, or held too briefly to cover the poll (at most the
		// client's total timeout): claim it through the poll, and the
		// poll's own writes set it to the next poll plus the grace.
		until := now.Add(f.cfg.Timeout + f.leaseGrace)
		cr, err := f.leases.claim(ctx, feed.ID, until, now)
		if err != nil {
			if ctx.Err() == nil {
				f.logger.Warn("lease not claimed; trying again shortly", "feed_id", feed.ID, "err", err)
			}
			return now.Add(min(feed.Interval, 30*time.Second)), false
		}
		f.metrics.LeasesHeld.Set(float64(f.leases.count()))
		if !cr.ok {
			// Another replica polls this feed; look again when its lease
			// would end, a little spread so replicas do not collide.
			f.forgetState(feed.ID)
			return cr.until.Add(time.Duration(rand.Int64N(int64(time.Second)))), false
		}
		if cr.fresh {
			// The feed may have been polled by another replica since we
			// last looked: its state in the bucket is the truth.
			f.forgetState(feed.ID)
			if st, err := f.readState(ctx, feed.ID); err == nil && st.NextPoll.After(now) {
				_ = f.leases.extend(ctx, feed.ID, st.NextPoll.Add(f.leaseGrace), now)
				return st.NextPoll, false
			}
		}
	}
	var hooks pollHooks
	if f.leases != nil {
		hooks.beforeSave = func(next time.Time, w *batch) func() { return f.leases.extendIn(w, feed.ID, next.Add(f.leaseGrace)) }
		hooks.keepLease = func(ctx context.Context) error { return f.keepLease(ctx, feed.ID) }
	}
	res, next, err := f.pollWith(context.WithValue(ctx, heldSlotKey{}, j.slot), feed, hooks)
	if err != nil && ctx.Err() == nil {
		f.logger.Warn("poll failed", "feed_id", feed.ID, "feed_url", feed.URL, "err", err, "next_poll", next)
	}
	if f.leases != nil {
		f.metrics.LeasesHeld.Set(float64(f.leases.count())) // a failed renewal drops one
	}
	return next, res.Backlog && err == nil
}

// keepLease renews the lease of a feed under a long poll, before each item,
// when it would end within a request's time: to a request's time plus the
// grace, as a claim does. A replica that dies in a long poll so holds its
// feed at most fetcher.timeout plus fetcher.lease_grace, at the cost of one
// KV write per grace period of the poll.
func (f *Fetcher) keepLease(ctx context.Context, id string) error {
	now := f.now()
	if f.leases.holds(id, now.Add(f.cfg.Timeout)) {
		return nil
	}
	cr, err := f.leases.claim(ctx, id, now.Add(f.cfg.Timeout+f.leaseGrace), now)
	if err != nil {
		return err
	}
	if !cr.ok {
		return fmt.Errorf("fetcher: lease %s/%s taken over by another replica", topology.BucketLeases, id)
	}
	return nil
}
