package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/pkg/consume"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/topology"
)

// ConsumerName is the durable consumer on ALERTS that delivers to one sink.
func ConsumerName(sinkName string) string { return "delivery-" + sinkName }

// ackWait covers the attempt in hand plus the one message the client holds
// ready behind it (PullMaxMessages 1), each bounded by the sink's timeout,
// and the KV reads and writes around them.
func ackWait(timeout time.Duration) time.Duration { return 2*timeout + 30*time.Second }

// Setup creates or updates the durable consumer of every sink. A sink's
// consumer is created at the first alert its sinks have not seen: where the
// single consumer of earlier versions ("delivery") had got to, so an
// upgrade neither skips nor repeats alerts, or else after the last alert
// stored, so a sink added later is not sent the whole history. That
// consumer of earlier versions is deleted once every sink has its own, and
// so are the consumers of sinks no longer configured.
func (d *Deliverer) Setup(ctx context.Context) error {
	var start uint64
	legacy, legacyErr := d.js.Consumer(ctx, topology.StreamAlerts, topology.ConsumerDelivery)
	switch {
	case legacyErr == nil:
		start = legacy.CachedInfo().AckFloor.Stream + 1
	case errors.Is(legacyErr, jetstream.ErrConsumerNotFound):
		s, err := d.js.Stream(ctx, topology.StreamAlerts)
		if err != nil {
			return fmt.Errorf("delivery: stream %s: %w", topology.StreamAlerts, err)
		}
		start = s.CachedInfo().State.LastSeq + 1
	default:
		return fmt.Errorf("delivery: looking up consumer %s on %s: %w", topology.ConsumerDelivery, topology.StreamAlerts, legacyErr)
	}
	names := make([]string, 0, len(d.sinks))
	for name := range d.sinks {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		c, err := d.ensureConsumer(ctx, ConsumerName(name), d.sinks[name].Timeout(), start)
		if err != nil {
			return err
		}
		d.mu.Lock()
		d.consumers[name] = c
		d.mu.Unlock()
	}
	d.removeStale(ctx)
	if legacyErr == nil {
		if err := d.js.DeleteConsumer(ctx, topology.StreamAlerts, topology.ConsumerDelivery); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			d.logger.Warn("could not delete the consumer of earlier versions; delete it with nats consumer rm",
				"stream", topology.StreamAlerts, "consumer", topology.ConsumerDelivery, "err", err)
		}
	}
	return nil
}

// removeStale deletes the delivery consumers of sinks no longer in the
// config: nothing reads them, so their backlog would only grow (and fire
// the consumer-lag alert). A failure is logged, not fatal.
func (d *Deliverer) removeStale(ctx context.Context) {
	s, err := d.js.Stream(ctx, topology.StreamAlerts)
	if err != nil {
		return
	}
	names := s.ConsumerNames(ctx)
	var stale []string
	for name := range names.Name() {
		sinkName, ok := strings.CutPrefix(name, ConsumerName(""))
		if _, configured := d.sinks[sinkName]; ok && !configured {
			stale = append(stale, name)
		}
	}
	if err := names.Err(); err != nil {
		d.logger.Warn("listing delivery consumers", "stream", topology.StreamAlerts, "err", err)
	}
	for _, name := range stale {
		if err := d.js.DeleteConsumer(ctx, topology.StreamAlerts, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			d.logger.Warn("could not delete the consumer of a sink no longer configured", "consumer", name, "err", err)
			continue
		}
		d.logger.Info("deleted the consumer of a sink no longer configured", "consumer", name)
	}
}

func (d *Deliverer) ensureConsumer(ctx context.Context, name string, timeout time.Duration, start uint64) (jetstream.Consumer, error) {
	cfg := jetstream.ConsumerConfig{
		Durable:       name,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait(timeout),
		MaxDeliver:    d.maxDeliver + 3, // settle dead-letters at maxDeliver; the rest is slack for crashes
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   start,
		Replicas:      d.replicas,
	}
	for range 2 {
		existing, err := d.js.Consumer(ctx, topology.StreamAlerts, name)
		if err == nil {
			// Its start position is part of its identity; the limits follow the config.
			old := existing.CachedInfo().Config
			cfg.DeliverPolicy, cfg.OptStartSeq, cfg.OptStartTime = old.DeliverPolicy, old.OptStartSeq, old.OptStartTime
			c, err := d.js.UpdateConsumer(ctx, topology.StreamAlerts, cfg)
			if err != nil {
				return nil, fmt.Errorf("delivery: updating consumer %s on %s: %w", name, topology.StreamAlerts, err)
			}
			return c, nil
		}
		if !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return nil, fmt.Errorf("delivery: looking up consumer %s on %s: %w", name, topology.StreamAlerts, err)
		}
		c, err := d.js.CreateConsumer(ctx, topology.StreamAlerts, cfg)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, jetstream.ErrConsumerExists) {
			return nil, fmt.Errorf("delivery: creating consumer %s on %s: %w", name, topology.StreamAlerts, err)
		}
		// Another replica created it meanwhile: use theirs.
	}
	return nil, fmt.Errorf("delivery: consumer %s on %s keeps changing; retrying at the next start", name, topology.StreamAlerts)
}

// Consumers returns the consumer of each sink, once Setup has run.
func (d *Deliverer) Consumers() map[string]jetstream.Consumer {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]jetstream.Consumer, len(d.consumers))
	for k, v := range d.consumers {
		out[k] = v
	}
	return out
}

// Run delivers until ctx ends: for each sink, its consumer of ALERTS and
// its digest flusher run on their own, so one sink's timeouts or retries
// never hold back another's deliveries. Setup must have run.
func (d *Deliverer) Run(ctx context.Context) error {
	cons := d.Consumers()
	if len(cons) != len(d.sinks) {
		return fmt.Errorf("delivery: Run before Setup (%d of %d sink consumers)", len(cons), len(d.sinks))
	}
	if len(cons) == 0 {
		<-ctx.Done() // no sinks: alerts stay on their subjects
		return nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*len(cons))
	for name, c := range cons {
		wg.Go(func() { errs <- d.consume(ctx, name, c) })
		wg.Go(func() { d.runDigests(ctx, name); errs <- nil })
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

// Handle delivers one alert to one sink through the alert stages. attempt
// is the message's delivery count (1 on the first). A *consume.Retry asks
// for the message again after its delay.
func (d *Deliverer) Handle(ctx context.Context, sinkName string, ev events.CloudEvent, attempt int) error {
	st, ok := d.alertStages[sinkName]
	if !ok {
		return fmt.Errorf("delivery: no sink %q", sinkName)
	}
	_, err := st.Exec(ctx, &Notification{Sink: sinkName, Event: ev, Attempt: attempt})
	return err
}

// consume handles the sink's consumer one message at a time. The client
// holds at most one message in reserve (PullMaxMessages 1), so a sink that
// is slow cannot have a backlog time out in the client and be redelivered
// (and its attempts spent) while it waits.
func (d *Deliverer) consume(ctx context.Context, sinkName string, c jetstream.Consumer) error {
	name := ConsumerName(sinkName)
	log := d.logger.With("consumer", name, "sink", sinkName)
	it, err := c.Messages(jetstream.PullMaxMessages(1))
	if err != nil {
		return fmt.Errorf("delivery: starting consumer %s: %w", name, err)
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	defer it.Stop()
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			// A missed heartbeat or a consumer being recreated: the
			// iterator recovers on its own; do not spin meanwhile.
			log.Debug("next message", "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Second):
			}
			continue
		}
		d.ack(ctx, log, msg, d.handleMsg(ctx, sinkName, msg))
	}
}

func (d *Deliverer) handleMsg(ctx context.Context, sinkName string, msg jetstream.Msg) error {
	var ev events.CloudEvent
	if err := json.Unmarshal(msg.Data(), &ev); err != nil || ev.ID == "" {
		return consume.Poison(fmt.Errorf("delivery: %s is not an alert: %v", msg.Subject(), err))
	}
	attempt := 1
	if meta, err := msg.Metadata(); err == nil {
		attempt = int(meta.NumDelivered)
	}
	return d.Handle(ctx, sinkName, ev, attempt)
}

// ack settles a message the way consume.Run does: ack, terminate a poison
// message, or ask for it again after the retry's delay (5s for delivery's
// own failures, such as an unreachable KV bucket).
func (d *Deliverer) ack(ctx context.Context, log *slog.Logger, msg jetstream.Msg, err error) {
	switch r, isRetry := asRetry(err); {
	case err == nil:
		if aerr := msg.Ack(); aerr != nil {
			log.Warn("ack failed; the message will be redelivered", "err", aerr)
		}
	case errors.Is(err, consume.ErrPoison):
		log.Error("terminating a message that cannot be handled", "subject", msg.Subject(), "err", err)
		_ = msg.Term()
	case isRetry:
		_ = msg.NakWithDelay(r.Delay)
	default:
		if ctx.Err() == nil {
			log.Warn("handling failed; redelivering later", "subject", msg.Subject(), "err", err, "retry_in", 5*time.Second)
		}
		_ = msg.NakWithDelay(5 * time.Second)
	}
}
