package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/payflow/payflow/store"
)

func cardCheckout(orderID, token string) string {
	return fmt.Sprintf(`{"order_id":%q,"currency":"USD","lines":[{"sku":"TEE","quantity":2}],"payment":{"method":"card","processor_token":%q}}`, orderID, token)
}

// A card checkout stores its token with the order; the answer carries the
// run id, which the order records soon after (not before the answer); the
// same body again answers 200 with the same checkout and another body 409,
// neither touching the token.
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
	deadline := time.Now().Add(5 * time.Second)
	for {
		o, err := e.store.GetOrder(ctx, "ord_run")
		if err != nil {
			t.Fatal(err)
		}
		if o.RunID == want.RunID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the order's run id is still %q", o.RunID)
		}
		time.Sleep(10 * time.Millisecond)
	}
	list := e.do(t, request("GET", "/v1/checkouts", "", nil))
	var page struct {
		Items []checkoutSummary `json:"items"`
	}
	if err := json.Unmarshal(list.Body, &page); err != nil || len(page.Items) != 1 || page.Items[0].RunID != want.RunID {
		t.Fatalf("list: %d %s (%v)", list.Status, list.Body, err)
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
// starts at once; with and without an Idempotency-Key.
func BenchmarkCreateCheckout(b *testing.B) {
	e := newEdgeApp(b, "", nil)
	if _, err := e.store.PutProduct(context.Background(), store.Product{SKU: "TEE", Name: "Tee", Price: 1000, Currency: "USD", Stock: 1 << 40, Active: true}); err != nil {
		b.Fatal(err)
	}
	for _, keyed := range []bool{false, true} {
		name := "plain"
		if keyed {
			name = "idempotency_key"
		}
		b.Run(name, func(b *testing.B) {
			for i := range b.N {
				id := fmt.Sprintf("ord_%s_%d_%d", name, b.N, i)
				var h map[string]string
				if keyed {
					h = map[string]string{"Idempotency-Key": "key-" + id}
				}
				if r := e.do(b, request("POST", "/v1/checkouts", cardCheckout(id, "tok_bench_0000000"), h)); r.Status != 201 {
					b.Fatalf("%d %s", r.Status, r.Body)
				}
			}
		})
	}
}
