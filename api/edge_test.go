package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/store/storetest"
)

func putTee(t *testing.T, e *edgeApp) {
	t.Helper()
	if _, err := e.store.PutProduct(context.Background(), store.Product{SKU: "TEE", Name: "Tee", Price: 1000, Currency: "USD", Stock: 100, Active: true}); err != nil {
		t.Fatal(err)
	}
}

// Four concurrent requests with one Idempotency-Key and different bodies:
// exactly one 201, the others 409, one workflow started. Then the key
// replays for its body, refuses another, and path variants of the route
// (trailing slash, letter case) share it.
func TestIdempotencyKeyUnderConcurrency(t *testing.T) {
	e := newEdgeApp(t, "", nil)
	putTee(t, e)
	e.temporal.Delay = 300 * time.Millisecond // the requests overlap
	key := map[string]string{"Idempotency-Key": "key-4f9a2c7e"}
	var mu sync.Mutex
	statuses := map[int]int{}
	codes := map[string]int{}
	var created result
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.do(t, request("POST", "/v1/checkouts", checkout(fmt.Sprintf("ord_race_%d", i), "TEE", ""), key))
			mu.Lock()
			defer mu.Unlock()
			statuses[r.Status]++
			codes[r.Error.Code]++
			if r.Status == 201 {
				created = r
			}
		}()
	}
	wg.Wait()
	if statuses[201] != 1 || statuses[409] != 3 || e.temporal.starts.Load() != 1 {
		t.Fatalf("statuses %v codes %v, %d workflows started", statuses, codes, e.temporal.starts.Load())
	}
	var body struct {
		OrderID string `json:"order_id"`
	}
	if err := json.Unmarshal(created.Body, &body); err != nil {
		t.Fatal(err)
	}
	e.temporal.Delay = 0
	for _, path := range []string{"/v1/checkouts", "/v1/checkouts/", "/V1/CHECKOUTS", "/v1/Checkouts/"} {
		r := e.do(t, request("POST", path, checkout(body.OrderID, "TEE", ""), key))
		if r.Status != 201 || string(r.Body) != string(created.Body) || r.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("%s same key, same body: %d %s (replayed %q)", path, r.Status, r.Body, r.Header.Get("Idempotent-Replayed"))
		}
		r = e.do(t, request("POST", path, checkout("ord_other", "TEE", ""), key))
		if r.Status != 409 || r.Error.Code != "idempotency_key_reused" {
			t.Errorf("%s same key, another body: %d %s", path, r.Status, r.Body)
		}
	}
	// Key order and spacing do not make another body.
	reordered := fmt.Sprintf(`{"payment":{"method":"rehive"}, "lines":[{"quantity":1,"sku":"TEE"}],"currency":"USD","order_id":%q}`, body.OrderID)
	if r := e.do(t, request("POST", "/v1/checkouts", reordered, key)); r.Status != 201 {
		t.Errorf("reordered body: %d %s", r.Status, r.Body)
	}
	if n := e.temporal.starts.Load(); n != 1 {
		t.Errorf("%d workflows started", n)
	}
}

// A request that does not succeed releases its key: the retry runs.
func TestIdempotencyKeyReleasedOnFailure(t *testing.T) {
	e := newEdgeApp(t, "", nil)
	key := map[string]string{"Idempotency-Key": "key-retry-1"}
	body := checkout("ord_retry", "TEE", "")
	if r := e.do(t, request("POST", "/v1/checkouts", body, key)); r.Status != 422 {
		t.Fatalf("unknown sku: %d %s", r.Status, r.Body)
	}
	putTee(t, e)
	if r := e.do(t, request("POST", "/v1/checkouts", body, key)); r.Status != 201 {
		t.Fatalf("retry after the sku exists: %d %s", r.Status, r.Body)
	}
}

// Keys expire after the TTL and are pruned; a key still held by a request
// answers request_in_progress, and one whose holder died is taken over when
// its lease ends.
func TestIdempotencyKeyExpiryAndLease(t *testing.T) {
	st, err := store.Open(storetest.MigratedURL(t), 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	k, err := st.ReserveIdempotent(ctx, "s", "k", "h1", time.Hour, time.Hour)
	if err != nil || k.State != store.IdemReserved {
		t.Fatalf("%+v %v", k, err)
	}
	if k, _ = st.ReserveIdempotent(ctx, "s", "k", "h1", time.Hour, time.Hour); k.State != store.IdemInProgress {
		t.Fatalf("held key: %+v", k)
	}
	// The holder died: with a lease of 0 the next request takes it over.
	if k, _ = st.ReserveIdempotent(ctx, "s", "k", "h1", time.Hour, 0); k.State != store.IdemInProgress {
		t.Fatalf("lease still running: %+v", k)
	}
	if _, err := st.DB().Exec(`UPDATE idempotency_keys SET locked_until = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	if k, _ = st.ReserveIdempotent(ctx, "s", "k", "h2", time.Hour, time.Hour); k.State != store.IdemReserved {
		t.Fatalf("lease over: %+v", k)
	}
	if err := st.CompleteIdempotent(ctx, "s", "k", store.IdempotentResponse{RequestHash: "h2", StatusCode: 201, Response: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if k, _ = st.ReserveIdempotent(ctx, "s", "k", "h2", time.Hour, time.Hour); k.State != store.IdemCompleted || k.Response.StatusCode != 201 {
		t.Fatalf("completed: %+v", k)
	}
	if _, err := st.DB().Exec(`UPDATE idempotency_keys SET created_at = now() - interval '25 hours'`); err != nil {
		t.Fatal(err)
	}
	if k, _ = st.ReserveIdempotent(ctx, "s", "k", "h3", 24*time.Hour, time.Hour); k.State != store.IdemReserved {
		t.Fatalf("expired key not reusable: %+v", k)
	}
	if _, err := st.DB().Exec(`INSERT INTO idempotency_keys (scope, key, request_hash, created_at) VALUES ('s', 'old', 'h', now() - interval '25 hours')`); err != nil {
		t.Fatal(err)
	}
	n, err := st.PruneIdempotencyKeys(ctx, 24*time.Hour, 100)
	if err != nil || n != 1 {
		t.Fatalf("pruned %d, %v", n, err)
	}
}

// Every answer carries nosniff and no-store; X-Request-ID is echoed only
// when well-formed.
func TestResponseHeadersAndRequestID(t *testing.T) {
	e := newEdgeApp(t, "", nil)
	for _, c := range []struct {
		rid  string
		echo bool
	}{{"req-1234.abc:9", true}, {"a b", false}, {strings.Repeat("r", 129), false}, {"<script>", false}, {"", false}} {
		r := e.do(t, request("GET", "/healthz", "", map[string]string{"X-Request-ID": c.rid}))
		got := r.Header.Get("X-Request-ID")
		if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("headers %v", r.Header)
		}
		if (got == c.rid) != c.echo || !requestIDPattern.MatchString(got) {
			t.Errorf("X-Request-ID %q answered %q", c.rid, got)
		}
	}
}

// A Checkout.com event retried 47 h after it was created is accepted (and a
// redelivery is a duplicate); one of 73 h is refused whether or not its row
// was pruned.
func TestCheckoutComFreshnessWindow(t *testing.T) {
	e := newEdgeApp(t, "", nil)
	at := func(age time.Duration) string { return time.Now().Add(-age).UTC().Format("2006-01-02T15:04:05.000Z") }
	ev := ckoEvent("evt_retry47", at(47*time.Hour), "")
	for i, want := range []string{`"duplicate":false`, `"duplicate":true`} {
		r := e.do(t, checkoutcomWebhook(e.cfg, ev))
		if r.Status != 200 || !strings.Contains(string(r.Body), want) {
			t.Fatalf("delivery %d: %d %s", i, r.Status, r.Body)
		}
	}
	if r := e.do(t, checkoutcomWebhook(e.cfg, ckoEvent("evt_old73", at(73*time.Hour), ""))); r.Status != 400 || r.Error.Code != "stale_webhook" {
		t.Fatalf("73 h: %d %s", r.Status, r.Body)
	}
}

// The inbox listing pages with a cursor, and shows payloads only on request;
// pruning keeps pending rows and rows newer than the retention.
func TestInboxListingAndPruning(t *testing.T) {
	e := newEdgeApp(t, "", nil)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		status := store.InboxDelivered
		if i == 0 {
			status = store.InboxPending
		}
		if _, _, err := e.store.RecordWebhook(ctx, store.InboxEvent{Provider: "ledger", EventID: fmt.Sprintf("ev%d", i), EventType: "t", Payload: []byte(`{"secret":"x"}`), Status: status}); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	cursor := ""
	for pages := 0; pages < 5; pages++ {
		r := e.do(t, request("GET", "/v1/webhooks/inbox?limit=2"+cursor, "", nil))
		var page struct {
			Items []map[string]any `json:"items"`
			Next  *string          `json:"next_cursor"`
		}
		if r.Status != 200 || json.Unmarshal(r.Body, &page) != nil {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		for _, it := range page.Items {
			seen = append(seen, it["event_id"].(string))
			if _, ok := it["payload"]; ok {
				t.Fatalf("payload listed without include_payload: %s", r.Body)
			}
		}
		if page.Next == nil {
			break
		}
		cursor = "&cursor=" + *page.Next
	}
	if strings.Join(seen, ",") != "ev4,ev3,ev2,ev1,ev0" {
		t.Fatalf("pages gave %v", seen)
	}
	r := e.do(t, request("GET", "/v1/webhooks/inbox?limit=1&include_payload=true", "", nil))
	if !strings.Contains(string(r.Body), `"payload":{"secret":"x"}`) {
		t.Fatalf("include_payload: %s", r.Body)
	}
	if _, err := e.store.DB().Exec(`UPDATE webhook_inbox SET received_at = now() - interval '200 hours' WHERE event_id IN ('ev0', 'ev1', 'ev2')`); err != nil {
		t.Fatal(err)
	}
	n, err := e.store.PruneInbox(ctx, 168*time.Hour, 1000)
	if err != nil || n != 2 {
		t.Fatalf("pruned %d, %v (want ev1 and ev2; ev0 is pending)", n, err)
	}
}

// holdProxy forwards TCP to PostgreSQL until Hold: from then on it accepts
// connections and keeps every byte, answering nothing — a hung database.
type holdProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	held   bool
	conns  []net.Conn
}

func newHoldProxy(t *testing.T, target string) *holdProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &holdProxy{ln: ln, target: target}
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			p.conns = append(p.conns, c)
			p.mu.Unlock()
			go p.pipe(c)
		}
	}()
	return p
}

func (p *holdProxy) Hold() { p.mu.Lock(); p.held = true; p.mu.Unlock() }

func (p *holdProxy) isHeld() bool { p.mu.Lock(); defer p.mu.Unlock(); return p.held }

func (p *holdProxy) pipe(c net.Conn) {
	if p.isHeld() {
		_, _ = io.Copy(io.Discard, c)
		return
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, up)
	p.mu.Unlock()
	// Each direction stops forwarding once held (the bytes are swallowed).
	fwd := func(dst, src net.Conn) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 && !p.isHeld() {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}
	go fwd(up, c)
	fwd(c, up)
}

// A hung database (connections open, nothing answered) gives 503 within
// seconds, on pooled connections and on new ones.
func TestHungDatabaseIs503(t *testing.T) {
	real := storetest.MigratedURL(t)
	u := strings.SplitN(strings.SplitN(real, "@", 2)[1], "/", 2)[0]
	p := newHoldProxy(t, u)
	e := newEdgeApp(t, strings.Replace(real, u, p.ln.Addr().String(), 1), map[string]string{
		"PAYFLOW_DB_STATEMENT_TIMEOUT": "1s", "PAYFLOW_DB_CONNECT_TIMEOUT": "1s", "PAYFLOW_REQUEST_TIMEOUT": "3s",
	})
	putTee(t, e)
	if r := e.do(t, request("GET", "/v1/products/TEE", "", nil)); r.Status != 200 {
		t.Fatalf("before: %d %s", r.Status, r.Body)
	}
	p.Hold()
	for i := 0; i < 3; i++ { // pooled connections first, then new ones
		start := time.Now()
		r := e.do(t, request("GET", "/v1/products/TEE", "", nil))
		took := time.Since(start)
		if r.Status != 503 || took > 5*time.Second {
			t.Fatalf("request %d while hung: %d %s after %s", i, r.Status, r.Body, took)
		}
		t.Logf("hung database: %d %s after %s", r.Status, r.Error.Code, took.Round(10*time.Millisecond))
	}
	start := time.Now()
	resp, err := e.app.Test(request("GET", "/readyz", "", nil), 10_000)
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable || time.Since(start) > 4*time.Second {
		t.Fatalf("readyz while hung: %v %v after %s", resp, err, time.Since(start))
	}
}

// The backstop behind the edge: a value PostgreSQL refuses (class 22) is a
// 400 invalid_value, not a 500, from any handler that maps store errors.
func TestInvalidDataIsA400(t *testing.T) {
	e := newEdgeApp(t, "", nil)
	s := &server{Deps: Deps{Store: e.store}, log: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	_, errNUL := e.store.GetProduct(ctx, "a\x00b")                                                      // 22021 character_not_in_repertoire
	_, errUTF := e.store.GetProduct(ctx, "a\xffb")                                                      // 22021 invalid byte sequence
	_, errNum := e.store.DB().Exec(`SELECT 'x'::int`)                                                   // 22P02 invalid_text_representation
	_, errLong := e.store.DB().Exec(`CREATE TEMP TABLE t (v varchar(2)); INSERT INTO t VALUES ('abc')`) // 22001
	for _, err := range []error{errNUL, errUTF, errNum, errLong} {
		if err == nil {
			t.Fatal("PostgreSQL accepted an invalid value")
		}
		var apiErr *Error
		if !errors.As(s.storeError(err), &apiErr) || apiErr.Status != 400 || apiErr.Code != "invalid_value" {
			t.Errorf("%v mapped to %v", err, s.storeError(err))
		}
	}
}

// With PAYFLOW_OPS_ADDR set, /metrics leaves the API and is served by Ops.
func TestMetricsOnTheOperationsAddress(t *testing.T) {
	reg := prometheus.NewRegistry()
	api := New(Deps{Config: testConfig(t, map[string]string{"PAYFLOW_OPS_ADDR": "127.0.0.1:9100"}), Registry: reg})
	resp, err := api.Test(request("GET", "/metrics", "", nil))
	if err != nil || resp.StatusCode != 404 {
		t.Fatalf("API /metrics: %v %v", resp.StatusCode, err)
	}
	resp, err = Ops(reg).Test(request("GET", "/metrics", "", nil))
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("ops /metrics: %v %v", resp.StatusCode, err)
	}
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), "payflow_http_request_duration_seconds") {
		t.Fatalf("ops /metrics lacks the API's metrics: %.300s", b)
	}
	if resp, _ := New(Deps{Config: testConfig(t, nil)}).Test(request("GET", "/metrics", "", nil)); resp.StatusCode != 200 {
		t.Fatalf("default /metrics: %d", resp.StatusCode)
	}
}
