package checkoutcom

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/payflow/payflow/providers/httpx"
)

const testKey = "sk_sbox_m73dzbpy7cf3gfd46xr4yj5xo4e"

// canned is one recorded exchange: the request seen and the answer given.
type canned struct {
	mu     sync.Mutex
	status int
	header http.Header
	body   string
	reqs   []*http.Request
	bodies [][]byte
}

func (c *canned) RoundTrip(r *http.Request) (*http.Response, error) {
	var b []byte
	if r.Body != nil {
		var err error
		if b, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reqs = append(c.reqs, r)
	c.bodies = append(c.bodies, b)
	h := http.Header{"Content-Type": {"application/json"}, "Cko-Request-Id": {"0HL80RJLS76I7"}}
	for k, v := range c.header {
		h[k] = v
	}
	return &http.Response{StatusCode: c.status, Header: h, Body: io.NopCloser(strings.NewReader(c.body)), Request: r}, nil
}

func (c *canned) calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.reqs)
}

func newCanned(status int, body string) (*Client, *canned) {
	rt := &canned{status: status, body: body}
	return New(Config{
		BaseURL:             "https://api.sandbox.checkout.com",
		SecretKey:           testKey,
		ProcessingChannelID: "pc_q4dbxom5jbgudnjzjpz7j2z6uq",
		HTTPClient:          &http.Client{Transport: rt},
	}), rt
}

// A 201 as documented in the Checkout.com API reference.
const approved201 = `{
  "id": "pay_mbabizu24mvu3mela5njyhpit4",
  "action_id": "act_mbabizu24mvu3mela5njyhpit4",
  "amount": 2500,
  "currency": "USD",
  "approved": true,
  "status": "Authorized",
  "auth_code": "770687",
  "response_code": "10000",
  "response_summary": "Approved",
  "source": {"type": "card", "id": "src_nwd3m4in3hkuddfpjsaevunhdy", "scheme": "Visa",
             "last4": "4242", "bin": "424242", "expiry_month": 6, "expiry_year": 2030},
  "customer": {"id": "cus_udst2tfldj6upmye2reztkmm4i", "email": "ada@example.com"},
  "processed_on": "2019-09-10T10:11:12Z",
  "reference": "ord_1001",
  "_links": {"self": {"href": "https://api.sandbox.checkout.com/payments/pay_mbabizu24mvu3mela5njyhpit4"},
             "actions": {"href": "https://api.sandbox.checkout.com/payments/pay_mbabizu24mvu3mela5njyhpit4/actions"}}
}`

func TestRequestPaymentSendsDocumentedRequest(t *testing.T) {
	c, rt := newCanned(http.StatusCreated, approved201)
	p, err := c.RequestPayment(context.Background(), PaymentRequest{
		Token:         "tok_ubfj2q76miwundwlk72vxt2i7q",
		Amount:        2500,
		Currency:      "USD",
		Reference:     "ord_1001",
		Capture:       true,
		CustomerEmail: "ada@example.com",
		Metadata:      map[string]string{"AccelerateToken": "tok_ubfj2q76miwundwlk72vxt2i7q", "order_id": "ord_1001"},
	}, "checkout/ord_1001/payment")
	if err != nil {
		t.Fatal(err)
	}
	if rt.calls() != 1 {
		t.Fatalf("calls = %d, want 1", rt.calls())
	}
	r := rt.reqs[0]
	if r.Method != http.MethodPost || r.URL.String() != "https://api.sandbox.checkout.com/payments" {
		t.Errorf("request = %s %s", r.Method, r.URL)
	}
	for h, want := range map[string]string{
		"Authorization":       "Bearer " + testKey,
		"Cko-Idempotency-Key": "checkout/ord_1001/payment",
		"Content-Type":        "application/json",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	var got map[string]any
	if err := json.Unmarshal(rt.bodies[0], &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"source":                map[string]any{"type": "token", "token": "tok_ubfj2q76miwundwlk72vxt2i7q"},
		"amount":                2500.0,
		"currency":              "USD",
		"reference":             "ord_1001",
		"capture":               true,
		"processing_channel_id": "pc_q4dbxom5jbgudnjzjpz7j2z6uq",
		"customer":              map[string]any{"email": "ada@example.com"},
		"3ds":                   map[string]any{"enabled": false},
		"metadata":              map[string]any{"AccelerateToken": "tok_ubfj2q76miwundwlk72vxt2i7q", "order_id": "ord_1001"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("body =\n%s\nwant\n%v", rt.bodies[0], want)
	}

	if p.ID != "pay_mbabizu24mvu3mela5njyhpit4" || !p.Approved || p.Status != StatusAuthorized ||
		p.ResponseCode != ResponseCodeApproved || p.HTTPStatus != http.StatusCreated || p.Declined() {
		t.Errorf("payment = %+v", p)
	}
	if p.Source == nil || p.Source.Last4 != "4242" || p.Customer == nil || p.Customer.Email != "ada@example.com" {
		t.Errorf("source/customer = %+v %+v", p.Source, p.Customer)
	}
	if p.RedirectURL != "" {
		t.Errorf("RedirectURL = %q for a 201", p.RedirectURL)
	}
}

func TestRequestPaymentSendsCaptureFalseExplicitly(t *testing.T) {
	c, rt := newCanned(http.StatusCreated, approved201)
	if _, err := c.RequestPayment(context.Background(), PaymentRequest{Token: "tok_x", Amount: 1, Currency: "EUR", ProcessingChannelID: "pc_other"}, ""); err != nil {
		t.Fatal(err)
	}
	body := string(rt.bodies[0])
	if !strings.Contains(body, `"capture":false`) || !strings.Contains(body, `"processing_channel_id":"pc_other"`) {
		t.Errorf("body = %s", body)
	}
	if strings.Contains(body, "customer") || strings.Contains(body, "metadata") {
		t.Errorf("empty optional fields sent: %s", body)
	}
	if rt.reqs[0].Header.Get("Cko-Idempotency-Key") != "" {
		t.Error("idempotency key header sent without a key")
	}
}

func TestRequestPaymentOutcomes(t *testing.T) {
	t.Run("declined 201 is a payment", func(t *testing.T) {
		c, _ := newCanned(http.StatusCreated, `{"id":"pay_1","action_id":"act_1","amount":2500,"currency":"USD",
			"approved":false,"status":"Declined","response_code":"20005","response_summary":"Declined - Do Not Honour","reference":"ord_1"}`)
		p, err := c.RequestPayment(context.Background(), PaymentRequest{Token: "tok_x", Amount: 2500, Currency: "USD"}, "k")
		if err != nil {
			t.Fatal(err)
		}
		if !p.Declined() || p.ResponseCode != "20005" || p.ResponseSummary == "" {
			t.Errorf("payment = %+v", p)
		}
	})
	t.Run("202 pending with redirect", func(t *testing.T) {
		c, _ := newCanned(http.StatusAccepted, `{"id":"pay_2","status":"Pending","reference":"ord_2",
			"_links":{"self":{"href":"https://api.sandbox.checkout.com/payments/pay_2"},
			"redirect":{"href":"https://api.sandbox.checkout.com/3ds/pay_2"}}}`)
		p, err := c.RequestPayment(context.Background(), PaymentRequest{Token: "tok_x", Amount: 2500, Currency: "USD", ThreeDS: true}, "k")
		if err != nil {
			t.Fatal(err)
		}
		if p.HTTPStatus != http.StatusAccepted || p.Status != StatusPending || p.Declined() ||
			p.RedirectURL != "https://api.sandbox.checkout.com/3ds/pay_2" {
			t.Errorf("payment = %+v", p)
		}
	})
}

func TestErrorClasses(t *testing.T) {
	cases := []struct {
		name       string
		status     int
		header     http.Header
		body       string
		call       func(*Client) error
		class      httpx.Class
		codes      []string
		calls      int
		retryAfter time.Duration
	}{
		{"422 invalid", 422, nil, `{"request_id":"r1","error_type":"request_invalid","error_codes":["token_expired"]}`,
			pay("k"), httpx.Invalid, []string{"token_expired"}, 1, 0},
		{"401 auth", 401, nil, ``, pay("k"), httpx.Auth, nil, 1, 0},
		{"404 not found", 404, nil, ``, get, httpx.NotFound, nil, 1, 0},
		{"403 on an action is a conflict", 403, nil, ``, capture, httpx.Conflict, nil, 1, 0},
		{"429 duplicate_request is in flight", 429, http.Header{"Retry-After": {"0"}},
			`{"request_id":"r2","error_type":"request_invalid","error_codes":["duplicate_request"]}`,
			pay("k"), httpx.InFlight, []string{"duplicate_request"}, 3, 0},
		{"429 rate limited is retryable", 429, http.Header{"Retry-After": {"2"}}, ``,
			pay("k"), httpx.Retryable, nil, 3, 2 * time.Second},
		{"409 on a payment is in flight", 409, nil, `{"request_id":"r3","error_type":"request_invalid"}`,
			pay("k"), httpx.InFlight, nil, 1, 0},
		{"409 on an action is in flight", 409, nil, ``, capture, httpx.InFlight, nil, 1, 0},
		{"503 with Retry-After, no key, not retried", 503, http.Header{"Retry-After": {"7"}}, `oops`,
			pay(""), httpx.Retryable, nil, 1, 7 * time.Second},
		{"502 GET retried", 502, nil, ``, get, httpx.Retryable, nil, 3, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, rt := newCanned(tc.status, tc.body)
			rt.header = tc.header
			err := tc.call(c)
			var pe *httpx.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *httpx.Error", err)
			}
			if pe.Class != tc.class || pe.Status != tc.status || !reflect.DeepEqual(pe.Codes, tc.codes) || pe.RetryAfter != tc.retryAfter {
				t.Errorf("err = %+v", pe)
			}
			if rt.calls() != tc.calls {
				t.Errorf("calls = %d, want %d", rt.calls(), tc.calls)
			}
			if strings.Contains(pe.Error(), testKey) {
				t.Errorf("error leaks the key: %v", pe)
			}
		})
	}
}

func pay(key string) func(*Client) error {
	return func(c *Client) error {
		_, err := c.RequestPayment(context.Background(), PaymentRequest{Token: "tok_x", Amount: 1, Currency: "USD"}, key)
		return err
	}
}

func get(c *Client) error {
	_, err := c.GetPayment(context.Background(), "pay_1")
	return err
}

func capture(c *Client) error {
	_, err := c.Capture(context.Background(), "pay_1", ActionRequest{}, "k")
	return err
}

func TestTransportErrorIsRetryableWithoutSecrets(t *testing.T) {
	c := New(Config{BaseURL: "http://127.0.0.1:1", SecretKey: testKey, Timeout: time.Second})
	_, err := c.GetPayment(context.Background(), "pay_1")
	var pe *httpx.Error
	if !errors.As(err, &pe) || pe.Class != httpx.Retryable || pe.Status != 0 {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), "127.0.0.1:1/") {
		t.Errorf("error message = %q", err)
	}
}

func TestActionsRequests(t *testing.T) {
	c, rt := newCanned(http.StatusAccepted, `{"action_id":"act_9","reference":"r","_links":{"payment":{"href":"x"}}}`)
	ctx := context.Background()
	req := ActionRequest{Amount: 500, Reference: "ord_1/refund", Metadata: map[string]string{"order_id": "ord_1"}}
	if r, err := c.Refund(ctx, "pay_1", req, "rk"); err != nil || r.ActionID != "act_9" {
		t.Fatalf("refund = %+v, %v", r, err)
	}
	if _, err := c.Void(ctx, "pay_1", req, "vk"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Capture(ctx, "pay_1", ActionRequest{}, "ck"); err != nil {
		t.Fatal(err)
	}
	want := []struct{ path, body string }{
		{"/payments/pay_1/refunds", `{"amount":500,"reference":"ord_1/refund","metadata":{"order_id":"ord_1"}}`},
		{"/payments/pay_1/voids", `{"reference":"ord_1/refund","metadata":{"order_id":"ord_1"}}`},
		{"/payments/pay_1/captures", `{}`},
	}
	for i, w := range want {
		if rt.reqs[i].URL.Path != w.path || string(rt.bodies[i]) != w.body {
			t.Errorf("call %d = %s %s", i, rt.reqs[i].URL.Path, rt.bodies[i])
		}
	}
}

func TestGetActionsAndTolerantFields(t *testing.T) {
	c, _ := newCanned(http.StatusOK, `[
	  {"id":"act_2","type":"Capture","processed_on":"2024-01-17T10:00:00.1234567Z","amount":2500,"approved":true,
	   "response_code":"10000","metadata":{"n":42,"b":true,"s":"x","z":null}},
	  {"id":"act_1","type":"Authorization","processed_on":"2024-01-17T09:59:59","amount":2500,"approved":true,"response_code":"10000"}]`)
	as, err := c.GetActions(context.Background(), "pay_1")
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 2 || as[0].Type != ActionCapture || as[1].Type != ActionAuthorization {
		t.Fatalf("actions = %+v", as)
	}
	if as[0].ProcessedOn.IsZero() || as[1].ProcessedOn.IsZero() {
		t.Errorf("processed_on not parsed: %+v", as)
	}
	if m := as[0].Metadata; !reflect.DeepEqual(m, Metadata{"n": "42", "b": "true", "s": "x"}) {
		t.Errorf("metadata = %v", m)
	}
}

func TestPaymentJSONRoundTrip(t *testing.T) {
	var p Payment
	if err := json.Unmarshal([]byte(`{"id":"pay_2","status":"Pending","requested_on":"2024-01-17T10:00:00Z",
		"_links":{"redirect":{"href":"https://x/3ds/pay_2"}}}`), &p); err != nil {
		t.Fatal(err)
	}
	p.HTTPStatus = http.StatusAccepted
	b, err := json.Marshal(&p)
	if err != nil {
		t.Fatal(err)
	}
	var back Payment
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, back) || back.RedirectURL != "https://x/3ds/pay_2" || back.RequestedOn.IsZero() {
		t.Errorf("round trip: %+v != %+v", back, p)
	}
}
