// Package slack delivers alerts to a Slack incoming webhook as Block Kit
// messages: the title linked to the article, the matched snippets with the
// terms in bold, the topics, the source and the published time.
package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/sink"
)

// DefaultTimeout bounds one delivery when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Limits that keep a message inside Slack's: 3000 characters per text
// object, 50 blocks per message.
const (
	maxTitle        = 250
	maxSnippet      = 600
	maxSnippets     = 3
	maxDigestAlerts = 15
)

// ErrConfig is wrapped by every configuration error from New.
var ErrConfig = errors.New("slack: invalid config")

// Config is one slack entry of the config's sinks: list. The webhook URL is
// the credential (its path holds the token), so like other secrets it can
// come from a file or an environment variable; exactly one is required.
type Config struct {
	Type    string        `yaml:"type"` // "slack"; read by the config loader
	Name    string        `yaml:"name"`
	URL     string        `yaml:"url"`
	URLFile string        `yaml:"url_file"`
	URLEnv  string        `yaml:"url_env"`
	Timeout time.Duration `yaml:"timeout"`
	// Network is the sink's own network policy (allow_private_networks,
	// allow_networks, allow_hosts), applied by Build.
	sink.Network `yaml:",inline"`
}

// Slack is a sink that posts to one incoming webhook.
type Slack struct {
	name    string
	url     string
	hide    []string // parts of url that errors must not show
	timeout time.Duration
	client  *http.Client
}

type options struct{ client *http.Client }

// Option configures a Slack sink.
type Option func(*options)

// WithClient sets the HTTP client; Build passes the sink's guarded client
// (sink.NewHTTPClient). The default is a plain client that does not follow
// redirects either.
func WithClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// New validates cfg, resolves the webhook URL and returns a ready sink.
func New(cfg Config, opts ...Option) (*Slack, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if cfg.Name == "" {
		return nil, fmt.Errorf("%w: name is required", ErrConfig)
	}
	raw, err := sink.Secret(cfg.URL, cfg.URLFile, cfg.URLEnv)
	if err != nil {
		return nil, fmt.Errorf("%w: sink %q: url: %w", ErrConfig, cfg.Name, err)
	}
	if raw == "" {
		return nil, fmt.Errorf("%w: sink %q: one of url, url_file or url_env is required", ErrConfig, cfg.Name)
	}
	// Never echo the URL: its path is the token.
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%w: sink %q: url must be an absolute https:// URL (Slack's incoming webhook URL)", ErrConfig, cfg.Name)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("%w: sink %q: timeout must not be negative", ErrConfig, cfg.Name)
	}
	s := &Slack{name: cfg.Name, url: raw, hide: sink.URLSecrets(raw), timeout: cfg.Timeout, client: o.client}
	if s.timeout == 0 {
		s.timeout = DefaultTimeout
	}
	if s.client == nil {
		s.client = sink.PlainHTTPClient(s.timeout)
	}
	return s, nil
}

// Build decodes one slack entry of the config's sinks: list strictly and
// returns the sink with its own guarded client: its network policy, its
// timeout, no redirects. It is the notifier's constructor.
func Build(spec *yaml.Node) (*Slack, error) {
	var cfg Config
	if err := sink.DecodeConfig(spec, &cfg); err != nil {
		return nil, err
	}
	client, err := sink.NewHTTPClient(cfg.Name, cfg.Network, cfg.Timeout, DefaultTimeout)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return New(cfg, WithClient(client))
}

// Name returns the configured sink name.
func (s *Slack) Name() string { return s.name }

// Timeout is the bound on one delivery attempt (the timeout key).
func (s *Slack) Timeout() time.Duration { return s.timeout }

// Send posts one alert. Incoming webhooks have no idempotency key, so
// deliveryID is not sent; a retry after a lost response may post twice.
func (s *Slack) Send(ctx context.Context, deliveryID string, ev events.CloudEvent) error {
	body, err := encode(AlertMessage(ev))
	if err != nil {
		return fmt.Errorf("slack %q: %w", s.name, &sink.Error{Reason: sink.ReasonEncode, Err: err})
	}
	return s.post(ctx, body)
}

// SendDigest posts one message listing the stories of a watch.
func (s *Slack) SendDigest(ctx context.Context, deliveryID, watchID string, evs []events.CloudEvent) error {
	if len(evs) == 0 {
		return nil
	}
	body, err := encode(DigestMessage(watchID, evs))
	if err != nil {
		return fmt.Errorf("slack %q: %w", s.name, &sink.Error{Reason: sink.ReasonEncode, Err: err})
	}
	return s.post(ctx, body)
}

// encode marshals without json's HTML escaping: Slack's mrkdwn is full of
// <, > and &, and \u003c in every link makes payloads hard to read in logs.
func encode(m Message) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// slackErrorCode matches the short error codes Slack answers with
// (invalid_payload, no_service, channel_is_archived...). Only such a code is
// quoted in errors: an arbitrary body could echo anything.
var slackErrorCode = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

func (s *Slack) post(ctx context.Context, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("slack %q: %w", s.name, &sink.Error{Reason: sink.ReasonEncode, Err: errors.New("slack: cannot build request")})
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", sink.UserAgent)
	resp, err := s.client.Do(req)
	var code string
	if err == nil {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if c := strings.TrimSpace(string(b)); slackErrorCode.MatchString(c) {
			code = c
		}
	}
	if err := sink.Classify(resp, err); err != nil {
		err = sink.Scrub(err, s.hide...)
		if code != "" {
			return fmt.Errorf("slack %q: %s: %w", s.name, code, err)
		}
		return fmt.Errorf("slack %q: %w", s.name, err)
	}
	return nil
}

// Message is the JSON body of an incoming-webhook post. Text is the
// fallback shown in notifications and by clients that cannot render blocks.
type Message struct {
	Text   string  `json:"text"`
	Blocks []Block `json:"blocks"`
}

// Block is a Block Kit layout block (section, context, header or divider).
type Block struct {
	Type     string       `json:"type"`
	Text     *TextObject  `json:"text,omitempty"`
	Elements []TextObject `json:"elements,omitempty"`
}

// TextObject is a Block Kit text object, "mrkdwn" or "plain_text".
type TextObject struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

func mrkdwn(s string) *TextObject { return &TextObject{Type: "mrkdwn", Text: s} }

// AlertMessage renders one alert.
func AlertMessage(ev events.CloudEvent) Message {
	a := ev.Data
	heading := titleLink(a)
	if ev.Type == events.AlertUpdateEventType {
		heading = ":arrows_counterclockwise: Update: " + heading
	}
	blocks := []Block{{Type: "section", Text: mrkdwn(heading)}}
	for _, snip := range snippets(a, maxSnippets) {
		blocks = append(blocks, Block{Type: "section", Text: mrkdwn(snip)})
	}
	blocks = append(blocks, Block{Type: "context", Elements: contextLine(a)})
	return Message{Text: fallback(a), Blocks: blocks}
}

// DigestMessage renders the stories of one watch in a single message.
func DigestMessage(watchID string, evs []events.CloudEvent) Message {
	noun := "stories"
	if len(evs) == 1 {
		noun = "story"
	}
	head := fmt.Sprintf("%d new %s for watch %s", len(evs), noun, watchID)
	blocks := []Block{{Type: "header", Text: &TextObject{Type: "plain_text", Text: sink.Clip(head, 150)}}}
	for i, ev := range evs {
		if i == maxDigestAlerts {
			blocks = append(blocks, Block{Type: "context", Elements: []TextObject{
				{Type: "mrkdwn", Text: fmt.Sprintf("…and %d more", len(evs)-maxDigestAlerts)},
			}})
			break
		}
		a := ev.Data
		var b strings.Builder
		b.WriteString(titleLink(a))
		b.WriteString("\n")
		b.WriteString(meta(a))
		for _, snip := range snippets(a, 1) {
			b.WriteString("\n")
			b.WriteString(snip)
		}
		blocks = append(blocks, Block{Type: "section", Text: mrkdwn(b.String())})
	}
	return Message{Text: Escape(head), Blocks: blocks}
}

// Escape escapes the three characters Slack's mrkdwn reserves for its
// control sequences (links, mentions, dates).
func Escape(s string) string { return escaper.Replace(s) }

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func titleLink(a events.Alert) string {
	title := strings.TrimSpace(oneLine(a.Title))
	if title == "" {
		title = "(untitled)"
	}
	title = Escape(sink.Clip(title, maxTitle))
	// "|" would end the link target early, so a URL with one is not linked.
	if u, err := url.Parse(a.URL); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && !strings.Contains(a.URL, "|") {
		return "*<" + Escape(a.URL) + "|" + title + ">*"
	}
	return "*" + title + "*"
}

// snippets renders up to n distinct matched snippets as quotes, every
// matched term in bold.
func snippets(a events.Alert, n int) []string {
	terms := events.Words(a.Matches)
	var out []string
	seen := map[string]bool{}
	for _, m := range a.Matches {
		snip := strings.TrimSpace(oneLine(m.Snippet))
		if snip == "" || seen[snip] {
			continue
		}
		seen[snip] = true
		var b strings.Builder
		b.WriteString("> ")
		for _, seg := range sink.Highlight(sink.Clip(snip, maxSnippet), terms...) {
			if seg.Match {
				b.WriteString("*" + Escape(seg.Text) + "*")
			} else {
				b.WriteString(Escape(seg.Text))
			}
		}
		out = append(out, b.String())
		if len(out) == n {
			break
		}
	}
	return out
}

func contextLine(a events.Alert) []TextObject {
	var els []TextObject
	if len(a.Topics) > 0 {
		els = append(els, TextObject{Type: "mrkdwn", Text: "*Topics:* " + Escape(strings.Join(a.Topics, ", "))})
	}
	els = append(els, TextObject{Type: "mrkdwn", Text: meta(a)})
	if a.WatchID != "" {
		els = append(els, TextObject{Type: "mrkdwn", Text: "*Watch:* " + Escape(a.WatchID)})
	}
	return els
}

// meta is "source · published", the time as a Slack date token so each
// reader sees it in their own time zone.
func meta(a events.Alert) string {
	src := strings.TrimSpace(oneLine(a.Source))
	if src == "" {
		src = "unknown source"
	}
	s := Escape(src)
	if !a.PublishedAt.IsZero() {
		s += " · " + fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>",
			a.PublishedAt.Unix(), a.PublishedAt.UTC().Format("2006-01-02 15:04 UTC"))
	}
	return s
}

func fallback(a events.Alert) string {
	s := strings.TrimSpace(oneLine(a.Title))
	if a.Source != "" {
		s += " (" + strings.TrimSpace(oneLine(a.Source)) + ")"
	}
	return Escape(sink.Clip(s, maxTitle))
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
