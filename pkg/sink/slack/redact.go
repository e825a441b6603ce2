package slack

import (
	"fmt"
	"log/slog"

	"github.com/newswatch/newswatch/pkg/sink"
)

// String describes the config with the webhook URL cut to its host: the
// path is the token.
func (c Config) String() string {
	src := "none"
	switch {
	case c.URL != "":
		src = sink.RedactURL(c.URL)
	case c.URLFile != "":
		src = "file:" + c.URLFile
	case c.URLEnv != "":
		src = "env:" + c.URLEnv
	}
	return fmt.Sprintf("slack %q url=%s timeout=%s", c.Name, src, c.Timeout)
}

// GoString keeps %#v from printing the fields.
func (c Config) GoString() string { return c.String() }

// LogValue logs the config as String does.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// String names the sink; the URL stays private.
func (s *Slack) String() string { return fmt.Sprintf("slack %q", s.name) }

// GoString keeps %#v from printing the URL.
func (s *Slack) GoString() string { return s.String() }

// LogValue logs the sink as String does.
func (s *Slack) LogValue() slog.Value { return slog.StringValue(s.String()) }
