package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/payflow/payflow/workflows"
)

func testOrder(id, method, hash string) Order {
	return Order{OrderID: id, Status: workflows.StatusPending, Amount: 2500, Currency: "USD", PaymentMethod: method,
		CustomerEmail: "ada@example.com", RequestHash: hash, WorkflowID: "checkout/" + id}
}

func tokenOf(t *testing.T, s *Store, orderID string) string {
	t.Helper()
	tok, err := s.PaymentToken(context.Background(), orderID)
	if errors.Is(err, ErrNotFound) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// A new card order is stored with its token in one statement; the same order
// id again (a retry, or another body) returns the first order and neither
// replaces nor adds a token, even once the first was spent; a wallet order
// has none.
func TestCreateOrderWithToken(t *testing.T) {
	s := cmTestStore(t)
	ctx := context.Background()

	o, created, err := s.CreateOrderWithToken(ctx, testOrder("ord_card", "card", "h1"), "tok_first_000000")
	if err != nil || !created {
		t.Fatalf("new card order: created %v, %v", created, err)
	}
	if o.OrderID != "ord_card" || o.Status != workflows.StatusPending || o.Amount != 2500 || o.RequestHash != "h1" ||
		o.WorkflowID != "checkout/ord_card" || o.RunID != "" || o.CustomerEmail != "ada@example.com" || o.CreatedAt.IsZero() {
		t.Fatalf("new card order returned %+v", o)
	}
	if tok := tokenOf(t, s, "ord_card"); tok != "tok_first_000000" {
		t.Fatalf("token %q after creating the order", tok)
	}

	again, created, err := s.CreateOrderWithToken(ctx, testOrder("ord_card", "card", "h2"), "tok_second_00000")
	if err != nil || created {
		t.Fatalf("same order id again: created %v, %v", created, err)
	}
	if again.RequestHash != "h1" || !again.CreatedAt.Equal(o.CreatedAt) {
		t.Fatalf("same order id again returned %+v, want the first order", again)
	}
	if tok := tokenOf(t, s, "ord_card"); tok != "tok_first_000000" {
		t.Fatalf("a second request for the order replaced its token with %q", tok)
	}

	// The charge spent the token: a retry must not bring one back.
	if err := s.SaveOrderSnapshot(ctx, OrderSnapshot{OrderID: "ord_card", Status: workflows.StatusAwaitingPayment, Amount: 2500,
		RunID: "run-1", State: []byte(`{}`), TokenSpent: true}); err != nil {
		t.Fatal(err)
	}
	again, created, err = s.CreateOrderWithToken(ctx, testOrder("ord_card", "card", "h1"), "tok_third_000000")
	if err != nil || created || again.RunID != "run-1" || again.Status != workflows.StatusAwaitingPayment {
		t.Fatalf("retry after the charge: created %v, %+v, %v", created, again, err)
	}
	if tok := tokenOf(t, s, "ord_card"); tok != "" {
		t.Fatalf("a retry after the charge stored token %q", tok)
	}

	w, created, err := s.CreateOrderWithToken(ctx, testOrder("ord_wallet", "rehive", "h3"), "")
	if err != nil || !created || w.PaymentMethod != "rehive" {
		t.Fatalf("wallet order: created %v, %+v, %v", created, w, err)
	}
	if tok := tokenOf(t, s, "ord_wallet"); tok != "" {
		t.Fatalf("wallet order has token %q", tok)
	}
	if _, err := s.GetOrder(ctx, "ord_wallet"); err != nil {
		t.Fatal(err)
	}
}

// Concurrent requests for one order id: exactly one creates it, with its own
// token, and every other one gets that order back (some through the fallback
// read, when the winner committed while their statement ran).
func TestCreateOrderWithTokenConcurrent(t *testing.T) {
	s := cmTestStore(t)
	ctx := context.Background()
	const n = 8
	var wg sync.WaitGroup
	res := make([]Order, n)
	made := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i], made[i], errs[i] = s.CreateOrderWithToken(ctx, testOrder("ord_race", "card", fmt.Sprint("h", i)), fmt.Sprintf("tok_race_%08d", i))
		}()
	}
	wg.Wait()
	winner := -1
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		if made[i] {
			if winner >= 0 {
				t.Fatalf("requests %d and %d both created the order", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no request created the order")
	}
	for i := range n {
		if res[i].RequestHash != fmt.Sprint("h", winner) {
			t.Errorf("request %d got an order with hash %q, want the winner's h%d", i, res[i].RequestHash, winner)
		}
	}
	if tok := tokenOf(t, s, "ord_race"); tok != fmt.Sprintf("tok_race_%08d", winner) {
		t.Fatalf("token %q, want the winner's (%d)", tok, winner)
	}
}

// A snapshot writes the order, its lines, its payment and the status history
// together; a later one updates what moved and leaves the rest; an unknown
// order is ErrNotFound and writes nothing.
func TestSaveOrderSnapshot(t *testing.T) {
	s := cmTestStore(t)
	ctx := context.Background()
	if _, _, err := s.CreateOrderWithToken(ctx, testOrder("ord_snap", "card", "h"), "tok_snap_00000000"); err != nil {
		t.Fatal(err)
	}
	lines := []OrderLine{{SKU: "A", Quantity: 2, UnitPrice: 500}, {SKU: "B", Quantity: 1, UnitPrice: 1500}}
	save := func(o OrderSnapshot) {
		t.Helper()
		o.OrderID, o.State, o.Lines, o.Currency = "ord_snap", []byte(`{"n":1}`), lines, "USD"
		if err := s.SaveOrderSnapshot(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	save(OrderSnapshot{Status: workflows.StatusReserved, Amount: 2500, RunID: "run-1", Detail: "stock reserved"})
	save(OrderSnapshot{Status: workflows.StatusAwaitingPayment, Amount: 2500, PaymentProvider: "checkoutcom", PaymentID: "pay_1", PaymentStatus: "Authorized", TokenSpent: true})
	lines[1].Quantity = 3
	save(OrderSnapshot{Status: workflows.StatusFulfilled, Amount: 2500, PaymentProvider: "checkoutcom", PaymentID: "pay_1", PaymentStatus: "Captured", Detail: "stock committed"})

	o, err := s.GetOrder(ctx, "ord_snap")
	if err != nil || o.Status != workflows.StatusFulfilled || o.RunID != "run-1" || string(o.State) != `{"n": 1}` {
		t.Fatalf("order %+v, %v", o, err)
	}
	var got []string
	if err := s.db.SelectContext(ctx, &got, `SELECT sku || ':' || quantity || ':' || unit_price FROM order_lines WHERE order_id = 'ord_snap' ORDER BY sku`); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[A:2:500 B:3:1500]" {
		t.Fatalf("lines %v", got)
	}
	var pay string
	if err := s.db.GetContext(ctx, &pay, `SELECT status FROM payments WHERE provider = 'checkoutcom' AND provider_payment_id = 'pay_1' AND order_id = 'ord_snap'`); err != nil || pay != "Captured" {
		t.Fatalf("payment %q, %v", pay, err)
	}
	var hist []string
	if err := s.db.SelectContext(ctx, &hist, `SELECT status || '/' || detail FROM order_status_history WHERE order_id = 'ord_snap' ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(hist) != "[reserved/stock reserved awaiting_payment/ fulfilled/stock committed]" {
		t.Fatalf("history %v", hist)
	}
	if tok := tokenOf(t, s, "ord_snap"); tok != "" {
		t.Fatalf("token %q kept after the charge", tok)
	}

	err = s.SaveOrderSnapshot(ctx, OrderSnapshot{OrderID: "ord_none", Status: workflows.StatusReserved, State: []byte(`{}`), Lines: lines, PaymentID: "pay_2", PaymentProvider: "checkoutcom"})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown order: %v", err)
	}
	var n int
	if err := s.db.GetContext(ctx, &n, `SELECT (SELECT count(*) FROM order_lines WHERE order_id = 'ord_none') + (SELECT count(*) FROM payments WHERE provider_payment_id = 'pay_2')`); err != nil || n != 0 {
		t.Fatalf("unknown order wrote %d rows, %v", n, err)
	}
}
