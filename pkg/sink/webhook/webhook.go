// Package webhook delivers alerts as CloudEvents JSON POSTs signed per the
// Standard Webhooks specification (https://www.standardwebhooks.com), and
// verifies such signatures for receivers.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/sink"
)

// Content types of a single event and of a digest (CloudEvents JSON batch).
const (
	ContentType      = "application/cloudevents+json"
	BatchContentType = "application/cloudevents-batch+json"
)

// Header names from the Standard Webhooks specification.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// DefaultTimeout bounds one delivery when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// DefaultTolerance is how far a webhook-timestamp may be from the receiver's
// clock when Verify is given no tolerance; the spec suggests five minutes.
const DefaultTolerance = 5 * time.Minute

// secretPrefix marks a base64 secret in the Standard Webhooks format.
const secretPrefix = "whsec_"

// maxDrain is how much of a response body is read so the connection can be
// reused; receivers should answer with an empty body anyway.
const maxDrain = 64 << 10

var (
	// ErrConfig is wrapped by every configuration error from New.
	ErrConfig = errors.New("webhook: invalid config")
	// ErrSecretFormat means a whsec_ secret is not valid base64.
	ErrSecretFormat = errors.New("webhook: secret after whsec_ is not valid base64")
	// ErrMissingHeader means a webhook-id, -timestamp or -signature header is absent.
	ErrMissingHeader = errors.New("webhook: missing header")
	// ErrTimestamp means webhook-timestamp is not a unix time in seconds.
	ErrTimestamp = errors.New("webhook: invalid webhook-timestamp")
	// ErrTimestampSkew means webhook-timestamp is outside the tolerance,
	// which is what replays look like.
	ErrTimestampSkew = errors.New("webhook: webhook-timestamp outside tolerance")
	// ErrNoMatchingSignature means no v1 signature matched the body.
	ErrNoMatchingSignature = errors.New("webhook: no matching signature")
)

// Config is one webhook entry of the config's sinks: list.
type Config struct {
	Type string `yaml:"type"` // "webhook"; read by the config loader
	Name string `yaml:"name"`
	URL  string `yaml:"url"`
	// The signing secret: exactly one of the three. A value starting with
	// whsec_ is base64-decoded per the spec; anything else is used as bytes.
	Secret     string `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
	SecretEnv  string `yaml:"secret_env"`
	// During rotation, the previous secret also signs, so receivers can
	// switch at their own pace. Optional.
	PreviousSecret     string        `yaml:"previous_secret"`
	PreviousSecretFile string        `yaml:"previous_secret_file"`
	PreviousSecretEnv  string        `yaml:"previous_secret_env"`
	Timeout            time.Duration `yaml:"timeout"`
	// Network is the sink's own network policy (allow_private_networks,
	// allow_networks, allow_hosts), applied by Build.
	sink.Network `yaml:",inline"`
}

// Webhook is a sink that POSTs alerts to one URL.
type Webhook struct {
	name    string
	url     string
	hide    []string // parts of url that errors must not show
	keys    [][]byte
	timeout time.Duration
	client  *http.Client
	now     func() time.Time
	ua      string
}

type options struct {
	client *http.Client
	now    func() time.Time
	ua     string
}

// Option configures a Webhook.
type Option func(*options)

// WithClient sets the HTTP client. Build passes the sink's guarded client
// (sink.NewHTTPClient); the default is a plain client that, like the guarded
// one, does not follow redirects.
func WithClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithClock sets the clock used for webhook-timestamp.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithUserAgent sets the User-Agent header; the default is sink.UserAgent,
// the one every notifier request sends.
func WithUserAgent(ua string) Option { return func(o *options) { o.ua = ua } }

// New validates cfg, resolves its secrets and returns a ready sink.
func New(cfg Config, opts ...Option) (*Webhook, error) {
	o := options{now: time.Now, ua: sink.UserAgent}
	for _, opt := range opts {
		opt(&o)
	}
	if cfg.Name == "" {
		return nil, fmt.Errorf("%w: name is required", ErrConfig)
	}
	// The URL is never echoed: it may carry a token.
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: sink %q: url must be an absolute http:// or https:// URL", ErrConfig, cfg.Name)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("%w: sink %q: timeout must not be negative", ErrConfig, cfg.Name)
	}
	w := &Webhook{name: cfg.Name, url: cfg.URL, hide: sink.URLSecrets(cfg.URL), timeout: cfg.Timeout, client: o.client, now: o.now, ua: o.ua}
	if w.timeout == 0 {
		w.timeout = DefaultTimeout
	}
	if w.client == nil {
		w.client = sink.PlainHTTPClient(w.timeout)
	}
	cur, err := sink.Secret(cfg.Secret, cfg.SecretFile, cfg.SecretEnv)
	if err != nil {
		return nil, fmt.Errorf("%w: sink %q: secret: %w", ErrConfig, cfg.Name, err)
	}
	if cur == "" {
		return nil, fmt.Errorf("%w: sink %q: one of secret, secret_file or secret_env is required", ErrConfig, cfg.Name)
	}
	prev, err := sink.Secret(cfg.PreviousSecret, cfg.PreviousSecretFile, cfg.PreviousSecretEnv)
	if err != nil {
		return nil, fmt.Errorf("%w: sink %q: previous_secret: %w", ErrConfig, cfg.Name, err)
	}
	for _, s := range []struct{ key, val string }{{"secret", cur}, {"previous_secret", prev}} {
		if s.val == "" {
			continue
		}
		k, err := decodeSecret(s.val)
		if err != nil {
			return nil, fmt.Errorf("%w: sink %q: %s: %w", ErrConfig, cfg.Name, s.key, err)
		}
		w.keys = append(w.keys, k)
	}
	return w, nil
}

// Build decodes one webhook entry of the config's sinks: list strictly and
// returns the sink with its own guarded client: its network policy, its
// timeout, no redirects. It is the notifier's constructor.
func Build(spec *yaml.Node) (*Webhook, error) {
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
func (w *Webhook) Name() string { return w.name }

// Timeout is the bound on one delivery attempt (the timeout key).
func (w *Webhook) Timeout() time.Duration { return w.timeout }

// Send POSTs one alert event. deliveryID becomes webhook-id, which stays the
// same across retries so receivers can deduplicate.
func (w *Webhook) Send(ctx context.Context, deliveryID string, ev events.CloudEvent) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("webhook %q: %w", w.name, &sink.Error{Reason: sink.ReasonEncode, Err: err})
	}
	return w.post(ctx, deliveryID, ContentType, body)
}

// SendDigest POSTs several alerts of one watch as a CloudEvents JSON batch
// (a JSON array of events). An empty digest sends nothing.
func (w *Webhook) SendDigest(ctx context.Context, deliveryID, watchID string, evs []events.CloudEvent) error {
	if len(evs) == 0 {
		return nil
	}
	body, err := json.Marshal(evs)
	if err != nil {
		return fmt.Errorf("webhook %q: %w", w.name, &sink.Error{Reason: sink.ReasonEncode, Err: err})
	}
	return w.post(ctx, deliveryID, BatchContentType, body)
}

func (w *Webhook) post(ctx context.Context, deliveryID, contentType string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		// NewRequest errors quote the URL; keep only the reason.
		return fmt.Errorf("webhook %q: %w", w.name, &sink.Error{Reason: sink.ReasonEncode, Err: errors.New("webhook: cannot build request")})
	}
	ts := w.now()
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", w.ua)
	req.Header.Set(HeaderID, deliveryID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(HeaderSignature, signatures(w.keys, deliveryID, ts.Unix(), body))
	resp, err := w.client.Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
		resp.Body.Close()
	}
	if err := sink.Classify(resp, err); err != nil {
		return fmt.Errorf("webhook %q: %w", w.name, sink.Scrub(err, w.hide...))
	}
	return nil
}

// Sign returns the webhook-signature header value for one delivery: a
// space-separated "v1,<base64>" entry per secret, as during rotation.
func Sign(id string, ts time.Time, body []byte, secrets ...string) (string, error) {
	keys := make([][]byte, 0, len(secrets))
	for _, s := range secrets {
		k, err := decodeSecret(s)
		if err != nil {
			return "", err
		}
		keys = append(keys, k)
	}
	return signatures(keys, id, ts.Unix(), body), nil
}

func signatures(keys [][]byte, id string, ts int64, body []byte) string {
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("v1,")
		b.WriteString(base64.StdEncoding.EncodeToString(mac(k, id, ts, body)))
	}
	return b.String()
}

func mac(key []byte, id string, ts int64, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write(strconv.AppendInt(nil, ts, 10))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

func decodeSecret(s string) ([]byte, error) {
	if rest, ok := strings.CutPrefix(s, secretPrefix); ok {
		k, err := base64.StdEncoding.DecodeString(rest)
		if err != nil || len(k) == 0 {
			return nil, ErrSecretFormat
		}
		return k, nil
	}
	if s == "" {
		return nil, errors.New("webhook: empty secret")
	}
	return []byte(s), nil
}

// Verify checks a delivery the way a receiver should: the headers are
// present, webhook-timestamp is within tolerance of now (DefaultTolerance
// when tolerance <= 0) and one of the v1 signatures matches body under
// secret. Signatures of other versions are ignored, as the spec requires.
func Verify(secret string, hdr http.Header, body []byte, tolerance time.Duration) error {
	return verifyAt(time.Now(), secret, hdr, body, tolerance)
}

func verifyAt(now time.Time, secret string, hdr http.Header, body []byte, tolerance time.Duration) error {
	key, err := decodeSecret(secret)
	if err != nil {
		return err
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	id, tsRaw, sigs := hdr.Get(HeaderID), hdr.Get(HeaderTimestamp), hdr.Get(HeaderSignature)
	for _, h := range []struct{ name, val string }{{HeaderID, id}, {HeaderTimestamp, tsRaw}, {HeaderSignature, sigs}} {
		if h.val == "" {
			return fmt.Errorf("%w %s", ErrMissingHeader, h.name)
		}
	}
	ts, err := strconv.ParseInt(tsRaw, 10, 64)
	if err != nil {
		return ErrTimestamp
	}
	// Compare bounds rather than a difference, which a hostile timestamp
	// near the int64 limits could overflow.
	tol := int64(tolerance / time.Second)
	if n := now.Unix(); ts < n-tol || ts > n+tol {
		return ErrTimestampSkew
	}
	want := mac(key, id, ts, body)
	for _, entry := range strings.Fields(sigs) {
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err != nil {
			continue
		}
		if hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrNoMatchingSignature
}
