package checkoutcom_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/payflow/payflow/providers/checkoutcom"
	"github.com/payflow/payflow/providers/httpx"
	cksandbox "github.com/payflow/payflow/sandbox/checkoutcom"
)

// Contract tests: the real client against the sandbox over HTTP on 127.0.0.1,
// with webhooks delivered to a local receiver and checked with VerifyWebhook.

const (
	secretKey  = "sk_sbox_contract_secret"
	authKey    = "contract-webhook-authorization"
	signingKey = "contract-webhook-signature"
	cardOK     = "4242424242424242"
	cardDecl   = "4000000000000002"
	cardFunds  = "4000000000009995"
	card3DS    = "4000000000003220"
)

type delivery struct {
	auth, sig string
	body      []byte
}

// receiver records webhook deliveries; failFirst answers 500 to each event's
// first attempt.
type receiver struct {
	mu        sync.Mutex
	got       []delivery
	failFirst bool
	seen      map[string]bool
}

func (rx *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	rx.mu.Lock()
	defer rx.mu.Unlock()
	if rx.failFirst && !rx.seen[string(b)] {
		rx.seen[string(b)] = true
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	rx.got = append(rx.got, delivery{r.Header.Get("Authorization"), r.Header.Get("Cko-Signature"), b})
}

func (rx *receiver) deliveries() []delivery {
	rx.mu.Lock()
	defer rx.mu.Unlock()
	return slices.Clone(rx.got)
}

type env struct {
	t      *testing.T
	sb     *cksandbox.Sandbox
	url    string // the sandbox base, .../sandbox/checkoutcom
	rx     *receiver
	client *checkoutcom.Client
}

func newEnv(t *testing.T, timeout time.Duration) *env {
	t.Helper()
	rx := &receiver{seen: map[string]bool{}}
	rxSrv := httptest.NewServer(rx)
	t.Cleanup(rxSrv.Close)
	sb := cksandbox.New(cksandbox.Config{
		SecretKey:           secretKey,
		WebhookAuthKey:      authKey,
		WebhookSignatureKey: signingKey,
		WebhookURL:          rxSrv.URL + "/webhooks/checkoutcom",
		WebhookBackoff:      []time.Duration{5 * time.Millisecond, 10 * time.Millisecond},
	})
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(func() { sb.Close(); srv.Close() })
	base := srv.URL + cksandbox.Prefix
	return &env{t: t, sb: sb, url: base, rx: rx, client: checkoutcom.New(checkoutcom.Config{
		BaseURL: base, SecretKey: secretKey, ProcessingChannelID: "pc_contract000000000000000000", Timeout: timeout,
		ThreeDS: true, SuccessURL: "https://shop.example/ok", FailureURL: "https://shop.example/fail",
	})}
}

// post sends JSON to a sandbox path and decodes the answer into out.
func (e *env) post(path string, in, out any) int {
	e.t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.Post(e.url+path, "application/json", bytes.NewReader(b))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			e.t.Fatalf("POST %s: %d %v", path, resp.StatusCode, err)
		}
	}
	return resp.StatusCode
}

func (e *env) token(number string) string {
	e.t.Helper()
	var out struct {
		Type, Token, Last4 string
	}
	if st := e.post("/tokens", map[string]any{"type": "card", "number": number, "expiry_month": 12, "expiry_year": 2040, "cvv": "100"}, &out); st != http.StatusCreated {
		e.t.Fatalf("token: HTTP %d", st)
	}
	return out.Token
}

func (e *env) faults(cfg map[string]any) {
	e.t.Helper()
	if st := e.post("/_control/faults", cfg, nil); st != http.StatusOK {
		e.t.Fatalf("faults: HTTP %d", st)
	}
}

type sandboxState struct {
	Stats struct {
		FailedCalls      int `json:"failed_calls"`
		AnswersLost      int `json:"answers_lost"`
		WebhooksSent     int `json:"webhooks_sent"`
		WebhookAttempts  int `json:"webhook_attempts"`
		WebhooksDropped  int `json:"webhooks_dropped"`
		WebhooksReplayed int `json:"webhooks_replayed"`
	} `json:"stats"`
	Summary struct {
		Payments int            `json:"payments"`
		ByStatus map[string]int `json:"by_status"`
	} `json:"summary"`
	Payments []struct {
		ID, Status, Reference string
		Captured, Refunded    int64
		Actions               int
	} `json:"payments"`
}

func (e *env) state() sandboxState {
	e.t.Helper()
	resp, err := http.Get(e.url + "/_control/state")
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var s sandboxState
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		e.t.Fatal(err)
	}
	return s
}

// lost is the number of answers the sandbox has lost on purpose.
func (e *env) lost() int { return e.state().Stats.AnswersLost }

// events flushes the sandbox and returns the verified, parsed deliveries.
func (e *env) events() []*checkoutcom.WebhookEvent {
	e.t.Helper()
	e.sb.Flush()
	var out []*checkoutcom.WebhookEvent
	for _, d := range e.rx.deliveries() {
		if err := checkoutcom.VerifyWebhook(d.auth, d.sig, d.body, authKey, signingKey); err != nil {
			e.t.Fatalf("delivery does not verify: %v", err)
		}
		ev, err := checkoutcom.ParseWebhook(d.body)
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

// byTime orders events by created_on: delivery order is not guaranteed, as
// on Checkout.com, but the sandbox stamps each event when its action happens.
func byTime(evs []*checkoutcom.WebhookEvent) []*checkoutcom.WebhookEvent {
	out := slices.Clone(evs)
	slices.SortStableFunc(out, func(a, b *checkoutcom.WebhookEvent) int { return a.CreatedOn.Compare(b.CreatedOn) })
	return out
}

func types(evs []*checkoutcom.WebhookEvent) []checkoutcom.EventType {
	var out []checkoutcom.EventType
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

func (e *env) pay(tok, ref string, capture bool, key string) (*checkoutcom.Payment, error) {
	return e.client.RequestPayment(context.Background(), checkoutcom.PaymentRequest{
		Token: tok, Amount: 2500, Currency: "USD", Reference: ref, Capture: capture,
		CustomerEmail: "ada@example.com",
		Metadata:      map[string]string{"AccelerateToken": tok, "order_id": ref},
	}, key)
}

func classOf(t *testing.T, err error) *httpx.Error {
	t.Helper()
	var pe *httpx.Error
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want *httpx.Error", err)
	}
	if strings.Contains(pe.Error(), secretKey) {
		t.Fatalf("error leaks the secret key: %v", pe)
	}
	return pe
}

func TestContractApprovedPaymentIsCapturedAndNotified(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	tok := e.token(cardOK)
	p, err := e.pay(tok, "ord_1001", true, "checkout/ord_1001/payment")
	if err != nil {
		t.Fatal(err)
	}
	if p.HTTPStatus != http.StatusCreated || !p.Approved || p.Declined() || p.Status != checkoutcom.StatusAuthorized ||
		p.ResponseCode != checkoutcom.ResponseCodeApproved || !strings.HasPrefix(p.ID, "pay_") || p.Source.Last4 != "4242" {
		t.Fatalf("payment = %+v", p)
	}

	evs := byTime(e.events())
	if got := types(evs); !reflect.DeepEqual(got, []checkoutcom.EventType{checkoutcom.EventPaymentApproved, checkoutcom.EventPaymentCaptured}) {
		t.Fatalf("events = %v", got)
	}
	for _, ev := range evs {
		if ev.Data.ID != p.ID || ev.OrderID() != "ord_1001" || ev.Data.Metadata["AccelerateToken"] != tok ||
			ev.Data.Amount != 2500 || ev.Data.ResponseCode != "10000" || ev.CreatedOn.IsZero() {
			t.Errorf("event = %+v", ev)
		}
	}
	if evs[0].Data.ActionID != p.ActionID || evs[1].Data.ActionID == p.ActionID || evs[0].ID == evs[1].ID {
		t.Errorf("action/event ids: %+v %+v", evs[0], evs[1])
	}

	got, err := e.client.GetPayment(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != checkoutcom.StatusCaptured || got.Balances.TotalCaptured != 2500 || got.Metadata["order_id"] != "ord_1001" {
		t.Errorf("GET payment = %+v balances %+v", got, got.Balances)
	}
	acts, err := e.client.GetActions(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(acts) != 2 || acts[0].Type != checkoutcom.ActionCapture || acts[1].Type != checkoutcom.ActionAuthorization || acts[1].ID != p.ActionID {
		t.Errorf("actions = %+v", acts)
	}
	if st := e.state(); st.Summary.Payments != 1 || st.Payments[0].Captured != 2500 || st.Payments[0].Actions != 2 {
		t.Errorf("state = %+v", st)
	}
}

func TestContractDeclines(t *testing.T) {
	e := newEnv(t, 0)
	for _, tc := range []struct{ card, code string }{{cardDecl, "20005"}, {cardFunds, "20051"}} {
		p, err := e.pay(e.token(tc.card), "ord_"+tc.code, true, "k-"+tc.code)
		if err != nil {
			t.Fatal(err)
		}
		if !p.Declined() || p.Approved || p.Status != checkoutcom.StatusDeclined || p.ResponseCode != tc.code || p.ResponseSummary == "" {
			t.Errorf("%s: payment = %+v", tc.card, p)
		}
	}
	evs := e.events()
	if len(evs) != 2 {
		t.Fatalf("events = %v", types(evs))
	}
	for _, ev := range evs {
		if ev.Type != checkoutcom.EventPaymentDeclined || ev.Data.ResponseCode != strings.TrimPrefix(ev.OrderID(), "ord_") {
			t.Errorf("event = %+v", ev)
		}
	}
	if st := e.state(); st.Summary.ByStatus["Declined"] != 2 || st.Summary.ByStatus["Captured"] != 0 {
		t.Errorf("state = %+v", st.Summary)
	}
}

func TestContractThreeDS(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	ok, err := e.pay(e.token(card3DS), "ord_3ds_ok", true, "k1")
	if err != nil {
		t.Fatal(err)
	}
	if ok.HTTPStatus != http.StatusAccepted || ok.Status != checkoutcom.StatusPending || ok.Declined() ||
		ok.RedirectURL != e.url+"/3ds/"+ok.ID {
		t.Fatalf("payment = %+v", ok)
	}
	page, err := http.Get(ok.RedirectURL)
	if err != nil {
		t.Fatal(err)
	}
	html, err := io.ReadAll(page.Body)
	page.Body.Close()
	if err != nil || page.StatusCode != http.StatusOK || !bytes.Contains(html, []byte(`/_control/3ds/`+ok.ID)) {
		t.Fatalf("3ds page: %d %s %v", page.StatusCode, html, err)
	}
	if got := types(e.events()); !reflect.DeepEqual(got, []checkoutcom.EventType{checkoutcom.EventPaymentPending}) {
		t.Fatalf("events before 3ds = %v", got)
	}

	var out struct{ ID, Status string }
	if st := e.post("/_control/3ds/"+ok.ID, map[string]string{"outcome": "approved"}, &out); st != http.StatusOK || out.Status != "Authorized" {
		t.Fatalf("3ds approve: %d %+v", st, out)
	}
	if st := e.post("/_control/3ds/"+ok.ID, map[string]string{"outcome": "approved"}, nil); st != http.StatusConflict {
		t.Errorf("second 3ds completion: HTTP %d", st)
	}
	bad, err := e.pay(e.token(card3DS), "ord_3ds_bad", true, "k2")
	if err != nil {
		t.Fatal(err)
	}
	if st := e.post("/_control/3ds/"+bad.ID, map[string]string{"outcome": "declined"}, &out); st != http.StatusOK || out.Status != "Declined" {
		t.Fatalf("3ds decline: %d %+v", st, out)
	}

	byOrder := map[string][]checkoutcom.EventType{}
	for _, ev := range byTime(e.events()) {
		byOrder[ev.OrderID()] = append(byOrder[ev.OrderID()], ev.Type)
	}
	want := map[string][]checkoutcom.EventType{
		"ord_3ds_ok":  {checkoutcom.EventPaymentPending, checkoutcom.EventPaymentApproved, checkoutcom.EventPaymentCaptured},
		"ord_3ds_bad": {checkoutcom.EventPaymentPending, checkoutcom.EventPaymentDeclined},
	}
	if !reflect.DeepEqual(byOrder, want) {
		t.Errorf("events = %v", byOrder)
	}
	for id, status := range map[string]checkoutcom.Status{ok.ID: checkoutcom.StatusCaptured, bad.ID: checkoutcom.StatusDeclined} {
		if p, err := e.client.GetPayment(ctx, id); err != nil || p.Status != status {
			t.Errorf("GET %s = %+v, %v", id, p, err)
		}
	}
}

func TestContractCaptureRefundVoid(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	p, err := e.pay(e.token(cardOK), "ord_manual", false, "k-manual")
	if err != nil {
		t.Fatal(err)
	}
	if got := types(e.events()); !reflect.DeepEqual(got, []checkoutcom.EventType{checkoutcom.EventPaymentApproved}) {
		t.Fatalf("capture:false events = %v", got)
	}
	if st := e.state(); st.Payments[0].Status != "Authorized" || st.Payments[0].Captured != 0 {
		t.Fatalf("capture:false payment = %+v", st.Payments[0])
	}

	c1, err := e.client.Capture(ctx, p.ID, checkoutcom.ActionRequest{Reference: "ord_manual"}, "cap-1")
	if err != nil {
		t.Fatal(err)
	}
	c2, err := e.client.Capture(ctx, p.ID, checkoutcom.ActionRequest{Reference: "ord_manual"}, "cap-1")
	if err != nil || c2.ActionID != c1.ActionID || !strings.HasPrefix(c1.ActionID, "act_") {
		t.Fatalf("idempotent capture: %+v %+v %v", c1, c2, err)
	}
	// Accepted, not done: still Authorized until the capture is processed.
	assertStatus(t, e, p.ID, checkoutcom.StatusAuthorized)
	e.sb.Flush()
	assertStatus(t, e, p.ID, checkoutcom.StatusCaptured)
	if _, err := e.client.Capture(ctx, p.ID, checkoutcom.ActionRequest{}, "cap-2"); notAllowed(t, err) {
		t.Errorf("second capture: %v", err)
	}
	if _, err := e.client.Refund(ctx, p.ID, checkoutcom.ActionRequest{Amount: 1000}, "ref-1"); err != nil {
		t.Fatal(err)
	}
	e.sb.Flush()
	assertStatus(t, e, p.ID, checkoutcom.StatusPartiallyRefunded)
	_, err = e.client.Refund(ctx, p.ID, checkoutcom.ActionRequest{Amount: 1501}, "ref-2")
	if pe := classOf(t, err); pe.Class != httpx.Invalid || pe.Status != http.StatusUnprocessableEntity ||
		!slices.Contains(pe.Codes, "refund_amount_exceeds_balance") {
		t.Errorf("over-refund: %v", err)
	}
	if _, err := e.client.Refund(ctx, p.ID, checkoutcom.ActionRequest{}, "ref-3"); err != nil {
		t.Fatal(err)
	}
	e.sb.Flush()
	assertStatus(t, e, p.ID, checkoutcom.StatusRefunded)
	if _, err := e.client.Void(ctx, p.ID, checkoutcom.ActionRequest{}, "void-1"); notAllowed(t, err) {
		t.Errorf("void after refund: %v", err)
	}

	v, err := e.pay(e.token(cardOK), "ord_void", false, "k-void")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Void(ctx, v.ID, checkoutcom.ActionRequest{Reference: "ord_void"}, "void-2"); err != nil {
		t.Fatal(err)
	}
	e.sb.Flush()
	assertStatus(t, e, v.ID, checkoutcom.StatusVoided)
	if _, err := e.client.Capture(ctx, v.ID, checkoutcom.ActionRequest{}, "cap-3"); notAllowed(t, err) {
		t.Errorf("capture after void: %v", err)
	}

	acts, err := e.client.GetActions(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []checkoutcom.ActionType
	for _, a := range acts {
		kinds = append(kinds, a.Type)
	}
	if !reflect.DeepEqual(kinds, []checkoutcom.ActionType{"Refund", "Refund", "Capture", "Authorization"}) || acts[0].Amount != 1500 {
		t.Errorf("actions = %+v", acts)
	}
	var got []checkoutcom.EventType
	for _, ev := range byTime(e.events())[1:] {
		got = append(got, ev.Type)
	}
	want := []checkoutcom.EventType{checkoutcom.EventPaymentCaptured, checkoutcom.EventPaymentRefunded,
		checkoutcom.EventPaymentRefunded, checkoutcom.EventPaymentApproved, checkoutcom.EventPaymentVoided}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events = %v", got)
	}
}

// notAllowed reports whether err is NOT Checkout.com's 403 for an action the
// payment's state does not allow (a Conflict for the client).
func notAllowed(t *testing.T, err error) bool {
	t.Helper()
	pe := classOf(t, err)
	return pe.Class != httpx.Conflict || pe.Status != http.StatusForbidden
}

func assertStatus(t *testing.T, e *env, id string, want checkoutcom.Status) {
	t.Helper()
	p, err := e.client.GetPayment(context.Background(), id)
	if err != nil || p.Status != want {
		t.Fatalf("GET %s = %+v, %v; want %s", id, p, err, want)
	}
}

func TestContractIdempotencyAndTokens(t *testing.T) {
	e := newEnv(t, 0)
	tok := e.token(cardOK)
	first, err := e.pay(tok, "ord_idem", true, "checkout/ord_idem")
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.pay(tok, "ord_idem", true, "checkout/ord_idem")
	if err != nil || again.ID != first.ID || again.Status != first.Status || again.HTTPStatus != http.StatusCreated {
		t.Fatalf("replay = %+v, %v", again, err)
	}
	_, err = e.pay(tok, "ord_idem", true, "another-key")
	if pe := classOf(t, err); pe.Class != httpx.Invalid || !reflect.DeepEqual(pe.Codes, []string{"token_used"}) {
		t.Errorf("token reuse: %v", err)
	}
	_, err = e.pay("tok_aaaaaaaaaaaaaaaaaaaaaaaaaa", "ord_x", true, "k-unknown")
	if pe := classOf(t, err); !reflect.DeepEqual(pe.Codes, []string{"token_invalid"}) {
		t.Errorf("unknown token: %v", err)
	}

	// Concurrent requests with one key: one is carried out; the others get
	// its replay or 409 (InFlight, to be asked again with the same key).
	tok2 := e.token(cardOK)
	ids := make([]string, 4)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			p, err := e.pay(tok2, "ord_race", true, "checkout/ord_race")
			if err != nil {
				if pe := classOf(t, err); pe.Class != httpx.InFlight {
					t.Error(err)
				}
				return
			}
			ids[i] = p.ID
		})
	}
	wg.Wait()
	found, err := e.client.FindPaymentsByReference(context.Background(), "ord_race")
	if err != nil || len(found) != 1 {
		t.Fatalf("payments for ord_race = %+v %v", found, err)
	}
	for _, id := range ids {
		if id != "" && id != found[0].ID {
			t.Errorf("ids = %v, payment %s", ids, found[0].ID)
		}
	}
}

func TestContractErrorClasses(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()

	t.Run("invalid request", func(t *testing.T) {
		md := map[string]string{}
		for i := range 21 {
			md[string(rune('a'+i))] = "v"
		}
		_, err := e.client.RequestPayment(ctx, checkoutcom.PaymentRequest{
			Token: e.token(cardOK), Amount: 0, Currency: "US", Reference: strings.Repeat("r", 51), Metadata: md,
		}, "k-invalid")
		pe := classOf(t, err)
		want := []string{"amount_invalid", "currency_invalid", "reference_invalid", "metadata_invalid"}
		if pe.Class != httpx.Invalid || !reflect.DeepEqual(pe.Codes, want) {
			t.Errorf("err = %+v", pe)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		c := checkoutcom.New(checkoutcom.Config{BaseURL: e.url, SecretKey: "sk_sbox_wrong"})
		_, err := c.GetPayment(ctx, "pay_x")
		if pe := classOf(t, err); pe.Class != httpx.Auth || pe.Status != http.StatusUnauthorized {
			t.Errorf("err = %+v", pe)
		}
	})
	t.Run("unknown payment", func(t *testing.T) {
		_, err := e.client.GetPayment(ctx, "pay_unknown")
		if pe := classOf(t, err); pe.Class != httpx.NotFound {
			t.Errorf("GET: %+v", pe)
		}
		_, err = e.client.Refund(ctx, "pay_unknown", checkoutcom.ActionRequest{}, "k")
		if pe := classOf(t, err); pe.Class != httpx.NotFound {
			t.Errorf("refund: %+v", pe)
		}
	})
}

func TestContractFaults(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	p, err := e.pay(e.token(cardOK), "ord_faults", false, "k-faults")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("500 on a GET is retried", func(t *testing.T) {
		e.faults(map[string]any{"fail_next": 2, "status": 500})
		before := e.state().Stats.FailedCalls
		if _, err := e.client.GetPayment(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		if n := e.state().Stats.FailedCalls - before; n != 2 {
			t.Errorf("failed calls = %d", n)
		}
	})
	t.Run("429 on a keyed POST is retried, one payment", func(t *testing.T) {
		tok := e.token(cardOK)
		e.faults(map[string]any{"fail_next": 1, "status": 429})
		q, err := e.pay(tok, "ord_429", true, "k-429")
		if err != nil || !q.Approved {
			t.Fatalf("payment = %+v, %v", q, err)
		}
		if ps, err := e.client.FindPaymentsByReference(ctx, "ord_429"); err != nil || len(ps) != 1 {
			t.Errorf("payments = %+v %v", ps, err)
		}
	})
	t.Run("more failures than retries", func(t *testing.T) {
		e.faults(map[string]any{"fail_next": 5, "status": 503})
		defer e.faults(map[string]any{})
		_, err := e.client.GetPayment(ctx, p.ID)
		if pe := classOf(t, err); pe.Class != httpx.Retryable || pe.Status != 503 || pe.RetryAfter != time.Second {
			t.Errorf("err = %+v", pe)
		}
	})
	t.Run("503 on an unkeyed POST is not retried", func(t *testing.T) {
		tok := e.token(cardOK)
		e.faults(map[string]any{"fail_next": 2, "status": 503})
		defer e.faults(map[string]any{})
		before := e.state().Stats.FailedCalls
		_, err := e.pay(tok, "ord_503", true, "")
		if pe := classOf(t, err); pe.Class != httpx.Retryable || pe.Status != 503 {
			t.Errorf("err = %+v", pe)
		}
		if n := e.state().Stats.FailedCalls - before; n != 1 {
			t.Errorf("attempts = %d, want 1", n)
		}
	})
	t.Run("latency beyond the timeout", func(t *testing.T) {
		slow := checkoutcom.New(checkoutcom.Config{BaseURL: e.url, SecretKey: secretKey, Timeout: 50 * time.Millisecond})
		e.faults(map[string]any{"latency_ms": 200})
		defer e.faults(map[string]any{})
		_, err := slow.GetPayment(ctx, p.ID)
		if pe := classOf(t, err); pe.Class != httpx.Retryable || pe.Status != 0 {
			t.Errorf("err = %+v", pe)
		}
	})
}

func TestContractWebhookAuthentication(t *testing.T) {
	e := newEnv(t, 0)
	if _, err := e.pay(e.token(cardOK), "ord_auth", true, "k"); err != nil {
		t.Fatal(err)
	}
	e.sb.Flush()
	ds := e.rx.deliveries()
	if len(ds) != 2 {
		t.Fatalf("deliveries = %d", len(ds))
	}
	for _, d := range ds {
		if d.auth != authKey {
			t.Errorf("Authorization = %q", d.auth)
		}
		if err := checkoutcom.VerifyWebhook(d.auth, d.sig, d.body, authKey, signingKey); err != nil {
			t.Errorf("good delivery: %v", err)
		}
		if err := checkoutcom.VerifyWebhook(d.auth, d.sig, d.body, "other-auth", signingKey); !errors.Is(err, checkoutcom.ErrBadAuthorization) {
			t.Errorf("wrong auth key: %v", err)
		}
		if err := checkoutcom.VerifyWebhook(d.auth, d.sig, d.body, authKey, "other-signing"); !errors.Is(err, checkoutcom.ErrBadSignature) {
			t.Errorf("wrong signature key: %v", err)
		}
		tampered := bytes.Replace(d.body, []byte(`"amount":2500`), []byte(`"amount":1`), 1)
		if bytes.Equal(tampered, d.body) {
			t.Fatal("tamper did not change the body")
		}
		if err := checkoutcom.VerifyWebhook(d.auth, d.sig, tampered, authKey, signingKey); !errors.Is(err, checkoutcom.ErrBadSignature) {
			t.Errorf("tampered body: %v", err)
		}
		if err := checkoutcom.VerifyWebhook(d.auth, strings.Repeat("0", 64), d.body, authKey, signingKey); !errors.Is(err, checkoutcom.ErrBadSignature) {
			t.Errorf("wrong signature: %v", err)
		}
	}
}

func TestContractWebhookFaults(t *testing.T) {
	t.Run("drop", func(t *testing.T) {
		e := newEnv(t, 0)
		e.faults(map[string]any{"drop_webhooks": true})
		if _, err := e.pay(e.token(cardOK), "ord_drop", true, "k"); err != nil {
			t.Fatal(err)
		}
		if evs := e.events(); len(evs) != 0 {
			t.Errorf("events = %v", types(evs))
		}
		if st := e.state(); st.Stats.WebhooksDropped != 2 || st.Payments[0].Status != "Captured" {
			t.Errorf("state = %+v", st)
		}
	})
	t.Run("duplicate", func(t *testing.T) {
		e := newEnv(t, 0)
		e.faults(map[string]any{"duplicate_webhooks": true})
		if _, err := e.pay(e.token(cardOK), "ord_dup", true, "k"); err != nil {
			t.Fatal(err)
		}
		e.sb.Flush()
		bodies := map[string][]string{}
		for _, d := range e.rx.deliveries() {
			ev, err := checkoutcom.ParseWebhook(d.body)
			if err != nil {
				t.Fatal(err)
			}
			bodies[ev.ID] = append(bodies[ev.ID], string(d.body))
		}
		if len(bodies) != 2 {
			t.Fatalf("distinct events = %d", len(bodies))
		}
		for id, bs := range bodies {
			if len(bs) != 3 || bs[0] != bs[1] || bs[1] != bs[2] {
				t.Errorf("event %s delivered %d times, bodies equal: %v", id, len(bs), bs[0] == bs[len(bs)-1])
			}
		}
	})
	t.Run("reorder", func(t *testing.T) {
		e := newEnv(t, 0)
		e.faults(map[string]any{"reorder_webhooks": true})
		if _, err := e.pay(e.token(cardOK), "ord_reorder", true, "k"); err != nil {
			t.Fatal(err)
		}
		want := []checkoutcom.EventType{checkoutcom.EventPaymentCaptured, checkoutcom.EventPaymentApproved}
		if got := types(e.events()); !reflect.DeepEqual(got, want) {
			t.Errorf("events = %v", got)
		}
	})
	t.Run("receiver failure is retried", func(t *testing.T) {
		e := newEnv(t, 0)
		e.rx.mu.Lock()
		e.rx.failFirst = true
		e.rx.mu.Unlock()
		if _, err := e.pay(e.token(cardDecl), "ord_retry", true, "k"); err != nil {
			t.Fatal(err)
		}
		if got := types(e.events()); !reflect.DeepEqual(got, []checkoutcom.EventType{checkoutcom.EventPaymentDeclined}) {
			t.Errorf("events = %v", got)
		}
		if st := e.state(); st.Stats.WebhookAttempts != 2 || st.Stats.WebhooksSent != 1 {
			t.Errorf("stats = %+v", st.Stats)
		}
	})
}
