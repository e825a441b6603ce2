package fetcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/pkg/topology"
)

// lease is the value of a feed's key in the newswatch_leases bucket. The
// expiry lives in the value rather than in a bucket TTL because a lease must
// last a whole poll interval (hours for some feeds) yet be taken over soon
// after its holder dies; replicas compare it with their own clocks, so their
// clocks should agree to well within the lease grace.
type lease struct {
	Owner   string    `json:"owner"`
	Expires time.Time `json:"expires"`
}

// leases claims and renews feed leases for one replica. A claim on a free
// key is a kv.Create; a renewal or a takeover of an expired lease is a
// kv.Update on the revision last read, so two replicas can never both win.
type leases struct {
	kv    jetstream.KeyValue
	owner string

	mu   sync.Mutex
	held map[string]heldLease
}

type heldLease struct {
	rev     uint64
	expires time.Time
}

func newLeases(kv jetstream.KeyValue, owner string) *leases {
	return &leases{kv: kv, owner: owner, held: map[string]heldLease{}}
}

// claimResult says whether this replica may poll a feed now.
type claimResult struct {
	ok bool
	// fresh is set when the lease was not held by this replica a moment
	// ago, so whatever it cached about the feed may be stale.
	fresh bool
	// until is, when ok is false, when the other holder's lease ends.
	until time.Time
}

// claim takes or renews the lease of id until the given time.
func (l *leases) claim(ctx context.Context, id string, until, now time.Time) (claimResult, error) {
	val, _ := json.Marshal(lease{Owner: l.owner, Expires: until})
	l.mu.Lock()
	h, mine := l.held[id]
	l.mu.Unlock()
	if mine {
		rev, err := l.kv.Update(ctx, id, val, h.rev)
		if err == nil {
			l.keep(id, rev, until)
			return claimResult{ok: true}, nil
		}
		if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return claimResult{}, fmt.Errorf("fetcher: renewing lease %s/%s: %w", topology.BucketLeases, id, err)
		}
		// Someone took it over (our clock ran late, or we stalled past
		// the grace): read who holds it now.
		l.drop(id)
	}
	e, err := l.kv.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		rev, err := l.kv.Create(ctx, id, val)
		if errors.Is(err, jetstream.ErrKeyExists) {
			// Another replica created it first, or a deleted key's
			// marker is in the way; look again on the next round.
			return claimResult{until: now.Add(minRetry)}, nil
		}
		if err != nil {
			return claimResult{}, fmt.Errorf("fetcher: creating lease %s/%s: %w", topology.BucketLeases, id, err)
		}
		l.keep(id, rev, until)
		return claimResult{ok: true, fresh: true}, nil
	}
	if err != nil {
		return claimResult{}, fmt.Errorf("fetcher: reading lease %s/%s: %w", topology.BucketLeases, id, err)
	}
	var cur lease
	if json.Unmarshal(e.Value(), &cur) == nil && cur.Owner != l.owner && now.Before(cur.Expires) {
		return claimResult{until: cur.Expires}, nil
	}
	rev, err := l.kv.Update(ctx, id, val, e.Revision())
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return claimResult{until: now.Add(minRetry)}, nil
	}
	if err != nil {
		return claimResult{}, fmt.Errorf("fetcher: taking over lease %s/%s: %w", topology.BucketLeases, id, err)
	}
	l.keep(id, rev, until)
	return claimResult{ok: true, fresh: true}, nil
}

// holds reports whether this replica holds id's lease until after t, so a
// poll may start without renewing it first.
func (l *leases) holds(id string, t time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	h, ok := l.held[id]
	return ok && h.expires.After(t)
}

// extendIn queues the renewal of a held lease until the given time in w,
// the poll's batch of writes, and returns what to do once w has been
// waited for. It does nothing when the lease already lasts that long.
func (l *leases) extendIn(w *batch, id string, until time.Time) func() {
	l.mu.Lock()
	h, mine := l.held[id]
	l.mu.Unlock()
	if !mine || h.expires.Equal(until) {
		return func() {}
	}
	val, _ := json.Marshal(lease{Owner: l.owner, Expires: until})
	a := w.update(topology.BucketLeases, id, val, h.rev)
	return func() {
		if !a.done {
			return // the poll was cancelled; the next claim reads the lease
		}
		if a.err != nil {
			l.drop(id)
			return
		}
		l.keep(id, a.seq, until)
	}
}

// extend renews a held lease when it would end before until.
func (l *leases) extend(ctx context.Context, id string, until, now time.Time) error {
	l.mu.Lock()
	h, mine := l.held[id]
	l.mu.Unlock()
	if !mine || !h.expires.Before(until) {
		return nil
	}
	_, err := l.claim(ctx, id, until, now)
	return err
}

// release gives up the lease of id if this replica holds it, so another
// replica can take the feed at once instead of after the grace.
func (l *leases) release(ctx context.Context, id string) {
	l.mu.Lock()
	h, mine := l.held[id]
	delete(l.held, id)
	l.mu.Unlock()
	if !mine {
		return
	}
	// Deleting on our revision only: if someone took it over, theirs stays.
	err := l.kv.Delete(ctx, id, jetstream.LastRevision(h.rev))
	if err == nil || ctx.Err() != nil {
		return
	}
	// Our last renewal may have landed unacknowledged: delete the lease
	// if it is still ours, on the revision read.
	e, gerr := l.kv.Get(ctx, id)
	if gerr != nil {
		return
	}
	var cur lease
	if json.Unmarshal(e.Value(), &cur) == nil && cur.Owner == l.owner {
		_ = l.kv.Delete(ctx, id, jetstream.LastRevision(e.Revision()))
	}
}

// releaseAll gives up every lease, on a clean shutdown.
func (l *leases) releaseAll(ctx context.Context) {
	l.mu.Lock()
	ids := make([]string, 0, len(l.held))
	for id := range l.held {
		ids = append(ids, id)
	}
	l.mu.Unlock()
	for _, id := range ids {
		l.release(ctx, id)
	}
}

func (l *leases) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.held)
}

func (l *leases) keep(id string, rev uint64, until time.Time) {
	l.mu.Lock()
	l.held[id] = heldLease{rev: rev, expires: until}
	l.mu.Unlock()
}

func (l *leases) drop(id string) {
	l.mu.Lock()
	delete(l.held, id)
	l.mu.Unlock()
}
