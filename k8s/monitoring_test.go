package k8s_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const (
	rulesFile      = "../deploy/prometheus/rules.yaml"
	rulesTestFile  = "../deploy/prometheus/rules_test.yaml"
	dashboardFile  = "../deploy/grafana/newswatch.json"
	runbookFile    = "../docs/runbook.md"
	ruleCopy       = "components/monitoring/prometheusrule.yaml"
	dashboardCopy  = "components/monitoring/dashboards/newswatch.json"
	runbookURLBase = "https://github.com/newswatch/newswatch/blob/main/docs/runbook.md#"
)

// knownMetrics is the metrics contract of the workers (docs/metrics.md and
// the lead's list in issue 6). A rule or panel that names anything else is a
// typo or a metric that does not exist yet.
var knownMetrics = map[string]bool{
	"newswatch_fetcher_polls_total":                  false,
	"newswatch_fetcher_poll_duration_seconds":        true,
	"newswatch_fetcher_extraction_duration_seconds":  true,
	"newswatch_fetcher_fetched_bytes_total":          false,
	"newswatch_fetcher_articles_published_total":     false,
	"newswatch_fetcher_duplicates_skipped_total":     false,
	"newswatch_fetcher_extraction_failures_total":    false,
	"newswatch_fetcher_feeds_in_backoff":             false,
	"newswatch_fetcher_feeds_failing":                false,
	"newswatch_fetcher_feeds":                        false,
	"newswatch_fetcher_leases_held":                  false,
	"newswatch_fetcher_publish_latency_seconds":      true,
	"newswatch_fetcher_publish_failures_total":       false,
	"newswatch_analyzer_articles_total":              false,
	"newswatch_analyzer_topic_flags_total":           false,
	"newswatch_analyzer_analysis_duration_seconds":   true,
	"newswatch_analyzer_undecodable_messages_total":  false,
	"newswatch_analyzer_dictionary_terms":            false,
	"newswatch_analyzer_watches_revision":            false,
	"newswatch_notifier_alerts_total":                false,
	"newswatch_notifier_undecodable_messages_total":  false,
	"newswatch_notifier_duplicates_suppressed_total": false,
	"newswatch_notifier_silenced_total":              false,
	"newswatch_notifier_watch_evaluations_total":     false,
	"newswatch_notifier_rate_limited_total":          false,
	"newswatch_notifier_deliveries_silenced_total":   false,
	"newswatch_notifier_deliveries_total":            false,
	"newswatch_notifier_delivery_duration_seconds":   true,
	"newswatch_notifier_dead_letters_total":          false,
	"newswatch_notifier_alert_latency_seconds":       true,
	"newswatch_jetstream_consumer_pending_messages":  false,
	"newswatch_jetstream_stream_bytes":               false,
	"newswatch_jetstream_stream_max_bytes":           false,
	"newswatch_jetstream_publish_errors_total":       false,
	"newswatch_consumer_dead_letters_total":          false,
	"newswatch_watches_invalid":                      false,
	"newswatch_analyzer_trimmed_total":               false,
	"newswatch_notifier_invalid_offsets_total":       false,
} // value: is a histogram

var metricName = regexp.MustCompile(`\bnewswatch_[a-z0-9_]+`)

func checkMetricNames(t *testing.T, where, expr string) {
	t.Helper()
	for _, name := range metricName.FindAllString(expr, -1) {
		if _, ok := knownMetrics[name]; ok {
			continue
		}
		base, ok := "", false
		for _, suf := range []string{"_bucket", "_count", "_sum"} {
			if b, found := strings.CutSuffix(name, suf); found {
				base, ok = b, knownMetrics[b]
			}
		}
		if !ok {
			t.Errorf("%s uses %s, which no newswatch worker exports (histogram base %q)", where, name, base)
		}
	}
}

// ruleCopyText is prometheusrule.yaml as generated from rules.yaml: the
// groups are copied as text so their comments survive.
func ruleCopyText(t *testing.T) []byte {
	t.Helper()
	src, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(src, []byte("\ngroups:"))
	if i < 0 {
		t.Fatalf("%s has no top-level groups: key", rulesFile)
	}
	var b bytes.Buffer
	b.WriteString(`# Generated from deploy/prometheus/rules.yaml by
#   go test ./k8s -run TestMonitoringCopies -update
# Edit that file, not this one.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: newswatch
  labels:
    app.kubernetes.io/name: newswatch
    # kube-prometheus-stack's Prometheus selects rules by this label.
    release: kube-prometheus-stack
spec:
`)
	for _, line := range strings.SplitAfter(string(src[i+1:]), "\n") {
		if strings.TrimSpace(line) != "" {
			b.WriteString("  ")
		}
		b.WriteString(line)
	}
	return b.Bytes()
}

func TestMonitoringCopies(t *testing.T) {
	dash, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		want       []byte
	}{
		{"prometheusrule", ruleCopy, ruleCopyText(t)},
		{"dashboard", dashboardCopy, dash},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if *update {
				if err := os.WriteFile(tc.path, tc.want, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := os.ReadFile(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("%s is out of date with its source; run go test ./k8s -run TestMonitoringCopies -update", tc.path)
			}
		})
	}
}

func TestAlertRules(t *testing.T) {
	spec := loadRulesFile(t)
	runbook, err := os.ReadFile(runbookFile)
	if err != nil {
		t.Fatal(err)
	}
	anchors := markdownAnchors(string(runbook))
	tested := alertsTested(t)
	alerts := 0
	for _, g := range spec.Groups {
		for _, r := range g.Rules {
			expr := r.Expr.String()
			name := r.Record + r.Alert
			checkMetricNames(t, "rule "+name, expr)
			if r.Record != "" {
				if !strings.HasPrefix(r.Record, "newswatch:") {
					t.Errorf("recording rule %s does not follow the level:metric:operations naming", r.Record)
				}
				continue
			}
			alerts++
			t.Run(r.Alert, func(t *testing.T) {
				if sev := r.Labels["severity"]; sev != "warning" && sev != "critical" {
					t.Errorf("severity %q, want warning or critical", sev)
				}
				for _, k := range []string{"summary", "description", "runbook_url"} {
					if r.Annotations[k] == "" {
						t.Errorf("no %s annotation", k)
					}
				}
				u, err := url.Parse(r.Annotations["runbook_url"])
				if err != nil || !strings.HasPrefix(r.Annotations["runbook_url"], runbookURLBase) {
					t.Fatalf("runbook_url %q does not point into docs/runbook.md", r.Annotations["runbook_url"])
				}
				if !anchors[u.Fragment] {
					t.Errorf("runbook_url anchor #%s has no heading in docs/runbook.md", u.Fragment)
				}
				if got := tested[r.Alert]; !got.fires || !got.quiet {
					t.Errorf("rules_test.yaml must check the alert both firing (%v) and not firing (%v)", got.fires, got.quiet)
				}
			})
		}
	}
	if alerts == 0 {
		t.Fatal("no alerts in rules.yaml")
	}
}

type alertCoverage struct{ fires, quiet bool }

// alertsTested reads which alerts rules_test.yaml expects to fire and to
// stay quiet.
func alertsTested(t *testing.T) map[string]alertCoverage {
	t.Helper()
	data, err := os.ReadFile(rulesTestFile)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string `json:"alertname"`
				ExpAlerts []any  `json:"exp_alerts"`
			} `json:"alert_rule_test"`
		} `json:"tests"`
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatalf("%s: %v", rulesTestFile, err)
	}
	cov := map[string]alertCoverage{}
	for _, tc := range f.Tests {
		for _, a := range tc.AlertRuleTest {
			c := cov[a.Alertname]
			if len(a.ExpAlerts) > 0 {
				c.fires = true
			} else {
				c.quiet = true
			}
			cov[a.Alertname] = c
		}
	}
	return cov
}

// markdownAnchors returns the GitHub anchors of the headings in md.
func markdownAnchors(md string) map[string]bool {
	anchors := map[string]bool{}
	strip := regexp.MustCompile(`[^a-z0-9 _-]`)
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		h := strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#")))
		h = strip.ReplaceAllString(h, "")
		anchors[strings.ReplaceAll(h, " ", "-")] = true
	}
	return anchors
}

type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	GridPos struct{ H, W, X, Y int } `json:"gridPos"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

func TestDashboard(t *testing.T) {
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s is not valid JSON: %v", dashboardFile, err)
	}
	if d.UID == "" || d.Title == "" {
		t.Error("the dashboard needs a uid and a title so that provisioning updates it in place")
	}
	var vars []string
	for _, v := range d.Templating.List {
		vars = append(vars, v.Name)
	}
	for _, want := range []string{"datasource", "namespace", "job"} {
		if !slices.Contains(vars, want) {
			t.Errorf("no $%s template variable", want)
		}
	}
	ids := map[int]bool{}
	// Each required view must be on some panel, found by the metric it
	// plots.
	required := map[string]string{
		"articles/s by stage": "newswatch_analyzer_articles_total",
		"alert latency":       "newswatch_notifier_alert_latency_seconds_bucket",
		"consumer lag":        "newswatch_jetstream_consumer_pending_messages",
		"feeds by state":      "newswatch_fetcher_feeds_failing",
		"extraction success":  "newswatch_fetcher_extraction_failures_total",
		"alerts by watch":     "sum by (watch)",
		"deliveries by sink":  "sum by (sink, result)",
		"dead letters":        "newswatch_notifier_dead_letters_total",
	}
	var all strings.Builder
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d is used twice", p.ID)
		}
		ids[p.ID] = true
		if p.GridPos.X+p.GridPos.W > 24 || p.GridPos.W <= 0 || p.GridPos.H <= 0 {
			t.Errorf("panel %q: gridPos %+v is outside the 24-column grid", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q does not use the $datasource variable", p.Title)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no queries", p.Title)
		}
		for _, tg := range p.Targets {
			where := fmt.Sprintf("panel %q", p.Title)
			checkMetricNames(t, where, tg.Expr)
			if !strings.Contains(tg.Expr, `namespace="$namespace"`) {
				t.Errorf("%s: query %q ignores the $namespace variable", where, tg.Expr)
			}
			all.WriteString(tg.Expr + "\n")
		}
	}
	for view, needle := range required {
		if !strings.Contains(all.String(), needle) {
			t.Errorf("no panel shows %s (no query with %q)", view, needle)
		}
	}
}
