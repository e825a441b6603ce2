package webhook

import (
	"context"

	"github.com/newswatch/newswatch/pkg/events"
)

// The notifier's Sink and digest interfaces, restated so a change to the
// method set breaks this package's build rather than the notifier's.
var _ interface {
	Name() string
	Send(ctx context.Context, deliveryID string, ev events.CloudEvent) error
	SendDigest(ctx context.Context, deliveryID string, watchID string, evs []events.CloudEvent) error
} = (*Webhook)(nil)
