package sink_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/pkg/sink/email"
	"github.com/newswatch/newswatch/pkg/sink/slack"
	"github.com/newswatch/newswatch/pkg/sink/webhook"
)

// TestPrintingLeaksNoSecret prints and logs every sink config and sink the
// ways a careless caller might, and looks for the secrets in the output.
func TestPrintingLeaksNoSecret(t *testing.T) {
	const (
		hookSecret = "whsec_bGVha3ktbGVha3ktc2VjcmV0"
		slackURL   = "https://hooks.slack.com/services/T0LEAK/B0LEAK/LEAKYTOKEN"
		password   = "leaky-smtp-password"
	)
	wc := webhook.Config{Name: "w", URL: "https://x.example/hook/LEAKYPATH", Secret: hookSecret, PreviousSecret: hookSecret}
	sc := slack.Config{Name: "s", URL: slackURL}
	ec := email.Config{Name: "e", Host: "smtp.example.org", Username: "u", Password: password, From: "a@example.org", To: []string{"b@example.org"}}
	w, err := webhook.New(wc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := slack.New(sc)
	if err != nil {
		t.Fatal(err)
	}
	e, err := email.New(ec)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{wc, &wc, sc, &sc, ec, &ec, w, s, e} {
		t.Run(fmt.Sprintf("%T", v), func(t *testing.T) {
			var buf bytes.Buffer
			fmt.Fprintf(&buf, "%v %+v %#v %s\n", v, v, v, v)
			slog.New(slog.NewTextHandler(&buf, nil)).Info("sink", "sink", v)
			slog.New(slog.NewJSONHandler(&buf, nil)).Info("sink", "sink", v)
			out := buf.String()
			for _, leak := range []string{hookSecret, "bGVha3k", "LEAKYTOKEN", "T0LEAK", "LEAKYPATH", password} {
				if strings.Contains(out, leak) {
					t.Errorf("output leaks %q:\n%s", leak, out)
				}
			}
		})
	}
}
