package app

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/newswatch/newswatch/pkg/statusserver"
)

// feedHealth is the "feeds" line of /healthz, read from the fetcher's
// gauges in g (this replica's view: with leases it polls only some feeds), so that an operator sees at once that every feed fails (an
// offline machine, a proxy, a blocked User-Agent) while /readyz stays ready:
// the process works, the network does not.
func feedHealth(g prometheus.Gatherer) statusserver.DetailFunc {
	return func() string {
		mfs, err := g.Gather()
		if err != nil {
			return fmt.Sprintf("cannot read the fetcher's metrics: %v", err)
		}
		v := map[string]float64{}
		for _, mf := range mfs {
			switch name := mf.GetName(); name {
			case "newswatch_fetcher_feeds", "newswatch_fetcher_feeds_in_backoff", "newswatch_fetcher_feeds_failing", "newswatch_fetcher_leases_held":
				for _, m := range mf.GetMetric() {
					v[name] += m.GetGauge().GetValue()
				}
			}
		}
		feeds, backoff, failing := v["newswatch_fetcher_feeds"], v["newswatch_fetcher_feeds_in_backoff"], v["newswatch_fetcher_feeds_failing"]
		leases := v["newswatch_fetcher_leases_held"]
		switch {
		case feeds == 0:
			return "no active feeds (add some under feeds: in the config or with newswatch feeds add)"
		case backoff == 0 && leases == 0:
			return fmt.Sprintf("%.0f active, polled by other fetcher replicas (this one holds no feed lease yet)", feeds)
		case backoff == 0:
			return fmt.Sprintf("%.0f active, this replica polls %.0f, none failing", feeds, leases)
		case backoff >= feeds:
			return fmt.Sprintf("FAILING: all %.0f active feeds failed their last poll (%.0f of them 5 or more times in a row); newswatch feeds shows each error", feeds, failing)
		}
		return fmt.Sprintf("%.0f of %.0f active feeds failed their last poll (%.0f of them 5 or more times in a row); newswatch feeds shows each error", backoff, feeds, failing)
	}
}
