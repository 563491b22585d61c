package rehive

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

type harness struct {
	t   *testing.T
	sb  *Sandbox
	url string
}

func newHarness(t *testing.T) *harness {
	sb := New(Config{AdminToken: "adm", WebhookSecret: "whs", ManagedCurrencies: []string{"xlm"}, BaseURL: "http://sandbox"})
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(func() { srv.Close(); sb.Close() })
	return &harness{t: t, sb: sb, url: srv.URL + prefix}
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
}

func (h *harness) do(method, path, token string, body any, header ...string) answer {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, h.url+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Token "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, header: resp.Header}
	if err := json.NewDecoder(resp.Body).Decode(&a.body); err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	return a
}

func (h *harness) user(email string, balances map[string]int64) (token, account string) {
	a := h.do("POST", "/_control/users", "", map[string]any{"email": email, "password": "pw", "balances": balances})
	if a.status != http.StatusCreated {
		h.t.Fatalf("create user: %+v", a)
	}
	return a.body["token"].(string), a.body["account"].(string)
}

func data(a answer) map[string]any { m, _ := a.body["data"].(map[string]any); return m }

func TestAuthAndErrors(t *testing.T) {
	h := newHarness(t)
	tok, _ := h.user("ada@example.com", nil)
	for _, tc := range []struct {
		method, path, token string
		body                any
		status              int
	}{
		{"GET", "/3/admin/transactions/x/", "", nil, 401},
		{"GET", "/3/admin/transactions/x/", "nope", nil, 401},
		{"GET", "/3/admin/transactions/x/", tok, nil, 403},
		{"GET", "/3/admin/transactions/x/", "adm", nil, 404},
		{"GET", "/3/accounts/", "adm", nil, 401},
		{"GET", "/3/nothing/here/", tok, nil, 404},
		{"POST", "/3/auth/login/", "", map[string]string{"user": "ada@example.com", "company": "payflow"}, 400},
		{"POST", "/3/auth/login/", "", map[string]string{"user": "ada@example.com", "company": "other", "password": "pw"}, 400},
		{"POST", "/3/admin/transaction-collections/", "adm", map[string]any{"id": "not-a-uuid", "transactions": []any{}}, 400},
		{"PATCH", "/3/admin/transaction-transitions/x/", "adm", map[string]string{"status": "maybe"}, 400},
	} {
		a := h.do(tc.method, tc.path, tc.token, tc.body)
		if a.status != tc.status || a.body["status"] != "error" || a.body["message"] == "" {
			t.Errorf("%s %s (token %q): %d %v", tc.method, tc.path, tc.token, a.status, a.body)
		}
	}
	a := h.do("POST", "/3/auth/login/", "", map[string]string{"user": "ada@example.com", "company": "payflow"})
	if _, ok := data(a)["password"]; !ok {
		t.Errorf("login without password: %v", a.body)
	}
	a = h.do("POST", "/3/auth/login/", "", map[string]string{"user": "ADA@example.com", "company": "payflow", "password": "pw"})
	if a.status != 200 || data(a)["token"] != tok {
		t.Errorf("login: %v", a.body)
	}
}

func TestIdempotentReplay(t *testing.T) {
	h := newHarness(t)
	tok, _ := h.user("ada@example.com", map[string]int64{"USD": 1000})
	body := map[string]any{"amount": 100, "currency": "USD", "recipient": "merchant@payflow.test"}
	first := h.do("POST", "/3/transactions/transfer/", tok, body, "Idempotency-Key", "k1")
	again := h.do("POST", "/3/transactions/transfer/", tok, body, "Idempotency-Key", "k1")
	if first.status != 201 || again.status != 201 || again.header.Get("Idempotent-Replayed") != "true" || first.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("statuses %d/%d, replayed %q", first.status, again.status, again.header.Get("Idempotent-Replayed"))
	}
	if data(first)["id"] != data(again)["id"] || data(first)["status"] != "Pending" {
		t.Fatalf("replay differs: %v / %v", first.body, again.body)
	}
	// A refusal is kept too, as Rehive keeps every answer but a 429: the
	// same key replays it even once the transfer could go through; a new key
	// is a new request.
	big := map[string]any{"amount": 5000, "currency": "USD", "recipient": "merchant@payflow.test"}
	if a := h.do("POST", "/3/transactions/transfer/", tok, big, "Idempotency-Key", "k2"); a.status != 400 {
		t.Fatalf("insufficient: %d", a.status)
	}
	h.do("POST", "/3/admin/transaction-collections/", "adm", map[string]any{"status": "Complete",
		"transactions": []any{map[string]any{"tx_type": "credit", "amount": 5000, "currency": "USD", "user": "ada@example.com"}}})
	if a := h.do("POST", "/3/transactions/transfer/", tok, big, "Idempotency-Key", "k2"); a.status != 400 || a.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("after top-up, same key: %d %v", a.status, a.body)
	}
	if a := h.do("POST", "/3/transactions/transfer/", tok, big, "Idempotency-Key", "k3"); a.status != 201 {
		t.Fatalf("after top-up, new key: %d %v", a.status, a.body)
	}
	// The body is not compared: a key reused for another request replays.
	other := map[string]any{"amount": 1, "currency": "USD", "recipient": "merchant@payflow.test"}
	if a := h.do("POST", "/3/transactions/transfer/", tok, other, "Idempotency-Key", "k1"); a.status != 201 || data(a)["id"] != data(first)["id"] {
		t.Fatalf("reused key: %d %v", a.status, a.body)
	}
	// Scoped to method and URL: the same key elsewhere is another request.
	id := data(first)["id"].(string)
	if a := h.do("PATCH", "/3/admin/transactions/"+id+"/", "adm", map[string]any{"note": "n"}, "Idempotency-Key", "k1"); a.status != 200 || a.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("same key, other URL: %d %v", a.status, a.body)
	}
	long := string(bytes.Repeat([]byte("k"), 100))
	if a := h.do("POST", "/3/transactions/transfer/", tok, body, "Idempotency-Key", long); a.status != 400 {
		t.Fatalf("100-char key: %d", a.status)
	}
}

// Admin collections without a status follow the user lifecycle: unmanaged
// ones complete by themselves, managed ones raise a transition.
func TestCollectionLifecycle(t *testing.T) {
	h := newHarness(t)
	_, acct := h.user("ada@example.com", map[string]int64{"USD": 1000, "XLM": 1000})
	a := h.do("POST", "/3/admin/transaction-collections/", "adm", map[string]any{
		"transactions": []any{map[string]any{"tx_type": "debit", "amount": 300, "currency": "USD", "account": acct}}})
	if a.status != 201 || data(a)["status"] != "Pending" {
		t.Fatalf("create: %d %v", a.status, a.body)
	}
	id := data(a)["id"].(string)
	if a = h.do("GET", "/3/admin/transaction-collections/"+id+"/", "adm", nil); data(a)["status"] != "Complete" {
		t.Fatalf("unmanaged collection: %v", a.body)
	}
	a = h.do("POST", "/3/admin/transaction-collections/", "adm", map[string]any{
		"transactions": []any{map[string]any{"tx_type": "debit", "amount": 300, "currency": "XLM", "user": "ada@example.com"}}})
	colID := data(a)["id"].(string)
	txID := data(a)["transactions"].([]any)[0].(map[string]any)["id"].(string)
	var st struct {
		Counts struct {
			PendingTransitions int `json:"pending_transitions"`
		} `json:"counts"`
		APIBaseURL string `json:"api_base_url"`
	}
	stateAnswer := h.do("GET", "/_control/state", "", nil)
	b, _ := json.Marshal(stateAnswer.body)
	if err := json.Unmarshal(b, &st); err != nil || st.Counts.PendingTransitions != 1 || st.APIBaseURL != "http://sandbox/3" {
		t.Fatalf("state: %s", b)
	}
	// Collections move as a whole; final ones do not move again.
	if a = h.do("PATCH", "/3/admin/transaction-collections/"+colID+"/", "adm", map[string]string{"status": "Failed"}); data(a)["status"] != "Failed" {
		t.Fatalf("patch: %v", a.body)
	}
	if a = h.do("PATCH", "/3/admin/transaction-collections/"+colID+"/", "adm", map[string]string{"status": "Complete"}); a.status != 400 {
		t.Fatalf("patch of a final collection: %d", a.status)
	}
	ctl := h.do("GET", "/_control/transactions/"+txID, "", nil)
	trs := ctl.body["transitions"].([]any)
	if len(trs) != 1 || trs[0].(map[string]any)["status"] != "declined" || ctl.body["status"] != "Failed" {
		t.Fatalf("control view: %v", ctl.body)
	}
	accounts := h.do("GET", "/3/accounts/", h.userToken("ada@example.com"), nil)
	cur := data(accounts)["results"].([]any)[0].(map[string]any)["currencies"].([]any)
	for _, c := range cur {
		c := c.(map[string]any)
		code := c["currency"].(map[string]any)["code"]
		want := map[any]float64{"USD": 700, "XLM": 1000}[code]
		if c["balance"] != want || c["available_balance"] != want {
			t.Fatalf("%v balance: %v", code, c)
		}
	}
}

func (h *harness) userToken(email string) string {
	h.sb.mu.Lock()
	defer h.sb.mu.Unlock()
	return h.sb.st.findUser(email).token
}

func TestMessagesAndControl(t *testing.T) {
	h := newHarness(t)
	h.user("ada@example.com", nil)
	if a := h.do("POST", "/_control/users", "", map[string]any{"email": "ada@example.com", "password": "pw"}); a.status != 400 {
		t.Fatalf("duplicate user: %d", a.status)
	}
	if a := h.do("POST", "/_control/users", "", map[string]any{"email": "b@example.com", "password": "pw", "balances": map[string]int{"ZZZ": 1}}); a.status != 400 {
		t.Fatalf("unknown currency: %d", a.status)
	}
	if a := h.do("GET", "/_control/transactions/nope", "", nil); a.status != 404 {
		t.Fatalf("unknown tx: %d", a.status)
	}
	m := h.do("GET", "/_control/merchant", "", nil)
	if m.body["email"] != "merchant@payflow.test" || m.body["account"] == "" {
		t.Fatalf("merchant: %v", m.body)
	}
	tx := h.do("POST", "/_control/transactions", "", map[string]any{"user": "ada@example.com", "tx_type": "credit", "currency": "USD", "amount": 5, "partner": nil})
	if tx.status != 201 || tx.body["amount"] != 5.0 || tx.body["status"] != "Pending" || tx.body["partner"] != nil {
		t.Fatalf("control tx: %v", tx.body)
	}
	id := tx.body["id"].(string)
	if a := h.do("POST", "/3/admin/transactions/"+id+"/messages/", "adm", map[string]string{"message": "hi", "level": "info", "section": "user"}); a.status != 201 {
		t.Fatalf("message: %d %v", a.status, a.body)
	}
	list := h.do("GET", "/3/admin/transactions/"+id+"/messages/", "adm", nil)
	if data(list)["count"] != 1.0 {
		t.Fatalf("messages: %v", list.body)
	}
	// Faults apply to the API only, never to control endpoints.
	h.do("POST", "/_control/faults", "", map[string]any{"fail_next": 1, "status": 500})
	if a := h.do("GET", "/_control/merchant", "", nil); a.status != 200 {
		t.Fatalf("control call failed: %d", a.status)
	}
	if a := h.do("GET", "/3/admin/transactions/"+id+"/", "adm", nil); a.status != 500 {
		t.Fatalf("fault not applied: %d", a.status)
	}
}
