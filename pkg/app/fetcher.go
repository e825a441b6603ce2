package app

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/newswatch/newswatch/pkg/extract"
	"github.com/newswatch/newswatch/pkg/fetcher"
	"github.com/newswatch/newswatch/pkg/httpguard"
	"github.com/newswatch/newswatch/pkg/topology"
)

func (a *App) buildFetcher(ctx context.Context, topo *topology.Topology, reg prometheus.Registerer) (*fetcher.Fetcher, error) {
	seen, err := topo.KV(ctx, topology.BucketSeen, a.cfg.Fetcher.SeenTTL, 1)
	if err != nil {
		return nil, err
	}
	state, err := topo.KV(ctx, topology.BucketFeedState, 0, 1)
	if err != nil {
		return nil, err
	}
	client := httpguard.New(
		httpguard.WithAllowPrivateNetworks(a.cfg.Fetcher.AllowPrivateNetworks),
		httpguard.WithUserAgent(a.cfg.Fetcher.UserAgent),
		httpguard.WithMaxBodyBytes(a.cfg.Fetcher.MaxBodyBytes),
		httpguard.WithTimeouts(5*time.Second, 10*time.Second, a.cfg.Fetcher.Timeout),
	)
	return fetcher.New(a.js, client, extract.New(), seen, state, a.cfg.Fetcher, a.cfg.Feeds,
		fetcher.NewMetrics(reg), fetcher.WithLogger(a.logger)), nil
}
