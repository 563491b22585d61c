package rehive

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Webhook event names.
const (
	EventTransactionCreate           = "transaction.create"
	EventTransactionUpdate           = "transaction.update"
	EventTransactionInitiate         = "transaction.initiate"
	EventTransactionExecute          = "transaction.execute"
	EventTransactionTransitionCreate = "transaction.transition.create"
	EventTransactionTransitionUpdate = "transaction.transition.update"
)

var (
	// ErrBadSecret means the Authorization header is not "Secret <secret>".
	ErrBadSecret = errors.New("rehive webhook: bad secret")
	// ErrMalformed means the body is not a usable Rehive event.
	ErrMalformed = errors.New("rehive webhook: malformed")
)

// VerifyWebhook checks the Authorization header of a webhook, which Rehive
// sets to exactly "Secret <secret>". An empty configured secret rejects
// everything. Both sides are hashed first so the comparison takes the same
// time whatever the lengths.
func VerifyWebhook(authorization, secret string) error {
	if secret == "" {
		return ErrBadSecret
	}
	got := sha256.Sum256([]byte(authorization))
	want := sha256.Sum256([]byte("Secret " + secret))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return ErrBadSecret
	}
	return nil
}

// WebhookEvent is one delivery: {"id", "event", "company", "data"}. ID is
// shared by retries of the same event; dedup on (Company, ID).
type WebhookEvent struct {
	ID      string
	Event   string
	Company string
	Data    json.RawMessage
}

// ParseWebhook decodes a webhook body. The id may be a number or a string; a
// body without id or event is malformed.
func ParseWebhook(body []byte) (*WebhookEvent, error) {
	var w struct {
		ID      ID              `json:"id"`
		Event   string          `json:"event"`
		Company ID              `json:"company"`
		Data    json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if w.ID == "" || w.Event == "" {
		return nil, fmt.Errorf("%w: missing id or event", ErrMalformed)
	}
	return &WebhookEvent{ID: string(w.ID), Event: w.Event, Company: string(w.Company), Data: w.Data}, nil
}

// IsTransition reports whether the event is about a transaction transition.
func (e *WebhookEvent) IsTransition() bool {
	return strings.HasPrefix(e.Event, "transaction.transition.")
}

// Transaction decodes the admin transaction object that transaction.* events
// carry. For a transition event it returns the transaction embedded in the
// transition, when there is one.
func (e *WebhookEvent) Transaction() (*Transaction, error) {
	if !strings.HasPrefix(e.Event, "transaction.") {
		return nil, fmt.Errorf("rehive webhook: %q is not a transaction event", e.Event)
	}
	raw := e.Data
	if e.IsTransition() {
		var w struct {
			Transaction json.RawMessage `json:"transaction"`
		}
		if err := json.Unmarshal(raw, &w); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		raw = w.Transaction
	}
	if !isObject(raw) {
		return nil, fmt.Errorf("%w: no transaction object", ErrMalformed)
	}
	var t Transaction
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if t.ID == "" {
		return nil, fmt.Errorf("%w: transaction without id", ErrMalformed)
	}
	return &t, nil
}

// TransitionID finds the transition a transaction.transition.* event is
// about. No example payload is published, so it accepts data that is the
// transition itself ({"id", "transaction", ...}) or that names it as
// "transition" (id or object) or "transition_id". Fetch the transition with
// GetTransition rather than trusting the rest of the payload.
func (e *WebhookEvent) TransitionID() (string, error) {
	if !e.IsTransition() {
		return "", fmt.Errorf("rehive webhook: %q is not a transition event", e.Event)
	}
	if !isObject(e.Data) {
		return "", fmt.Errorf("%w: no transition data", ErrMalformed)
	}
	var w struct {
		TransitionID idRef           `json:"transition_id"`
		Transition   idRef           `json:"transition"`
		ID           ID              `json:"id"`
		TxType       json.RawMessage `json:"tx_type"`
	}
	if err := json.Unmarshal(e.Data, &w); err != nil {
		return "", fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	switch {
	case w.TransitionID != "":
		return string(w.TransitionID), nil
	case w.Transition != "":
		return string(w.Transition), nil
	case w.ID != "" && w.TxType == nil:
		// An "id" next to "tx_type" is a transaction's, not a transition's.
		return string(w.ID), nil
	}
	return "", fmt.Errorf("%w: no transition id", ErrMalformed)
}
