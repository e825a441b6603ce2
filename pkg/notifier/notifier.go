// Package notifier evaluates analysts' watches against analyzed articles and
// publishes one alert per (watch, story) on alerts.<watch-id>, keeping the
// record of what it published in JetStream KV.
package notifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/consume"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/silences"
	"github.com/newswatch/newswatch/pkg/topology"
	"github.com/newswatch/newswatch/pkg/watchset"
)

// Silencer tells whether alerts of a watch on a story are muted;
// *silences.Store implements it.
type Silencer interface {
	Silenced(ctx context.Context, watch, story string) (silences.Silence, bool, error)
}

var _ Silencer = (*silences.Store)(nil)

// Option configures a Notifier.
type Option func(*Notifier)

// WithSilences mutes watches and stories that have an active silence.
func WithSilences(s Silencer) Option { return func(n *Notifier) { n.silences = s } }

// Notifier turns analyzed articles into alerts.
type Notifier struct {
	js       jetstream.JetStream
	silences Silencer
	alerted  jetstream.KeyValue
	watches  atomic.Pointer[watchset.Set]
	metrics  *Metrics
	logger   *slog.Logger
	now      func() time.Time
}

// New returns a notifier publishing through js and recording alerts in
// alerted (the topology.BucketAlerted bucket).
func New(js jetstream.JetStream, alerted jetstream.KeyValue, watches *watchset.Set, m *Metrics, logger *slog.Logger, opts ...Option) *Notifier {
	n := &Notifier{js: js, alerted: alerted, metrics: m, logger: logger.With("component", "notifier"), now: time.Now}
	for _, o := range opts {
		o(n)
	}
	n.SetWatches(watches)
	return n
}

// SetWatches replaces the watches evaluated from the next article on.
func (n *Notifier) SetWatches(ws *watchset.Set) { n.watches.Store(ws) }

// Watch returns the current watch with the given id, paused or not.
func (n *Notifier) Watch(id string) (config.Watch, bool) { return n.watches.Load().Watch(id) }

// record is what the newswatch_alerted bucket holds per (watch, story).
type record struct {
	AlertID   string    `json:"alert_id"`
	WatchID   string    `json:"watch_id"`
	StoryID   string    `json:"story_id"`
	Articles  []string  `json:"article_ids"`
	Versions  []string  `json:"versions"` // <article id>-r<revision> seen
	Sources   []string  `json:"sources"`
	CreatedAt time.Time `json:"created_at"`
	UpdateID  string    `json:"update_id,omitempty"` // the update alert, once sent
}

func version(a events.Article) string { return fmt.Sprintf("%s-r%d", a.ID, a.Revision) }

func recordKey(watchID, storyID string) string { return watchID + "." + storyID }

// AlertID is the stable id of the alert of a watch on a story.
func AlertID(watchID, storyID string) string { return events.HashID("alert", watchID, storyID) }

// Handle publishes the alerts due for a. It uses the analyzer's evaluation
// of the watches when the analyzer compiled the same watches as this
// notifier (same revision of the bucket, same terms and aliases), and
// evaluates its own watches otherwise (an article analysed before a watch
// changed, before the analyzer knew the watches, or by an analyzer with
// another gazetteer). It returns the alerts it published.
func (n *Notifier) Handle(ctx context.Context, a events.AnalyzedArticle) ([]events.Alert, error) {
	ws := n.watches.Load()
	var matches []events.WatchMatch
	if r := a.Watches; r != nil && r.Revision != 0 && r.Set == ws.Key() {
		matches = r.Matches
		n.metrics.Evaluations.WithLabelValues("analyzer").Inc()
	} else {
		matches = ws.MatchArticle(&a)
		n.metrics.Evaluations.WithLabelValues("notifier").Inc()
	}
	topicNames := make([]string, 0, len(a.Topics))
	for _, t := range a.Topics {
		topicNames = append(topicNames, t.Name)
	}
	var published []events.Alert
	for _, m := range matches {
		w, ok := ws.Watch(m.WatchID)
		if !ok || w.Paused {
			continue
		}
		if n.silences != nil {
			sl, muted, err := n.silences.Silenced(ctx, w.ID, a.StoryID)
			if err != nil {
				return published, err
			}
			if muted {
				n.metrics.Silenced.Inc()
				n.logger.Debug("match silenced", "watch_id", w.ID, "story_id", a.StoryID, "silence", sl.String())
				continue
			}
		}
		alert, err := n.alertOnce(ctx, w, a, n.checkTerms(m.Terms, a.Article), topicNames)
		if err != nil {
			return published, err
		}
		if alert != nil {
			published = append(published, *alert)
		}
	}
	return published, nil
}

// checkTerms returns terms with every field and byte offset made to fit
// the article, as alert receivers slice the title or text with them: an
// analyzed article comes from the wire, and one from a faulty or hostile
// publisher may say start -50 or end 99999999. A term out of range is
// clamped to the field (at rune boundaries), its text taken from there,
// and counted.
func (n *Notifier) checkTerms(terms []events.MatchedTerm, a events.Article) []events.MatchedTerm {
	var out []events.MatchedTerm
	for i, t := range terms {
		field := a.Text
		switch t.Field {
		case "title":
			field = a.Title
		case "text":
		default:
			t.Field = "text"
		}
		ok := t.Field == terms[i].Field && 0 <= t.Start && t.Start <= t.End && t.End <= len(field) &&
			(t.Start == len(field) || utf8.RuneStart(field[t.Start])) && (t.End == len(field) || utf8.RuneStart(field[t.End]))
		if ok {
			if out != nil {
				out = append(out, t)
			}
			continue
		}
		if out == nil {
			out = append(make([]events.MatchedTerm, 0, len(terms)), terms[:i]...)
		}
		n.metrics.InvalidOffsets.Inc()
		t.Start = runeStart(field, min(max(t.Start, 0), len(field)))
		t.End = runeStart(field, min(max(t.End, t.Start), len(field)))
		t.Text = field[t.Start:t.End]
		out = append(out, t)
	}
	if out == nil {
		return terms
	}
	return out
}

// runeStart moves i back to the start of the rune it falls in.
func runeStart(s string, i int) int {
	for i > 0 && i < len(s) && !utf8.RuneStart(s[i]) {
		i--
	}
	return i
}

func (n *Notifier) alertOnce(ctx context.Context, w config.Watch, a events.AnalyzedArticle, terms []events.MatchedTerm, topics []string) (*events.Alert, error) {
	key := recordKey(w.ID, a.StoryID)
	entry, err := n.alerted.Get(ctx, key)
	switch {
	case err == nil:
		n.metrics.DuplicatesSuppressed.Inc()
		return n.addSource(ctx, w, entry, a, terms, topics)
	case !errors.Is(err, jetstream.ErrKeyNotFound):
		return nil, fmt.Errorf("notifier: reading %s/%s: %w", topology.BucketAlerted, key, err)
	}
	alert := n.newAlert(AlertID(w.ID, a.StoryID), w, a, terms, topics)
	if err := n.publish(ctx, alert, events.AlertEventType); err != nil {
		return nil, err
	}
	rec, _ := json.Marshal(record{
		AlertID: alert.AlertID, WatchID: w.ID, StoryID: a.StoryID, Articles: []string{a.Article.ID},
		Versions: []string{version(a.Article)}, Sources: []string{a.Article.Source}, CreatedAt: alert.CreatedAt,
	})
	if _, err := n.alerted.Create(ctx, key, rec); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			// Another worker or replica alerted on a copy of the same story
			// at the same moment; its alert carried the same Nats-Msg-Id, so
			// the stream kept one. Redeliver this copy, to be recorded as a
			// further source of that alert.
			return nil, &consume.Retry{Delay: 100 * time.Millisecond, Err: fmt.Errorf("notifier: %s/%s was recorded concurrently: %w", topology.BucketAlerted, key, err)}
		}
		return nil, fmt.Errorf("notifier: recording %s/%s: %w", topology.BucketAlerted, key, err)
	}
	if !a.Article.FetchedAt.IsZero() {
		n.metrics.Latency.Observe(n.now().Sub(a.Article.FetchedAt).Seconds())
	}
	n.logger.Info("alert published", "watch_id", w.ID, "alert_id", alert.AlertID, "article_id", a.Article.ID, "story_id", a.StoryID)
	return &alert, nil
}

func (n *Notifier) newAlert(id string, w config.Watch, a events.AnalyzedArticle, terms []events.MatchedTerm, topics []string) events.Alert {
	alert := events.Alert{
		Schema:      events.AlertSchema,
		AlertID:     id,
		WatchID:     w.ID,
		Query:       w.Query,
		StoryID:     a.StoryID,
		ArticleID:   a.Article.ID,
		URL:         a.Article.URL,
		Title:       a.Article.Title,
		Source:      a.Article.Source,
		PublishedAt: a.Article.PublishedAt,
		Topics:      topics,
		CreatedAt:   n.now().UTC(),
	}
	alert.Matches = terms
	return alert
}

// publish publishes an alert on alerts.<watch-id>. Publish first, record
// second: a crash in between republishes the same Nats-Msg-Id, which the
// stream's duplicate window drops.
func (n *Notifier) publish(ctx context.Context, alert events.Alert, eventType string) error {
	data, err := json.Marshal(events.NewAlertEvent(alert, eventType))
	if err != nil {
		return consume.Poison(err)
	}
	if _, err := n.js.Publish(ctx, topology.AlertSubject(alert.WatchID), data, jetstream.WithMsgID(alert.AlertID)); err != nil {
		return fmt.Errorf("notifier: publishing alert %s to %s: %w", alert.AlertID, topology.AlertSubject(alert.WatchID), err)
	}
	n.metrics.Alerts.WithLabelValues(alert.WatchID).Inc()
	return nil
}

// addSource records another copy or a revision of an alerted story on its
// record and, for watches with updates: true, sends the story's one update alert.
func (n *Notifier) addSource(ctx context.Context, w config.Watch, entry jetstream.KeyValueEntry, a events.AnalyzedArticle, terms []events.MatchedTerm, topics []string) (*events.Alert, error) {
	var rec record
	if err := json.Unmarshal(entry.Value(), &rec); err != nil {
		n.logger.Warn("unreadable alert record; treating the story as alerted", "key", entry.Key(), "err", err)
		return nil, nil
	}
	v := version(a.Article)
	if slices.Contains(rec.Versions, v) {
		return nil, nil // a redelivery or re-poll of what was already seen
	}
	rec.Versions = append(rec.Versions, v)
	if !slices.Contains(rec.Articles, a.Article.ID) {
		rec.Articles = append(rec.Articles, a.Article.ID)
	}
	if !slices.Contains(rec.Sources, a.Article.Source) {
		rec.Sources = append(rec.Sources, a.Article.Source)
	}
	var update *events.Alert
	if w.Updates && rec.UpdateID == "" {
		u := n.newAlert(events.HashID("update", rec.AlertID), w, a, terms, topics)
		if err := n.publish(ctx, u, events.AlertUpdateEventType); err != nil {
			return nil, err
		}
		rec.UpdateID = u.AlertID
		update = &u
		n.logger.Info("update alert published", "watch_id", w.ID, "alert_id", u.AlertID, "article_id", a.Article.ID, "story_id", a.StoryID)
	}
	data, _ := json.Marshal(rec)
	if _, err := n.alerted.Update(ctx, entry.Key(), data, entry.Revision()); err != nil {
		// Another replica changed the record: the message is redelivered and
		// re-evaluated against the new record; a republished update alert
		// carries the same Nats-Msg-Id and is dropped by the stream.
		return nil, fmt.Errorf("notifier: updating %s/%s: %w", topology.BucketAlerted, entry.Key(), err)
	}
	return update, nil
}

// Handler returns the consumer handler for ANALYZED messages.
func (n *Notifier) Handler() consume.Handler {
	return func(ctx context.Context, msg jetstream.Msg) error {
		var a events.AnalyzedArticle
		if err := json.Unmarshal(msg.Data(), &a); err != nil {
			n.metrics.Undecodable.Inc()
			return consume.Poison(fmt.Errorf("notifier: decoding %s: %w", msg.Subject(), err))
		}
		if a.Schema != events.AnalyzedArticleSchema || a.StoryID == "" {
			n.metrics.Undecodable.Inc()
			return consume.Poison(fmt.Errorf("notifier: %s carries schema %q story %q; want %s with a story id", msg.Subject(), a.Schema, a.StoryID, events.AnalyzedArticleSchema))
		}
		_, err := n.Handle(ctx, a)
		return err
	}
}

// Workers is how many ANALYZED messages a notifier handles at once; each
// spends most of its time waiting on KV and publish round trips.
const Workers = 4

// Run consumes ANALYZED through cons until ctx ends, Workers messages at a
// time; opts choose the dead-lettering and backoff of failed messages.
func (n *Notifier) Run(ctx context.Context, cons jetstream.Consumer, opts ...consume.Option) error {
	// Silences kept in memory save two KV reads per alert.
	if f, ok := n.silences.(interface{ Follow(context.Context) error }); ok {
		go func() {
			if err := f.Follow(ctx); err != nil {
				n.logger.Warn("reading silences from their bucket for each alert instead of following it", "err", err)
			}
		}()
	}
	h := n.Handler()
	return consume.Parallel(ctx, Workers, func(ctx context.Context) error {
		return consume.Run(ctx, cons, topology.ConsumerNotifier, h, n.logger, 2*time.Second, opts...)
	})
}
