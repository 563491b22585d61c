// Package soak runs a short soak: a random mix of checkouts while the
// Checkout.com sandbox duplicates, reorders and drops webhooks and fails
// calls, then checks the product's invariants.
package soak

import (
	"context"
	"testing"
	"time"

	"github.com/payflow/payflow/soak"
	"github.com/payflow/payflow/testenv"
)

func TestSoakKeepsTheInvariants(t *testing.T) {
	if testing.Short() {
		t.Skip("a soak")
	}
	env, err := testenv.Start(testenv.Options{PaymentTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	rep, err := soak.Run(context.Background(), env, soak.Options{Duration: 10 * time.Second, Concurrency: 4, Pause: 200 * time.Millisecond, Seed: uint64(time.Now().UnixNano()), Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep)
	if rep.Orders < 40 {
		t.Fatalf("only %d checkouts: the soak did not exercise much", rep.Orders)
	}
	for _, v := range rep.Violations {
		t.Error(v)
	}
}
