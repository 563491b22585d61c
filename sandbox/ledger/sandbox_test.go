package ledger_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/payflow/payflow/sandbox/ledger"
)

const key = "sandbox-test-key"

// The client package's contract tests cover the API end to end; these cover
// answers the client cannot produce or does not surface.

func newServer(t *testing.T) (*ledger.Sandbox, string) {
	t.Helper()
	sb := ledger.New(ledger.Config{APIKey: key, WebhookSecret: "s", ConfirmDelay: 10 * time.Millisecond})
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(func() { sb.Close(); srv.Close() })
	return sb, srv.URL + ledger.Prefix
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
}

func call(t *testing.T, method, url, auth, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: res.StatusCode, header: res.Header}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		t.Fatalf("%s %s: non-JSON answer %q", method, url, raw)
	}
	return a
}

func errorCode(a answer) string {
	e, _ := a.body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

func TestAPIAnswers(t *testing.T) {
	_, base := newServer(t)
	bearer := "Bearer " + key
	tx := `{"id":"tx-1","type":"withdrawal","account":"acct","amount":5,"currency":"USD","destination":"stall-1"}`
	cases := []struct {
		name, method, path, auth, body string
		status                         int
		code                           string
	}{
		{"no key", "GET", "/v1/accounts/a", "", "", 401, "unauthorized"},
		{"wrong scheme", "GET", "/v1/accounts/a", "Token " + key, "", 401, "unauthorized"},
		{"malformed json", "POST", "/v1/transactions", bearer, `{"id":`, 400, "malformed_json"},
		{"trailing data", "POST", "/v1/transactions", bearer, tx + `{}`, 400, "malformed_json"},
		{"too large", "POST", "/v1/transactions", bearer, `{"metadata":{"k":"` + strings.Repeat("x", 1<<20) + `"}}`, 413, "body_too_large"},
		{"lower-case currency", "POST", "/v1/transactions", bearer, strings.Replace(tx, "USD", "usd", 1), 422, "currency_invalid"},
		{"created", "POST", "/v1/transactions", bearer, tx, 201, ""},
		{"replayed", "POST", "/v1/transactions", bearer, tx, 200, ""},
		{"unknown route", "GET", "/v1/nothing", bearer, "", 404, "not_found"},
		{"confirm unknown", "POST", "/_control/confirm/nope", "", "", 404, "not_found"},
		{"confirm negative", "POST", "/_control/confirm/tx-1", "", `{"count":-1}`, 422, "count_invalid"},
		{"incoming without account", "POST", "/_control/incoming", "", `{"amount":1,"currency":"USD"}`, 422, "account_required"},
		{"incoming bad confirmations", "POST", "/_control/incoming", "", `{"account":"a","amount":1,"currency":"USD","required_confirmations":-1}`, 422, "required_confirmations_invalid"},
	}
	for _, c := range cases {
		a := call(t, c.method, base+c.path, c.auth, c.body)
		if a.status != c.status || errorCode(a) != c.code {
			t.Errorf("%s: got %d %q, want %d %q", c.name, a.status, errorCode(a), c.status, c.code)
		}
		if c.status == 401 && !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: no WWW-Authenticate", c.name)
		}
	}
}

func TestHeldTransactionCannotBeConfirmedByHand(t *testing.T) {
	_, base := newServer(t)
	a := call(t, "POST", base+"/v1/transactions", "Bearer "+key,
		`{"id":"held","type":"deposit","account":"a","amount":5,"currency":"USD","status":"pending"}`)
	if a.status != 201 || a.body["status"] != "pending" {
		t.Fatalf("create: %+v", a)
	}
	if a := call(t, "POST", base+"/_control/confirm/held", "", ""); a.status != 409 || errorCode(a) != "invalid_state" {
		t.Fatalf("confirm held: %+v", a)
	}
}

func TestCloseStopsConfirmations(t *testing.T) {
	sb, base := newServer(t)
	a := call(t, "POST", base+"/v1/transactions", "Bearer "+key,
		`{"id":"wd","type":"withdrawal","account":"a","amount":5,"currency":"USD"}`)
	if a.status != 201 {
		t.Fatalf("create: %+v", a)
	}
	sb.Close()
	time.Sleep(5 * 10 * time.Millisecond) // several confirmation intervals
	if a := call(t, "GET", base+"/_control/transactions/wd", "", ""); a.body["status"] != "pending" || a.body["confirmations"] != 0.0 {
		t.Fatalf("confirmed after Close: %+v", a.body)
	}
	a = call(t, "GET", base+"/_control/state", "", "")
	if counts, _ := a.body["counts"].(map[string]any); counts["pending"] != 1.0 || a.body["faults"] == nil || a.body["stats"] == nil {
		t.Fatalf("state: %+v", a.body)
	}
}
