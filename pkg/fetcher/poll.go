package fetcher

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/text/encoding/charmap"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/httpguard"
	"github.com/newswatch/newswatch/pkg/topology"
)

// ErrPublish is wrapped by the error of a poll whose articles could not all
// be published.
var ErrPublish = errors.New("fetcher: articles not published")

// errCanceled marks an item whose page download was cut by the end of the
// poll's context (a shutdown): it is neither published nor recorded.
var errCanceled = errors.New("fetcher: poll canceled")

// writeTimeout bounds the wait for the writes a poll has already sent
// (articles, seen records, feed state, lease), also after its context ended.
const writeTimeout = 10 * time.Second

// DefaultPollSlice is how long a poll may keep a worker while other due
// feeds wait for one; then it stops at the next item and takes its turn
// again behind them, so a feed with a huge backlog shares the workers.
const DefaultPollSlice = 10 * time.Second

// firstRetry is the first wait after a transient failure (DNS, connect,
// timeout, 5xx); it doubles per failure up to the interval and beyond.
const firstRetry = 15 * time.Second

// transientError marks a failure worth retrying soon.
type transientError struct{ error }

func (e transientError) Unwrap() error { return e.error }

// isTransient reports whether a poll's failure is likely to pass soon: the
// network (DNS, connect, timeout), a 5xx answer, or JetStream unavailable.
func isTransient(err error) bool {
	if _, ok := errors.AsType[transientError](err); ok {
		return true
	}
	switch httpguard.Reason(err) {
	case httpguard.ReasonDNS, httpguard.ReasonTimeout, httpguard.ReasonConnect:
		return true
	}
	return false
}

// retryDelay is the wait before the next poll of a feed after its n-th
// failure in a row: from firstRetry for a transient failure, else from the
// interval, doubling per failure up to maxBackoff (or the interval, when it
// is longer).
func retryDelay(interval time.Duration, failures int, transient bool) time.Duration {
	if transient {
		return backoffFrom(min(firstRetry, interval), interval, failures)
	}
	return backoff(interval, failures)
}

func backoffFrom(first, interval time.Duration, failures int) time.Duration {
	d := first
	for i := 1; i < failures && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, max(maxBackoff, interval))
}

// shouldStop reports whether a poll that read its feed at listed and has
// published fresh new articles should leave the rest for its next turn.
func (f *Fetcher) shouldStop(listed time.Time, fresh int) bool {
	el := time.Since(listed)
	return f.stopping.Load() || fresh >= f.maxItems || el >= f.budget ||
		(el >= f.slice && f.contended.Load())
}

// newestFirst orders items by their time, newest first, when every item
// has one; otherwise it keeps the feed's order, which is newest first in
// nearly every feed.
func newestFirst(items []*gofeed.Item) []*gofeed.Item {
	for _, it := range items {
		if itemTime(it).IsZero() {
			return items
		}
	}
	out := slices.Clone(items)
	slices.SortStableFunc(out, func(a, b *gofeed.Item) int { return itemTime(b).Compare(itemTime(a)) })
	return out
}

// lenientUTF8 repairs a feed that says (or, without a declaration, is
// assumed to be) UTF-8 but holds bytes that are not: each such byte is read
// as Windows-1252, the usual culprit, and valid UTF-8 is kept as it is. A
// feed that declares another encoding is left for the parser to decode.
func lenientUTF8(body []byte) []byte {
	if utf8.Valid(body) || !declaresUTF8(body) {
		return body
	}
	dec := charmap.Windows1252
	var b bytes.Buffer
	b.Grow(len(body) + len(body)/8)
	for len(body) > 0 {
		r, n := utf8.DecodeRune(body)
		if r == utf8.RuneError && n <= 1 {
			b.WriteRune(dec.DecodeByte(body[0]))
			body = body[1:]
			continue
		}
		b.Write(body[:n])
		body = body[n:]
	}
	return b.Bytes()
}

// declaresUTF8 reports whether an XML document's declaration names UTF-8
// or no encoding at all (which means UTF-8).
func declaresUTF8(body []byte) bool {
	head := body[:min(len(body), 256)]
	if !bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n\ufeff"), []byte("<?xml")) {
		return true
	}
	end := bytes.Index(head, []byte("?>"))
	if end < 0 {
		return true
	}
	decl := strings.ToLower(string(head[:end]))
	i := strings.Index(decl, "encoding")
	if i < 0 {
		return true
	}
	v := strings.TrimLeft(decl[i+len("encoding"):], " =\"'")
	return strings.HasPrefix(v, "utf-8") || strings.HasPrefix(v, "utf8")
}

// truncateText cuts s to at most limit bytes at the last paragraph break
// ("\n\n") before the limit, else the last line break, else the last space,
// else the last whole rune. It reports whether it cut.
func truncateText(s string, limit int) (string, bool) {
	if len(s) <= limit {
		return s, false
	}
	cut := s[:limit]
	for _, sep := range []string{"\n\n", "\n", " "} {
		if i := strings.LastIndex(cut, sep); i > limit/2 {
			return strings.TrimRight(cut[:i], " \n"), true
		}
	}
	i := limit
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i], true
}

// encode truncates an article's text and summary to fetcher.max_text_bytes
// and marshals it. An article still larger than the connection's max
// payload is an error wrapping nats.ErrMaxPayload: it could never be
// published.
func (f *Fetcher) encode(art *events.Article) ([]byte, error) {
	var cut1, cut2 bool
	art.Text, cut1 = truncateText(art.Text, f.maxText)
	art.Summary, cut2 = truncateText(art.Summary, f.maxText)
	art.TextTruncated = art.TextTruncated || cut1 || cut2
	msg, err := json.Marshal(art)
	if err != nil {
		return nil, err
	}
	if f.maxPayload > 0 && int64(len(msg))+payloadHeadroom > f.maxPayload {
		return msg, fmt.Errorf("%w: article %s (%s) is %d bytes after truncation to fetcher.max_text_bytes %d; the NATS max payload is %d",
			nats.ErrMaxPayload, art.ID, art.URL, len(msg), f.maxText, f.maxPayload)
	}
	return msg, nil
}

// payloadHeadroom is left under the max payload for the message headers.
const payloadHeadroom = 1024

// isPermanentPublishError reports whether publishing can never succeed.
func isPermanentPublishError(err error) bool {
	return errors.Is(err, nats.ErrMaxPayload) || strings.Contains(strings.ToLower(err.Error()), "maximum payload")
}

// publisher publishes a poll's articles as they come and, in its own
// goroutine, waits for each acknowledgement in turn and writes the item's
// seen records then, so the poll never waits one round trip per item.
type publisher struct {
	f       *Fetcher
	feed    config.Feed
	subject string
	ctx     context.Context
	work    chan *itemWork
	done    chan struct{}
	res     publishResult
}

type publishResult struct {
	published, revisions, duplicates, skipped, failed int
	err                                               error
}

// newPublisher starts the publisher of a poll of n items.
func (f *Fetcher) newPublisher(ctx context.Context, feed config.Feed, n int) *publisher {
	p := &publisher{f: f, feed: feed, subject: topology.ArticleSubject(feed.ID), ctx: ctx,
		work: make(chan *itemWork, min(n, 256)), done: make(chan struct{})}
	go p.run()
	return p
}

// add sends an item's article (if any) and queues the item for its seen
// records.
func (p *publisher) add(o *itemWork) {
	if o.msg != nil && o.pubErr == nil {
		o.fut, o.pubErr = p.f.js.PublishAsync(p.subject, o.msg, jetstream.WithMsgID(o.msgID))
	}
	p.work <- o
}

// finish waits until every queued item is acknowledged and recorded (or
// the write context ends) and returns the counts.
func (p *publisher) finish() publishResult {
	close(p.work)
	<-p.done
	return p.res
}

func (p *publisher) run() {
	defer close(p.done)
	f := p.f
	seen := newBatch(f.js)
	for o := range p.work {
		if o.msg != nil {
			dup, err := p.await(o)
			if err != nil {
				p.failed(o, err, seen)
				continue
			}
			f.metrics.PublishLatency.Observe(time.Since(o.listed).Seconds())
			if dup {
				o.kind = outcomeDuplicate
			}
		}
		for _, key := range o.seenKeys {
			seen.put(topology.BucketSeen, key, o.seenData)
		}
		switch o.kind {
		case outcomePublished:
			p.res.published++
			f.metrics.Published.Inc()
		case outcomeRevision:
			p.res.revisions++
			f.metrics.Revisions.Inc()
		case outcomeDuplicate:
			p.res.duplicates++
			f.metrics.DuplicatesSkipped.Inc()
		case outcomeTooOld:
			p.res.skipped++
		}
	}
	if err := seen.wait(p.ctx); err != nil && p.res.err == nil {
		p.res.err = fmt.Errorf("fetcher: writing %s for feed %s: %w", topology.BucketSeen, p.feed.ID, err)
	}
	if err := seen.firstErr(); err != nil && p.res.err == nil {
		p.res.err = fmt.Errorf("fetcher: writing %s for feed %s: %w", topology.BucketSeen, p.feed.ID, err)
	}
}

// await waits for an article's acknowledgement.
func (p *publisher) await(o *itemWork) (duplicate bool, err error) {
	if o.pubErr != nil {
		return false, o.pubErr
	}
	select {
	case pa := <-o.fut.Ok():
		return pa != nil && pa.Duplicate, nil
	case err := <-o.fut.Err():
		topology.CountPublishError(p.f.js, p.subject, err)
		return false, err
	case <-p.ctx.Done():
		return false, p.ctx.Err()
	}
}

// failed handles an article the stream did not take. One that can never be
// published is remembered as seen, with the error, so its page is not
// downloaded again on every poll; any other stays unseen for the next poll.
// Either way the poll fails, so the feed shows it.
func (p *publisher) failed(o *itemWork, err error, seen *batch) {
	f := p.f
	p.res.failed++
	reason := "unavailable"
	if isPermanentPublishError(err) {
		reason = "too_large"
		var rec seenRecord
		_ = json.Unmarshal(o.seenData, &rec)
		rec.PublishError = err.Error()
		data, _ := json.Marshal(rec)
		for _, key := range o.seenKeys {
			seen.put(topology.BucketSeen, key, data)
		}
	}
	f.metrics.PublishFailures.WithLabelValues(reason).Inc()
	f.logger.Warn("article not published", "feed_id", p.feed.ID, "article_id", o.msgID, "reason", reason, "err", err)
	if p.res.err == nil {
		e := fmt.Errorf("%w: feed %s article %s: %v", ErrPublish, p.feed.ID, o.msgID, err)
		if reason != "too_large" {
			e = transientError{e}
		}
		p.res.err = e
	}
}
