package workflows

import "time"

// CheckoutStatus is a checkout's status (PRODUCT.md): what the API shows
// and the workflow branches on. It is neither payflow's status of a Rehive
// transaction (TxStatus) nor Rehive's own (RehiveStatus).
type CheckoutStatus string

// Checkout statuses (PRODUCT.md).
const (
	StatusPending         CheckoutStatus = "pending"
	StatusReserved        CheckoutStatus = "reserved"
	StatusAwaitingPayment CheckoutStatus = "awaiting_payment"
	StatusRequiresAction  CheckoutStatus = "requires_action"
	StatusPaid            CheckoutStatus = "paid"
	StatusFulfilled       CheckoutStatus = "fulfilled"
	StatusFailed          CheckoutStatus = "failed"
	StatusExpired         CheckoutStatus = "expired"
	StatusCancelled       CheckoutStatus = "cancelled"
	StatusRefunded        CheckoutStatus = "refunded"
	// StatusNeedsAttention is final for the workflow: a refund or void that
	// Checkout.com kept declining (after bounded retries), or whose outcome
	// never showed, is left to an operator. The timeline says what was tried.
	StatusNeedsAttention CheckoutStatus = "needs_attention"
)

// Payment methods.
const (
	MethodCard   = "card"
	MethodRehive = "rehive"
)

// Signal, query and update names of the checkout workflow.
const (
	CheckoutWorkflowName = "Checkout"
	SignalPaymentEvent   = "payment-event"
	// SignalCancel is the cancel signal of runs started before the cancel
	// update became the only API mechanism (versionOperatorCancel); newer
	// runs do not listen to it.
	SignalCancel = "cancel"
	UpdateCancel = "cancel"
	QueryState   = "state"
)

// Failure reasons recorded on the order.
const (
	ReasonOutOfStock      = "out_of_stock"
	ReasonInvalidCart     = "invalid_cart"
	ReasonPaymentDeclined = "payment_declined"
	ReasonPaymentRejected = "payment_rejected"
	ReasonPaymentError    = "payment_error"
	ReasonPaymentTimeout  = "payment_timeout"
	ReasonCancelled       = "cancelled_by_request"
	ReasonInternalError   = "internal_error" // a dependency stayed down; see the timeline
	// ReasonCaptureDeclined: Checkout.com authorised the card, then declined
	// the capture; what was left of the authorisation is voided.
	ReasonCaptureDeclined = "capture_declined"
	// Reasons of StatusNeedsAttention.
	ReasonRefundDeclined = "refund_declined"
	ReasonVoidDeclined   = "void_declined"
)

// CheckoutWorkflowID is the business id of an order's workflow.
func CheckoutWorkflowID(orderID string) string { return "checkout/" + orderID }

// IsTerminal reports whether a checkout status is final. A fulfilled order is
// final but can still be refunded by a cancel within the refund window.
func IsTerminal(status CheckoutStatus) bool {
	switch status {
	case StatusFulfilled, StatusPartiallyRefunded, StatusFailed, StatusExpired, StatusCancelled, StatusRefunded, StatusNeedsAttention:
		return true
	}
	return false
}

// CheckoutInput starts a checkout. It holds no payment credential: the card
// token waits in the database for the charge activity, and Rehive customer
// tokens never leave the API request that carries them.
type CheckoutInput struct {
	OrderID        string        `json:"order_id"`
	Currency       string        `json:"currency"`
	Lines          []LineInput   `json:"lines"`
	CustomerEmail  string        `json:"customer_email"`
	Method         string        `json:"method"`
	PaymentTimeout time.Duration `json:"payment_timeout"`
	RefundWindow   time.Duration `json:"refund_window"`
	// LateWindow: how long an order that closed unpaid still refunds a
	// payment that arrives (DefaultLateWindow when zero).
	LateWindow time.Duration `json:"late_window,omitempty"`
}

// LineInput is a SKU and quantity as the client sent them.
type LineInput struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
}

// PricedLine is a line priced from our catalog.
type PricedLine struct {
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Quantity  int64  `json:"quantity"`
	UnitPrice int64  `json:"unit_price"`
	Total     int64  `json:"total"`
}

// PaymentState is the payment part of a checkout's state.
type PaymentState struct {
	Method            string `json:"method"`
	Status            string `json:"status"`
	ProviderPaymentID string `json:"provider_payment_id"`
	RedirectURL       string `json:"redirect_url"`
	// RefundID is the provider's id of the refund or reversal, once made.
	RefundID string `json:"refund_id,omitempty"`
}

// TimelineEntry is one step of a checkout's history.
type TimelineEntry struct {
	At     time.Time `json:"at"`
	Step   string    `json:"step"`
	Detail string    `json:"detail"`
	// Repeats counts the same step and detail noted again right after (a
	// redelivered webhook); LastAt is when it was last noted.
	Repeats int        `json:"repeats,omitempty"`
	LastAt  *time.Time `json:"last_at,omitempty"`
}

// CheckoutState is what the state query returns (API.md's shape) and what the
// read model stores.
type CheckoutState struct {
	OrderID       string          `json:"order_id"`
	Status        CheckoutStatus  `json:"status"`
	Amount        int64           `json:"amount"`
	Currency      string          `json:"currency"`
	FailureReason string          `json:"failure_reason"`
	Payment       PaymentState    `json:"payment"`
	Lines         []PricedLine    `json:"lines"`
	Timeline      []TimelineEntry `json:"timeline"`
	// Refunds are the API's refunds of the order (checkout_refund_update.go).
	Refunds       []Refund `json:"refunds"`
	CustomerEmail string   `json:"customer_email,omitempty"`
	WorkflowID    string   `json:"workflow_id"`
	RunID         string   `json:"run_id"`
}

// EventAPITransfer is the PaymentEvent type the API sends when it posted the
// customer's Rehive transfer itself: the workflow verifies that transaction
// (and asks about it at the timeout) without waiting for Rehive's webhook.
const EventAPITransfer = "api.transfer"

// PaymentEvent is a provider webhook reduced to what the checkout needs; the
// raw event stays in the inbox table. Like a webhook, it is a hint: the
// workflow asks the provider before it acts on one.
type PaymentEvent struct {
	Provider        string `json:"provider"` // checkoutcom | rehive
	EventID         string `json:"event_id"`
	Type            string `json:"type"`       // e.g. payment_captured, transaction.update
	PaymentID       string `json:"payment_id"` // pay_... or the Rehive transaction id
	Amount          int64  `json:"amount"`
	Currency        string `json:"currency"`
	ResponseCode    string `json:"response_code,omitempty"`
	ResponseSummary string `json:"response_summary,omitempty"`
	// Card is what a card event says, in payflow's terms (payment_events.go).
	Card CardEvent `json:"card,omitempty"`
}

// Activity names of the checkout.
const (
	ActPriceCart           = "PriceCart"
	ActReserveStock        = "ReserveStock"
	ActCommitStock         = "CommitStock"
	ActReleaseStock        = "ReleaseStock"
	ActRestockOrder        = "RestockOrder"
	ActChargeCard          = "ChargeCard"
	ActGetCardPayment      = "GetCardPayment"
	ActVoidCard            = "VoidCard"
	ActRefundCard          = "RefundCard"
	ActVerifyRehivePayment = "VerifyRehivePayment"
	ActRefundRehive        = "RefundRehive"
	ActSaveOrder           = "SaveOrder"
	ActFindCardPayment     = "FindCardPayment"
	ActGetCardAction       = "GetCardAction"
	ActFindRehivePayments  = "FindRehivePayments"
)

// PriceCartInput asks for the cart to be verified and priced.
type PriceCartInput struct {
	OrderID  string      `json:"order_id"`
	Currency string      `json:"currency"`
	Lines    []LineInput `json:"lines"`
}

// PriceCartResult is the priced cart.
type PriceCartResult struct {
	Lines  []PricedLine `json:"lines"`
	Amount int64        `json:"amount"`
}

// ReserveInput holds stock for an order.
type ReserveInput struct {
	OrderID string      `json:"order_id"`
	Lines   []LineInput `json:"lines"`
}

// ChargeInput charges the card token stored for the order.
type ChargeInput struct {
	OrderID       string `json:"order_id"`
	Amount        int64  `json:"amount"`
	Currency      string `json:"currency"`
	CustomerEmail string `json:"customer_email"`
}

// ChargeResult is Checkout.com's answer to the payment request.
type ChargeResult struct {
	PaymentID       string `json:"payment_id"`
	Status          string `json:"status"`
	Approved        bool   `json:"approved"`
	RequiresAction  bool   `json:"requires_action"` // 202 Pending: 3-D Secure
	RedirectURL     string `json:"redirect_url"`
	ResponseCode    string `json:"response_code"`
	ResponseSummary string `json:"response_summary"`
}

// CardPaymentInput names a card payment.
type CardPaymentInput struct {
	OrderID   string `json:"order_id"`
	PaymentID string `json:"payment_id"`
	Amount    int64  `json:"amount"`
	// Attempt numbers a void or refund tried again after Checkout.com
	// declined it: each attempt has its own idempotency key (0 and 1 share
	// the first key, as runs before the retries sent it).
	Attempt int `json:"attempt,omitempty"`
}

// FindCardPaymentInput looks the order's card payment up by reference.
type FindCardPaymentInput struct {
	OrderID string `json:"order_id"`
}

// FindCardPaymentResult is the order's payment on Checkout.com, if any.
type FindCardPaymentResult struct {
	Found  bool         `json:"found"`
	Charge ChargeResult `json:"charge"`
	// Count of payments carrying the reference (more than one is noted).
	Count int `json:"count"`
}

// CardActionInput names an action (void, refund) Checkout.com accepted.
type CardActionInput struct {
	OrderID   string `json:"order_id"`
	PaymentID string `json:"payment_id"`
	ActionID  string `json:"action_id"`
	Kind      string `json:"kind"` // Void | Refund: matched when ActionID is empty
}

// CardActionResult is the action's outcome as GET /payments/{id}/actions
// shows it; Found false means it is not processed yet.
type CardActionResult struct {
	Found           bool   `json:"found"`
	Approved        bool   `json:"approved"`
	ResponseCode    string `json:"response_code"`
	ResponseSummary string `json:"response_summary"`
}

// FindRehivePaymentsInput lists the merchant's credits for the order.
type FindRehivePaymentsInput struct {
	OrderID string    `json:"order_id"`
	Since   time.Time `json:"since"`
}

// FindRehivePaymentsResult names the Rehive credits whose metadata.order_id
// is the order.
type FindRehivePaymentsResult struct {
	TxIDs []string `json:"tx_ids"`
}

// CardPaymentStatus is the provider's view of a payment.
type CardPaymentStatus struct {
	Status string `json:"status"` // the provider's words, shown on the order
	// State is the status in payflow's terms (payment_events.go).
	State CardState `json:"state,omitempty"`
}

// RehivePaymentInput asks whether a Rehive transaction pays the order.
type RehivePaymentInput struct {
	OrderID  string `json:"order_id"`
	TxID     string `json:"tx_id"`
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// Rehive verification outcomes.
const (
	RehivePaid     = "paid"     // Complete, matching, credited to the merchant
	RehivePending  = "pending"  // matching so far but not final yet
	RehiveMismatch = "mismatch" // final and does not pay this order; Reason says why
	RehiveIgnored  = "ignored"  // not a payment to the merchant (e.g. the payer's debit leg)
)

// RehivePaymentResult is the verdict on one Rehive transaction.
type RehivePaymentResult struct {
	Outcome      string `json:"outcome"`
	Reason       string `json:"reason"`
	TxID         string `json:"tx_id"`
	PayerAccount string `json:"payer_account"`
	PayerEmail   string `json:"payer_email"`
	// Refundable marks a mismatch whose money reached the merchant for this
	// order (wrong amount or currency): it is sent back.
	Refundable bool `json:"refundable,omitempty"`
}

// RehiveRefundInput reverses a Rehive payment.
type RehiveRefundInput struct {
	OrderID      string `json:"order_id"`
	TxID         string `json:"tx_id"`
	PayerAccount string `json:"payer_account"`
	PayerEmail   string `json:"payer_email"`
	// Attempt > 1 is a retry after a refusal: Rehive replays a refusal for
	// the same idempotency key, so each attempt sends its own (the
	// collection ids stay derived from the payment: one reversal at most).
	Attempt int `json:"attempt,omitempty"`
}

// RefundResult names the refund or reversal made.
type RefundResult struct {
	ID string `json:"id"`
}
