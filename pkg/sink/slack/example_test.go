package slack_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/sink/slack"
)

func ExampleSlack_Send() {
	// Stands in for https://hooks.slack.com/services/...
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok")
	}))
	defer srv.Close()

	s, err := slack.New(slack.Config{Name: "ops-slack", URL: srv.URL + "/services/T0/B0/XXXX"})
	if err != nil {
		fmt.Println(err)
		return
	}
	ev := events.NewAlertEvent(events.Alert{
		AlertID: "alert-1", WatchID: "baltic", Title: "Drones over the port",
		URL:     "https://news.example/drones",
		Matches: []events.MatchedTerm{{Term: "drones", Snippet: "Several drones were sighted."}},
	}, events.AlertEventType)
	fmt.Println(s.Send(context.Background(), "dlv-1", ev))
	// Output: <nil>
}

func ExampleAlertMessage() {
	ev := events.NewAlertEvent(events.Alert{
		Title:   "Drones over <the> port",
		URL:     "https://news.example/drones",
		Matches: []events.MatchedTerm{{Term: "drones", Snippet: "Several drones & a ship were sighted."}},
	}, events.AlertEventType)
	msg := slack.AlertMessage(ev)
	fmt.Println(msg.Blocks[0].Text.Text)
	fmt.Println(msg.Blocks[1].Text.Text)
	// Output:
	// *<https://news.example/drones|Drones over &lt;the&gt; port>*
	// > Several *drones* &amp; a ship were sighted.
}
