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

// allow reports whether an alert of w may go to the sinks under the watch's
// rate limit, counted per clock hour across replicas in newswatch_rates.
// An alert counted before (a redelivery) stays allowed.
func (d *Deliverer) allow(ctx context.Context, w config.Watch, alertID string) (bool, error) {
	hour := d.now().UTC().Truncate(time.Hour)
	key := w.ID + "." + strconv.FormatInt(hour.Unix(), 10)
	for range 10 {
		var ids []string
		var rev uint64
		e, err := d.rates.Get(ctx, key)
		switch {
		case err == nil:
			rev = e.Revision()
			_ = json.Unmarshal(e.Value(), &ids)
		case !errors.Is(err, jetstream.ErrKeyNotFound):
			return false, fmt.Errorf("delivery: reading %s/%s: %w", topology.BucketRates, key, err)
		}
		if slices.Contains(ids, alertID) {
			return true, nil
		}
		if len(ids) >= w.RateLimit {
			return false, nil
		}
		data, _ := json.Marshal(append(ids, alertID))
		if rev == 0 {
			_, err = d.rates.Create(ctx, key, data)
		} else {
			_, err = d.rates.Update(ctx, key, data, rev)
		}
		if err == nil {
			return true, nil
		}
		// Another replica counted meanwhile: read again.
	}
	return false, fmt.Errorf("delivery: %s/%s keeps changing; retrying later", topology.BucketRates, key)
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
	for range 10 {
		dg := digest{Watch: w.ID, PeriodStart: start, Period: w.Digest}
		var rev uint64
		e, err := d.digests.Get(ctx, key)
		switch {
		case err == nil:
			rev = e.Revision()
			if err := json.Unmarshal(e.Value(), &dg); err != nil {
				return fmt.Errorf("delivery: %s/%s does not decode: %w", topology.BucketDigests, key, err)
			}
		case !errors.Is(err, jetstream.ErrKeyNotFound):
			return fmt.Errorf("delivery: reading %s/%s: %w", topology.BucketDigests, key, err)
		}
		if slices.ContainsFunc(dg.Events, func(x events.CloudEvent) bool { return x.ID == ev.ID }) {
			return nil
		}
		dg.Events = append(dg.Events, ev)
		data, _ := json.Marshal(dg)
		if rev == 0 {
			_, err = d.digests.Create(ctx, key, data)
		} else {
			_, err = d.digests.Update(ctx, key, data, rev)
		}
		if err == nil {
			return nil
		}
	}
	return fmt.Errorf("delivery: %s/%s keeps changing; retrying later", topology.BucketDigests, key)
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
