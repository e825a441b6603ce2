package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/topology"
)

// DigestSink is a sink that can send several alerts as one message.
type DigestSink interface {
	SendDigest(ctx context.Context, deliveryID, watchID string, evs []events.CloudEvent) error
}

// errUnchanged tells updateJSON that the value needs no write.
var errUnchanged = errors.New("delivery: unchanged")

// updateJSON applies change to the JSON value under key with compare-and-set,
// reading again when another replica wrote in between. change sees the zero
// value when the key is absent and returns errUnchanged to skip the write.
func updateJSON[T any](ctx context.Context, kv jetstream.KeyValue, bucket, key string, change func(*T) error) error {
	for range 10 {
		var v T
		var rev uint64
		e, err := kv.Get(ctx, key)
		switch {
		case err == nil:
			rev = e.Revision()
			if err := json.Unmarshal(e.Value(), &v); err != nil {
				return fmt.Errorf("delivery: %s/%s does not decode: %w", bucket, key, err)
			}
		case !errors.Is(err, jetstream.ErrKeyNotFound):
			return fmt.Errorf("delivery: reading %s/%s: %w", bucket, key, err)
		}
		if err := change(&v); err != nil {
			return err
		}
		data, _ := json.Marshal(v)
		if rev == 0 {
			_, err = kv.Create(ctx, key, data)
		} else {
			_, err = kv.Update(ctx, key, data, rev)
		}
		if err == nil {
			return nil
		}
		// Another replica wrote meanwhile: read again.
	}
	return fmt.Errorf("delivery: %s/%s keeps changing; retrying later", bucket, key)
}

// allow reports whether an alert of w may go to the sinks under the watch's
// rate limit, counted per clock hour across replicas in newswatch_rates.
// An alert counted before (a redelivery) stays allowed.
func (d *Deliverer) allow(ctx context.Context, w config.Watch, alertID string) (bool, error) {
	hour := d.now().UTC().Truncate(time.Hour)
	key := w.ID + "." + strconv.FormatInt(hour.Unix(), 10)
	allowed := false
	err := updateJSON(ctx, d.rates, topology.BucketRates, key, func(ids *[]string) error {
		if slices.Contains(*ids, alertID) {
			allowed = true
			return errUnchanged
		}
		if len(*ids) >= w.RateLimit {
			allowed = false
			return errUnchanged
		}
		*ids = append(*ids, alertID)
		allowed = true
		return nil
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		return false, err
	}
	return allowed, nil
}

// digest is what newswatch_digests holds per watch and period.
type digest struct {
	Watch       string              `json:"watch"`
	PeriodStart time.Time           `json:"period_start"`
	Period      time.Duration       `json:"period"`
	Events      []events.CloudEvent `json:"events"`
	// Sinks is each sink's progress once the period has ended.
	Sinks map[string]*digestState `json:"sinks,omitempty"`
}

// digestState is one sink's progress with a digest: the attempts made,
// when the next may start, and whether it is settled (delivered or
// dead-lettered). A claim keeps two replicas from sending at once.
type digestState struct {
	Attempts     int       `json:"attempts"`
	NextAttempt  time.Time `json:"next_attempt,omitzero"`
	ClaimedUntil time.Time `json:"claimed_until,omitzero"`
	Done         bool      `json:"done,omitempty"`
}

func (dg *digest) state(sinkName string) *digestState {
	if dg.Sinks == nil {
		dg.Sinks = map[string]*digestState{}
	}
	if dg.Sinks[sinkName] == nil {
		dg.Sinks[sinkName] = &digestState{}
	}
	return dg.Sinks[sinkName]
}

// addToDigest files an alert under its watch's current period; each sink
// sends the period's digest when it ends.
func (d *Deliverer) addToDigest(ctx context.Context, w config.Watch, ev events.CloudEvent) error {
	start := d.now().UTC().Truncate(w.Digest)
	key := w.ID + "." + strconv.FormatInt(start.Unix(), 10)
	err := updateJSON(ctx, d.digests, topology.BucketDigests, key, func(dg *digest) error {
		if dg.Watch == "" {
			*dg = digest{Watch: w.ID, PeriodStart: start, Period: w.Digest}
		}
		if slices.ContainsFunc(dg.Events, func(x events.CloudEvent) bool { return x.ID == ev.ID }) {
			return errUnchanged
		}
		dg.Events = append(dg.Events, ev)
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	return err
}

// pending lists the sinks that still owe dg a delivery: the configured
// digest-capable sinks of its watch that have not settled it.
func (d *Deliverer) pending(dg *digest) []string {
	// A watch whose digest was turned off meanwhile still gets the alerts
	// it collected; a removed watch gets nothing.
	w, ok := d.watchOf(dg.Watch)
	if !ok {
		return nil
	}
	var out []string
	for _, name := range w.Sinks {
		if _, ok := d.sinks[name].(DigestSink); !ok {
			continue
		}
		if st := dg.Sinks[name]; st == nil || !st.Done {
			out = append(out, name)
		}
	}
	return out
}

// FlushDigests delivers, to every sink, the digests whose period has ended
// and whose next attempt is due. Each sink's flusher calls flushDigests on
// its own; this is for callers that want one pass over all of them.
func (d *Deliverer) FlushDigests(ctx context.Context) error {
	names := make([]string, 0, len(d.sinks))
	for name := range d.sinks {
		names = append(names, name)
	}
	slices.Sort(names)
	var errs []error
	for _, name := range names {
		errs = append(errs, d.flushDigests(ctx, name))
	}
	return errors.Join(errs...)
}

// flushDigests runs, for one sink, the digest stages (dedup -> send ->
// retry or dead letter) on every ended digest the sink owes. A retry is
// scheduled in the digest's entry with the same backoff and attempt budget
// as an alert's; when every sink has settled a digest, it is removed.
func (d *Deliverer) flushDigests(ctx context.Context, sinkName string) error {
	keys, err := d.digests.Keys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delivery: listing %s: %w", topology.BucketDigests, err)
	}
	var errs []error
	for _, key := range keys {
		if ctx.Err() != nil {
			break
		}
		if err := d.flushDigest(ctx, sinkName, key); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (d *Deliverer) flushDigest(ctx context.Context, sinkName, key string) error {
	now := d.now().UTC()
	var dg digest
	var attempt int
	// Claim this sink's delivery of the digest, counting the attempt.
	err := updateJSON(ctx, d.digests, topology.BucketDigests, key, func(cur *digest) error {
		if cur.Watch == "" || now.Before(cur.PeriodStart.Add(cur.Period)) {
			return errUnchanged // gone, or its period is running
		}
		if !slices.Contains(d.pending(cur), sinkName) {
			return errUnchanged
		}
		st := cur.state(sinkName)
		if now.Before(st.NextAttempt) || now.Before(st.ClaimedUntil) {
			return errUnchanged
		}
		st.Attempts++
		st.ClaimedUntil = now.Add(d.sinks[sinkName].Timeout() + time.Minute)
		attempt = st.Attempts
		dg = *cur
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return d.removeIfSettled(ctx, key)
	}
	if err != nil {
		return err
	}
	w, _ := d.watchOf(dg.Watch)
	n := &Notification{
		Sink: sinkName, DeliveryID: ID("digest:"+key, sinkName), Watch: w,
		Digest: dg.Events, DigestKey: key, Attempt: attempt,
	}
	_, err = d.digestStages[sinkName].Exec(ctx, n)
	retry, isRetry := asRetry(err)
	if err != nil && !isRetry {
		// Delivery's own state failed (or it is shutting down): let the
		// claim lapse and try again.
		return err
	}
	err = updateJSON(ctx, d.digests, topology.BucketDigests, key, func(cur *digest) error {
		if cur.Watch == "" {
			return errUnchanged
		}
		st := cur.state(sinkName)
		st.ClaimedUntil = time.Time{}
		if isRetry {
			st.NextAttempt = d.now().UTC().Add(retry.Delay)
		} else {
			st.Done = true
		}
		return nil
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		return err
	}
	return d.removeIfSettled(ctx, key)
}

// removeIfSettled deletes an ended digest no sink owes anything any more.
func (d *Deliverer) removeIfSettled(ctx context.Context, key string) error {
	e, err := d.digests.Get(ctx, key)
	if err != nil {
		return nil // gone already
	}
	var dg digest
	if json.Unmarshal(e.Value(), &dg) != nil || d.now().Before(dg.PeriodStart.Add(dg.Period)) || len(d.pending(&dg)) > 0 {
		return nil
	}
	if err := d.digests.Delete(ctx, key, jetstream.LastRevision(e.Revision())); err != nil &&
		!errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return fmt.Errorf("delivery: removing %s/%s: %w", topology.BucketDigests, key, err)
	}
	return nil
}

// runDigests flushes one sink's ended digests every interval until ctx ends.
func (d *Deliverer) runDigests(ctx context.Context, sinkName string) {
	t := time.NewTicker(d.digestInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := d.flushDigests(ctx, sinkName); err != nil && ctx.Err() == nil {
				d.logger.Warn("flushing digests", "sink", sinkName, "err", err)
			}
		}
	}
}
