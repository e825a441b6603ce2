package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/pkg/events"
)

const matchInputLines = `{"id":"a1","title":"India clears MQ–9B purchase","text":"Leaders of the Quad met in Tokyo.","source":"livemint","lang":"en","topics":["military"]}
{"id":"a2","title":"Beach rules tightened","text":"Quad bikes were banned from the beach."}

not json
{"schema":"newswatch.analyzed.v1","article":{"id":"a3","title":"Navy drones","text":"The Quad's navies fly the MQ 9B.","source":"The Hindu","lang":"en-IN"},"topics":[{"name":"terrorism","score":0.9,"threshold":0.5,"evidence":[]}]}
`

func TestRunMatch(t *testing.T) {
	cases := []struct {
		name     string
		args     []string
		stdin    string
		code     int
		stdout   []string // substrings, in order
		noStdout []string
		stderr   []string
	}{
		{
			name: "words and phrases", args: []string{"--query", `"MQ-9B" Quad`}, stdin: matchInputLines, code: 0,
			stdout:   []string{"a1  India clears MQ–9B purchase", "title 13-20  MQ-9B: India clears MQ–9B purchase", "text  15-19  Quad: Leaders of the Quad met in Tokyo.", "a3  Navy drones", "MQ-9B: The Quad's navies fly the MQ 9B."},
			noStdout: []string{"a2"},
			stderr:   []string{"stdin line 4: not a JSON article"},
		},
		{name: "single dash flags", args: []string{"-query", "Quad", "-json"}, stdin: matchInputLines, code: 0, stdout: []string{`"id":"a1"`, `"id":"a3"`}, noStdout: []string{`"id":"a2"`}},
		{name: "query as arguments", args: []string{"topic:terrorism", "score>=0.8"}, stdin: matchInputLines, code: 0, stdout: []string{"a3  Navy drones", "(matched on filters only)"}, noStdout: []string{"a1"}},
		{name: "topics as names", args: []string{"--query", "topic:military source:livemint lang:en"}, stdin: matchInputLines, code: 0, stdout: []string{"a1"}},
		{name: "nested source", args: []string{"--query", "Quad source:hindu lang:en"}, stdin: matchInputLines, code: 0, stdout: []string{"a3"}, noStdout: []string{"a1"}},
		{name: "entity aliases from the gazetteer", args: []string{"--query", `entity:"MQ-9B"`}, stdin: `{"id":"e1","title":"Navy leases SeaGuardian","text":""}` + "\n", code: 0, stdout: []string{"e1", "title 12-23  MQ-9B: Navy leases SeaGuardian"}},
		{name: "nothing matched", args: []string{"--query", "Taiwan"}, stdin: matchInputLines, code: 1},
		{name: "empty stdin", args: []string{"--query", "Taiwan"}, stdin: "", code: 1},
		{
			name: "syntax error with caret", args: []string{"--query", `Quad AND (India OR`}, stdin: matchInputLines, code: 2,
			stderr: []string{"query: column 19: OR at column 17 needs", "\n  Quad AND (India OR\n                    ^\n"},
		},
		{name: "no query", args: nil, stdin: matchInputLines, code: 2, stderr: []string{"--query is required"}},
		{name: "unknown flag", args: []string{"--nope"}, stdin: "", code: 2, stderr: []string{"flag provided but not defined: -nope"}},
		{name: "bad topics", args: []string{"--query", "x"}, stdin: `{"id":"b","text":"x","topics":[3]}` + "\n" + `{"id":"c","text":"y"}` + "\n", code: 1, stderr: []string{`stdin line 1: "topics" item 3 is neither a name nor {"name","score"}`}},
		{name: "every line invalid is an error", args: []string{"--query", "x"}, stdin: "not json\n{\"id\":\"b\",\"topics\":[3]}\n", code: 2, stderr: []string{"stdin line 1", "none of the 2 input lines is a JSON article"}},
		{name: "canonical form first", args: []string{"--query", `"MQ-9B" Quad -cricket`}, stdin: matchInputLines, code: 0, stdout: []string{"query: MQ-9B AND Quad AND NOT cricket\n", "a1"}},
		{name: "help", args: []string{"-h"}, code: 0, stdout: []string{"usage: newswatch match"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runMatch(context.Background(), c.args, IO{Stdin: strings.NewReader(c.stdin), Stdout: &stdout, Stderr: &stderr})
			if code != c.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, stdout.String(), stderr.String())
			}
			rest := stdout.String()
			for _, want := range c.stdout {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("stdout lacks %q (in order)\nstdout:\n%s", want, stdout.String())
				}
				rest = rest[i+len(want):]
			}
			for _, bad := range c.noStdout {
				if strings.Contains(stdout.String(), bad) {
					t.Errorf("stdout has %q\nstdout:\n%s", bad, stdout.String())
				}
			}
			for _, want := range c.stderr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr lacks %q\nstderr:\n%s", want, stderr.String())
				}
			}
		})
	}
}

func TestRunMatchJSON(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := runMatch(context.Background(), []string{"--json", "--query", `"MQ-9B"`}, IO{Stdin: strings.NewReader(matchInputLines), Stdout: &stdout, Stderr: &stderr})
	if code != 0 {
		t.Fatalf("exit code %d, stderr %s", code, stderr.String())
	}
	var got []matchOutput
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var o matchOutput
		if err := json.Unmarshal([]byte(line), &o); err != nil {
			t.Fatalf("output line %q is not JSON: %v", line, err)
		}
		got = append(got, o)
	}
	want := []matchOutput{
		{ID: "a1", Title: "India clears MQ–9B purchase", Source: "livemint", Matches: []events.MatchedTerm{{Term: "MQ-9B", Field: "title", Start: 13, End: 20, Snippet: "India clears MQ–9B purchase"}}},
		{ID: "a3", Title: "Navy drones", Source: "The Hindu", Matches: []events.MatchedTerm{{Term: "MQ-9B", Field: "text", Start: 26, End: 31, Snippet: "The Quad's navies fly the MQ 9B."}}},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d output lines, want %d:\n%s", len(got), len(want), stdout.String())
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || g.Title != w.Title || g.Source != w.Source || len(g.Matches) != 1 || g.Matches[0] != w.Matches[0] {
			t.Errorf("line %d = %+v, want %+v", i, g, w)
		}
	}
}
