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
	Watch        string              `json:"watch"`
	PeriodStart  time.Time           `json:"period_start"`
	Period       time.Duration       `json:"period"`
	Events       []events.CloudEvent `json:"events"`
	ClaimedUntil time.Time           `json:"claimed_until,omitzero"`
}

// addToDigest files an alert under its watch's current period; the flusher
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

// FlushDigests sends every digest whose period has ended to the sinks of its
// watch, then removes it. A digest is claimed for two minutes before it is
// sent, so replicas flushing at once do not both send it.
func (d *Deliverer) FlushDigests(ctx context.Context) error {
	keys, err := d.digests.Keys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delivery: listing %s: %w", topology.BucketDigests, err)
	}
	now := d.now().UTC()
	var errs []error
	for _, key := range keys {
		e, err := d.digests.Get(ctx, key)
		if err != nil {
			continue
		}
		var dg digest
		if json.Unmarshal(e.Value(), &dg) != nil || now.Before(dg.PeriodStart.Add(dg.Period)) || now.Before(dg.ClaimedUntil) {
			continue
		}
		dg.ClaimedUntil = now.Add(2 * time.Minute)
		claim, _ := json.Marshal(dg)
		rev, err := d.digests.Update(ctx, key, claim, e.Revision())
		if err != nil {
			continue // another replica claimed it
		}
		if err := d.sendDigest(ctx, key, dg); err != nil {
			errs = append(errs, err)
			continue // the claim expires and the next flush retries
		}
		if err := d.digests.Delete(ctx, key, jetstream.LastRevision(rev)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (d *Deliverer) sendDigest(ctx context.Context, key string, dg digest) error {
	w, _ := d.watchOf(dg.Watch)
	var errs []error
	for _, name := range w.Sinks {
		s, ok := d.sinks[name].(DigestSink)
		if !ok {
			continue
		}
		id := ID("digest:"+key, name)
		done, err := d.delivered(ctx, id)
		if err != nil || done {
			errs = append(errs, err)
			continue
		}
		sendCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err = s.SendDigest(sendCtx, id, dg.Watch, dg.Events)
		cancel()
		if err != nil {
			d.metrics.Deliveries.WithLabelValues(name, "retry").Inc()
			d.logger.Warn("digest delivery failed; retrying at the next flush", "sink", name, "watch_id", dg.Watch, "err", err)
			errs = append(errs, err)
			continue
		}
		d.metrics.Deliveries.WithLabelValues(name, "ok").Inc()
		errs = append(errs, d.record(ctx, id, name, "digest:"+key, "delivered"))
	}
	return errors.Join(errs...)
}

// RunDigests flushes ended digests every interval until ctx ends.
func (d *Deliverer) RunDigests(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := d.FlushDigests(ctx); err != nil && ctx.Err() == nil {
				d.logger.Warn("flushing digests", "err", err)
			}
		}
	}
}
