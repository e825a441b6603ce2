package app

import (
	"errors"
	"fmt"
	"slices"

	"github.com/newswatch/newswatch/pkg/config"
	"github.com/newswatch/newswatch/pkg/delivery"
	"github.com/newswatch/newswatch/pkg/entities"
	"github.com/newswatch/newswatch/pkg/extract"
	"github.com/newswatch/newswatch/pkg/natsconn"
	"github.com/newswatch/newswatch/pkg/query"
	"github.com/newswatch/newswatch/pkg/topics"
	"github.com/newswatch/newswatch/pkg/watchset"
)

// parts is everything the configuration describes, built before any server
// starts so that a config that would be refused fails before work begins.
type parts struct {
	gazetteer  *entities.Gazetteer
	classifier *topics.Classifier
	watches    *watchset.Set
	sinks      map[string]delivery.Sink
	extractor  *extract.Extractor
}

// Check builds and validates everything cfg describes for the components:
// the embedded server's credentials, the gazetteer, the taxonomy, every
// watch query, every sink's own settings and the fetcher's site rules. It
// starts nothing and sends nothing, and returns every error found, joined.
// `newswatch run --check` runs it alone.
func Check(cfg *config.Config, components []string) error {
	_, err := prepare(cfg, components)
	return err
}

func prepare(cfg *config.Config, components []string) (*parts, error) {
	p := &parts{}
	var errs []error
	for _, c := range components {
		if !slices.Contains(All, c) {
			errs = append(errs, fmt.Errorf("app: unknown component %q (use fetcher, analyzer or notifier)", c))
		}
	}
	if cfg.Embedded() {
		if _, _, _, err := natsconn.Credentials(cfg.NATS); err != nil {
			errs = append(errs, err)
		}
	}
	if slices.Contains(components, Analyzer) || slices.Contains(components, Notifier) {
		gz, err := Gazetteer(cfg)
		if err != nil {
			errs = append(errs, err)
		} else {
			p.gazetteer = gz
			// A bad watch query is a config error; report every one.
			var bad bool
			for i, w := range cfg.Watches {
				if _, err := query.Parse(w.Query, query.WithAliases(gz.Aliases)); err != nil {
					errs = append(errs, fmt.Errorf("%w: watches[%d].query of watch %q: %w (see docs/queries.md)", watchset.ErrQuery, i, w.ID, err))
					bad = true
				}
			}
			if !bad {
				if p.watches, err = watchset.Compile(cfg.Watches, 0, gz.Aliases); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	if slices.Contains(components, Analyzer) {
		cl, err := Classifier(cfg)
		if err != nil {
			errs = append(errs, err)
		}
		p.classifier = cl
	}
	if slices.Contains(components, Notifier) {
		// Each sink decodes its own entry strictly and builds its own
		// client, network policy and timeout.
		sinks, err := Sinks(cfg.Sinks)
		if err != nil {
			errs = append(errs, err)
		}
		p.sinks = sinks
	}
	if slices.Contains(components, Fetcher) {
		ex, err := Extractor(cfg)
		if err != nil {
			errs = append(errs, err)
		}
		p.extractor = ex
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}
