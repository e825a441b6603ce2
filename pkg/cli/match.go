package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/newswatch/newswatch/pkg/entities"
	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/query"
)

// maxMatchLine bounds one JSON line; extracted articles are far smaller.
const maxMatchLine = 64 << 20

// runMatch tests a watch query on JSON-lines articles read from stdin.
// It exits 0 when something matched, 1 when nothing did and 2 on a usage
// or query syntax error, so scripts can use it like grep.
func runMatch(ctx context.Context, args []string, io IO) int {
	fs := flag.NewFlagSet("match", flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	q := fs.String("query", "", `the watch query, e.g. '"MQ-9B" AND (India OR Quad)'`)
	asJSON := fs.Bool("json", false, "print one JSON object per matching article")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: newswatch match --query Q [--json] < articles.jsonl")
		fmt.Fprintln(fs.Output(), "\nReads JSON lines with id, title, text and optional source, lang, topics")
		fmt.Fprintln(fs.Output(), "(or analyzed articles with those under \"article\") and prints the matches.")
		fmt.Fprintln(fs.Output(), "entity:\"X\" matches every alias of X in the built-in entity gazetteer.")
		fmt.Fprint(fs.Output(), "Prints the query in its canonical form first (explicit AND, minimal parentheses).\nExit status: 0 matched, 1 nothing matched, 2 error (a bad query, or no input line\nthat is a JSON article). Syntax: docs/queries.md\n\n")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args, io); !ok {
		return code
	}
	src := *q
	if src == "" {
		// Let `newswatch match 'Quad OR "MQ-9B"'` work like grep.
		src = strings.Join(fs.Args(), " ")
	} else if fs.NArg() > 0 {
		fmt.Fprintf(io.Stderr, "newswatch match: unexpected argument %q; quote the whole query in --query\n", fs.Arg(0))
		return 2
	}
	if strings.TrimSpace(src) == "" {
		fmt.Fprintln(io.Stderr, "newswatch match: --query is required")
		fs.Usage()
		return 2
	}
	// entity: resolves aliases through the same gazetteer the analyser uses.
	gaz, err := entities.New(entities.DefaultEntries())
	if err != nil {
		fmt.Fprintf(io.Stderr, "newswatch match: loading the entity gazetteer: %v\n", err)
		return 2
	}
	query, err := query.Parse(src, query.WithAliases(gaz.Aliases))
	if err != nil {
		printQueryError(io.Stderr, src, err)
		return 2
	}

	sc := bufio.NewScanner(io.Stdin)
	sc.Buffer(make([]byte, 0, 64<<10), maxMatchLine)
	out := bufio.NewWriter(io.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	if !*asJSON {
		// The canonical form shows how the query was read: explicit AND,
		// only the parentheses that are needed.
		fmt.Fprintf(out, "query: %s\n\n", query)
	}
	matched, valid, invalid, line := 0, 0, 0, 0
	for sc.Scan() {
		line++
		if ctx.Err() != nil {
			break
		}
		raw := strings.TrimSpace(sc.Text())
		if raw == "" {
			continue
		}
		in, err := decodeMatchInput([]byte(raw))
		if err != nil {
			fmt.Fprintf(io.Stderr, "newswatch match: stdin line %d: %v (skipped)\n", line, err)
			invalid++
			continue
		}
		valid++
		doc := in.doc()
		spans, ok := query.Match(&doc)
		if !ok {
			continue
		}
		matched++
		if *asJSON {
			if err := enc.Encode(newMatchOutput(in, spans)); err != nil {
				fmt.Fprintf(io.Stderr, "newswatch match: %v\n", err)
				return 2
			}
			continue
		}
		printHumanMatch(out, in, spans)
	}
	if err := sc.Err(); err != nil {
		out.Flush()
		fmt.Fprintf(io.Stderr, "newswatch match: reading stdin after line %d: %v\n", line, err)
		return 2
	}
	if valid == 0 && invalid > 0 {
		// Nothing could be read: an error, not "nothing matched".
		fmt.Fprintf(io.Stderr, "newswatch match: none of the %d input lines is a JSON article (one {\"id\", \"title\", \"text\"} object a line)\n", invalid)
		return 2
	}
	if matched == 0 {
		return 1
	}
	return 0
}

// printQueryError shows the query with a caret under the offending column.
func printQueryError(w io.Writer, src string, err error) {
	fmt.Fprintf(w, "newswatch match: %v\n", err)
	var pe *query.ParseError
	if !errors.As(err, &pe) {
		return
	}
	line := strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || r == '\r' {
			return ' '
		}
		return r
	}, src)
	fmt.Fprintf(w, "  %s\n  %s^\n", line, strings.Repeat(" ", max(pe.Pos-1, 0)))
}

// matchInput is the loose shape of one input line: either a flat article
// or an events.AnalyzedArticle with the article nested.
type matchInput struct {
	ID      string          `json:"id"`
	Title   string          `json:"title"`
	Text    string          `json:"text"`
	Source  string          `json:"source"`
	Lang    string          `json:"lang"`
	URL     string          `json:"url"`
	Topics  json.RawMessage `json:"topics"`
	Article *events.Article `json:"article"`
	StoryID string          `json:"story_id"` // of an analyzed article; backtest groups by it

	topics map[string]float64
}

func decodeMatchInput(b []byte) (*matchInput, error) {
	var in matchInput
	if in.decodeFast(b) {
		in.finish()
		return &in, nil
	}
	return decodeMatchInputSlow(b)
}

// decodeMatchInputSlow is decodeMatchInput with encoding/json alone: the
// reference decodeFast is tested against.
func decodeMatchInputSlow(b []byte) (*matchInput, error) {
	var in matchInput
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, fmt.Errorf("not a JSON article: %w", err)
	}
	t, err := decodeTopics(in.Topics)
	if err != nil {
		return nil, err
	}
	in.topics = t
	in.finish()
	return &in, nil
}

// finish fills the flat fields from the nested article where they are
// empty.
func (in *matchInput) finish() {
	if a := in.Article; a != nil {
		in.ID = cmpOr(in.ID, a.ID)
		in.Title = cmpOr(in.Title, a.Title)
		in.Text = cmpOr(in.Text, a.Text)
		in.Source = cmpOr(in.Source, a.Source, a.Feed)
		in.Lang = cmpOr(in.Lang, a.Language)
		in.URL = cmpOr(in.URL, a.URL)
	}
}

func cmpOr(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// decodeTopics accepts ["terrorism"], [{"name":"terrorism","score":0.8}]
// (the events.Topic shape) or {"terrorism":0.8}. A bare name scores 1.
func decodeTopics(raw json.RawMessage) (map[string]float64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	out := map[string]float64{}
	if raw[0] == '{' {
		if err := json.Unmarshal(raw, &out); err != nil {
			return nil, fmt.Errorf(`"topics" must be a list of names, of {"name","score"} objects, or a name->score object: %w`, err)
		}
		return out, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf(`"topics" must be a list of names, of {"name","score"} objects, or a name->score object: %w`, err)
	}
	for _, it := range items {
		var name string
		if json.Unmarshal(it, &name) == nil {
			out[name] = 1
			continue
		}
		var t struct {
			Name  string   `json:"name"`
			Score *float64 `json:"score"`
		}
		if err := json.Unmarshal(it, &t); err != nil || t.Name == "" {
			return nil, fmt.Errorf(`"topics" item %s is neither a name nor {"name","score"}`, it)
		}
		out[t.Name] = 1
		if t.Score != nil {
			out[t.Name] = *t.Score
		}
	}
	return out, nil
}

func (in *matchInput) doc() query.Doc {
	return query.Doc{Title: in.Title, Text: in.Text, Source: in.Source, Lang: in.Lang, Topics: in.topics}
}

type matchOutput struct {
	ID      string               `json:"id"`
	Title   string               `json:"title"`
	URL     string               `json:"url,omitempty"`
	Source  string               `json:"source,omitempty"`
	Matches []events.MatchedTerm `json:"matches"`
}

func newMatchOutput(in *matchInput, spans []query.Span) matchOutput {
	o := matchOutput{ID: in.ID, Title: in.Title, URL: in.URL, Source: in.Source, Matches: make([]events.MatchedTerm, 0, len(spans))}
	for _, s := range spans {
		o.Matches = append(o.Matches, events.MatchedTerm{Term: s.Term, Field: s.Field, Start: s.Start, End: s.End, Snippet: s.Snippet})
	}
	return o
}

func printHumanMatch(w io.Writer, in *matchInput, spans []query.Span) {
	id := in.ID
	if id == "" {
		id = "(no id)"
	}
	fmt.Fprintf(w, "%s  %s\n", id, in.Title)
	if len(spans) == 0 {
		fmt.Fprintln(w, "    (matched on filters only)")
	}
	for _, s := range spans {
		fmt.Fprintf(w, "    %-5s %d-%d  %s: %s\n", s.Field, s.Start, s.End, s.Term, s.Snippet)
	}
	fmt.Fprintln(w)
}
