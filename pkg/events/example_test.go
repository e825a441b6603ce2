package events_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/newswatch/newswatch/pkg/events"
)

func ExampleNewAlertEvent() {
	alert := events.Alert{
		Schema:    events.AlertSchema,
		AlertID:   events.HashID("alert", "mq-9b", "story-1"),
		WatchID:   "mq-9b",
		Query:     `"MQ-9B"`,
		StoryID:   "story-1",
		Title:     "US to supply 31 MQ-9B drones to India",
		CreatedAt: time.Date(2023, 11, 11, 9, 0, 0, 0, time.UTC),
	}
	ev := events.NewAlertEvent(alert, events.AlertEventType)
	b, _ := json.Marshal(ev)
	var envelope map[string]any
	json.Unmarshal(b, &envelope)
	fmt.Println(envelope["specversion"], envelope["type"], envelope["subject"], envelope["id"] == alert.AlertID)
	// Output: 1.0 io.newswatch.alert.v1 mq-9b true
}
