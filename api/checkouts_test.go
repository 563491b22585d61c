package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/payflow/payflow/store"
)

func cardCheckout(orderID, token string) string {
	return fmt.Sprintf(`{"order_id":%q,"currency":"USD","lines":[{"sku":"TEE","quantity":2}],"payment":{"method":"card","processor_token":%q}}`, orderID, token)
}

// A card checkout stores its token with the order; the answer carries the
// run id, which the API does not write to the order; the same body again
// answers 200 with the same checkout and another body 409, neither touching
// the token.
func TestCreateCheckoutRunAndToken(t *testing.T) {
	e := newEdgeApp(t, "", nil)
	putTee(t, e)
	ctx := context.Background()
	body := cardCheckout("ord_run", "tok_first_0000000")
	r := e.do(t, request("POST", "/v1/checkouts", body, nil))
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var created checkoutCreated
	if err := json.Unmarshal(r.Body, &created); err != nil {
		t.Fatal(err)
	}
	want := checkoutCreated{OrderID: "ord_run", WorkflowID: "checkout/ord_run", RunID: "run-checkout/ord_run", Status: "pending", Amount: 2000, Currency: "USD"}
	if created != want {
		t.Fatalf("created %+v, want %+v", created, want)
	}
	// The workflow's first save records the run, not the API (the fake
	// Temporal runs no workflow).
	if o, err := e.store.GetOrder(ctx, "ord_run"); err != nil || o.RunID != "" || o.Status != "pending" {
		t.Fatalf("order after the answer: %+v, %v", o, err)
	}

	again := e.do(t, request("POST", "/v1/checkouts", body, nil))
	if again.Status != 200 || string(again.Body) != string(r.Body) {
		t.Fatalf("same body again: %d %s, want 200 %s", again.Status, again.Body, r.Body)
	}
	other := e.do(t, request("POST", "/v1/checkouts", cardCheckout("ord_run", "tok_second_000000"), nil))
	if other.Status != 409 || other.Error.Code != "order_conflict" {
		t.Fatalf("another body: %d %s", other.Status, other.Body)
	}
	if tok, err := e.store.PaymentToken(ctx, "ord_run"); err != nil || tok != "tok_first_0000000" {
		t.Fatalf("token %q, %v; want the first request's", tok, err)
	}
	if n := e.temporal.starts.Load(); n != 2 {
		t.Fatalf("%d starts, want 2 (the retry starts again, idempotently)", n)
	}

	if w := e.do(t, request("POST", "/v1/checkouts", checkout("ord_wallet", "TEE", ""), nil)); w.Status != 201 {
		t.Fatalf("wallet checkout: %d %s", w.Status, w.Body)
	}
	if tok, err := e.store.PaymentToken(ctx, "ord_wallet"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("wallet order has token %q (%v)", tok, err)
	}
}

// BenchmarkCreateCheckout is POST /v1/checkouts of a card checkout, new
// order ids, through the whole API over PostgreSQL and a fake Temporal that
// starts at once: one at a time, with and without an Idempotency-Key, and 32
// in flight (the bench's concurrency), which reports the latency's p50 and
// p99.
func BenchmarkCreateCheckout(b *testing.B) {
	e := newEdgeApp(b, "", nil)
	if _, err := e.store.PutProduct(context.Background(), store.Product{SKU: "TEE", Name: "Tee", Price: 1000, Currency: "USD", Stock: 1 << 40, Active: true}); err != nil {
		b.Fatal(err)
	}
	post := func(b *testing.B, id string, keyed bool) {
		var h map[string]string
		if keyed {
			h = map[string]string{"Idempotency-Key": "key-" + id}
		}
		if r := e.do(b, request("POST", "/v1/checkouts", cardCheckout(id, "tok_bench_0000000"), h)); r.Status != 201 {
			b.Fatalf("%d %s", r.Status, r.Body)
		}
	}
	var run atomic.Int64 // order ids unique across runs of a sub-benchmark
	for _, keyed := range []bool{false, true} {
		name := "plain"
		if keyed {
			name = "idempotency_key"
		}
		b.Run(name, func(b *testing.B) {
			r := run.Add(1)
			for i := range b.N {
				post(b, fmt.Sprintf("ord_%d_%d", r, i), keyed)
			}
		})
	}
	b.Run("parallel32", func(b *testing.B) {
		r := run.Add(1)
		var mu sync.Mutex
		var lat []time.Duration
		var n atomic.Int64
		b.SetParallelism(16) // × GOMAXPROCS (2 here): 32 in flight
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				began := time.Now()
				post(b, fmt.Sprintf("ord_%d_%d", r, n.Add(1)), false)
				d := time.Since(began)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		})
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	})
}

// A start that fails answers 503 with the order and its token recorded; the
// same request again starts it (200, as for any repeat) without a second
// token.
func TestCreateCheckoutStartFailsThenRetry(t *testing.T) {
	e := newEdgeApp(t, "", nil)
	putTee(t, e)
	ctx := context.Background()
	body := cardCheckout("ord_retry_start", "tok_retry_0000000")
	e.temporal.Delay = 6 * time.Second // past the start's 5 s
	r := e.do(t, request("POST", "/v1/checkouts", body, nil))
	e.temporal.Delay = 0
	if r.Status != 503 || r.Error.Code != "temporal_unavailable" || r.Error.Message != "the checkout is recorded but could not start; retry the same request" {
		t.Fatalf("failed start: %d %s", r.Status, r.Body)
	}
	if o, err := e.store.GetOrder(ctx, "ord_retry_start"); err != nil || o.Status != "pending" || o.Amount != 2000 {
		t.Fatalf("order after the failed start: %+v, %v", o, err)
	}
	if tok, err := e.store.PaymentToken(ctx, "ord_retry_start"); err != nil || tok != "tok_retry_0000000" {
		t.Fatalf("token after the failed start: %q, %v", tok, err)
	}
	again := e.do(t, request("POST", "/v1/checkouts", body, nil))
	var created checkoutCreated
	if err := json.Unmarshal(again.Body, &created); err != nil || again.Status != 200 || created.RunID != "run-checkout/ord_retry_start" {
		t.Fatalf("retry: %d %s", again.Status, again.Body)
	}
	if n := e.temporal.starts.Load(); n != 1 {
		t.Fatalf("%d starts, want 1", n)
	}
}
