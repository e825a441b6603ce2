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
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	"github.com/nats-io/nats.go"
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

	maxItems      int           // fetcher.max_items_per_poll
	budget        time.Duration // fetcher.poll_budget
	slice         time.Duration // DefaultPollSlice
	maxText       int           // fetcher.max_text_bytes
	maxPayload    int64         // the NATS connection's, 0 when unknown
	shutdownGrace time.Duration // fetcher.shutdown_grace
	stopping      atomic.Bool   // Run's context ended: polls stop at the next item
	contended     atomic.Bool   // due feeds wait for a worker

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
		maxItems:        cfg.MaxItemsPerPoll,
		budget:          cfg.PollBudget,
		slice:           DefaultPollSlice,
		maxText:         cfg.MaxTextBytes,
		shutdownGrace:   cfg.ShutdownGrace,
	}
	def := config.Default().Fetcher
	if f.maxItems < 1 {
		f.maxItems = def.MaxItemsPerPoll
	}
	if f.budget <= 0 {
		f.budget = def.PollBudget
	}
	if f.maxText < 1 {
		f.maxText = def.MaxTextBytes
	}
	if nc := js.Conn(); nc != nil {
		f.maxPayload = nc.MaxPayload()
	}
	f.parsers.New = func() any { return gofeed.NewParser() }
	for _, o := range opts {
		o(f)
	}
	f.hosts = newHostLimiter(f.hostConcurrency, f.hostGap)
	f.robots = newRobotsCache(productToken(cfg.UserAgent), DefaultRobotsTTL)
	f.logger = f.logger.With("component", "fetcher")
	if f.maxPayload > 0 && int64(2*f.maxText)+payloadHeadroom > f.maxPayload {
		// Text and summary must both fit in one message.
		f.maxText = int(f.maxPayload-payloadHeadroom) / 4
		f.logger.Warn("fetcher.max_text_bytes lowered to fit the NATS max payload", "max_text_bytes", f.maxText, "max_payload", f.maxPayload)
	}
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
	// Backlog is set when the last poll stopped before the end of the
	// feed (fetcher.max_items_per_poll, fetcher.poll_budget, its turn
	// among busy workers, or a shutdown); the next poll comes at once.
	Backlog bool `json:"backlog,omitempty"`
	// Initial is set while the feed's first poll has not reached the end
	// of the feed: items older than fetcher.max_item_age are still
	// recorded, not published.
	Initial bool `json:"initial,omitempty"`
}

// PollResult summarises one poll.
type PollResult struct {
	Result     string // ok, not_modified, error, rate_limited
	Items      int
	Published  int
	Revisions  int // items republished because their page changed
	Duplicates int
	Skipped    int // too old on a feed's first poll
	// Backlog is set when the poll stopped before the end of the feed.
	Backlog bool
}

// PollOnce polls one feed now, whatever its schedule or lease, and returns
// what happened.
func (f *Fetcher) PollOnce(ctx context.Context, feed config.Feed) (PollResult, error) {
	res, _, err := f.poll(ctx, feed)
	return res, err
}

func (f *Fetcher) poll(ctx context.Context, feed config.Feed) (PollResult, time.Time, error) {
	return f.pollWith(ctx, feed, pollHooks{})
}

// pollHooks are what a scheduled poll adds to a plain one.
type pollHooks struct {
	// beforeSave may add writes to the batch that carries the feed's
	// state, and returns what to do once they are done.
	beforeSave func(next time.Time, w *batch) func()
	// keepLease is called before each item; an error stops the poll.
	keepLease func(ctx context.Context) error
}

// pollWith polls a feed. ctx governs the requests; the writes of articles
// already on their way, their seen records and the feed state are finished
// even when ctx ends, within writeTimeout. A poll whose ctx ended in the
// middle of an item writes no feed state: the item is left for the next
// poll, by this replica or another.
func (f *Fetcher) pollWith(ctx context.Context, feed config.Feed, hooks pollHooks) (PollResult, time.Time, error) {
	start := f.now()
	st, err := f.loadState(ctx, feed.ID)
	if err != nil {
		return PollResult{Result: "error"}, start.Add(time.Minute), err
	}
	// The writes outlive ctx, by writeTimeout once ctx ends or the items
	// are all sent.
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var (
		tmu     sync.Mutex
		timer   *time.Timer
		stopped bool
	)
	lastWrites := func() {
		tmu.Lock()
		defer tmu.Unlock()
		if timer == nil && !stopped {
			timer = time.AfterFunc(writeTimeout, cancel)
		}
	}
	defer func() {
		// Drop the timer at once: thousands of polls a second would
		// otherwise keep theirs, and their contexts, for writeTimeout.
		tmu.Lock()
		stopped = true
		if timer != nil {
			timer.Stop()
		}
		tmu.Unlock()
		cancel()
	}()
	defer context.AfterFunc(ctx, lastWrites)()
	firstPoll := st.LastSuccess.IsZero() || st.Initial
	res, hint, err := f.pollFeed(ctx, wctx, lastWrites, feed, &st, firstPoll, hooks)
	lastWrites()
	f.metrics.PollDuration.Observe(f.now().Sub(start).Seconds())
	f.metrics.Polls.WithLabelValues(res.Result).Inc()
	if res.Result == "canceled" {
		return res, start, err
	}

	st.LastPoll = start
	next := start.Add(jittered(feed.Interval, f.jitter))
	if err != nil {
		st.ConsecutiveFailures++
		st.LastError = err.Error()
		next = start.Add(retryDelay(feed.Interval, st.ConsecutiveFailures, isTransient(err)))
		if st.ConsecutiveFailures == failingAfter {
			f.logger.Error("feed keeps failing; it stays polled at a growing interval", "feed_id", feed.ID,
				"feed_url", feed.URL, "consecutive_failures", st.ConsecutiveFailures, "err", err)
		}
	} else {
		st.ConsecutiveFailures = 0
		st.LastError = ""
		st.LastSuccess = start
		st.Initial = firstPoll && res.Backlog
	}
	st.Backlog = res.Backlog && err == nil
	switch {
	case st.Backlog:
		// Items are left: come back at once, behind the feeds already
		// due, so a long backlog takes its turns with the others.
		next = f.now()
	default:
		// A server's Retry-After or freshness lifetime may push the next
		// poll later, never earlier; freshness is capped so a feed is
		// not lost for days to a careless header.
		if hint > f.maxCacheHint && res.Result != "rate_limited" {
			hint = f.maxCacheHint
		}
		if hint > 0 && start.Add(hint).After(next) {
			next = start.Add(hint)
		}
	}
	st.NextPoll = next
	f.trackBackoff(feed.ID, st.ConsecutiveFailures)
	w := newBatch(f.js)
	if hooks.beforeSave != nil {
		defer hooks.beforeSave(next, w)()
	}
	if serr := f.saveState(wctx, feed.ID, st, w); serr != nil && err == nil {
		err = serr
	}
	return res, next, err
}

// pollFeed fetches a feed and streams its new items: each article is
// published the moment its page is extracted and its seen record written
// when the stream acknowledges it. The duration it returns is how long the
// server asks us to wait (Retry-After, or its freshness lifetime).
func (f *Fetcher) pollFeed(ctx, wctx context.Context, lastWrites func(), feed config.Feed, st *FeedState, firstPoll bool, hooks pollHooks) (PollResult, time.Duration, error) {
	hdr := http.Header{}
	if st.ETag != "" && !st.Backlog {
		hdr.Set("If-None-Match", st.ETag)
	}
	if st.LastModified != "" && !st.Backlog {
		hdr.Set("If-Modified-Since", st.LastModified)
	}
	resp, err := f.get(ctx, feed.URL, hdr)
	if err != nil && resp == nil {
		st.LastStatus = 0
		if ctx.Err() != nil {
			return PollResult{Result: "canceled"}, 0, ctx.Err()
		}
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
		err := fmt.Errorf("%w: feed %s (%s) answered %d; retrying after %s", ErrFeedStatus, feed.ID, feed.URL, resp.StatusCode, ra)
		if resp.StatusCode == http.StatusServiceUnavailable {
			err = transientError{err}
		}
		return PollResult{Result: "rate_limited"}, ra, err
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		err := fmt.Errorf("%w: feed %s (%s) answered %d", ErrFeedStatus, feed.ID, feed.URL, resp.StatusCode)
		if resp.StatusCode >= 500 {
			err = transientError{err}
		}
		return PollResult{Result: "error"}, 0, err
	}
	parser := f.parsers.Get().(*gofeed.Parser)
	parsed, err := parser.Parse(bytes.NewReader(lenientUTF8(resp.Body)))
	f.parsers.Put(parser)
	if err != nil {
		return PollResult{Result: "error"}, 0, fmt.Errorf("%w: feed %s (%s): %v", ErrFeedParse, feed.ID, feed.URL, err)
	}
	listed := time.Now() // the items' "seen" time, for the latency histogram
	res := PollResult{Result: "ok", Items: len(parsed.Items)}
	pub := f.newPublisher(wctx, feed, len(parsed.Items))
	// Items are handled newest first, as many at once as one host takes
	// requests (fetcher.per_host_concurrency, at least 2), each published
	// as soon as it is done.
	var (
		mu       sync.Mutex // guards the counts below and inPoll
		failed   int
		fresh    int // new articles, counting those in hand
		canceled bool
		inPoll   = map[string]bool{}
		wg       sync.WaitGroup
		sem      = make(chan struct{}, max(f.hostConcurrency, 2))
	)
	for _, item := range newestFirst(parsed.Items) {
		sem <- struct{}{}
		mu.Lock()
		stop := canceled || f.shouldStop(listed, fresh)
		mu.Unlock()
		if !stop && hooks.keepLease != nil {
			if err := hooks.keepLease(ctx); err != nil {
				f.logger.Warn("poll stopped: lease not kept", "feed_id", feed.ID, "err", err)
				stop = true
			}
		}
		if stop {
			<-sem
			res.Backlog = true
			break
		}
		mu.Lock()
		fresh++ // until we know it is not new
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			out, err := f.handleItem(ctx, feed, parsed, item, firstPoll, &mu, inPoll)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, errCanceled) || ctx.Err() != nil:
				// Not a page failure: the item is left for the next poll.
				canceled = true
				fresh--
				return
			case err != nil:
				// Not recorded as seen, so the next poll retries it.
				f.logger.Warn("item not published", "feed_id", feed.ID, "item_url", item.Link, "err", err)
				failed++
				fresh--
				return
			case out.kind != outcomePublished && out.kind != outcomeRevision:
				fresh--
			}
			out.listed = listed
			pub.add(out)
		}()
	}
	wg.Wait()
	if canceled {
		res.Backlog = false
	}
	lastWrites()
	pr := pub.finish()
	res.Published, res.Revisions, res.Duplicates, res.Skipped = pr.published, pr.revisions, pr.duplicates, pr.skipped
	failed += pr.failed
	if canceled {
		res.Result = "canceled"
		return res, 0, errCanceled
	}
	if pr.err != nil {
		res.Result = "error"
		return res, 0, pr.err
	}
	// Validators are kept with the seen records, so a crash in between
	// makes the next poll see the items again; after a failed item, or
	// with items left for later, they are dropped so that the next poll
	// gets the full feed.
	st.ETag, st.LastModified = "", ""
	if failed == 0 && !res.Backlog {
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

	listed time.Time // when the poll read the item in its feed
	fut    jetstream.PubAckFuture
	pubErr error // the publish failed before it was sent
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
	// PublishError is set when the article could never be published
	// (larger than the NATS max payload even after truncation): the item
	// is remembered so its page is not downloaded on every poll.
	PublishError string `json:"publish_error,omitempty"`
}

// handleItem decides what to do with one item, downloading its page when
// it is new; mu guards inPoll, the ids handled in this poll so far.
func (f *Fetcher) handleItem(ctx context.Context, feed config.Feed, parsed *gofeed.Feed, item *gofeed.Item, firstPoll bool, mu *sync.Mutex, inPoll map[string]bool) (*itemWork, error) {
	link := strings.TrimSpace(item.Link)
	if link == "" {
		return nil, fmt.Errorf("fetcher: feed %s item %q has no link", feed.ID, item.Title)
	}
	canonical := CanonicalURL(link)
	linkID := events.HashID(canonical)
	mu.Lock()
	dup := inPoll[linkID]
	inPoll[linkID] = true
	mu.Unlock()
	if dup {
		return &itemWork{kind: outcomeDuplicate}, nil
	}
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

	art, err := f.buildArticle(ctx, feed, parsed, item, link)
	if err != nil {
		return nil, err
	}
	if art.ID != linkID {
		mu.Lock()
		dup := inPoll[art.ID]
		inPoll[art.ID] = true
		mu.Unlock()
		if dup {
			return &itemWork{kind: outcomeDuplicate}, nil
		}
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
	msg, perr := f.encode(&art)
	if perr != nil && !errors.Is(perr, nats.ErrMaxPayload) {
		return nil, perr
	}
	data, _ := json.Marshal(seenRecord{ArticleID: art.ID, URL: art.CanonicalURL, Published: published, ItemSig: sig, TextHash: textHash(art.Text)})
	keys := []string{linkID}
	if art.ID != linkID {
		keys = append(keys, art.ID)
	}
	return &itemWork{kind: outcomePublished, msg: msg, msgID: art.ID, seenKeys: keys, seenData: data, pubErr: perr}, nil
}

// revise looks at the page of an item the feed lists again with a changed
// signature, and publishes it as the next revision of the same article when
// its words changed.
func (f *Fetcher) revise(ctx context.Context, feed config.Feed, parsed *gofeed.Feed, item *gofeed.Item, link, linkID string, rec seenRecord, sig string) (*itemWork, error) {
	art, err := f.buildArticle(ctx, feed, parsed, item, link)
	if err != nil {
		return nil, err
	}
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
	msg, perr := f.encode(&art)
	if perr != nil && !errors.Is(perr, nats.ErrMaxPayload) {
		return nil, perr
	}
	data, _ := json.Marshal(rec)
	return &itemWork{kind: outcomeRevision, msg: msg, msgID: fmt.Sprintf("%s-r%d", art.ID, art.Revision), seenKeys: keys, seenData: data, pubErr: perr}, nil
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
// article carries the feed's own summary and the reason. A download cut by
// the end of ctx is no failure of the page: it returns errCanceled and the
// item is left for the next poll.
func (f *Fetcher) buildArticle(ctx context.Context, feed config.Feed, parsed *gofeed.Feed, item *gofeed.Item, link string) (events.Article, error) {
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
		return art, nil
	}
	res, err := f.extractPage(ctx, link)
	if err != nil && ctx.Err() != nil {
		return art, fmt.Errorf("%w: %s: %v", errCanceled, link, err)
	}
	if err != nil {
		reason := "extract"
		if errors.Is(err, ErrRobots) {
			reason = "robots"
		} else if r := httpguard.Reason(err); r != "" && r != "other" {
			// "other" is the client's word for an error it did not
			// make: the extractor's.
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
	return art, nil
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
		return nil, fmt.Errorf("%w: page %s answered %d", httpguard.ErrHTTPStatus, link, resp.StatusCode)
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
