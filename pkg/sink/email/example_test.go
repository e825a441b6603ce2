package email_test

import (
	"context"
	"log"
	"time"

	"github.com/newswatch/newswatch/pkg/events"
	"github.com/newswatch/newswatch/pkg/sink/email"
)

// Sending needs a reachable SMTP server, so this example is compiled but
// not run; email_test.go runs the same calls against a real one.
func ExampleEmail_Send() {
	e, err := email.New(email.Config{
		Name:        "analysts-mail",
		Host:        "smtp.example.org",
		Port:        587,
		Username:    "alerts@example.org",
		PasswordEnv: "NEWSWATCH_SMTP_PASSWORD",
		From:        "newswatch <alerts@example.org>",
		To:          []string{"desk@example.org"},
		StartTLS:    email.StartTLSRequired,
		Timeout:     20 * time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	ev := events.NewAlertEvent(events.Alert{AlertID: "alert-1", WatchID: "baltic", Title: "Drones over the port"}, events.AlertEventType)
	if err := e.Send(context.Background(), "dlv-1", ev); err != nil {
		log.Print(err)
	}
}
