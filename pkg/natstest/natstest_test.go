package natstest_test

import (
	"slices"
	"testing"

	"github.com/newswatch/newswatch/pkg/natstest"
	"github.com/newswatch/newswatch/pkg/topology"
)

func TestMessages(t *testing.T) {
	ns := natstest.Start(t)
	for _, m := range []struct{ subject, data string }{
		{"alerts.a", "1"}, {"alerts.b", "2"}, {"alerts.a", "3"},
	} {
		if _, err := ns.JS.Publish(t.Context(), m.subject, []byte(m.data)); err != nil {
			t.Fatal(err)
		}
	}
	str := func(msgs [][]byte) []string {
		var out []string
		for _, m := range msgs {
			out = append(out, string(m))
		}
		return out
	}
	if got := str(natstest.Messages(t, ns.JS, topology.StreamAlerts, "alerts.a")); !slices.Equal(got, []string{"1", "3"}) {
		t.Errorf("alerts.a: %q, want 1 and 3", got)
	}
	if got := str(natstest.Messages(t, ns.JS, topology.StreamAlerts, "")); !slices.Equal(got, []string{"1", "2", "3"}) {
		t.Errorf("every subject: %q, want 1, 2, 3", got)
	}
	if got := natstest.Messages(t, ns.JS, topology.StreamArticles, ""); len(got) != 0 {
		t.Errorf("empty stream: %d messages", len(got))
	}
}
