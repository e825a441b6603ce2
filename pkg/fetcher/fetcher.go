// Package fetcher polls feeds, downloads each new item's page, extracts its
// body and publishes the article to JetStream, remembering in KV what it has
// published so that nothing is published twice across polls and restarts.
package fetcher

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

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
	pages     chan struct{} // bounds concurrent page downloads

	mu      sync.Mutex
	backoff map[string]int // feed id -> consecutive failures, for the gauges
}

// Option configures a Fetcher.
type Option func(*Fetcher)

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(f *Fetcher) { f.now = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(f *Fetcher) { f.logger = l } }

// New returns a fetcher for feeds. seen and state are the KV buckets
// topology.BucketSeen and topology.BucketFeedState.
func New(js jetstream.JetStream, client Getter, extractor *extract.Extractor, seen, state jetstream.KeyValue,
	cfg config.Fetcher, feeds []config.Feed, metrics *Metrics, opts ...Option) *Fetcher {
	f := &Fetcher{
		js: js, client: client, extractor: extractor, seen: seen, state: state,
		cfg: cfg, feeds: feeds, metrics: metrics,
		logger:  slog.Default(),
		now:     time.Now,
		pages:   make(chan struct{}, cfg.Concurrency),
		backoff: map[string]int{},
	}
	for _, o := range opts {
		o(f)
	}
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
}

// PollResult summarises one poll.
type PollResult struct {
	Result     string // ok, not_modified, error, rate_limited
	Items      int
	Published  int
	Duplicates int
	Skipped    int // too old on a feed's first poll
}

// Run polls every feed at its interval until ctx ends.
func (f *Fetcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, feed := range f.feeds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.loop(ctx, feed)
		}()
	}
	wg.Wait()
	return nil
}

func (f *Fetcher) loop(ctx context.Context, feed config.Feed) {
	log := f.logger.With("feed_id", feed.ID, "feed_url", feed.URL)
	st, _ := f.loadState(ctx, feed.ID)
	wait := time.Until(st.NextPoll)
	for {
		if wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		if ctx.Err() != nil {
			return
		}
		res, next, err := f.poll(ctx, feed)
		if err != nil && ctx.Err() == nil {
			log.Warn("poll failed", "err", err, "next_poll", next)
		} else if err == nil {
			log.Debug("polled", "result", res.Result, "items", res.Items, "published", res.Published, "duplicates", res.Duplicates)
		}
		wait = time.Until(next)
	}
}

// PollOnce polls one feed now and returns what happened.
func (f *Fetcher) PollOnce(ctx context.Context, feed config.Feed) (PollResult, error) {
	res, _, err := f.poll(ctx, feed)
	return res, err
}

func (f *Fetcher) poll(ctx context.Context, feed config.Feed) (PollResult, time.Time, error) {
	start := f.now()
	st, err := f.loadState(ctx, feed.ID)
	if err != nil {
		return PollResult{Result: "error"}, start.Add(time.Minute), err
	}
	firstPoll := st.LastSuccess.IsZero()
	res, retryAfter, err := f.pollFeed(ctx, feed, &st, firstPoll)
	f.metrics.PollDuration.Observe(f.now().Sub(start).Seconds())
	f.metrics.Polls.WithLabelValues(res.Result).Inc()

	st.LastPoll = start
	next := start.Add(feed.Interval)
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
	if retryAfter > 0 && start.Add(retryAfter).After(next) {
		next = start.Add(retryAfter)
	}
	st.NextPoll = next
	f.trackBackoff(feed.ID, st.ConsecutiveFailures)
	if serr := f.saveState(ctx, feed.ID, st); serr != nil && err == nil {
		err = serr
	}
	return res, next, err
}

func (f *Fetcher) pollFeed(ctx context.Context, feed config.Feed, st *FeedState, firstPoll bool) (PollResult, time.Duration, error) {
	hdr := http.Header{}
	if st.ETag != "" {
		hdr.Set("If-None-Match", st.ETag)
	}
	if st.LastModified != "" {
		hdr.Set("If-Modified-Since", st.LastModified)
	}
	resp, err := f.client.Get(ctx, feed.URL, hdr)
	if err != nil && resp == nil {
		return PollResult{Result: "error"}, 0, fmt.Errorf("fetcher: feed %s (%s): %w", feed.ID, feed.URL, err)
	}
	// An error status comes with its response, for Retry-After.
	f.metrics.FetchedBytes.Add(float64(len(resp.Body)))
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return PollResult{Result: "not_modified"}, 0, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		ra := retryAfter(resp.Header.Get("Retry-After"), f.now())
		return PollResult{Result: "rate_limited"}, ra, fmt.Errorf("%w: feed %s (%s) answered %d; retrying after %s", ErrFeedStatus, feed.ID, feed.URL, resp.StatusCode, ra)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return PollResult{Result: "error"}, 0, fmt.Errorf("%w: feed %s (%s) answered %d", ErrFeedStatus, feed.ID, feed.URL, resp.StatusCode)
	}
	parsed, err := gofeed.NewParser().Parse(bytes.NewReader(resp.Body))
	if err != nil {
		return PollResult{Result: "error"}, 0, fmt.Errorf("%w: feed %s (%s): %v", ErrFeedParse, feed.ID, feed.URL, err)
	}
	res := PollResult{Result: "ok", Items: len(parsed.Items)}
	for _, item := range parsed.Items {
		if ctx.Err() != nil {
			return res, 0, ctx.Err()
		}
		outcome, err := f.handleItem(ctx, feed, parsed, item, firstPoll)
		if err != nil {
			// The item is not recorded as seen, so the next poll retries it.
			f.logger.Warn("item not published", "feed_id", feed.ID, "item_url", item.Link, "err", err)
			continue
		}
		switch outcome {
		case outcomePublished:
			res.Published++
		case outcomeDuplicate:
			res.Duplicates++
		case outcomeTooOld:
			res.Skipped++
		}
	}
	// Validators are kept only once the items are handled, so a crash in
	// between makes the next poll see the items again.
	st.ETag = resp.Header.Get("ETag")
	st.LastModified = resp.Header.Get("Last-Modified")
	return res, 0, nil
}

type outcome int

const (
	outcomePublished outcome = iota
	outcomeDuplicate
	outcomeTooOld
)

// seenRecord is what the newswatch_seen bucket holds per article id.
type seenRecord struct {
	ArticleID string    `json:"article_id"`
	URL       string    `json:"url"`
	Published time.Time `json:"published_at"`
}

func (f *Fetcher) handleItem(ctx context.Context, feed config.Feed, parsed *gofeed.Feed, item *gofeed.Item, firstPoll bool) (outcome, error) {
	link := strings.TrimSpace(item.Link)
	if link == "" {
		return outcomeDuplicate, fmt.Errorf("fetcher: feed %s item %q has no link", feed.ID, item.Title)
	}
	canonical := CanonicalURL(link)
	linkID := events.HashID(canonical)
	if seen, err := f.isSeen(ctx, linkID); err != nil || seen {
		if seen {
			f.metrics.DuplicatesSkipped.Inc()
			return outcomeDuplicate, nil
		}
		return 0, err
	}
	published := itemTime(item)
	if firstPoll && !published.IsZero() && f.now().Sub(published) > f.cfg.MaxItemAge {
		// No storm on a new feed: old items are remembered, not published.
		return outcomeTooOld, f.markSeen(ctx, seenRecord{ArticleID: linkID, URL: canonical, Published: published}, linkID)
	}

	art := f.buildArticle(ctx, feed, parsed, item, link)
	if art.CanonicalURL != canonical {
		if seen, err := f.isSeen(ctx, art.ID); err != nil {
			return 0, err
		} else if seen {
			f.metrics.DuplicatesSkipped.Inc()
			return outcomeDuplicate, f.markSeen(ctx, seenRecord{ArticleID: art.ID, URL: art.CanonicalURL, Published: published}, linkID)
		}
	}
	data, err := json.Marshal(art)
	if err != nil {
		return 0, err
	}
	if _, err := f.js.Publish(ctx, topology.ArticleSubject(feed.ID), data, jetstream.WithMsgID(art.ID)); err != nil {
		return 0, fmt.Errorf("fetcher: publishing article %s to %s: %w", art.ID, topology.StreamArticles, err)
	}
	f.metrics.Published.Inc()
	return outcomePublished, f.markSeen(ctx, seenRecord{ArticleID: art.ID, URL: art.CanonicalURL, Published: published}, linkID, art.ID)
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
	res, err := f.extractPage(ctx, link)
	if err != nil {
		reason := "extract"
		if r := httpguard.Reason(err); r != "" {
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

func (f *Fetcher) extractPage(ctx context.Context, link string) (*extract.Result, error) {
	select {
	case f.pages <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-f.pages }()
	start := f.now()
	defer func() { f.metrics.ExtractDuration.Observe(f.now().Sub(start).Seconds()) }()
	resp, err := f.client.Get(ctx, link, nil)
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

func (f *Fetcher) isSeen(ctx context.Context, id string) (bool, error) {
	_, err := f.seen.Get(ctx, id)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return false, nil
	default:
		return false, fmt.Errorf("fetcher: reading %s/%s: %w", topology.BucketSeen, id, err)
	}
}

func (f *Fetcher) markSeen(ctx context.Context, rec seenRecord, ids ...string) error {
	data, _ := json.Marshal(rec)
	for _, id := range ids {
		if _, err := f.seen.Put(ctx, id, data); err != nil {
			return fmt.Errorf("fetcher: recording %s/%s: %w", topology.BucketSeen, id, err)
		}
	}
	return nil
}

func (f *Fetcher) loadState(ctx context.Context, feedID string) (FeedState, error) {
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

func (f *Fetcher) saveState(ctx context.Context, feedID string, st FeedState) error {
	data, _ := json.Marshal(st)
	if _, err := f.state.Put(ctx, feedID, data); err != nil {
		return fmt.Errorf("fetcher: writing %s/%s: %w", topology.BucketFeedState, feedID, err)
	}
	return nil
}

func (f *Fetcher) trackBackoff(feedID string, failures int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if failures == 0 {
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

// backoff doubles the interval per consecutive failure, up to maxBackoff.
func backoff(interval time.Duration, failures int) time.Duration {
	d := interval
	for i := 1; i < failures && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, max(maxBackoff, interval))
}

// retryAfter parses a Retry-After header in seconds or as an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
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
