package email

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/textproto"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/sink"
)

// Limits that keep a message readable.
const (
	maxSnippets     = 3
	maxSnippet      = 600
	maxDigestAlerts = 100
)

// view is what the templates render: a single alert is a digest of one.
type view struct {
	Digest  bool
	WatchID string
	Heading string
	Alerts  []alertView
	More    int
}

type alertView struct {
	Update    bool
	Title     string
	URL       string
	Source    string
	Published string
	Topics    string
	Query     string
	Snippets  [][]sink.Segment
}

func newView(watchID string, evs []events.CloudEvent, digest bool) view {
	v := view{Digest: digest, WatchID: watchID}
	if digest {
		v.Heading = digestHeading(watchID, len(evs))
	}
	if len(evs) > maxDigestAlerts {
		v.More = len(evs) - maxDigestAlerts
		evs = evs[:maxDigestAlerts]
	}
	for _, ev := range evs {
		a := ev.Data
		av := alertView{
			Update: ev.Type == events.AlertUpdateEventType,
			Title:  oneLine(a.Title),
			URL:    webURL(a.URL),
			Source: oneLine(a.Source),
			Topics: strings.Join(a.Topics, ", "),
			Query:  oneLine(a.Query),
		}
		if av.Title == "" {
			av.Title = "(untitled)"
		}
		if !a.PublishedAt.IsZero() {
			av.Published = a.PublishedAt.UTC().Format("2006-01-02 15:04 UTC")
		}
		terms := events.Words(a.Matches)
		seen := map[string]bool{}
		n := maxSnippets
		if digest {
			n = 1
		}
		for _, m := range a.Matches {
			s := oneLine(m.Snippet)
			if s == "" || seen[s] {
				continue
			}
			seen[s] = true
			av.Snippets = append(av.Snippets, sink.Highlight(sink.Clip(s, maxSnippet), terms...))
			if len(av.Snippets) == n {
				break
			}
		}
		v.Alerts = append(v.Alerts, av)
	}
	return v
}

// webURL keeps only http(s) links: anything else (javascript:, data:) is
// neither clickable nor safe to print as one.
func webURL(raw string) string {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return raw
}

func digestHeading(watchID string, n int) string {
	noun := "stories"
	if n == 1 {
		noun = "story"
	}
	return fmt.Sprintf("%d new %s for watch %s", n, noun, watchID)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

var funcs = map[string]any{
	// Plain text has no bold; asterisks are the convention mail readers
	// (and people) understand.
	"plain": func(segs []sink.Segment) string {
		var b strings.Builder
		for _, s := range segs {
			if s.Match {
				b.WriteString("*" + s.Text + "*")
			} else {
				b.WriteString(s.Text)
			}
		}
		return b.String()
	},
}

var textTmpl = texttemplate.Must(texttemplate.New("text").Funcs(funcs).Parse(
	`{{if .Digest}}{{.Heading}}
{{end}}{{range .Alerts}}{{if $.Digest}}
{{end}}{{if .Update}}Update: {{end}}{{.Title}}
{{if .URL}}{{.URL}}
{{end}}{{range .Snippets}}
  "{{plain .}}"
{{end}}
{{if .Topics}}Topics:    {{.Topics}}
{{end}}Source:    {{if .Source}}{{.Source}}{{else}}unknown{{end}}
{{if .Published}}Published: {{.Published}}
{{end}}{{end}}{{if .More}}
...and {{.More}} more.
{{end}}
-- 
Sent by newswatch for watch {{.WatchID}}.
`))

var htmlTmpl = htmltemplate.Must(htmltemplate.New("html").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"></head>
<body style="font-family: Helvetica, Arial, sans-serif; font-size: 14px; color: #222;">
{{if .Digest}}<h1 style="font-size: 18px;">{{.Heading}}</h1>
{{end}}{{range .Alerts}}<div style="margin: 0 0 20px 0;">
<h2 style="font-size: 16px; margin: 0 0 6px 0;">{{if .Update}}Update: {{end}}{{if .URL}}<a href="{{.URL}}">{{.Title}}</a>{{else}}{{.Title}}{{end}}</h2>
{{range .Snippets}}<blockquote style="margin: 6px 0; padding-left: 10px; border-left: 3px solid #ccc;">{{range .}}{{if .Match}}<strong>{{.Text}}</strong>{{else}}{{.Text}}{{end}}{{end}}</blockquote>
{{end}}<p style="color: #555; margin: 6px 0;">{{if .Topics}}Topics: {{.Topics}}<br>
{{end}}Source: {{if .Source}}{{.Source}}{{else}}unknown{{end}}{{if .Published}}<br>
Published: {{.Published}}{{end}}</p>
</div>
{{end}}{{if .More}}<p>...and {{.More}} more.</p>
{{end}}<p style="color: #888; font-size: 12px;">Sent by newswatch for watch {{.WatchID}}.</p>
</body></html>
`))

func renderText(v view) (string, error) {
	var b strings.Builder
	err := textTmpl.Execute(&b, v)
	return b.String(), err
}

func renderHTML(v view) (string, error) {
	var b strings.Builder
	err := htmlTmpl.Execute(&b, v)
	return b.String(), err
}

func (e *Email) subject(v view) string {
	s := v.Heading
	if !v.Digest && len(v.Alerts) == 1 {
		s = v.Alerts[0].Title
		if v.Alerts[0].Update {
			s = "Update: " + s
		}
	}
	return oneLine(e.prefix + " " + sink.Clip(s, 200))
}

// build renders the whole RFC 5322 message with CRLF line endings.
func (e *Email) build(deliveryID, watchID string, evs []events.CloudEvent, digest bool) ([]byte, error) {
	v := newView(watchID, evs, digest)
	text, err := renderText(v)
	if err != nil {
		return nil, fmt.Errorf("email: rendering text part: %w", err)
	}
	html, err := renderHTML(v)
	if err != nil {
		return nil, fmt.Errorf("email: rendering HTML part: %w", err)
	}

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	// A boundary derived from the delivery makes a retried message
	// byte-identical and the golden files stable.
	if err := mw.SetBoundary("newswatch-" + events.HashID("boundary", deliveryID)); err != nil {
		return nil, err
	}
	to := make([]string, len(e.to))
	for i, a := range e.to {
		to[i] = a.String()
	}
	hdr := []struct{ k, v string }{
		{"From", e.from.String()},
		{"To", strings.Join(to, ", ")},
		{"Subject", mime.QEncoding.Encode("utf-8", e.subject(v))},
		{"Date", e.now().Format(time.RFC1123Z)},
		{"Message-ID", messageID(deliveryID, e.from.Address)},
		{"MIME-Version", "1.0"},
		{"Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()})},
		// RFC 3834: keeps vacation responders from answering alerts.
		{"Auto-Submitted", "auto-generated"},
		{"X-Newswatch-Watch", mime.QEncoding.Encode("utf-8", oneLine(watchID))},
	}
	if !digest && len(evs) == 1 {
		hdr = append(hdr, struct{ k, v string }{"X-Newswatch-Alert-Id", mime.QEncoding.Encode("utf-8", oneLine(evs[0].Data.AlertID))})
	}
	var head bytes.Buffer
	for _, h := range hdr {
		head.WriteString(foldHeader(h.k, h.v))
	}
	head.WriteString("\r\n")

	for _, p := range []struct{ ctype, body string }{
		{"text/plain; charset=utf-8", text},
		{"text/html; charset=utf-8", html},
	} {
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {p.ctype},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qw := quotedprintable.NewWriter(pw)
		if _, err := qw.Write([]byte(crlf(p.body))); err != nil {
			return nil, err
		}
		if err := qw.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return append(head.Bytes(), buf.Bytes()...), nil
}

// messageID builds a Message-ID from the delivery id, which is stable across
// retries, falling back to a hash when the id has characters a msg-id
// cannot carry.
func messageID(deliveryID, from string) string {
	domain := "newswatch.invalid"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i < len(from)-1 {
		domain = from[i+1:]
	}
	id := deliveryID
	ok := id != "" && len(id) <= 128
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-_", r)) {
			ok = false
			break
		}
	}
	if !ok {
		id = events.HashID(deliveryID)
	}
	return "<" + id + "@" + domain + ">"
}

// maxHeaderLine is the line length RFC 5322 2.1.1 asks header lines to
// stay within, CRLF excluded.
const maxHeaderLine = 78

// foldHeader writes one header field, folded (RFC 5322 2.2.3) before a
// space wherever the line would pass maxHeaderLine. Folding only inserts
// CRLF before existing whitespace, so unfolding restores the value; the
// space between two RFC 2047 encoded-words, where mime.QEncoding splits a
// long value, is such a place, and so is the space after the colon. A
// single word longer than a line stays whole.
func foldHeader(name, value string) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte(':')
	n := len(name) + 1
	for i, word := range strings.Split(value, " ") {
		// Folding right after the colon is allowed too, which an
		// encoded-word of 75 characters after "Subject: " needs; a line
		// holding only whitespace is not.
		if word != "" && n+1+len(word) > maxHeaderLine && (i > 0 || n == len(name)+1) {
			b.WriteString("\r\n")
			n = 0
		}
		b.WriteByte(' ')
		b.WriteString(word)
		n += 1 + len(word)
	}
	b.WriteString("\r\n")
	return b.String()
}

func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}
