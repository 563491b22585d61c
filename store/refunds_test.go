package store

import (
	"context"
	"errors"
	"testing"
)

// A refund's units go back once, never more than were sold and not yet
// restocked, and a later full restock (a cancel) returns only the rest.
func TestRestockLinesThenRestock(t *testing.T) {
	s := cmTestStore(t)
	ctx := context.Background()
	if _, err := s.PutProduct(ctx, Product{SKU: "SHIRT", Name: "Shirt", Price: 1000, Currency: "USD", Stock: 10, Active: true}); err != nil {
		t.Fatal(err)
	}
	stock := func() int64 {
		t.Helper()
		p, err := s.GetProduct(ctx, "SHIRT")
		if err != nil {
			t.Fatal(err)
		}
		return p.Stock
	}
	if err := s.RestockLines(ctx, "ord_1", "rf_0", []Line{{SKU: "SHIRT", Quantity: 1}}); !errors.Is(err, ErrRestockExceeds) {
		t.Fatalf("restock before anything was sold: %v", err)
	}
	if err := s.Reserve(ctx, "ord_1", []Line{{SKU: "SHIRT", Quantity: 3}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, "ord_1"); err != nil {
		t.Fatal(err)
	}
	if got := stock(); got != 7 {
		t.Fatalf("stock %d after selling 3 of 10", got)
	}
	for range 2 { // a retried activity restocks once
		if err := s.RestockLines(ctx, "ord_1", "rf_1", []Line{{SKU: "SHIRT", Quantity: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	if got := stock(); got != 8 {
		t.Fatalf("stock %d after restocking one unit (twice asked), want 8", got)
	}
	if err := s.RestockLines(ctx, "ord_1", "rf_2", []Line{{SKU: "SHIRT", Quantity: 3}}); !errors.Is(err, ErrRestockExceeds) {
		t.Fatalf("restocking 3 of the 2 left: %v", err)
	}
	if got := stock(); got != 8 {
		t.Fatalf("a refused restock moved the stock to %d", got)
	}
	if err := s.Restock(ctx, "ord_1"); err != nil {
		t.Fatal(err)
	}
	if got := stock(); got != 10 {
		t.Fatalf("stock %d after the full restock, want 10 (the 2 units still sold)", got)
	}
	if err := s.Restock(ctx, "ord_1"); err != nil || stock() != 10 {
		t.Fatalf("a second full restock: %v, stock %d", err, stock())
	}
}
