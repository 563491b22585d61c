package ledger

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// EventType names a webhook.
type EventType string

const (
	// EventTransactionUpdated reports a status or confirmation change.
	EventTransactionUpdated EventType = "transaction.updated"
	// EventTransactionIncoming reports a credit arriving on a ledger account.
	EventTransactionIncoming EventType = "transaction.incoming"
)

// ErrMalformedEvent is returned for a webhook body that is not a usable event.
var ErrMalformedEvent = errors.New("ledger webhook: malformed event")

// WebhookEvent is a webhook body. ID identifies the event (deduplicate on it);
// retries and duplicates of one event share it.
type WebhookEvent struct {
	ID      string      `json:"id"`
	Type    EventType   `json:"type"`
	Created time.Time   `json:"created"`
	Data    Transaction `json:"data"`
}

// ParseWebhook decodes a verified webhook body. Unknown event types are
// returned as they are, for the caller to ignore; the transaction events
// must name their transaction.
func ParseWebhook(body []byte) (*WebhookEvent, error) {
	var ev WebhookEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedEvent, err)
	}
	switch {
	case ev.ID == "":
		return nil, fmt.Errorf("%w: missing id", ErrMalformedEvent)
	case ev.Type == "":
		return nil, fmt.Errorf("%w: missing type", ErrMalformedEvent)
	case (ev.Type == EventTransactionUpdated || ev.Type == EventTransactionIncoming) && ev.Data.ID == "":
		return nil, fmt.Errorf("%w: %s without a transaction id", ErrMalformedEvent, ev.Type)
	}
	return &ev, nil
}
