package webhook_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/sink/webhook"
)

// A receiver checks every delivery before trusting it.
func ExampleVerify() {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	body := []byte(`{"specversion":"1.0","id":"alert-1"}`)
	now := time.Now()

	sig, _ := webhook.Sign("dlv-1", now, body, secret)
	hdr := http.Header{}
	hdr.Set("webhook-id", "dlv-1")
	hdr.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	hdr.Set("webhook-signature", sig)

	fmt.Println(webhook.Verify(secret, hdr, body, 5*time.Minute))
	fmt.Println(webhook.Verify(secret, hdr, bytes.ToUpper(body), 5*time.Minute))
	// Output:
	// <nil>
	// webhook: no matching signature
}

func ExampleWebhook_Send() {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(secret, r.Header, body, 0); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		fmt.Println("received", r.Header.Get("Content-Type"), "delivery", r.Header.Get("webhook-id"))
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	w, err := webhook.New(webhook.Config{Name: "ops-webhook", URL: srv.URL, Secret: secret},
		webhook.WithClient(srv.Client()))
	if err != nil {
		fmt.Println(err)
		return
	}
	ev := events.NewAlertEvent(events.Alert{AlertID: "alert-1", WatchID: "baltic", Title: "Drones over the port"}, events.AlertEventType)
	fmt.Println(w.Send(context.Background(), "dlv-1", ev))
	// Output:
	// received application/cloudevents+json delivery dlv-1
	// <nil>
}
