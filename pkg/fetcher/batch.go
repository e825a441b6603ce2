package fetcher

import (
	"context"

	"github.com/nats-io/nats.go/jetstream"
)

// batch pipelines JetStream writes: the seen records of a poll's articles
// (in its publisher) and the feed state with the lease renewal at its end
// are sent without waiting for each acknowledgement, and awaited once. A KV put is a publish on $KV.<bucket>.<key>, which is what
// jetstream.KeyValue.Put sends too, one round trip at a time. (newswatch
// uses no JetStream domain or API prefix; with one, a KV bucket's subjects
// would carry it and these would have to as well.)
type batch struct {
	js   jetstream.JetStream
	acks []*pendingAck
	puts []*pendingAck
}

// pendingAck is one write awaiting its acknowledgement.
type pendingAck struct {
	fut       jetstream.PubAckFuture
	err       error
	duplicate bool // the stream already held this Nats-Msg-Id
	seq       uint64
	done      bool
}

func newBatch(js jetstream.JetStream) *batch { return &batch{js: js} }

func (b *batch) publish(subject string, data []byte, msgID string) *pendingAck {
	var opts []jetstream.PublishOpt
	if msgID != "" {
		opts = append(opts, jetstream.WithMsgID(msgID))
	}
	a := &pendingAck{}
	a.fut, a.err = b.js.PublishAsync(subject, data, opts...)
	if a.err != nil {
		a.done = true
	}
	b.acks = append(b.acks, a)
	return a
}

// update is a KV update on revision rev: it fails if the key changed since.
func (b *batch) update(bucket, key string, data []byte, rev uint64) *pendingAck {
	a := &pendingAck{}
	a.fut, a.err = b.js.PublishAsync("$KV."+bucket+"."+key, data, jetstream.WithExpectLastSequencePerSubject(rev))
	if a.err != nil {
		a.done = true
	}
	b.acks = append(b.acks, a)
	return a
}

func (b *batch) put(bucket, key string, data []byte) *pendingAck {
	a := b.publish("$KV."+bucket+"."+key, data, "")
	b.puts = append(b.puts, a)
	return a
}

// wait waits for every write sent so far; it fails only when ctx ends, and
// leaves each write's own error in its pendingAck.
func (b *batch) wait(ctx context.Context) error {
	for _, a := range b.acks {
		if a.done {
			continue
		}
		select {
		case pa := <-a.fut.Ok():
			if pa != nil {
				a.duplicate, a.seq = pa.Duplicate, pa.Sequence
			}
		case err := <-a.fut.Err():
			a.err = err
		case <-ctx.Done():
			return ctx.Err()
		}
		a.done = true
	}
	return nil
}

// firstErr is the first failed KV write.
func (b *batch) firstErr() error {
	for _, a := range b.puts {
		if a.err != nil {
			return a.err
		}
	}
	return nil
}
