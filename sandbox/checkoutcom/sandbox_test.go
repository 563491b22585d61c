package checkoutcom

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testSecret  = "sk_sbox_unit"
	testChannel = "pc_unit0000000000000000000000"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestSandbox(t *testing.T, cfg Config) (*Sandbox, string) {
	t.Helper()
	cfg.SecretKey = testSecret
	sb := New(cfg)
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(func() { sb.Close(); srv.Close() })
	return sb, srv.URL + Prefix
}

// call sends a JSON request (with the secret key) and returns status, headers
// and the decoded body.
func call(t *testing.T, method, url string, in any, header ...string) (int, http.Header, map[string]any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testSecret)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if len(b) > 0 && b[0] == '{' {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, resp.Header, out
}

func tokenFor(t *testing.T, base, number string) string {
	t.Helper()
	st, _, out := call(t, "POST", base+"/tokens", map[string]any{"type": "card", "number": number, "expiry_month": 1, "expiry_year": 2099, "cvv": "123"})
	if st != http.StatusCreated {
		t.Fatalf("token: %d %v", st, out)
	}
	return out["token"].(string)
}

func paymentBody(tok string) map[string]any {
	return map[string]any{"source": map[string]any{"type": "token", "token": tok}, "amount": 1000, "currency": "GBP", "reference": "ord_1",
		"processing_channel_id": testChannel}
}

func codes(body map[string]any) []string {
	var out []string
	raw, _ := body["error_codes"].([]any)
	for _, c := range raw {
		out = append(out, c.(string))
	}
	return out
}

func TestLuhn(t *testing.T) {
	for _, n := range []string{"4242424242424242", "4000000000000002", "4000000000009995", "4000000000003220", "5436031030606378"} {
		if !validCardNumber(n) {
			t.Errorf("%s rejected", n)
		}
	}
	for _, n := range []string{"4242424242424241", "", "42424242", "4242-4242-4242-4242", "424242424242424242424"} {
		if validCardNumber(n) {
			t.Errorf("%s accepted", n)
		}
	}
}

func TestTokens(t *testing.T) {
	sb, base := newTestSandbox(t, Config{})
	clock := &fakeClock{t: time.Date(2030, 5, 1, 12, 0, 0, 0, time.UTC)}
	sb.now = clock.now

	st, _, out := call(t, "POST", base+"/tokens", map[string]any{"type": "card", "number": "4242424242424242", "expiry_month": 6, "expiry_year": 2031})
	tok, _ := out["token"].(string)
	if st != http.StatusCreated || len(tok) != 30 || !strings.HasPrefix(tok, "tok_") || strings.ToLower(tok) != tok ||
		out["last4"] != "4242" || out["bin"] != "424242" || out["expires_on"] != "2030-05-01T12:15:00Z" {
		t.Fatalf("token = %d %v", st, out)
	}
	st, _, out = call(t, "POST", base+"/tokens", map[string]any{"type": "card", "number": "4242424242424241", "expiry_month": 4, "expiry_year": 2030, "cvv": "12"})
	if want := []string{"card_number_invalid", "card_expired", "cvv_invalid"}; st != 422 || !reflect.DeepEqual(codes(out), want) {
		t.Errorf("invalid card = %d %v", st, out)
	}

	clock.advance(15 * time.Minute)
	if st, _, out := call(t, "POST", base+"/payments", paymentBody(tok)); st != 422 || !reflect.DeepEqual(codes(out), []string{"token_expired"}) {
		t.Errorf("expired token = %d %v", st, out)
	}
}

func TestPaymentValidation(t *testing.T) {
	_, base := newTestSandbox(t, Config{})
	tok := tokenFor(t, base, "4242424242424242")
	cases := []struct {
		name string
		edit func(map[string]any)
		want []string
	}{
		{"source id", func(p map[string]any) { p["source"] = map[string]any{"type": "id", "id": "src_x"} }, []string{"source_invalid"}},
		{"no token", func(p map[string]any) { p["source"] = map[string]any{"type": "token"} }, []string{"token_required"}},
		{"amount as string", func(p map[string]any) { p["amount"] = "1000" }, []string{"amount_invalid"}},
		{"fractional amount", func(p map[string]any) { p["amount"] = 10.5 }, []string{"amount_invalid"}},
		{"negative amount", func(p map[string]any) { p["amount"] = -1 }, []string{"amount_invalid"}},
		{"currency", func(p map[string]any) { p["currency"] = "G1P" }, []string{"currency_invalid"}},
		{"nested metadata", func(p map[string]any) { p["metadata"] = map[string]any{"a": map[string]any{"b": 1}} }, []string{"metadata_invalid"}},
		{"long metadata", func(p map[string]any) { p["metadata"] = map[string]any{"a": strings.Repeat("x", 256)} }, []string{"metadata_invalid"}},
		{"channel", func(p map[string]any) { p["processing_channel_id"] = "ch_1" }, []string{"processing_channel_id_invalid"}},
		{"short channel", func(p map[string]any) { p["processing_channel_id"] = "pc_payflowdev000000000000000" }, []string{"processing_channel_id_invalid"}},
		{"channel characters", func(p map[string]any) { p["processing_channel_id"] = "pc_PAYFLOWDEV0000000000000000" }, []string{"processing_channel_id_invalid"}},
		{"no channel", func(p map[string]any) { delete(p, "processing_channel_id") }, []string{"processing_channel_id_required"}},
	}
	for _, tc := range cases {
		p := paymentBody(tok)
		tc.edit(p)
		st, _, out := call(t, "POST", base+"/payments", p)
		if st != 422 || !reflect.DeepEqual(codes(out), tc.want) || out["error_type"] != "request_invalid" || out["request_id"] == "" {
			t.Errorf("%s: %d %v", tc.name, st, out)
		}
	}
	// Validation failures leave the token usable; primitive metadata passes.
	p := paymentBody(tok)
	p["metadata"] = map[string]any{"n": 1, "b": true, "s": strings.Repeat("x", 255)}
	if st, _, out := call(t, "POST", base+"/payments", p); st != 201 || out["approved"] != true {
		t.Errorf("valid payment = %d %v", st, out)
	}
}

func TestAuthAndRequestID(t *testing.T) {
	_, base := newTestSandbox(t, Config{})
	req, err := http.NewRequest("GET", base+"/payments/pay_x", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", testSecret) // missing Bearer
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 401 || resp.Header.Get("Cko-Request-Id") == "" || !strings.Contains(string(b), `"request_id"`) {
		t.Errorf("401 = %d %s %v", resp.StatusCode, b, resp.Header)
	}
	if strings.Contains(string(b), testSecret) {
		t.Error("401 body echoes the key")
	}
	if st, h, _ := call(t, "GET", base+"/payments/pay_x", nil); st != 404 || h.Get("Cko-Request-Id") == "" {
		t.Errorf("404 = %d %v", st, h)
	}
}

func TestIdempotencyInFlightAndScope(t *testing.T) {
	sb, base := newTestSandbox(t, Config{})
	sb.mu.Lock()
	sb.idem[idemKey{path: Prefix + "/payments", key: "busy"}] = &idemEntry{}
	sb.mu.Unlock()
	tok := tokenFor(t, base, "4242424242424242")
	st, _, out := call(t, "POST", base+"/payments", paymentBody(tok), "Cko-Idempotency-Key", "busy")
	if st != http.StatusConflict || !reflect.DeepEqual(codes(out), []string{"request_in_progress"}) {
		t.Fatalf("in flight = %d %v", st, out)
	}

	// A failed request leaves its key unused; a success is replayed verbatim.
	p := paymentBody(tok)
	p["amount"] = 0
	if st, _, _ := call(t, "POST", base+"/payments", p, "Cko-Idempotency-Key", "k"); st != 422 {
		t.Fatalf("invalid = %d", st)
	}
	st1, _, first := call(t, "POST", base+"/payments", paymentBody(tok), "Cko-Idempotency-Key", "k")
	st2, _, again := call(t, "POST", base+"/payments", paymentBody(tok), "Cko-Idempotency-Key", "k")
	if st1 != 201 || st2 != 201 || !reflect.DeepEqual(first, again) {
		t.Fatalf("replay = %d %v / %d %v", st1, first, st2, again)
	}
	// The same key on another path is a different request.
	id := first["id"].(string)
	c1, _, a := call(t, "POST", base+"/payments/"+id+"/voids", map[string]any{}, "Cko-Idempotency-Key", "k")
	if c1 != 202 || a["action_id"] == "" {
		t.Errorf("void with reused key = %d %v", c1, a)
	}
}

func TestCloseCancelsScheduledEvents(t *testing.T) {
	var mu sync.Mutex
	got := 0
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got++
		mu.Unlock()
	}))
	defer rx.Close()
	sb, base := newTestSandbox(t, Config{WebhookURL: rx.URL})
	tok := tokenFor(t, base, "4242424242424242")
	st, _, out := call(t, "POST", base+"/payments", paymentBody(tok))
	if st != 201 {
		t.Fatal(st)
	}
	sb.Close()
	sb.Flush() // nothing scheduled any more; must not block
	mu.Lock()
	defer mu.Unlock()
	if got != 0 {
		t.Errorf("webhooks after Close = %d", got)
	}
	if p := sb.payments[out["id"].(string)]; p.status != statusAuthorized {
		t.Errorf("status after Close = %s", p.status)
	}
}

func TestThreeDSPageAndForm(t *testing.T) {
	_, base := newTestSandbox(t, Config{})
	p := paymentBody(tokenFor(t, base, "4000000000003220"))
	p["3ds"] = map[string]any{"enabled": true}
	p["success_url"] = "https://shop.example/ok"
	p["failure_url"] = "https://shop.example/fail"
	st, _, out := call(t, "POST", base+"/payments", p)
	links, _ := out["_links"].(map[string]any)
	redirect, _ := links["redirect"].(map[string]any)
	if st != 202 || out["status"] != "Pending" || redirect["href"] != base+"/3ds/"+out["id"].(string) {
		t.Fatalf("3ds payment = %d %v", st, out)
	}
	page, err := http.Get(redirect["href"].(string))
	if err != nil {
		t.Fatal(err)
	}
	html, err := io.ReadAll(page.Body)
	page.Body.Close()
	if err != nil || !strings.Contains(string(html), `value="approved"`) || !strings.Contains(string(html), `value="declined"`) {
		t.Fatalf("page = %s %v", html, err)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(base+"/_control/3ds/"+out["id"].(string), url.Values{"outcome": {"declined"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "https://shop.example/fail?cko-session-id=sid_"+strings.TrimPrefix(out["id"].(string), "pay_") {
		t.Errorf("form post = %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if st, _, got := call(t, "GET", base+"/payments/"+out["id"].(string), nil); st != 200 || got["status"] != "Declined" || got["response_code"] != "20005" {
		t.Errorf("after decline = %d %v", st, got)
	}
}
