// Package soak runs short soaks: every scenario of the three flows while the
// sandboxes misbehave, then every invariant, from the providers' books.
package soak

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/payflow/payflow/soak"
	"github.com/payflow/payflow/testenv"
)

func TestSoakKeepsTheInvariants(t *testing.T) {
	if testing.Short() {
		t.Skip("a soak")
	}
	opts := testenv.Options{PaymentTimeout: 8 * time.Second, StallTimeout: 15 * time.Second, ReconcileInterval: 5 * time.Second, LateWindow: 15 * time.Second}
	env, err := testenv.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rep, err := soak.Run(context.Background(), soak.Target{APIURLs: []string{env.APIURL}, SandboxURL: env.SandboxURL, APIKey: env.Config.APIKeys[0],
		PaymentTimeout: opts.PaymentTimeout, StallTimeout: opts.StallTimeout, DB: env.App.Store.DB()},
		soak.Options{Checkouts: 40, Transactions: 20, Deposits: 8, Concurrency: 6, Faults: "all", Seed: seed, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep)
	for _, v := range rep.Violations {
		t.Error(v)
	}
}
