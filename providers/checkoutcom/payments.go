package checkoutcom

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/payflow/payflow/providers/httpx"
)

// PaymentRequest is a card payment from a token (tok_..., e.g. Accelerate's
// processorToken).
type PaymentRequest struct {
	Token               string
	Amount              int64 // minor units
	Currency            string
	Reference           string // ≤ 50 chars; our order id
	Capture             bool   // always sent: Checkout.com defaults to true, the SDK to false
	ProcessingChannelID string // defaults to Config.ProcessingChannelID
	CustomerEmail       string
	ThreeDS             bool              // also when Config.ThreeDS
	SuccessURL          string            // defaults to Config.SuccessURL
	FailureURL          string            // defaults to Config.FailureURL
	Metadata            map[string]string // ≤ 20 keys, values ≤ 255 chars
}

type paymentBody struct {
	Source              tokenSource       `json:"source"`
	Amount              int64             `json:"amount"`
	Currency            string            `json:"currency"`
	Reference           string            `json:"reference,omitempty"`
	Capture             bool              `json:"capture"`
	ProcessingChannelID string            `json:"processing_channel_id,omitempty"`
	Customer            *customerBody     `json:"customer,omitempty"`
	ThreeDS             threeDSBody       `json:"3ds"`
	SuccessURL          string            `json:"success_url,omitempty"`
	FailureURL          string            `json:"failure_url,omitempty"`
	Metadata            map[string]string `json:"metadata,omitempty"`
}

type tokenSource struct {
	Type  string `json:"type"`
	Token string `json:"token"`
}

type customerBody struct {
	Email string `json:"email"`
}

type threeDSBody struct {
	Enabled bool `json:"enabled"`
}

// Payment is a payment as returned by POST /payments (201 or 202) and
// GET /payments/{id}.
type Payment struct {
	ID              string          `json:"id"`
	ActionID        string          `json:"action_id"`
	Amount          int64           `json:"amount"`
	Currency        string          `json:"currency"`
	Approved        bool            `json:"approved"`
	Status          Status          `json:"status"`
	ResponseCode    string          `json:"response_code"`
	ResponseSummary string          `json:"response_summary"`
	Reference       string          `json:"reference"`
	Source          *Source         `json:"source,omitempty"`
	Customer        *Customer       `json:"customer,omitempty"`
	Metadata        Metadata        `json:"metadata,omitempty"`
	Balances        *Balances       `json:"balances,omitempty"`
	Links           map[string]Link `json:"_links,omitempty"`
	RequestedOn     time.Time       `json:"requested_on"`

	// HTTPStatus is 201 for a processed payment (approved or declined), 202 when
	// the customer must complete 3-D Secure at RedirectURL, 200 for a GET. It
	// and RedirectURL are ours, tagged so a Payment survives a JSON round trip
	// (e.g. as an activity result).
	HTTPStatus  int    `json:"http_status,omitempty"`
	RedirectURL string `json:"redirect_url,omitempty"` // _links.redirect.href
}

// Source is the card a payment was made with.
type Source struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	Scheme      string `json:"scheme"`
	Last4       string `json:"last4"`
	Bin         string `json:"bin"`
	ExpiryMonth int    `json:"expiry_month"`
	ExpiryYear  int    `json:"expiry_year"`
}

// Customer is the payment's customer.
type Customer struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

// Balances are a payment's running totals (GET /payments/{id}).
type Balances struct {
	TotalAuthorized    int64 `json:"total_authorized"`
	TotalVoided        int64 `json:"total_voided"`
	AvailableToVoid    int64 `json:"available_to_void"`
	TotalCaptured      int64 `json:"total_captured"`
	AvailableToCapture int64 `json:"available_to_capture"`
	TotalRefunded      int64 `json:"total_refunded"`
	AvailableToRefund  int64 `json:"available_to_refund"`
}

// UnmarshalJSON reads requested_on tolerantly and lifts the redirect link.
func (p *Payment) UnmarshalJSON(b []byte) error {
	type plain Payment
	var w struct {
		plain
		RequestedOn string `json:"requested_on"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*p = Payment(w.plain)
	p.RequestedOn = parseTime(w.RequestedOn)
	if href := p.Links["redirect"].Href; href != "" {
		p.RedirectURL = href
	}
	return nil
}

// Declined reports whether the payment was refused: a 201 with approved
// false, or a payment whose status is Declined.
func (p *Payment) Declined() bool {
	return p.Status == StatusDeclined || (p.HTTPStatus == http.StatusCreated && !p.Approved)
}

// RequestPayment sends POST /payments. A decline is not an error: it comes
// back as a Payment with Declined() true, so the caller can record its
// response code. With an idempotency key the call is retried on 429/5xx and
// transport errors; Checkout.com replays the first answer for a repeated key.
func (c *Client) RequestPayment(ctx context.Context, req PaymentRequest, idempotencyKey string) (*Payment, error) {
	body := paymentBody{
		Source:              tokenSource{Type: "token", Token: req.Token},
		Amount:              req.Amount,
		Currency:            req.Currency,
		Reference:           req.Reference,
		Capture:             req.Capture,
		ProcessingChannelID: req.ProcessingChannelID,
		ThreeDS:             threeDSBody{Enabled: req.ThreeDS},
		SuccessURL:          req.SuccessURL,
		FailureURL:          req.FailureURL,
		Metadata:            req.Metadata,
	}
	if body.ProcessingChannelID == "" {
		body.ProcessingChannelID = c.channel
	}
	body.ThreeDS.Enabled = req.ThreeDS || c.threeDS
	if body.SuccessURL == "" {
		body.SuccessURL = c.successURL
	}
	if body.FailureURL == "" {
		body.FailureURL = c.failureURL
	}
	if req.CustomerEmail != "" {
		body.Customer = &customerBody{Email: req.CustomerEmail}
	}
	var p Payment
	resp, err := c.call(ctx, http.MethodPost, "/payments", body, idempotencyKey, &p)
	if err != nil {
		return nil, err
	}
	p.HTTPStatus = resp.Status
	return &p, nil
}

// GetPayment sends GET /payments/{id}.
func (c *Client) GetPayment(ctx context.Context, id string) (*Payment, error) {
	var p Payment
	resp, err := c.call(ctx, http.MethodGet, paymentPath(id), nil, "", &p)
	if err != nil {
		return nil, err
	}
	p.HTTPStatus = resp.Status
	return &p, nil
}

// paymentPage is the answer of GET /payments?reference=.
type paymentPage struct {
	Limit      int       `json:"limit"`
	Skip       int       `json:"skip"`
	TotalCount int       `json:"total_count"`
	Data       []Payment `json:"data"`
}

// maxPages bounds FindPaymentsByReference: one reference (an order id) never
// has anywhere near maxPages×100 payments, so more means a provider fault.
const maxPages = 20

// FindPaymentsByReference returns every payment made with reference (our
// order id), newest first, reading GET /payments?reference=&limit=100&skip=
// page by page. It is how a charge whose answer was lost (timeout, 5xx,
// token_used, in flight) is resolved without charging again.
func (c *Client) FindPaymentsByReference(ctx context.Context, reference string) ([]Payment, error) {
	var out []Payment
	seen := map[string]bool{}
	for page, skip := 0, 0; page < maxPages; page++ {
		q := url.Values{"reference": {reference}, "limit": {"100"}, "skip": {strconv.Itoa(skip)}}
		var p paymentPage
		resp, err := c.call(ctx, http.MethodGet, "/payments?"+q.Encode(), nil, "", &p)
		if err != nil {
			return nil, err
		}
		skip += len(p.Data)
		for _, pay := range p.Data {
			// A payment made while we page shifts the pages by one: the
			// same payment may then come twice.
			if !seen[pay.ID] {
				seen[pay.ID] = true
				pay.HTTPStatus = resp.Status
				out = append(out, pay)
			}
		}
		if len(p.Data) == 0 || skip >= p.TotalCount {
			return out, nil
		}
	}
	return nil, &httpx.Error{Provider: provider, Class: httpx.Retryable,
		Message: fmt.Sprintf("GET /payments?reference=: more than %d pages", maxPages)}
}
