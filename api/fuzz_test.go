package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/payflow/payflow/store"
)

// Fuzz targets, one per group of endpoints (make fuzz runs each): a route,
// a path segment, query parameters, a header and a body from the fuzzer go
// through the whole app — edge checks, authentication, decoding,
// validation, the store on a real PostgreSQL — and the answer must never be
// a 5xx or a panic, and every error must be the JSON error without Go
// internals. Webhooks are signed inside the target so that the fuzzer
// reaches the event parsing behind the authentication.

// fuzzRoute is a method and a path whose {id} the fuzzer fills, with the
// query parameters it fills too.
type fuzzRoute struct {
	method, path string
	params       []string
	sign         func(e *edgeApp, body string) *http.Request // webhooks
}

func fuzzEndpoints(f *testing.F, routes []fuzzRoute, bodies ...string) {
	for i := range routes {
		for _, b := range append(bodies, "", "{}", "null", `{"a":"\u0000"}`, "{}{}", "\xff") {
			f.Add(uint8(i), "ord_1", "1", b, "")
		}
	}
	f.Add(uint8(0), "a%00", "%ff", "[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]", "a\x7f")
	e := newEdgeApp(f, "", map[string]string{"PAYFLOW_BODY_LIMIT": "65536"})
	if _, err := e.store.PutProduct(context.Background(), store.Product{SKU: "TEE", Name: "Tee", Price: 1000, Currency: "USD", Stock: 1_000_000, Active: true}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, route uint8, seg, query, body, header string) {
		r := routes[int(route)%len(routes)]
		if strings.ContainsAny(header, "\r\n") {
			t.Skip("cannot be sent in a header")
		}
		target := strings.ReplaceAll(r.path, "{id}", url.PathEscape(seg))
		if len(r.params) > 0 {
			q := url.Values{}
			for _, p := range r.params {
				q.Set(p, query)
			}
			target += "?" + q.Encode()
		}
		var req *http.Request
		if r.sign != nil {
			req = r.sign(e, body)
		} else {
			req = request(r.method, target, body, nil)
		}
		if header != "" {
			req.Header.Set("Idempotency-Key", header)
			req.Header.Set("X-Request-ID", header)
			req.Header.Set("X-Fuzz", header)
		}
		resp, err := e.app.Test(req, 30_000)
		if err != nil {
			if strings.Contains(err.Error(), "body size exceeds") {
				return // answered 413 by the server, before the app
			}
			t.Fatalf("%s %q: %v", r.method, target, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %q body %q: %d %s", r.method, target, body, resp.StatusCode, b)
		}
		if resp.StatusCode >= 400 {
			var env struct {
				Error *Error `json:"error"`
			}
			if json.Unmarshal(b, &env) != nil || env.Error == nil || env.Error.Code == "" {
				t.Fatalf("%d without the JSON error: %q", resp.StatusCode, b)
			}
			if goInternals.Match(b) {
				t.Fatalf("internals in %s", b)
			}
		}
	})
}

func FuzzCatalog(f *testing.F) {
	fuzzEndpoints(f, []fuzzRoute{
		{method: "PUT", path: "/v1/products/{id}"},
		{method: "GET", path: "/v1/products/{id}", params: []string{"x"}},
	}, product, `{"name":"x","price":-1,"currency":"usd","stock":1e99}`)
}

func FuzzCheckouts(f *testing.F) {
	fuzzEndpoints(f, []fuzzRoute{
		{method: "POST", path: "/v1/checkouts"},
		{method: "GET", path: "/v1/checkouts/{id}"},
		{method: "GET", path: "/v1/checkouts", params: []string{"status", "limit", "cursor"}},
	}, checkout("ord_f1", "TEE", ""), checkout("ord_f2", "TEE", `,"customer":{"email":"a@b.co"}`),
		`{"order_id":"o","currency":"USD","lines":[{"sku":"TEE","quantity":1}],"payment":{"method":"card","processor_token":"tok_abcdefgh1"}}`)
}

func FuzzCheckoutActions(f *testing.F) {
	fuzzEndpoints(f, []fuzzRoute{
		{method: "POST", path: "/v1/checkouts/{id}/cancel"},
		{method: "POST", path: "/v1/checkouts/{id}/rehive/accounts"},
		{method: "POST", path: "/v1/checkouts/{id}/rehive/pay"},
	}, `{"token":"t"}`, `{"token":"t","account":"acc_1"}`)
}

func FuzzCurrencyManager(f *testing.F) {
	fuzzEndpoints(f, []fuzzRoute{
		{method: "GET", path: "/v1/rehive/transactions/{id}"},
		{method: "GET", path: "/v1/deposits/{id}"},
		{method: "PUT", path: "/v1/account-links/{id}"},
		{method: "GET", path: "/v1/account-links/{id}"},
		{method: "GET", path: "/v1/rehive/managed-currencies", params: []string{"x"}},
	}, `{"ledger_account":"l1","currency":"XLM"}`)
}

func FuzzInboxListing(f *testing.F) {
	fuzzEndpoints(f, []fuzzRoute{
		{method: "GET", path: "/v1/webhooks/inbox", params: []string{"provider", "status", "limit", "cursor", "include_payload"}},
	})
}

func FuzzWebhooks(f *testing.F) {
	fresh := time.Now().UTC().Format(time.RFC3339)
	fuzzEndpoints(f, []fuzzRoute{
		{method: "POST", path: "/webhooks/checkoutcom", sign: func(e *edgeApp, b string) *http.Request { return checkoutcomWebhook(e.cfg, b) }},
		{method: "POST", path: "/webhooks/rehive", sign: func(e *edgeApp, b string) *http.Request { return rehiveWebhook(e.cfg, b) }},
		{method: "POST", path: "/webhooks/ledger", sign: func(e *edgeApp, b string) *http.Request { return ledgerWebhook(e.cfg, b) }},
		{method: "POST", path: "/webhooks/checkoutcom"}, // unsigned
	}, ckoEvent("evt_f1", fresh, ""),
		`{"id":"e1","event":"transaction.update","company":"payflow","data":{"id":"tx1","currency":{"code":"XLM"},"status":"Pending","metadata":{"order_id":"o1"}}}`,
		`{"id":"l1","type":"transaction.updated","created":"2024-01-01T00:00:00Z","data":{"id":"tx_1","status":"complete"}}`)
}

// FuzzDecodeBody: the strict decoder never panics, and whatever it accepts
// is one clean JSON value of the target's shape.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{product, checkout("o", "s", ""), `{"token":"t"}`, `{"ledger_account":"l","currency":"XLM"}`, "{}{}", `{"a":1}}`, "\xff"} {
		f.Add(uint8(0), s)
	}
	f.Fuzz(func(t *testing.T, kind uint8, body string) {
		targets := []func() any{
			func() any { return &productBody{} }, func() any { return &checkoutBody{} },
			func() any { return &rehiveTokenBody{} }, func() any { return &accountLinkBody{} },
		}
		v := targets[int(kind)%len(targets)]()
		err := decodeBody([]byte(body), v)
		if err == nil {
			if !json.Valid([]byte(body)) {
				t.Fatalf("accepted %q", body)
			}
			if cb, ok := v.(*checkoutBody); ok {
				_ = cb.validate()
			}
			return
		}
		var apiErr *Error
		if e, ok := err.(*Error); ok {
			apiErr = e
		}
		if apiErr == nil || apiErr.Status != http.StatusBadRequest || goInternals.MatchString(apiErr.Message) {
			t.Fatalf("%q: %v", body, err)
		}
	})
}
