package app

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/delivery"
	"github.com/newswatch/newswatch/pkg/sink/email"
	"github.com/newswatch/newswatch/pkg/sink/slack"
	"github.com/newswatch/newswatch/pkg/sink/webhook"
)

// sinkTypes registers the sink packages: a new sink is its package plus one
// line here. Each Build decodes its sinks: entry strictly and gives the sink
// its own network policy and timeout.
var sinkTypes = map[string]func(*yaml.Node) (delivery.Sink, error){
	"webhook": register(webhook.Build),
	"slack":   register(slack.Build),
	"email":   register(email.Build),
}

func register[S delivery.Sink](build func(*yaml.Node) (S, error)) func(*yaml.Node) (delivery.Sink, error) {
	return func(n *yaml.Node) (delivery.Sink, error) { return build(n) }
}

// Sinks builds the configured sinks. Every sink that cannot be built is
// reported, joined in one error.
func Sinks(cfgs []config.Sink) (map[string]delivery.Sink, error) {
	out := make(map[string]delivery.Sink, len(cfgs))
	var errs []error
	for i, c := range cfgs {
		key := fmt.Sprintf("sinks[%d] (%s)", i, c.Name)
		build, ok := sinkTypes[c.Type]
		if !ok {
			types := make([]string, 0, len(sinkTypes))
			for t := range sinkTypes {
				types = append(types, t)
			}
			slices.Sort(types)
			errs = append(errs, fmt.Errorf("app: config %s: unknown type %q; use one of %s", key, c.Type, strings.Join(types, ", ")))
			continue
		}
		s, err := build(&c.Spec)
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
