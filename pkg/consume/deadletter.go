package consume

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Reasons a message is dead-lettered, as the Newswatch-Reason header and the
// reason label of newswatch_consumer_dead_letters_total.
const (
	// ReasonPermanent: the handler said the message can never be handled
	// (it does not decode, has an unknown schema, names an invalid watch...).
	ReasonPermanent = "permanent"
	// ReasonMaxDeliveries: the handler kept failing for a passing reason,
	// or never acknowledged the message, until its last delivery.
	ReasonMaxDeliveries = "max_deliveries"
)

// StageSubjectPrefix starts the subjects of stage dead letters,
// deadletter.stage.<consumer>, which the DEADLETTER stream stores beside
// the sinks' deadletter.<sink>.
const StageSubjectPrefix = "deadletter.stage."

// StageSubject is where a consumer's dead letters go.
func StageSubject(consumer string) string { return StageSubjectPrefix + consumer }

// Dead-letter headers. The dead letter's body is the original message's
// body, unchanged, so a replay republishes it as it was.
const (
	HeaderStage      = "Newswatch-Stage"
	HeaderStream     = "Newswatch-Stream"
	HeaderStreamSeq  = "Newswatch-Stream-Seq"
	HeaderSubject    = "Newswatch-Subject"
	HeaderDeliveries = "Newswatch-Deliveries"
	HeaderReason     = "Newswatch-Reason"
	HeaderError      = "Newswatch-Error"
	HeaderFailedAt   = "Newswatch-Failed-At"
	// HeaderBodyDropped is set when the original body did not fit beside
	// the headers; the body is then still in Stream at StreamSeq until the
	// stream's max_age.
	HeaderBodyDropped = "Newswatch-Body-Dropped"
)

// maxErrorLen bounds the error text kept in a dead letter.
const maxErrorLen = 1024

// DeadLetter is a message a consumer gave up on, as deadletter.stage.<consumer>
// holds it.
type DeadLetter struct {
	Stage       string // the consumer: analyzer, notifier
	Stream      string // where the message came from
	StreamSeq   uint64
	Subject     string // the subject it was published on; a replay publishes there
	Deliveries  uint64
	Reason      string // ReasonPermanent or ReasonMaxDeliveries
	Error       string
	FailedAt    time.Time
	BodyDropped bool
	Data        []byte
}

func newDeadLetter(stage string, msg jetstream.Msg, reason string, delivered uint64, cause error) DeadLetter {
	dl := DeadLetter{Stage: stage, Subject: msg.Subject(), Deliveries: delivered, Reason: reason,
		Error: truncate(cause.Error()), FailedAt: time.Now().UTC(), Data: msg.Data()}
	if meta, err := msg.Metadata(); err == nil {
		dl.Stream, dl.StreamSeq = meta.Stream, meta.Sequence.Stream
	}
	return dl
}

func truncate(s string) string {
	if len(s) <= maxErrorLen {
		return s
	}
	cut := maxErrorLen
	for cut > 0 && s[cut]&0xC0 == 0x80 { // not inside a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}

// MsgID is the dead letter's Nats-Msg-Id: one dead letter per stored
// message, however many replicas or advisories report it.
func (d DeadLetter) MsgID() string {
	return fmt.Sprintf("stage-%s-%s-%d", d.Stage, d.Stream, d.StreamSeq)
}

func (d DeadLetter) msg() *nats.Msg {
	m := nats.NewMsg(StageSubject(d.Stage))
	m.Header.Set(HeaderStage, d.Stage)
	m.Header.Set(HeaderStream, d.Stream)
	m.Header.Set(HeaderStreamSeq, strconv.FormatUint(d.StreamSeq, 10))
	m.Header.Set(HeaderSubject, d.Subject)
	m.Header.Set(HeaderDeliveries, strconv.FormatUint(d.Deliveries, 10))
	m.Header.Set(HeaderReason, d.Reason)
	// A header value holds one line.
	m.Header.Set(HeaderError, strings.NewReplacer("\r", " ", "\n", " ").Replace(d.Error))
	m.Header.Set(HeaderFailedAt, d.FailedAt.Format(time.RFC3339Nano))
	m.Data = d.Data
	return m
}

func (d DeadLetter) publish(ctx context.Context, js jetstream.JetStream) error {
	m := d.msg()
	// The original may be close to the server's max payload already: keep
	// the headers (and the stream sequence to find the body) rather than
	// nothing.
	if limit := js.Conn().MaxPayload(); limit > 0 && int64(len(m.Data)+headerSize(m)) > limit {
		m.Data = nil
		m.Header.Set(HeaderBodyDropped, "true")
	}
	if _, err := js.PublishMsg(ctx, m, jetstream.WithMsgID(d.MsgID())); err != nil {
		return fmt.Errorf("consume: dead-lettering %s seq %d to %s: %w", d.Stream, d.StreamSeq, m.Subject, err)
	}
	return nil
}

func headerSize(m *nats.Msg) int {
	n := 64
	for k, vs := range m.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// ParseDeadLetter reads a stage dead letter from a DEADLETTER message; ok
// is false for anything else (a sink's dead letter).
func ParseDeadLetter(subject string, h nats.Header, data []byte) (DeadLetter, bool) {
	if !strings.HasPrefix(subject, StageSubjectPrefix) || h.Get(HeaderStage) == "" {
		return DeadLetter{}, false
	}
	seq, _ := strconv.ParseUint(h.Get(HeaderStreamSeq), 10, 64)
	n, _ := strconv.ParseUint(h.Get(HeaderDeliveries), 10, 64)
	at, _ := time.Parse(time.RFC3339Nano, h.Get(HeaderFailedAt))
	return DeadLetter{
		Stage: h.Get(HeaderStage), Stream: h.Get(HeaderStream), StreamSeq: seq, Subject: h.Get(HeaderSubject),
		Deliveries: n, Reason: h.Get(HeaderReason), Error: h.Get(HeaderError), FailedAt: at,
		BodyDropped: h.Get(HeaderBodyDropped) == "true", Data: data,
	}, true
}

// Replay publishes a dead letter's message again on its original subject,
// without a Nats-Msg-Id so that the stream's duplicate window does not drop
// it. A dead letter whose body was dropped is read back from its stream.
func Replay(ctx context.Context, js jetstream.JetStream, d DeadLetter) error {
	data := d.Data
	if d.BodyDropped {
		s, err := js.Stream(ctx, d.Stream)
		if err != nil {
			return fmt.Errorf("consume: replaying %s seq %d: %w", d.Stream, d.StreamSeq, err)
		}
		raw, err := s.GetMsg(ctx, d.StreamSeq)
		if err != nil {
			return fmt.Errorf("consume: replaying %s seq %d (the dead letter kept no body and the stream no longer has it): %w", d.Stream, d.StreamSeq, err)
		}
		data = raw.Data
	}
	if _, err := js.Publish(ctx, d.Subject, data); err != nil {
		return fmt.Errorf("consume: replaying to %s: %w", d.Subject, err)
	}
	return nil
}

// maxDeliverAdvisory is the part of JetStream's
// io.nats.jetstream.advisory.v1.max_deliver advisory used here.
type maxDeliverAdvisory struct {
	Stream     string `json:"stream"`
	Consumer   string `json:"consumer"`
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries"`
}

// followMaxDeliveries dead-letters the messages the server gives up on by
// itself: those never acknowledged (the handler crashed or hung) on their
// last delivery. Replicas share a queue group, so one of them handles each
// advisory; the dead letter's Nats-Msg-Id drops any repeat.
func (r *runner) followMaxDeliveries(ctx context.Context, cons jetstream.Consumer) (func(), error) {
	info := cons.CachedInfo()
	if info == nil {
		return func() {}, nil
	}
	subject := fmt.Sprintf("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.%s.%s", info.Stream, info.Name)
	sub, err := r.js.Conn().QueueSubscribe(subject, "newswatch-deadletter-"+info.Name, func(m *nats.Msg) {
		var adv maxDeliverAdvisory
		if err := json.Unmarshal(m.Data, &adv); err != nil {
			return
		}
		go r.deadLetterUnacked(ctx, adv)
	})
	if err != nil {
		return nil, fmt.Errorf("consume: following max-deliveries advisories of %s: %w", info.Name, err)
	}
	return func() { _ = sub.Unsubscribe() }, nil
}

func (r *runner) deadLetterUnacked(ctx context.Context, adv maxDeliverAdvisory) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	dl := DeadLetter{Stage: r.name, Stream: adv.Stream, StreamSeq: adv.StreamSeq, Deliveries: adv.Deliveries,
		Reason: ReasonMaxDeliveries, FailedAt: time.Now().UTC(),
		Error: fmt.Sprintf("not acknowledged after %d deliveries (the handler crashed, hung or ran past the ack wait)", adv.Deliveries)}
	if s, err := r.js.Stream(ctx, adv.Stream); err == nil {
		if raw, err := s.GetMsg(ctx, adv.StreamSeq); err == nil {
			dl.Subject, dl.Data = raw.Subject, raw.Data
		}
	}
	if err := dl.publish(ctx, r.js); err != nil {
		r.log.Error("dead-lettering an unacknowledged message failed; it stays in its stream", "stream", adv.Stream, "stream_seq", adv.StreamSeq, "err", err)
		return
	}
	if r.metrics != nil {
		r.metrics.DeadLetters.WithLabelValues(r.name, ReasonMaxDeliveries).Inc()
	}
	r.log.Error("dead-lettered a message never acknowledged", "stream", adv.Stream, "stream_seq", adv.StreamSeq, "deliveries", adv.Deliveries)
}
