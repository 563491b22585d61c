package checkoutcom

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// EventType is a webhook's type.
type EventType string

// Webhook event types (PROVIDERS.md). A capture, refund or void answered
// 202 ends in one of its *ed or *_declined events; *_pending may come first.
const (
	EventPaymentApproved        EventType = "payment_approved"
	EventPaymentDeclined        EventType = "payment_declined"
	EventPaymentPending         EventType = "payment_pending"
	EventPaymentCaptured        EventType = "payment_captured"
	EventPaymentCapturePending  EventType = "payment_capture_pending"
	EventPaymentCaptureDeclined EventType = "payment_capture_declined"
	EventPaymentVoided          EventType = "payment_voided"
	EventPaymentVoidDeclined    EventType = "payment_void_declined"
	EventPaymentRefunded        EventType = "payment_refunded"
	EventPaymentRefundPending   EventType = "payment_refund_pending"
	EventPaymentRefundDeclined  EventType = "payment_refund_declined"
	EventPaymentPaid            EventType = "payment_paid"
	EventPaymentExpired         EventType = "payment_expired"
	EventPaymentCanceled        EventType = "payment_canceled"
)

// Verification failures; the webhook endpoint answers 401 to both.
var (
	ErrBadAuthorization = errors.New("checkoutcom webhook: authorization header does not match")
	ErrBadSignature     = errors.New("checkoutcom webhook: Cko-Signature does not match")
	ErrMalformedWebhook = errors.New("checkoutcom webhook: malformed event")
)

// VerifyWebhook checks a delivery's Authorization header (which must equal the
// configured authorization header key exactly) and its Cko-Signature
// (hex HMAC-SHA256 of the raw body with the signature key). Both comparisons
// take constant time. Empty configured keys reject everything.
func VerifyWebhook(authorization, signature string, body []byte, authKey, signatureKey string) error {
	if authKey == "" || subtle.ConstantTimeCompare([]byte(authorization), []byte(authKey)) != 1 {
		return ErrBadAuthorization
	}
	if signatureKey == "" {
		return ErrBadSignature
	}
	got, err := hex.DecodeString(signature)
	if err != nil {
		return ErrBadSignature
	}
	mac := hmac.New(sha256.New, []byte(signatureKey))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return ErrBadSignature
	}
	return nil
}

// WebhookEvent is a parsed Checkout.com webhook.
type WebhookEvent struct {
	ID        string      `json:"id"` // evt_...; the dedup key
	Type      EventType   `json:"type"`
	Version   string      `json:"version"`
	CreatedOn time.Time   `json:"created_on"` // created_on, or timestamp on older types
	Data      WebhookData `json:"data"`
}

// WebhookData is the payment part of an event.
type WebhookData struct {
	ID              string   `json:"id"` // pay_...
	ActionID        string   `json:"action_id"`
	Amount          int64    `json:"amount"`
	Currency        string   `json:"currency"`
	Reference       string   `json:"reference"`
	Metadata        Metadata `json:"metadata,omitempty"`
	ResponseCode    string   `json:"response_code"`
	ResponseSummary string   `json:"response_summary"`
}

type webhookWire struct {
	ID        string      `json:"id"`
	Type      EventType   `json:"type"`
	Version   string      `json:"version"`
	CreatedOn string      `json:"created_on"`
	Timestamp string      `json:"timestamp"`
	Data      WebhookData `json:"data"`
}

// ParseWebhook decodes a webhook body. It needs an id and a type; unknown
// types are returned as they are so the caller can acknowledge and ignore
// them. Verify the body with VerifyWebhook first.
func ParseWebhook(body []byte) (*WebhookEvent, error) {
	var w webhookWire
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedWebhook, err)
	}
	if w.ID == "" || w.Type == "" {
		return nil, fmt.Errorf("%w: missing id or type", ErrMalformedWebhook)
	}
	at := w.CreatedOn
	if at == "" {
		at = w.Timestamp
	}
	return &WebhookEvent{ID: w.ID, Type: w.Type, Version: w.Version, CreatedOn: parseTime(at), Data: w.Data}, nil
}

// OrderID is the order an event belongs to: the payment reference, or
// metadata.order_id when the reference is empty.
func (e *WebhookEvent) OrderID() string {
	if e.Data.Reference != "" {
		return e.Data.Reference
	}
	return e.Data.Metadata["order_id"]
}
