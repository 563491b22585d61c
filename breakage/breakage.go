// Package breakage breaks payflow on purpose, so that the soak can show it
// catches a broken build (issue 9: a soak that cannot fail proves nothing).
// Each Kind disables one safeguard. Nothing a deployment configures can turn
// one on: no environment variable or setting reaches this package. A kind is
// set either when the binary is built,
//
//	go build -ldflags "-X github.com/payflow/payflow/breakage.build=relay-off" ./cmd/payflow
//
// (how `payflow soak --shape prod` is run against a broken production
// shape), or by a test on an in-process stack with Set.
package breakage

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
)

// Kind names one deliberate breakage.
type Kind string

const (
	// RandomIdempotencyKeys gives every provider call payflow derives a key
	// for a fresh random key instead: a retry after a lost answer pays again.
	RandomIdempotencyKeys Kind = "random-idempotency-keys"
	// RelayOff stops the inbox relay: a webhook whose first delivery failed
	// stays pending for good.
	RelayOff Kind = "relay-off"
	// ReconcileOff never creates the reconciliation's schedule.
	ReconcileOff Kind = "reconcile-off"
	// FulfilOnAuthorisation counts a card authorisation as payment.
	FulfilOnAuthorisation Kind = "fulfil-on-authorisation"
)

// Kinds are every breakage, for the self-checks and for validating build.
var Kinds = []Kind{RandomIdempotencyKeys, RelayOff, ReconcileOff, FulfilOnAuthorisation}

// build is set by the linker (-X): a comma-separated list of Kinds.
var build string

var active atomic.Pointer[[]Kind]

func init() {
	if build == "" {
		return
	}
	var ks []Kind
	for _, s := range strings.Split(build, ",") {
		k := Kind(strings.TrimSpace(s))
		if !slices.Contains(Kinds, k) {
			// A typo would build a working binary that the self-check then
			// blames for passing.
			panic(fmt.Sprintf("breakage: unknown kind %q built in (want some of %v)", k, Kinds))
		}
		ks = append(ks, k)
	}
	active.Store(&ks)
}

// On reports whether k is broken in this process.
func On(k Kind) bool {
	ks := active.Load()
	return ks != nil && slices.Contains(*ks, k)
}

// Active lists the breakages of this process (every command logs them at
// start, so that a broken binary never passes for a good one).
func Active() []Kind {
	if ks := active.Load(); ks != nil {
		return slices.Clone(*ks)
	}
	return nil
}

// Cleaner is the part of testing.TB that Set needs (this package links no
// test code).
type Cleaner interface {
	Helper()
	Cleanup(func())
}

// Set breaks ks in this process until the test ends: for in-process stacks
// (the dev-shape soak test).
func Set(t Cleaner, ks ...Kind) {
	t.Helper()
	prev := active.Load()
	next := slices.Clone(ks)
	active.Store(&next)
	t.Cleanup(func() { active.Store(prev) })
}

// Key returns key, or under RandomIdempotencyKeys a random one.
func Key(key string) string {
	if !On(RandomIdempotencyKeys) {
		return key
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return key + "-" + hex.EncodeToString(b)
}
