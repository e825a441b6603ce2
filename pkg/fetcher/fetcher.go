// Package fetcher polls feeds, downloads each new item's page, extracts its
// body and publishes the article to JetStream, remembering in KV what it has
// published so that nothing is published twice across polls, restarts and
// replicas. Run schedules feeds on a heap of next-poll times served by a
// bounded pool of workers, with per-host politeness and, across replicas,
// one lease per feed in JetStream KV.
package fetcher

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/extract"
	"github.com/newswatch/newswatch/pkg/httpguard"
	"github.com/newswatch/newswatch/pkg/topology"
)

// Sentinel errors of a poll.
var (
	ErrFeedStatus = errors.New("fetcher: feed answered with an error status")
	ErrFeedParse  = errors.New("fetcher: feed is not valid RSS, Atom or JSON Feed")
)

// failingAfter is the number of failed polls in a row after which a feed is
// reported as failing (log, metric, feed state).
const failingAfter = 5

// maxBackoff caps the interval between polls of a failing feed.
const maxBackoff = 6 * time.Hour

// Getter fetches a URL; *httpguard.Client implements it.
type Getter interface {
	Get(ctx context.Context, url string, hdr http.Header) (*httpguard.Response, error)
}

var _ Getter = (*httpguard.Client)(nil)

// Fetcher polls a set of feeds.
type Fetcher struct {
	js        jetstream.JetStream
	client    Getter
	extractor *extract.Extractor
	seen      jetstream.KeyValue
	state     jetstream.KeyValue
	cfg       config.Fetcher
	feeds     []config.Feed
	metrics   *Metrics
	logger    *slog.Logger
	now       func() time.Time

	hostConcurrency int
	hostGap         time.Duration
	hosts           *hostLimiter
	jitter          float64
	store           *Store
	leases          *leases
	leaseGrace      time.Duration
	fetchPages      bool
	respectRobots   bool
	robots          *robotsCache
	maxCacheHint    time.Duration
	parsers         sync.Pool

	stMu   sync.Mutex
	states map[string]FeedState // what this replica last wrote per feed

	mu      sync.Mutex
	backoff map[string]int // feed id -> consecutive failures, for the gauges
}

// New returns a fetcher for feeds. seen and state are the KV buckets
// topology.BucketSeen and topology.BucketFeedState.
func New(js jetstream.JetStream, client Getter, extractor *extract.Extractor, seen, state jetstream.KeyValue,
	cfg config.Fetcher, feeds []config.Feed, metrics *Metrics, opts ...Option) *Fetcher {
	f := &Fetcher{
		js: js, client: client, extractor: extractor, seen: seen, state: state,
		cfg: cfg, feeds: feeds, metrics: metrics,
		logger:          slog.Default(),
		now:             time.Now,
		hostConcurrency: DefaultHostConcurrency,
		hostGap:         DefaultHostGap,
		jitter:          DefaultJitter,
		leaseGrace:      DefaultLeaseGrace,
		fetchPages:      true,
		respectRobots:   true,
		maxCacheHint:    DefaultMaxCacheHint,
		states:          map[string]FeedState{},
		backoff:         map[string]int{},
	}
	f.parsers.New = func() any { return gofeed.NewParser() }
	for _, o := range opts {
		o(f)
	}
	f.hosts = newHostLimiter(f.hostConcurrency, f.hostGap)
	f.robots = newRobotsCache(productToken(cfg.UserAgent), DefaultRobotsTTL)
	f.logger = f.logger.With("component", "fetcher")
	metrics.Feeds.Set(float64(len(feeds)))
	return f
}

// FeedState is what the fetcher remembers of a feed between polls, in the
// newswatch_feed_state bucket under the feed id.
type FeedState struct {
	ETag                string    `json:"etag,omitempty"`
	LastModified        string    `json:"last_modified,omitempty"`
	LastPoll            time.Time `json:"last_poll,omitzero"`
	LastSuccess         time.Time `json:"last_success,omitzero"`
	NextPoll            time.Time `json:"next_poll,omitzero"`
	ConsecutiveFailures int       `json:"consecutive_failures"`
	LastError           string    `json:"last_error,omitempty"`
	LastStatus          int       `json:"last_status,omitempty"`
}

// PollResult summarises one poll.
type PollResult struct {
	Result     string // ok, not_modified, error, rate_limited
	Items      int
	Published  int
	Revisions  int // items republished because their page changed
	Duplicates int
	Skipped    int // too old on a feed's first poll
}

// PollOnce polls one feed now, whatever its schedule or lease, and returns
// what happened.
func (f *Fetcher) PollOnce(ctx context.Context, feed config.Feed) (PollResult, error) {
	res, _, err := f.poll(ctx, feed)
	return res, err
}

func (f *Fetcher) poll(ctx context.Context, feed config.Feed) (PollResult, time.Time, error) {
	return f.pollWith(ctx, feed, nil)
}

// pollWith polls a feed; beforeSave, when set, may add writes to the batch
// that carries the feed's state, and returns what to do once they are done.
func (f *Fetcher) pollWith(ctx context.Context, feed config.Feed, beforeSave func(next time.Time, w *batch) func()) (PollResult, time.Time, error) {
	start := f.now()
	st, err := f.loadState(ctx, feed.ID)
	if err != nil {
		return PollResult{Result: "error"}, start.Add(time.Minute), err
	}
	firstPoll := st.LastSuccess.IsZero()
	w := newBatch(f.js)
	res, hint, err := f.pollFeed(ctx, feed, &st, firstPoll, w)
	f.metrics.PollDuration.Observe(f.now().Sub(start).Seconds())
	f.metrics.Polls.WithLabelValues(res.Result).Inc()

	st.LastPoll = start
	next := start.Add(jittered(feed.Interval, f.jitter))
	if err != nil {
		st.ConsecutiveFailures++
		st.LastError = err.Error()
		next = start.Add(backoff(feed.Interval, st.ConsecutiveFailures))
		if st.ConsecutiveFailures == failingAfter {
			f.logger.Error("feed keeps failing; it stays polled at a growing interval", "feed_id", feed.ID,
				"feed_url", feed.URL, "consecutive_failures", st.ConsecutiveFailures, "err", err)
		}
	} else {
		st.ConsecutiveFailures = 0
		st.LastError = ""
		st.LastSuccess = start
	}
	// A server's Retry-After or freshness lifetime may push the next poll
	// later, never earlier; freshness is capped so a feed is not lost for
	// days to a careless header.
	if hint > f.maxCacheHint && res.Result != "rate_limited" {
		hint = f.maxCacheHint
	}
	if hint > 0 && start.Add(hint).After(next) {
		next = start.Add(hint)
	}
	st.NextPoll = next
	f.trackBackoff(feed.ID, st.ConsecutiveFailures)
	if beforeSave != nil {
		defer beforeSave(next, w)()
	}
	if serr := f.saveState(ctx, feed.ID, st, w); serr != nil && err == nil {
		err = serr
	}
	return res, next, err
}

// pollFeed fetches and handles a feed; the duration it returns is how long
// the server asks us to wait (Retry-After, or its freshness lifetime).
func (f *Fetcher) pollFeed(ctx context.Context, feed config.Feed, st *FeedState, firstPoll bool, w *batch) (PollResult, time.Duration, error) {
	hdr := http.Header{}
	if st.ETag != "" {
		hdr.Set("If-None-Match", st.ETag)
	}
	if st.LastModified != "" {
		hdr.Set("If-Modified-Since", st.LastModified)
	}
	resp, err := f.get(ctx, feed.URL, hdr)
	if err != nil && resp == nil {
		st.LastStatus = 0
		return PollResult{Result: "error"}, 0, fmt.Errorf("fetcher: feed %s (%s): %w", feed.ID, feed.URL, err)
	}
	st.LastStatus = resp.StatusCode
	// An error status comes with its response, for Retry-After.
	f.metrics.FetchedBytes.Add(float64(len(resp.Body)))
	now := f.now()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return PollResult{Result: "not_modified"}, cacheHint(resp.Header, nil, now), nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		ra := retryAfter(resp.Header.Get("Retry-After"), now)
		return PollResult{Result: "rate_limited"}, ra, fmt.Errorf("%w: feed %s (%s) answered %d; retrying after %s", ErrFeedStatus, feed.ID, feed.URL, resp.StatusCode, ra)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return PollResult{Result: "error"}, 0, fmt.Errorf("%w: feed %s (%s) answered %d", ErrFeedStatus, feed.ID, feed.URL, resp.StatusCode)
	}
	parser := f.parsers.Get().(*gofeed.Parser)
	parsed, err := parser.Parse(bytes.NewReader(resp.Body))
	f.parsers.Put(parser)
	if err != nil {
		return PollResult{Result: "error"}, 0, fmt.Errorf("%w: feed %s (%s): %v", ErrFeedParse, feed.ID, feed.URL, err)
	}
	res := PollResult{Result: "ok", Items: len(parsed.Items)}
	var outs []*itemWork
	failed := 0
	inPoll := map[string]bool{}
	for _, item := range parsed.Items {
		if ctx.Err() != nil {
			return res, 0, ctx.Err()
		}
		out, err := f.handleItem(ctx, feed, parsed, item, firstPoll, inPoll)
		if err != nil {
			// The item is not recorded as seen, so the next poll retries it.
			f.logger.Warn("item not published", "feed_id", feed.ID, "item_url", item.Link, "err", err)
			failed++
			continue
		}
		outs = append(outs, out)
	}
	// Articles go out pipelined, then the seen records of those the stream
	// acknowledged; an article whose publication failed stays unseen and is
	// retried on the next poll.
	for _, o := range outs {
		if o.msg != nil {
			o.ack = w.publish(topology.ArticleSubject(feed.ID), o.msg, o.msgID)
		}
	}
	if err := w.wait(ctx); err != nil {
		return res, 0, err
	}
	for _, o := range outs {
		if o.ack != nil {
			if o.ack.err != nil {
				f.logger.Warn("article not published", "feed_id", feed.ID, "article_id", o.msgID, "err", o.ack.err)
				failed++
				continue
			}
			if o.ack.duplicate {
				o.kind = outcomeDuplicate
			}
		}
		for _, key := range o.seenKeys {
			w.put(topology.BucketSeen, key, o.seenData)
		}
		switch o.kind {
		case outcomePublished:
			res.Published++
			f.metrics.Published.Inc()
		case outcomeRevision:
			res.Revisions++
			f.metrics.Revisions.Inc()
		case outcomeDuplicate:
			res.Duplicates++
			f.metrics.DuplicatesSkipped.Inc()
		case outcomeTooOld:
			res.Skipped++
		}
	}
	// Validators are kept with the seen records, so a crash in between
	// makes the next poll see the items again; after a failed item they
	// are dropped so that the next poll gets the full feed and retries it.
	st.ETag, st.LastModified = "", ""
	if failed == 0 {
		st.ETag = resp.Header.Get("ETag")
		st.LastModified = resp.Header.Get("Last-Modified")
	}
	return res, cacheHint(resp.Header, resp.Body, now), nil
}

type outcome int

const (
	outcomePublished outcome = iota
	outcomeRevision
	outcomeDuplicate
	outcomeTooOld
)

// itemWork is what handling one item decided: a message to publish, if
// any, and the seen record to store under each key once it is published.
type itemWork struct {
	kind     outcome
	msg      []byte
	msgID    string
	seenKeys []string
	seenData []byte
	ack      *pendingAck
}

// seenRecord is what the newswatch_seen bucket holds per article id (and
// per hash of the item's own link, when the page names another canonical).
type seenRecord struct {
	ArticleID string    `json:"article_id"`
	URL       string    `json:"url"`
	Published time.Time `json:"published_at"`
	// ItemSig hashes the item as the feed lists it (GUID, updated time,
	// title, summary); only a changed signature makes us look at the page
	// again for a revision.
	ItemSig string `json:"item_sig,omitempty"`
	// TextHash hashes the published text's words, so that a new revision
	// is published only when the words change, not the markup.
	TextHash string `json:"text_hash,omitempty"`
	Revision int    `json:"revision,omitempty"`
}

func (f *Fetcher) handleItem(ctx context.Context, feed config.Feed, parsed *gofeed.Feed, item *gofeed.Item, firstPoll bool, inPoll map[string]bool) (*itemWork, error) {
	link := strings.TrimSpace(item.Link)
	if link == "" {
		return nil, fmt.Errorf("fetcher: feed %s item %q has no link", feed.ID, item.Title)
	}
	canonical := CanonicalURL(link)
	linkID := events.HashID(canonical)
	if inPoll[linkID] {
		return &itemWork{kind: outcomeDuplicate}, nil
	}
	inPoll[linkID] = true
	sig := itemSignature(item)
	rec, found, err := f.getSeen(ctx, linkID)
	if err != nil {
		return nil, err
	}
	published := itemTime(item)
	if found {
		if rec.ItemSig == "" || rec.ItemSig == sig {
			return &itemWork{kind: outcomeDuplicate}, nil
		}
		return f.revise(ctx, feed, parsed, item, link, linkID, rec, sig)
	}
	if firstPoll && !published.IsZero() && f.now().Sub(published) > f.cfg.MaxItemAge {
		// No storm on a new feed: old items are remembered, not published.
		data, _ := json.Marshal(seenRecord{ArticleID: linkID, URL: canonical, Published: published, ItemSig: sig})
		return &itemWork{kind: outcomeTooOld, seenKeys: []string{linkID}, seenData: data}, nil
	}

	art := f.buildArticle(ctx, feed, parsed, item, link)
	if art.ID != linkID {
		if inPoll[art.ID] {
			return &itemWork{kind: outcomeDuplicate}, nil
		}
		inPoll[art.ID] = true
		if other, seen, err := f.getSeen(ctx, art.ID); err != nil {
			return nil, err
		} else if seen {
			// Another link to a page published before: remember this
			// link too, so its page is not downloaded again.
			other.ItemSig = sig
			data, _ := json.Marshal(other)
			return &itemWork{kind: outcomeDuplicate, seenKeys: []string{linkID}, seenData: data}, nil
		}
	}
	msg, err := json.Marshal(art)
	if err != nil {
		return nil, err
	}
	data, _ := json.Marshal(seenRecord{ArticleID: art.ID, URL: art.CanonicalURL, Published: published, ItemSig: sig, TextHash: textHash(art.Text)})
	keys := []string{linkID}
	if art.ID != linkID {
		keys = append(keys, art.ID)
	}
	return &itemWork{kind: outcomePublished, msg: msg, msgID: art.ID, seenKeys: keys, seenData: data}, nil
}

// revise looks at the page of an item the feed lists again with a changed
// signature, and publishes it as the next revision of the same article when
// its words changed.
func (f *Fetcher) revise(ctx context.Context, feed config.Feed, parsed *gofeed.Feed, item *gofeed.Item, link, linkID string, rec seenRecord, sig string) (*itemWork, error) {
	art := f.buildArticle(ctx, feed, parsed, item, link)
	keys := []string{linkID}
	if rec.ArticleID != "" && rec.ArticleID != linkID {
		keys = append(keys, rec.ArticleID)
	}
	h := textHash(art.Text)
	rec.ItemSig = sig
	if h == rec.TextHash || (f.fetchPages && art.ExtractError != "") {
		// Same words, or the page could not be read this time (its
		// summary is no revision of its body): remember the signature so
		// the page is not looked at again until the item changes again.
		data, _ := json.Marshal(rec)
		return &itemWork{kind: outcomeDuplicate, seenKeys: keys, seenData: data}, nil
	}
	if rec.ArticleID != "" {
		art.ID = rec.ArticleID
	}
	art.Revision = rec.Revision + 1
	rec.Revision, rec.TextHash = art.Revision, h
	msg, err := json.Marshal(art)
	if err != nil {
		return nil, err
	}
	data, _ := json.Marshal(rec)
	return &itemWork{kind: outcomeRevision, msg: msg, msgID: fmt.Sprintf("%s-r%d", art.ID, art.Revision), seenKeys: keys, seenData: data}, nil
}

// itemSignature hashes what a feed says about an item; publishers change
// the updated time, the title or the summary when they edit a story.
func itemSignature(item *gofeed.Item) string {
	h := sha256.New()
	for _, s := range []string{item.GUID, item.Updated, item.Published, item.Title, item.Description} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// textHash hashes the words of a text, folded to lower case, so that
// changes of spacing, punctuation or markup are not a new revision.
func textHash(text string) string {
	h := sha256.New()
	var buf [4]byte
	inWord := false
	for _, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			n := utf8.EncodeRune(buf[:], unicode.ToLower(r))
			h.Write(buf[:n])
			inWord = true
		} else if inWord {
			h.Write([]byte{' '})
			inWord = false
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// buildArticle downloads the item's page and extracts it; when that fails the
// article carries the feed's own summary and the reason.
func (f *Fetcher) buildArticle(ctx context.Context, feed config.Feed, parsed *gofeed.Feed, item *gofeed.Item, link string) events.Article {
	summary := plainSummary(item)
	art := events.Article{
		Schema:       events.ArticleSchema,
		Feed:         feed.ID,
		FeedURL:      feed.URL,
		URL:          link,
		CanonicalURL: CanonicalURL(link),
		GUID:         item.GUID,
		Title:        strings.TrimSpace(item.Title),
		Source:       sourceName(parsed, link),
		PublishedAt:  itemTime(item),
		Language:     parsed.Language,
		Summary:      summary,
		Text:         summary,
		FetchedAt:    f.now().UTC(),
	}
	if len(item.Authors) > 0 && item.Authors[0] != nil {
		art.Author = item.Authors[0].Name
	}
	if !f.fetchPages {
		art.ID = events.HashID(art.CanonicalURL)
		return art
	}
	res, err := f.extractPage(ctx, link)
	if err != nil {
		reason := "extract"
		if errors.Is(err, ErrRobots) {
			reason = "robots"
		} else if r := httpguard.Reason(err); r != "" {
			reason = r
		}
		f.metrics.ExtractionFailures.WithLabelValues(reason).Inc()
		art.ExtractError = err.Error()
		f.logger.Warn("page not extracted; publishing the feed summary", "feed_id", feed.ID, "item_url", link, "reason", reason, "err", err)
	} else {
		if res.CanonicalURL != "" {
			art.CanonicalURL = CanonicalURL(res.CanonicalURL)
		}
		if res.Text != "" {
			art.Text = res.Text
		}
		if art.Title == "" {
			art.Title = res.Title
		}
		if art.Author == "" && len(res.Authors) > 0 {
			art.Author = strings.Join(res.Authors, ", ")
		}
		if art.PublishedAt.IsZero() {
			art.PublishedAt = res.PublishedAt
		}
		if res.Lang != "" {
			art.Language = res.Lang
		}
		if res.SiteName != "" {
			art.Source = res.SiteName
		}
	}
	art.ID = events.HashID(art.CanonicalURL)
	return art
}

// get fetches a URL within the per-host limits.
func (f *Fetcher) get(ctx context.Context, rawURL string, hdr http.Header) (*httpguard.Response, error) {
	host := hostOf(rawURL)
	if slot, _ := ctx.Value(heldSlotKey{}).(*heldSlot); slot.take(host) {
		defer f.hosts.release(host)
		if err := f.hosts.start(ctx, host); err != nil {
			return nil, err
		}
	} else {
		if err := f.hosts.acquire(ctx, host); err != nil {
			return nil, err
		}
		defer f.hosts.release(host)
	}
	return f.client.Get(ctx, rawURL, hdr)
}

func (f *Fetcher) extractPage(ctx context.Context, link string) (*extract.Result, error) {
	if f.respectRobots {
		ok := f.robots.allowed(ctx, func(ctx context.Context, u string) (int, []byte, error) {
			resp, err := f.get(ctx, u, nil)
			if resp == nil {
				return 0, nil, err
			}
			return resp.StatusCode, resp.Body, err
		}, link)
		if !ok {
			return nil, fmt.Errorf("%w: %s", ErrRobots, link)
		}
	}
	start := f.now()
	defer func() { f.metrics.ExtractDuration.Observe(f.now().Sub(start).Seconds()) }()
	resp, err := f.get(ctx, link, nil)
	if err != nil {
		return nil, err
	}
	f.metrics.FetchedBytes.Add(float64(len(resp.Body)))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("fetcher: page %s answered %d", link, resp.StatusCode)
	}
	html, err := extract.DecodeHTML(resp.Body, resp.ContentType)
	if err != nil {
		return nil, err
	}
	pageURL := resp.FinalURL
	if pageURL == "" {
		pageURL = link
	}
	return f.extractor.Extract(html, pageURL)
}

func (f *Fetcher) getSeen(ctx context.Context, id string) (seenRecord, bool, error) {
	var rec seenRecord
	e, err := f.seen.Get(ctx, id)
	switch {
	case err == nil:
		_ = json.Unmarshal(e.Value(), &rec) // an unreadable record still means seen
		return rec, true, nil
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return rec, false, nil
	default:
		return rec, false, fmt.Errorf("fetcher: reading %s/%s: %w", topology.BucketSeen, id, err)
	}
}

// loadState returns the feed's state: this replica's copy when it has one,
// else the bucket's.
func (f *Fetcher) loadState(ctx context.Context, feedID string) (FeedState, error) {
	f.stMu.Lock()
	st, ok := f.states[feedID]
	f.stMu.Unlock()
	if ok {
		return st, nil
	}
	return f.readState(ctx, feedID)
}

func (f *Fetcher) readState(ctx context.Context, feedID string) (FeedState, error) {
	var st FeedState
	e, err := f.state.Get(ctx, feedID)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("fetcher: reading %s/%s: %w", topology.BucketFeedState, feedID, err)
	}
	if err := json.Unmarshal(e.Value(), &st); err != nil {
		f.logger.Warn("ignoring unreadable feed state", "feed_id", feedID, "err", err)
		return FeedState{}, nil
	}
	return st, nil
}

// forgetState drops this replica's copy, when another replica may have
// polled the feed since.
func (f *Fetcher) forgetState(feedID string) {
	f.stMu.Lock()
	delete(f.states, feedID)
	f.stMu.Unlock()
}

func (f *Fetcher) saveState(ctx context.Context, feedID string, st FeedState, w *batch) error {
	data, _ := json.Marshal(st)
	w.put(topology.BucketFeedState, feedID, data)
	if err := w.wait(ctx); err != nil {
		return fmt.Errorf("fetcher: writing %s/%s: %w", topology.BucketFeedState, feedID, err)
	}
	if err := w.firstErr(); err != nil {
		return fmt.Errorf("fetcher: writing %s for feed %s: %w", topology.BucketSeen+" and "+topology.BucketFeedState, feedID, err)
	}
	f.stMu.Lock()
	f.states[feedID] = st
	f.stMu.Unlock()
	return nil
}

func (f *Fetcher) trackBackoff(feedID string, failures int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if failures == 0 {
		if _, ok := f.backoff[feedID]; !ok {
			return
		}
		delete(f.backoff, feedID)
	} else {
		f.backoff[feedID] = failures
	}
	failing := 0
	for _, n := range f.backoff {
		if n >= failingAfter {
			failing++
		}
	}
	f.metrics.FeedsInBackoff.Set(float64(len(f.backoff)))
	f.metrics.FeedsFailing.Set(float64(failing))
}

func itemTime(item *gofeed.Item) time.Time {
	if item.PublishedParsed != nil {
		return item.PublishedParsed.UTC()
	}
	if item.UpdatedParsed != nil {
		return item.UpdatedParsed.UTC()
	}
	return time.Time{}
}
