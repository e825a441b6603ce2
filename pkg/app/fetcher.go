package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/newswatch/newswatch/pkg/config"
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
	feeds, err := topo.KV(ctx, topology.BucketFeeds, 0, 1)
	if err != nil {
		return nil, err
	}
	leases, err := topo.KV(ctx, topology.BucketLeases, 0, 1)
	if err != nil {
		return nil, err
	}
	// The config file's feeds are applied at start; the bucket may hold
	// more, added at run time with `newswatch feeds add`.
	store := fetcher.NewStore(feeds)
	if err := store.ApplyConfig(ctx, a.cfg.Feeds); err != nil {
		return nil, err
	}
	return fetcher.New(a.js, FetcherClient(a.cfg), a.extractor, seen, state, a.cfg.Fetcher, a.cfg.Feeds,
		fetcher.NewMetrics(reg), fetcher.WithLogger(a.logger),
		fetcher.WithFeedStore(store),
		fetcher.WithLeases(leases, replicaName(), a.cfg.Fetcher.LeaseGrace),
		fetcher.WithRobots(a.cfg.Fetcher.RespectRobots),
		fetcher.WithHostLimits(a.cfg.Fetcher.PerHostConcurrency, a.cfg.Fetcher.PerHostGap),
	), nil
}

// replicaName names this fetcher in the leases it holds: the pod's host
// name, for an operator reading newswatch_leases, and a random suffix,
// because a restarted pod is a new holder whose predecessor may not have
// released its leases.
func replicaName() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "fetcher"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return host + "-" + hex.EncodeToString(b[:])
}

// FetcherClient builds the guarded HTTP client the fetcher polls feeds and
// fetches pages with, from the fetcher: section of cfg; `newswatch extract`
// fetches with the same one.
func FetcherClient(cfg *config.Config) *httpguard.Client {
	return httpguard.New(
		httpguard.WithAllowPrivateNetworks(cfg.Fetcher.AllowPrivateNetworks),
		httpguard.WithUserAgent(cfg.Fetcher.UserAgent),
		httpguard.WithMaxBodyBytes(cfg.Fetcher.MaxBodyBytes),
		httpguard.WithTimeouts(5*time.Second, 10*time.Second, cfg.Fetcher.Timeout),
	)
}

// Extractor builds the article extractor with the fetcher.site_rules of cfg;
// a selector that does not compile is an error naming the host.
func Extractor(cfg *config.Config) (*extract.Extractor, error) {
	rules := make(map[string]extract.SiteRule, len(cfg.Fetcher.SiteRules))
	for host, r := range cfg.Fetcher.SiteRules {
		rules[host] = extract.SiteRule{Keep: r.Keep, Remove: r.Remove}
	}
	ex := extract.New(extract.WithSiteRules(rules))
	if err := ex.CheckRules(); err != nil {
		return nil, fmt.Errorf("app: fetcher.site_rules: %w", err)
	}
	return ex, nil
}
