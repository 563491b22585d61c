package rehive

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/payflow/payflow/providers/httpx"
)

func TestErrorFromResponse(t *testing.T) {
	for name, tc := range map[string]struct {
		status int
		header http.Header
		body   string
		class  httpx.Class
		msg    string
		codes  []string
		retry  time.Duration
	}{
		"field errors": {400, nil, `{"status":"error","message":"Invalid request.","data":{"amount":["Insufficient balance."],"currency":"Invalid currency."}}`,
			httpx.Invalid, "Invalid request. (amount: Insufficient balance.; currency: Invalid currency.)", nil, 0},
		"auth":       {401, nil, `{"status":"error","message":"Invalid token."}`, httpx.Auth, "Invalid token.", nil, 0},
		"forbidden":  {403, nil, `{"status":"error","message":"No."}`, httpx.Auth, "No.", nil, 0},
		"not found":  {404, nil, `{"status":"error","message":"Not found."}`, httpx.NotFound, "Not found.", nil, 0},
		"conflict":   {409, nil, `{"status":"error","message":"Busy."}`, httpx.Conflict, "Busy.", nil, 0},
		"rate limit": {429, http.Header{"Retry-After": {"3"}}, `{"status":"error","message":"Slow down.","error_code":"throttled"}`, httpx.Retryable, "Slow down.", []string{"throttled"}, 3 * time.Second},
		"html 502":   {502, nil, `<html>bad gateway</html>`, httpx.Retryable, "Bad Gateway", nil, 0},
		"data list":  {400, nil, `{"status":"error","message":"Bad.","data":["x"]}`, httpx.Invalid, "Bad.", nil, 0},
	} {
		t.Run(name, func(t *testing.T) {
			h := tc.header
			if h == nil {
				h = http.Header{}
			}
			e := errorFromResponse(&httpx.Response{Status: tc.status, Header: h, Body: []byte(tc.body)})
			if e.Class != tc.class || e.Message != tc.msg || e.Status != tc.status || e.RetryAfter != tc.retry || strings.Join(e.Codes, ",") != strings.Join(tc.codes, ",") {
				t.Fatalf("got %#v", e)
			}
		})
	}
	long := errorFromResponse(&httpx.Response{Status: 400, Header: http.Header{}, Body: []byte(`{"message":"` + strings.Repeat("x", 2000) + `"}`)})
	if len(long.Message) > maxMessage+3 {
		t.Fatalf("message not capped: %d", len(long.Message))
	}
}

// Transport failures are retryable and never carry the tokens.
func TestTransportErrorHasNoSecrets(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	base := srv.URL
	srv.Close() // nothing listens any more
	c := New(Config{BaseURL: base + "/3/", AdminToken: "admin-secret"})
	_, err := c.Accounts(context.Background(), "user-secret")
	var he *httpx.Error
	if !errors.As(err, &he) || he.Class != httpx.Retryable || he.Provider != "rehive" {
		t.Fatalf("err = %#v", err)
	}
	if strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "GET /accounts/") {
		t.Fatalf("message = %q", err.Error())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.GetTransaction(ctx, "t"); httpx.ClassOf(err) != httpx.Retryable || strings.Contains(err.Error(), "secret") {
		t.Fatalf("cancelled: %v", err)
	}
}

// A 2xx that is not JSON is reported, not silently accepted.
func TestMalformedSuccess(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`<html>`))
	}))
	defer srv.Close()
	_, err := New(Config{BaseURL: srv.URL}).GetTransaction(context.Background(), "t")
	var he *httpx.Error
	if !errors.As(err, &he) || he.Status != 200 || !strings.Contains(he.Message, "malformed") {
		t.Fatalf("err = %#v", err)
	}
}

func TestRequestShape(t *testing.T) {
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		_, _ = w.Write([]byte(`{"status":"success","data":{"id":"tr","status":"approved"}}`))
	}))
	defer srv.Close()
	c := New(Config{BaseURL: srv.URL + "/3", AdminToken: "adm", HTTPClient: &http.Client{}, Timeout: time.Second})
	tr, err := c.ApproveTransition(context.Background(), "a/b", "key-1")
	if err != nil || tr.Status != TransitionApproved {
		t.Fatalf("%+v, %v", tr, err)
	}
	if got.Method != http.MethodPatch || got.URL.EscapedPath() != "/3/admin/transaction-transitions/a%2Fb/" ||
		got.Header.Get("Authorization") != "Token adm" || got.Header.Get("Idempotency-Key") != "key-1" {
		t.Fatalf("request = %s %s %v", got.Method, got.URL.EscapedPath(), got.Header)
	}
	if k := idempotencyKey(strings.Repeat("a", 100)); len(k) >= 100 || k != idempotencyKey(strings.Repeat("a", 100)) {
		t.Fatalf("long key = %q", k)
	}
}
