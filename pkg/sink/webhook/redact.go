package webhook

import (
	"fmt"
	"log/slog"

	"github.com/newswatch/newswatch/pkg/sink"
)

// String describes the config without its secrets or the URL's path, so
// that printing or logging it by mistake leaks nothing.
func (c Config) String() string {
	return fmt.Sprintf("webhook %q url=%s secret=%s previous_secret=%s timeout=%s", c.Name, sink.RedactURL(c.URL),
		set(c.Secret, c.SecretFile, c.SecretEnv), set(c.PreviousSecret, c.PreviousSecretFile, c.PreviousSecretEnv), c.Timeout)
}

// GoString keeps %#v from printing the fields.
func (c Config) GoString() string { return c.String() }

// LogValue logs the config as String does.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// String names the sink; the signing keys stay private.
func (w *Webhook) String() string { return fmt.Sprintf("webhook %q", w.name) }

// GoString keeps %#v from printing the keys.
func (w *Webhook) GoString() string { return w.String() }

// LogValue logs the sink as String does.
func (w *Webhook) LogValue() slog.Value { return slog.StringValue(w.String()) }

// set says where a secret comes from without saying what it is.
func set(value, file, env string) string {
	switch {
	case value != "":
		return "[redacted]"
	case file != "":
		return "file:" + file
	case env != "":
		return "env:" + env
	}
	return "none"
}
