package app

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/delivery"
	"github.com/newswatch/newswatch/pkg/sink"
	"github.com/newswatch/newswatch/pkg/sink/email"
	"github.com/newswatch/newswatch/pkg/sink/slack"
	"github.com/newswatch/newswatch/pkg/sink/webhook"
)

var (
	_ delivery.Sink = (*webhook.Webhook)(nil)
	_ delivery.Sink = (*slack.Slack)(nil)
	_ delivery.Sink = (*email.Email)(nil)
)

// Sinks builds the configured sinks. HTTP sinks share client, the guarded
// client that refuses private addresses unless allowed. Every sink that
// cannot be built is reported, joined in one error.
func Sinks(cfgs []config.Sink, client *http.Client) (map[string]delivery.Sink, error) {
	out := make(map[string]delivery.Sink, len(cfgs))
	var errs []error
	for i, c := range cfgs {
		key := fmt.Sprintf("sinks[%d] (%s)", i, c.Name)
		var (
			s   delivery.Sink
			err error
		)
		switch c.Type {
		case "webhook":
			var wc webhook.Config
			if err = sink.DecodeConfig(&c.Spec, &wc); err == nil {
				s, err = webhook.New(wc, webhook.WithClient(client))
			}
		case "slack":
			var sc slack.Config
			if err = sink.DecodeConfig(&c.Spec, &sc); err == nil {
				s, err = slack.New(sc, slack.WithClient(client))
			}
		case "email":
			var ec email.Config
			if err = sink.DecodeConfig(&c.Spec, &ec); err == nil {
				s, err = email.New(ec)
			}
		default:
			err = fmt.Errorf("unknown type %q; use webhook, slack or email", c.Type)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("app: config %s: %w", key, err))
			continue
		}
		out[c.Name] = s
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}
