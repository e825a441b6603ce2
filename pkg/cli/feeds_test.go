package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/newswatch/newswatch/pkg/fetcher"
	"github.com/newswatch/newswatch/pkg/natstest"
	"github.com/newswatch/newswatch/pkg/topology"
)

func runFeedsCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runFeeds(context.Background(), args, IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
	return code, out.String(), errOut.String()
}

func TestFeedsCommand(t *testing.T) {
	ns := natstest.Start(t)
	url := ns.URL
	ctx := context.Background()

	tests := []struct {
		name    string
		args    []string
		code    int
		outHas  string
		errHas  string
		inStore map[string]bool // id -> paused
	}{
		{"add", []string{"add", "-nats-url", url, "--url", "https://example.com/feed.xml", "--id", "wire", "--interval", "10m"}, 0, "feed wire saved", "", map[string]bool{"wire": false}},
		{"add derives the id", []string{"add", "-nats-url", url, "--url", "https://example.org/rss"}, 0, "saved", "", nil},
		{"add needs a url", []string{"add", "-nats-url", url}, 2, "", "--url", nil},
		{"add refuses a bad url", []string{"add", "-nats-url", url, "--url", "ftp://x/y"}, 1, "", "not an http(s) URL", nil},
		{"add refuses a bad id", []string{"add", "-nats-url", url, "--url", "https://e.com/f", "--id", "a.b"}, 1, "", "letters, digits", nil},
		{"pause", []string{"pause", "-nats-url", url, "wire"}, 0, "feed wire paused", "", map[string]bool{"wire": true}},
		{"resume", []string{"resume", "-nats-url", url, "wire"}, 0, "feed wire resumed", "", map[string]bool{"wire": false}},
		{"pause unknown", []string{"pause", "-nats-url", url, "nope"}, 1, "", "no such feed", nil},
		{"rm needs an id", []string{"rm", "-nats-url", url}, 2, "", "give one feed id", nil},
		{"unknown subcommand", []string{"frobnicate"}, 2, "", "unknown subcommand", nil},
		{"help lists the subcommands", []string{"-h"}, 0, "import-opml", "", nil},
		{"add help shows add's flags", []string{"add", "-h"}, 0, "-interval", "", nil},
		{"list help shows list's flags", []string{"list", "--help"}, 0, "-json", "", nil},
		{"list takes no add flags", []string{"list", "-nats-url", url, "--url", "https://e.com/f"}, 2, "", "flag provided but not defined: -url", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runFeedsCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(out, tt.outHas) || !strings.Contains(errOut, tt.errHas) {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
			}
			if len(tt.inStore) == 0 {
				return
			}
			kv, err := ns.JS.KeyValue(ctx, topology.BucketFeeds)
			if err != nil {
				t.Fatal(err)
			}
			for id, paused := range tt.inStore {
				spec, err := fetcher.NewStore(kv).Get(ctx, id)
				if err != nil || spec.Paused != paused {
					t.Errorf("%s in the bucket: %+v %v, want paused=%v", id, spec, err, paused)
				}
			}
		})
	}

	opml := filepath.Join(t.TempDir(), "subs.opml")
	os.WriteFile(opml, []byte(`<opml version="2.0"><body><outline text="Defence">
<outline text="Wire again" xmlUrl="https://example.org/rss"/>
<outline text="New" xmlUrl="https://example.net/atom.xml"/>
<outline text="Wire" xmlUrl="https://example.net/wire.xml"/>
<outline text="lemonde" title="Le Monde — À la une" xmlUrl="https://example.net/lemonde"/>
<outline text="Bad" xmlUrl="javascript:alert(1)"/></outline></body></opml>`), 0o644)
	code, out, errOut := runFeedsCLI(t, "import-opml", "-nats-url", url, "--interval", "15m", opml)
	if code != 0 || !strings.Contains(out, "3 feeds added, 2 skipped") || !strings.Contains(errOut, "javascript") {
		t.Fatalf("import-opml: exit %d, %q, %q", code, out, errOut)
	}
	// Ids come from the outlines' titles; a title whose id is taken gets -2.
	for _, want := range []string{"feed new added", "feed wire-2 added: https://example.net/wire.xml", "feed le-monde-a-la-une added"} {
		if !strings.Contains(out, want) {
			t.Errorf("import-opml output lacks %q:\n%s", want, out)
		}
	}

	// A polled feed shows its state.
	state, err := ns.Topo.KV(ctx, topology.BucketFeedState, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := json.Marshal(fetcher.FeedState{LastSuccess: time.Now().Add(-time.Hour), NextPoll: time.Now().Add(time.Hour),
		ConsecutiveFailures: 6, LastError: "fetcher: polling feed wire (https://example.com/feed.xml): GET https://example.com/feed.xml: answered 500 Internal Server Error"})
	state.Put(ctx, "wire", st)

	code, out, _ = runFeedsCLI(t, "-nats-url", url)
	if code != 0 {
		t.Fatalf("list: exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 6 || !strings.HasPrefix(lines[0], "ID") {
		t.Fatalf("list:\n%s", out)
	}
	var wire string
	for _, l := range lines {
		if strings.HasPrefix(l, "wire ") {
			wire = l
		}
	}
	for _, want := range []string{"failing", "10m0s", "1h0m0s ago", "in 1h", " 6 ", "https://example.com/feed.xml", "answered 500 Internal Server Error"} {
		if !strings.Contains(wire, want) {
			t.Errorf("list row %q lacks %q", wire, want)
		}
	}

	code, out, _ = runFeedsCLI(t, "list", "-nats-url", url, "--json")
	var row struct {
		ID       string             `json:"id"`
		Interval string             `json:"interval"`
		State    string             `json:"state"`
		Poll     *fetcher.FeedState `json:"poll"`
	}
	found := false
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if json.Unmarshal([]byte(l), &row) != nil {
			t.Fatalf("list --json: %d %q", code, out)
		}
		if row.ID == "wire" {
			found = true
			if row.Interval != "10m0s" || row.State != "failing" || row.Poll == nil {
				t.Errorf("list --json row of wire: %+v", row)
			}
		}
	}
	if code != 0 || !found {
		t.Fatalf("list --json: %d %q", code, out)
	}

	if code, out, _ := runFeedsCLI(t, "rm", "-nats-url", url, "wire"); code != 0 || !strings.Contains(out, "removed") {
		t.Fatalf("rm: %d %q", code, out)
	}
	if _, out, _ := runFeedsCLI(t, "list", "-nats-url", url); strings.Contains(out, "\nwire ") {
		t.Errorf("removed feed still listed:\n%s", out)
	}
}

func TestTitleID(t *testing.T) {
	for _, tc := range []struct{ title, want string }{
		{"BBC News - World", "bbc-news-world"},
		{"Le Monde — À la une", "le-monde-a-la-une"},
		{"  The Hindu: National  ", "the-hindu-national"},
		{"ＮＨＫ　ニュース", "nhk"},
		{"新闻", ""},
		{"", ""},
		{strings.Repeat("defence ", 10), "defence-defence-defence-defence-defence-defence"},
	} {
		if got := titleID(tc.title); got != tc.want {
			t.Errorf("titleID(%q) = %q, want %q", tc.title, got, tc.want)
		}
	}
}
