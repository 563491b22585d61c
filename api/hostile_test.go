package api

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/payflow/payflow/store"
)

// hostileCase is one request an attacker (or a broken client or provider)
// sends, and the 4xx it must get.
type hostileCase struct {
	name string
	req  func(e *edgeApp) *http.Request
	want int
	code string // the error code, when it matters
}

func plain(method, target, body string) func(*edgeApp) *http.Request {
	return func(*edgeApp) *http.Request { return request(method, target, body, nil) }
}

func withHeaders(method, target, body string, h map[string]string) func(*edgeApp) *http.Request {
	return func(*edgeApp) *http.Request { return request(method, target, body, h) }
}

func ckoEvent(id, createdOn, extra string) string {
	return fmt.Sprintf(`{"id":%q,"type":"payment_captured","version":"1.0.0","created_on":%q,"data":{"id":"pay_x","amount":100,"currency":"USD","reference":"ord_hostile"%s}}`, id, createdOn, extra)
}

func gz(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return b.String()
}

var (
	long = strings.Repeat("a", 10_000)
	now  = time.Now().UTC()
	// goInternals are Go type or package names a decoding error must not show.
	goInternals = regexp.MustCompile(`Go (struct|value)|int64|float64|\bstring into\b|api\.|main\.|\*fiber|json: |sql: |pq: `)
)

const product = `{"name":"Tee","price":1000,"currency":"USD","stock":5}`

func checkout(orderID, sku, extra string) string {
	return fmt.Sprintf(`{"order_id":%q,"currency":"USD","lines":[{"sku":%q,"quantity":1}],"payment":{"method":"rehive"}%s}`, orderID, sku, extra)
}

func hostileCases() []hostileCase {
	cs := []hostileCase{
		// Catalog.
		{"product: NUL in the path", plain("PUT", "/v1/products/A%00B", product), 400, "invalid_path"},
		{"product: raw invalid UTF-8 in the path", plain("PUT", "/v1/products/A\xffB", product), 400, "invalid_path"},
		{"product: escaped invalid UTF-8 in the path", plain("GET", "/v1/products/%C3%28", ""), 400, "invalid_path"},
		{"product: newline in the path", plain("GET", "/v1/products/A%0AB", ""), 400, "invalid_path"},
		{"product: malformed escape", plain("GET", "/v1/products/A%zz", ""), 400, "invalid_path"},
		{"product: sku too long (GET)", plain("GET", "/v1/products/"+strings.Repeat("S", 65), ""), 404, "product_not_found"},
		{"product: sku too long (PUT)", plain("PUT", "/v1/products/"+strings.Repeat("S", 65), product), 400, "invalid_request"},
		{"product: NUL in a field", plain("PUT", "/v1/products/SKU1", `{"name":"a\u0000b","price":1,"currency":"USD","stock":1}`), 400, "malformed_json"},
		{"product: control character in a field", plain("PUT", "/v1/products/SKU1", `{"name":"a\u001bb","price":1,"currency":"USD","stock":1}`), 400, "malformed_json"},
		{"product: invalid UTF-8 in a field", plain("PUT", "/v1/products/SKU1", "{\"name\":\"a\xffb\",\"price\":1,\"currency\":\"USD\",\"stock\":1}"), 400, "malformed_json"},
		{"product: a second JSON value", plain("PUT", "/v1/products/SKU1", product+` {"name":"x"}`), 400, "malformed_json"},
		{"product: a stray closing brace", plain("PUT", "/v1/products/SKU1", product+`}`), 400, "malformed_json"},
		{"product: garbage after the value", plain("PUT", "/v1/products/SKU1", product+`garbage`), 400, "malformed_json"},
		{"product: price as a string", plain("PUT", "/v1/products/SKU1", `{"name":"x","price":"12","currency":"USD","stock":1}`), 400, "malformed_json"},
		{"product: price overflowing int64", plain("PUT", "/v1/products/SKU1", `{"name":"x","price":1e30,"currency":"USD","stock":1}`), 400, "malformed_json"},
		{"product: price too high", plain("PUT", "/v1/products/SKU1", `{"name":"x","price":1000000000001,"currency":"USD","stock":1}`), 400, "invalid_request"},
		{"product: negative stock", plain("PUT", "/v1/products/SKU1", `{"name":"x","price":1,"currency":"USD","stock":-1}`), 400, "invalid_request"},
		{"product: unknown field", plain("PUT", "/v1/products/SKU1", `{"name":"x","price":1,"currency":"USD","stock":1,"admin":true}`), 400, "malformed_json"},
		{"product: name too long", plain("PUT", "/v1/products/SKU1", `{"name":"`+long+`","price":1,"currency":"USD","stock":1}`), 400, "invalid_request"},
		{"product: deep nesting", plain("PUT", "/v1/products/SKU1", strings.Repeat("[", 50)+strings.Repeat("]", 50)), 400, "malformed_json"},
		{"product: not an object", plain("PUT", "/v1/products/SKU1", `[1,2]`), 400, "malformed_json"},
		{"product: truncated", plain("PUT", "/v1/products/SKU1", `{"name":"x",`), 400, "malformed_json"},
		{"product: wrong content type", withHeaders("PUT", "/v1/products/SKU1", product, map[string]string{"Content-Type": "text/plain"}), 415, "unsupported_media_type"},
		{"product: look-alike content type", withHeaders("PUT", "/v1/products/SKU1", product, map[string]string{"Content-Type": "application/jsonp"}), 415, "unsupported_media_type"},
		{"product: gzip body", withHeaders("PUT", "/v1/products/SKU1", gz(product), map[string]string{"Content-Encoding": "gzip"}), 415, "content_encoding_unsupported"},
		{"product: NUL in a query parameter", plain("GET", "/v1/products/SKU1?x=%00", ""), 400, "invalid_query"},
		{"product: invalid UTF-8 in a query parameter", plain("GET", "/v1/products/SKU1?x=%ff", ""), 400, "invalid_query"},
		{"product: over-long query parameter", plain("GET", "/v1/products/SKU1?x="+strings.Repeat("q", 600), ""), 400, "invalid_query"},
		{"product: control character in a header", withHeaders("GET", "/v1/products/SKU1", "", map[string]string{"X-Note": "a\x7fb"}), 400, "invalid_header"},
		{"product: invalid UTF-8 in a header", withHeaders("GET", "/v1/products/SKU1", "", map[string]string{"X-Note": "a\xffb"}), 400, "invalid_header"},
		{"no bearer key", func(*edgeApp) *http.Request {
			r := request("GET", "/v1/products/SKU1", "", nil)
			r.Header.Del("Authorization")
			return r
		}, 401, "unauthorized"},

		// Checkouts.
		{"checkout: order id too long", plain("POST", "/v1/checkouts", checkout(strings.Repeat("o", 51), "TEE", "")), 400, "invalid_request"},
		{"checkout: NUL in the order id", plain("POST", "/v1/checkouts", checkout("ord\u0000", "TEE", "")), 400, "malformed_json"},
		{"checkout: backslash in the order id", plain("POST", "/v1/checkouts", checkout(`ord\u0000`, "TEE", "")), 400, "invalid_request"},
		{"checkout: sku too long", plain("POST", "/v1/checkouts", checkout("ord_h1", strings.Repeat("s", 65), "")), 400, "invalid_request"},
		{"checkout: quantity overflow", plain("POST", "/v1/checkouts", `{"order_id":"ord_h1","currency":"USD","lines":[{"sku":"TEE","quantity":99999999999999999999}],"payment":{"method":"rehive"}}`), 400, "malformed_json"},
		{"checkout: quantity negative", plain("POST", "/v1/checkouts", `{"order_id":"ord_h1","currency":"USD","lines":[{"sku":"TEE","quantity":-3}],"payment":{"method":"rehive"}}`), 400, "invalid_request"},
		{"checkout: quantity fractional", plain("POST", "/v1/checkouts", `{"order_id":"ord_h1","currency":"USD","lines":[{"sku":"TEE","quantity":1.5}],"payment":{"method":"rehive"}}`), 400, "malformed_json"},
		{"checkout: too many lines", plain("POST", "/v1/checkouts", `{"order_id":"ord_h1","currency":"USD","lines":[`+strings.TrimSuffix(strings.Repeat(`{"sku":"TEE","quantity":1},`, 101), ",")+`],"payment":{"method":"rehive"}}`), 400, "invalid_request"},
		{"checkout: email too long", plain("POST", "/v1/checkouts", checkout("ord_h1", "TEE", `,"customer":{"email":"`+strings.Repeat("e", 300)+`@x.io"}`)), 400, "invalid_request"},
		{"checkout: cart that prices to zero", plain("POST", "/v1/checkouts", checkout("ord_free", "FREE", "")), 422, "zero_amount"},
		{"checkout: unknown sku", plain("POST", "/v1/checkouts", checkout("ord_h2", "NOPE", "")), 422, "invalid_cart"},
		{"checkout: card token with a NUL", plain("POST", "/v1/checkouts", `{"order_id":"ord_h1","currency":"USD","lines":[{"sku":"TEE","quantity":1}],"payment":{"method":"card","processor_token":"tok_\u0000aaaaaaaa"}}`), 400, "malformed_json"},
		{"checkout: two bodies", plain("POST", "/v1/checkouts", checkout("ord_h3", "TEE", "")+checkout("ord_h4", "TEE", "")), 400, "malformed_json"},
		{"checkout: null body", plain("POST", "/v1/checkouts", `null`), 400, "invalid_request"},
		{"checkout: empty body", withHeaders("POST", "/v1/checkouts", "", map[string]string{"Content-Type": "application/json"}), 400, "malformed_json"},
		{"checkout: over-long Idempotency-Key", withHeaders("POST", "/v1/checkouts", checkout("ord_h5", "TEE", ""), map[string]string{"Idempotency-Key": strings.Repeat("k", 256)}), 400, "invalid_idempotency_key"},
		{"checkout: Idempotency-Key with a space", withHeaders("POST", "/v1/checkouts", checkout("ord_h5", "TEE", ""), map[string]string{"Idempotency-Key": "a b"}), 400, "invalid_idempotency_key"},
		{"checkout: Idempotency-Key with UTF-8", withHeaders("POST", "/v1/checkouts", checkout("ord_h5", "TEE", ""), map[string]string{"Idempotency-Key": "clé"}), 400, "invalid_idempotency_key"},
		{"checkout: deflate body", withHeaders("POST", "/v1/checkouts", "x", map[string]string{"Content-Encoding": "deflate"}), 415, "content_encoding_unsupported"},
		{"checkouts: limit not a number", plain("GET", "/v1/checkouts?limit=abc", ""), 400, "invalid_request"},
		{"checkouts: limit overflowing", plain("GET", "/v1/checkouts?limit=99999999999999999999", ""), 400, "invalid_request"},
		{"checkouts: status with a NUL", plain("GET", "/v1/checkouts?status=%00", ""), 400, "invalid_query"},
		{"checkouts: cursor too long", plain("GET", "/v1/checkouts?cursor="+strings.Repeat("c", 300), ""), 400, "invalid_request"},
		{"checkouts: cursor with invalid UTF-8", plain("GET", "/v1/checkouts?cursor=%C3%28", ""), 400, "invalid_query"},
		{"checkouts: unknown cursor", plain("GET", "/v1/checkouts?cursor=ord_never", ""), 400, "invalid_request"},
		{"checkout: order id too long (GET)", plain("GET", "/v1/checkouts/"+strings.Repeat("o", 51), ""), 404, "checkout_not_found"},
		{"checkout: NUL in the order id (GET)", plain("GET", "/v1/checkouts/o%00", ""), 400, "invalid_path"},
		{"cancel: order id too long", plain("POST", "/v1/checkouts/"+strings.Repeat("o", 200)+"/cancel", ""), 404, "checkout_not_found"},
		{"cancel: order id with a quote", plain("POST", "/v1/checkouts/o'1/cancel", ""), 404, "checkout_not_found"},
		{"rehive accounts: token with a NUL", plain("POST", "/v1/checkouts/ord_x/rehive/accounts", `{"token":"a\u0000"}`), 400, "malformed_json"},
		{"rehive accounts: token too long", plain("POST", "/v1/checkouts/ord_x/rehive/accounts", `{"token":"`+long+`"}`), 400, "invalid_request"},
		{"rehive accounts: order id too long", plain("POST", "/v1/checkouts/"+strings.Repeat("o", 60)+"/rehive/accounts", `{"token":"t"}`), 404, "checkout_not_found"},
		{"rehive pay: account with a slash", plain("POST", "/v1/checkouts/ord_x/rehive/pay", `{"token":"t","account":"../x"}`), 400, "invalid_request"},
		{"rehive pay: account too long", plain("POST", "/v1/checkouts/ord_x/rehive/pay", `{"token":"t","account":"`+strings.Repeat("a", 200)+`"}`), 400, "invalid_request"},
		{"rehive pay: trailing data", plain("POST", "/v1/checkouts/ord_x/rehive/pay", `{"token":"t","account":"a"}[]`), 400, "malformed_json"},

		// Inbox listing.
		{"inbox: cursor not a number", plain("GET", "/v1/webhooks/inbox?cursor=abc", ""), 400, "invalid_request"},
		{"inbox: negative cursor", plain("GET", "/v1/webhooks/inbox?cursor=-5", ""), 400, "invalid_request"},
		{"inbox: overflowing cursor", plain("GET", "/v1/webhooks/inbox?cursor=99999999999999999999", ""), 400, "invalid_request"},
		{"inbox: include_payload not a boolean", plain("GET", "/v1/webhooks/inbox?include_payload=yes", ""), 400, "invalid_request"},
		{"inbox: unknown provider", plain("GET", "/v1/webhooks/inbox?provider=stripe", ""), 400, "invalid_request"},
		{"inbox: status with quotes", plain("GET", "/v1/webhooks/inbox?status=x'or'1", ""), 400, "invalid_request"},
		{"inbox: limit zero", plain("GET", "/v1/webhooks/inbox?limit=0", ""), 400, "invalid_request"},

		// Currency manager.
		{"rehive tx: id too long", plain("GET", "/v1/rehive/transactions/"+strings.Repeat("t", 200), ""), 404, "rehive_transaction_not_found"},
		{"rehive tx: NUL in the id", plain("GET", "/v1/rehive/transactions/t%00", ""), 400, "invalid_path"},
		{"deposit: id too long", plain("GET", "/v1/deposits/"+strings.Repeat("d", 200), ""), 404, "deposit_not_found"},
		{"deposit: tab in the id", plain("GET", "/v1/deposits/d%09", ""), 400, "invalid_path"},
		{"account link: NUL in a field", plain("PUT", "/v1/account-links/acc1", `{"ledger_account":"l\u0000","currency":"XLM"}`), 400, "malformed_json"},
		{"account link: ledger account too long", plain("PUT", "/v1/account-links/acc1", `{"ledger_account":"`+strings.Repeat("l", 200)+`","currency":"XLM"}`), 400, "invalid_request"},
		{"account link: account too long (GET)", plain("GET", "/v1/account-links/"+strings.Repeat("a", 200), ""), 404, "account_link_not_found"},
		{"account link: account too long (PUT)", plain("PUT", "/v1/account-links/"+strings.Repeat("a", 200), `{"ledger_account":"l","currency":"XLM"}`), 400, "invalid_request"},
		{"managed currencies: NUL in a query parameter", plain("GET", "/v1/rehive/managed-currencies?x=%00", ""), 400, "invalid_query"},

		// Webhooks: each provider's authentication first, then the event.
		{"checkoutcom: unsigned", plain("POST", "/webhooks/checkoutcom", ckoEvent("evt_1", now.Format(time.RFC3339), "")), 401, "invalid_webhook_credentials"},
		{"checkoutcom: event id of 10 000 bytes", func(e *edgeApp) *http.Request {
			return checkoutcomWebhook(e.cfg, ckoEvent("evt_"+long, now.Format(time.RFC3339), ""))
		}, 400, "malformed_webhook"},
		{"checkoutcom: NUL in the event id", func(e *edgeApp) *http.Request {
			return checkoutcomWebhook(e.cfg, ckoEvent("evt_\u0000", now.Format(time.RFC3339), ""))
		}, 400, "malformed_webhook"},
		{"checkoutcom: NUL in a payload field", func(e *edgeApp) *http.Request {
			return checkoutcomWebhook(e.cfg, ckoEvent("evt_nul_field", now.Format(time.RFC3339), `,"response_summary":"a\u0000b"`))
		}, 400, "malformed_webhook"},
		{"checkoutcom: NUL in the reference", func(e *edgeApp) *http.Request {
			return checkoutcomWebhook(e.cfg, strings.Replace(ckoEvent("evt_nul_ref", now.Format(time.RFC3339), ""), "ord_hostile", `ord\u0000`, 1))
		}, 400, "malformed_webhook"},
		{"checkoutcom: reference of 10 000 bytes", func(e *edgeApp) *http.Request {
			return checkoutcomWebhook(e.cfg, strings.Replace(ckoEvent("evt_long_ref", now.Format(time.RFC3339), ""), "ord_hostile", long, 1))
		}, 400, "malformed_webhook"},
		{"checkoutcom: invalid UTF-8", func(e *edgeApp) *http.Request {
			return checkoutcomWebhook(e.cfg, ckoEvent("evt_utf8", now.Format(time.RFC3339), `,"response_summary":"a`+"\xff"+`"`))
		}, 400, "malformed_webhook"},
		{"checkoutcom: trailing data", func(e *edgeApp) *http.Request {
			return checkoutcomWebhook(e.cfg, ckoEvent("evt_trail", now.Format(time.RFC3339), "")+`{}`)
		}, 400, "malformed_webhook"},
		{"checkoutcom: replayed 80 h later", func(e *edgeApp) *http.Request {
			return checkoutcomWebhook(e.cfg, ckoEvent("evt_old", now.Add(-80*time.Hour).Format(time.RFC3339), ""))
		}, 400, "stale_webhook"},
		{"checkoutcom: dated an hour ahead", func(e *edgeApp) *http.Request {
			return checkoutcomWebhook(e.cfg, ckoEvent("evt_future", now.Add(time.Hour).Format(time.RFC3339), ""))
		}, 400, "stale_webhook"},
		{"checkoutcom: undated", func(e *edgeApp) *http.Request {
			return checkoutcomWebhook(e.cfg, ckoEvent("evt_undated", "", ""))
		}, 400, "malformed_webhook"},
		{"checkoutcom: gzip bomb, signed", func(e *edgeApp) *http.Request {
			r := checkoutcomWebhook(e.cfg, gz(strings.Repeat("{", 1<<20)))
			r.Header.Set("Content-Encoding", "gzip")
			return r
		}, 415, "content_encoding_unsupported"},
		{"checkoutcom: gzip bomb, unsigned", withHeaders("POST", "/webhooks/checkoutcom", gz(strings.Repeat("a", 1<<20)), map[string]string{"Content-Encoding": "gzip"}), 415, "content_encoding_unsupported"},
		{"rehive: wrong secret", withHeaders("POST", "/webhooks/rehive", `{"id":"e1","event":"transaction.update","company":"payflow","data":{}}`, map[string]string{"Authorization": "Secret nope"}), 401, "invalid_webhook_credentials"},
		{"rehive: event id of 10 000 bytes", func(e *edgeApp) *http.Request {
			return rehiveWebhook(e.cfg, `{"id":"`+long+`","event":"transaction.update","company":"payflow","data":{}}`)
		}, 400, "malformed_webhook"},
		{"rehive: NUL in the event id", func(e *edgeApp) *http.Request {
			return rehiveWebhook(e.cfg, `{"id":"e\u0000","event":"transaction.update","company":"payflow","data":{}}`)
		}, 400, "malformed_webhook"},
		{"rehive: NUL in the data", func(e *edgeApp) *http.Request {
			return rehiveWebhook(e.cfg, `{"id":"e_nul_data","event":"transaction.update","company":"payflow","data":{"note":"\u0000"}}`)
		}, 400, "malformed_webhook"},
		{"rehive: not JSON", func(e *edgeApp) *http.Request { return rehiveWebhook(e.cfg, `id=1`) }, 400, "malformed_webhook"},
		{"rehive: another company", func(e *edgeApp) *http.Request {
			return rehiveWebhook(e.cfg, `{"id":"e2","event":"transaction.update","company":"evil","data":{}}`)
		}, 401, "invalid_webhook_credentials"},
		{"ledger: stale signature", withHeaders("POST", "/webhooks/ledger", `{"id":"l1"}`, map[string]string{"Ledger-Signature": "t=1,v1=00"}), 401, "invalid_webhook_credentials"},
		{"ledger: event id of 10 000 bytes", func(e *edgeApp) *http.Request {
			return ledgerWebhook(e.cfg, `{"id":"`+long+`","type":"transaction.updated","created":"2024-01-01T00:00:00Z","data":{"id":"tx_1","status":"complete"}}`)
		}, 400, "malformed_webhook"},
		{"ledger: NUL in the transaction id", func(e *edgeApp) *http.Request {
			return ledgerWebhook(e.cfg, `{"id":"l_nul","type":"transaction.updated","created":"2024-01-01T00:00:00Z","data":{"id":"tx\u0000","status":"complete"}}`)
		}, 400, "malformed_webhook"},

		// Operations.
		{"unknown route", plain("GET", "/v1/nope", ""), 404, "not_found"},
		{"healthz: NUL in a query parameter", plain("GET", "/healthz?x=%00", ""), 400, "invalid_query"},
	}
	return cs
}

// TestHostileInput sends every hostile case and wants its 4xx, the JSON
// error, no Go internals in it, and the security headers; it logs the count
// of cases by answer.
func TestHostileInput(t *testing.T) {
	e := newEdgeApp(t, "", map[string]string{"PAYFLOW_BODY_LIMIT": "65536"})
	ctx := context.Background()
	for _, p := range []store.Product{
		{SKU: "TEE", Name: "Tee", Price: 1000, Currency: "USD", Stock: 100, Active: true},
		{SKU: "FREE", Name: "Sticker", Price: 0, Currency: "USD", Stock: 100, Active: true},
	} {
		if _, err := e.store.PutProduct(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	counts := map[int]int{}
	cases := hostileCases()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(t, c.req(e))
			counts[r.Status]++
			if r.Status != c.want || (c.code != "" && r.Error.Code != c.code) {
				t.Fatalf("got %d %s, want %d %s: %.300s", r.Status, r.Error.Code, c.want, c.code, r.Body)
			}
			if goInternals.Match(r.Body) {
				t.Errorf("the answer shows internals: %.300s", r.Body)
			}
			if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("security headers missing: %v", r.Header)
			}
		})
	}
	var summary []string
	for s, n := range counts {
		summary = append(summary, fmt.Sprintf("%d×%d", n, s))
	}
	sort.Strings(summary)
	t.Logf("%d hostile cases: %s", len(cases), strings.Join(summary, ", "))
	if n := e.temporal.starts.Load(); n != 0 {
		t.Errorf("%d workflows started by hostile requests", n)
	}
}

// TestBodyLimit: over a real connection, a body over PAYFLOW_BODY_LIMIT is a
// 413 with the JSON error, before any authentication.
func TestBodyLimit(t *testing.T) {
	e := newEdgeApp(t, "", map[string]string{"PAYFLOW_BODY_LIMIT": "65536"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = e.app.Listener(ln) }()
	t.Cleanup(func() { _ = e.app.Shutdown() })
	body := ckoEvent("evt_big", now.Format(time.RFC3339), `,"response_summary":"`+strings.Repeat("x", 70_000)+`"`)
	// Headers first, then the answer, then the body: the server refuses on the
	// declared length and may close before a body is read, so a client still
	// writing would see a reset instead of the 413.
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(conn, "POST /webhooks/checkoutcom HTTP/1.1\r\nHost: payflow\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 413 || !strings.Contains(string(b), `"code":"body_too_large"`) {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
}
