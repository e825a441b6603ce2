// Package events defines the versioned JSON messages that newswatch's workers
// exchange over NATS JetStream. docs/events.md is the reference for them.
package events

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Schema versions carried in every message's "schema" field. A consumer that
// sees a version it does not know terminates the message instead of guessing.
const (
	ArticleSchema         = "newswatch.article.v1"
	AnalyzedArticleSchema = "newswatch.analyzed.v1"
	AlertSchema           = "newswatch.alert.v1"
)

// CloudEvents types of the alerts published on alerts.<watch-id>.
const (
	AlertEventType       = "io.newswatch.alert.v1"
	AlertUpdateEventType = "io.newswatch.alert.update.v1"
)

// Article is one news item as the fetcher publishes it on news.articles.<feed-id>.
type Article struct {
	Schema       string    `json:"schema"`
	ID           string    `json:"id"`
	Revision     int       `json:"revision"`
	Feed         string    `json:"feed"`
	FeedURL      string    `json:"feed_url,omitempty"`
	URL          string    `json:"url"`
	CanonicalURL string    `json:"canonical_url"`
	GUID         string    `json:"guid,omitempty"`
	Title        string    `json:"title"`
	Author       string    `json:"author,omitempty"`
	Source       string    `json:"source,omitempty"`
	PublishedAt  time.Time `json:"published_at,omitzero"`
	Language     string    `json:"lang,omitempty"`
	Summary      string    `json:"summary,omitempty"`
	Text         string    `json:"text"`
	FetchedAt    time.Time `json:"fetched_at"`
	// ExtractError says why the page body could not be extracted; Text then
	// holds the feed's own summary.
	ExtractError string `json:"extract_error,omitempty"`
	// TextTruncated is set when the page's text was longer than
	// fetcher.max_text_bytes and was cut at a paragraph boundary.
	TextTruncated bool `json:"text_truncated,omitempty"`
}

// Evidence is one feature that contributed to a topic score.
type Evidence struct {
	Term     string  `json:"term"`
	Weight   float64 `json:"weight"`
	Field    string  `json:"field,omitempty"` // "title" or "text"
	Sentence string  `json:"sentence"`
}

// Topic is a topic flag with its score, the threshold it passed and the evidence.
type Topic struct {
	Name      string     `json:"name"`
	Score     float64    `json:"score"`
	Threshold float64    `json:"threshold"`
	Evidence  []Evidence `json:"evidence"`
}

// Mention is one occurrence of an entity in the article text, as byte offsets
// into Field ("title" or "text").
type Mention struct {
	Field string `json:"field"`
	Start int    `json:"start"`
	End   int    `json:"end"`
	Text  string `json:"text"`
}

// Entity is a named thing found in an article under its canonical name.
type Entity struct {
	Name     string    `json:"name"`
	Type     string    `json:"type"`
	Mentions []Mention `json:"mentions"`
}

// AnalyzedArticle is an article with the analyzer's judgement, published on
// news.analyzed.<feed-id>.
type AnalyzedArticle struct {
	Schema   string   `json:"schema"`
	Article  Article  `json:"article"`
	Topics   []Topic  `json:"topics"`
	Entities []Entity `json:"entities"`
	StoryID  string   `json:"story_id"`
	// Watches is the analyzer's evaluation of every watch, made in the same
	// pass that found the topics' terms and the entities. It is absent when
	// the analyzer did not know the watches yet; the notifier then
	// evaluates them itself.
	Watches    *WatchResults `json:"watches,omitempty"`
	AnalyzedAt time.Time     `json:"analyzed_at"`
}

// WatchResults are the watches an article matched, evaluated at one state
// of the newswatch_watches bucket.
type WatchResults struct {
	// Revision is the bucket revision of that state.
	Revision uint64 `json:"revision"`
	// Set identifies the compiled watches: the revision and a hash of every
	// term the queries were compiled to (entity: aliases included). A
	// notifier whose compiled watches have the same Set uses Matches as
	// they are; one with another gazetteer or another revision evaluates
	// its own.
	Set     string       `json:"set"`
	Matches []WatchMatch `json:"matches"`
}

// WatchMatch is one watch that matched, with the terms that made it so.
type WatchMatch struct {
	WatchID string        `json:"watch_id"`
	Terms   []MatchedTerm `json:"terms"`
}

// HasTopic reports whether the article was flagged with the named topic.
func (a *AnalyzedArticle) HasTopic(name string) bool {
	for _, t := range a.Topics {
		if t.Name == name {
			return true
		}
	}
	return false
}

// MatchedTerm is one query term that matched, with a snippet of the text around it.
type MatchedTerm struct {
	Term    string `json:"term"`
	Text    string `json:"text,omitempty"` // what the article says there (an alias, a dash variant)
	Field   string `json:"field"`
	Start   int    `json:"start"`
	End     int    `json:"end"`
	Snippet string `json:"snippet"`
}

// Alert is the data of an alert CloudEvent.
type Alert struct {
	Schema      string        `json:"schema"`
	AlertID     string        `json:"alert_id"`
	WatchID     string        `json:"watch_id"`
	Query       string        `json:"query"`
	StoryID     string        `json:"story_id"`
	ArticleID   string        `json:"article_id"`
	URL         string        `json:"url"`
	Title       string        `json:"title"`
	Source      string        `json:"source"`
	PublishedAt time.Time     `json:"published_at,omitzero"`
	Matches     []MatchedTerm `json:"matches"`
	Topics      []string      `json:"topics"`
	CreatedAt   time.Time     `json:"created_at"`
}

// CloudEvent is a CloudEvents 1.0 JSON envelope carrying an Alert.
type CloudEvent struct {
	SpecVersion     string    `json:"specversion"`
	ID              string    `json:"id"`
	Source          string    `json:"source"`
	Type            string    `json:"type"`
	Subject         string    `json:"subject,omitempty"`
	Time            time.Time `json:"time"`
	DataContentType string    `json:"datacontenttype"`
	Data            Alert     `json:"data"`
}

// NewAlertEvent wraps an alert in a CloudEvents 1.0 envelope.
func NewAlertEvent(a Alert, eventType string) CloudEvent {
	return CloudEvent{
		SpecVersion:     "1.0",
		ID:              a.AlertID,
		Source:          "newswatch/notifier",
		Type:            eventType,
		Subject:         a.WatchID,
		Time:            a.CreatedAt,
		DataContentType: "application/json",
		Data:            a,
	}
}

// HashID returns a short, stable hex id of the given parts.
func HashID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:24]
}

// Words returns every term and matched text of ms, for highlighting.
func Words(ms []MatchedTerm) []string {
	out := make([]string, 0, 2*len(ms))
	for _, m := range ms {
		out = append(out, m.Term)
		if m.Text != "" && m.Text != m.Term {
			out = append(out, m.Text)
		}
	}
	return out
}
