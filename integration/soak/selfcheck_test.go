package soak

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/payflow/payflow/breakage"
	"github.com/payflow/payflow/soak"
	"github.com/payflow/payflow/testenv"
)

// The soak must be able to fail (issue 9): on a payflow that counts a card
// authorisation as payment, a checkout whose capture is then declined ends
// fulfilled without the money, and the soak says so. (The other breakages,
// run against broken production-shape builds, are in the README.)
func TestSoakFailsWhenAnAuthorisationCountsAsPaid(t *testing.T) {
	if testing.Short() {
		t.Skip("a soak")
	}
	breakage.Set(t, breakage.FulfilOnAuthorisation)
	opts := testenv.Options{PaymentTimeout: 8 * time.Second, StallTimeout: 15 * time.Second, ReconcileInterval: 5 * time.Second, LateWindow: 5 * time.Second}
	env, err := testenv.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rep, err := soak.Run(context.Background(), soak.Target{APIURLs: []string{env.APIURL}, SandboxURL: env.SandboxURL, APIKey: env.Config.APIKeys[0],
		PaymentTimeout: opts.PaymentTimeout, StallTimeout: opts.StallTimeout, DB: env.App.Store.DB()},
		soak.Options{Checkouts: 4, Concurrency: 4, Faults: "none", Seed: seed, Logf: t.Logf, Scenarios: []string{"card_capture_declined"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep)
	caught := false
	for _, v := range rep.Violations {
		caught = caught || strings.Contains(v, "card_capture_declined")
	}
	if rep.ByScenario["checkout/card_capture_declined"] == 0 || !caught {
		t.Fatalf("the broken build passed: %d capture-declined checkouts, violations %q", rep.ByScenario["checkout/card_capture_declined"], rep.Violations)
	}
}
