package soak

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"
)

// FaultKinds are the provider faults --faults picks from, in all three
// sandboxes (API.md's fault controls): errors before acting (5xx, 429),
// latency, acting then losing the answer (5xx, a hang past the client's
// deadline, a reset connection), webhooks dropped for good, duplicated and
// reordered, and Rehive approvals that apply later than they answer.
var FaultKinds = []string{"errors", "latency", "lose", "drop", "duplicate", "reorder", "approvals"}

var providers = []string{"checkoutcom", "rehive", "ledger"}

// faultMode draws one fault setting of kind for provider.
func faultMode(rng *rand.Rand, kind, provider string) map[string]any {
	switch kind {
	case "errors":
		return map[string]any{"fail_next": 1 + rng.IntN(3), "status": []int{500, 503, 429}[rng.IntN(3)]}
	case "latency":
		return map[string]any{"latency_ms": 100 + rng.IntN(400)}
	case "lose":
		return map[string]any{"lose_answers_next": 1 + rng.IntN(2), "lose_mode": []string{"5xx", "hang", "reset"}[rng.IntN(3)]}
	case "drop":
		return map[string]any{"drop_webhooks": true}
	case "duplicate":
		return map[string]any{"duplicate_webhooks": true}
	case "reorder":
		return map[string]any{"reorder_webhooks": true, "duplicate_webhooks": true}
	case "approvals":
		if provider == "rehive" {
			return map[string]any{"approvals": "queued"}
		}
	}
	return map[string]any{}
}

// chaos changes every sandbox's faults every couple of seconds until stop.
// Drops are kept short: a dropped webhook is lost for good and only the
// provider lookups at the timers recover it.
func (r *run) chaos(rng *rand.Rand, kinds []string, stop <-chan struct{}) {
	if len(kinds) == 0 {
		return
	}
	before, _ := r.faultStats()
	for cycle := 0; ; cycle++ {
		unfired := r.unfiredFaults(kinds, before)
		for i, p := range providers {
			// Every kind in turn, so that a short soak meets each of them.
			kind := kinds[(cycle+i)%len(kinds)]
			mode := faultMode(rng, kind, p)
			if rng.IntN(4) == 0 {
				mode = map[string]any{} // calm spells let scenarios finish
			}
			if cycle == 0 {
				// The one-shot faults first, in every sandbox: they wait
				// for the calls to strike (keepUnfired), and a fast short
				// soak's scenarios are all under way within a few spells.
				for _, k := range []string{"errors", "lose"} {
					if slices.Contains(kinds, k) {
						maps.Copy(mode, faultMode(rng, k, p))
					}
				}
			}
			if len(unfired) > 0 && i == cycle%len(providers) {
				// A counted fault that has not struck yet (its spells were
				// calm, or saw little traffic) is on again, in one
				// sandbox at a time.
				for k, v := range faultMode(rng, unfired[cycle%len(unfired)], p) {
					mode[k] = v
				}
			}
			r.keepUnfired(p, mode)
			if err := r.c.sandbox(http.MethodPost, "/sandbox/"+p+"/_control/faults", mode, nil); err != nil {
				r.opts.Logf("soak: faults %s: %v", p, err)
			}
		}
		select {
		case <-stop:
			return
		case <-time.After(time.Duration(1500+rng.IntN(1500)) * time.Millisecond):
		}
	}
}

// keepUnfired carries the calls still to fail or to lose answers for, of
// the provider's current setting, into mode: a one-shot fault that no call
// met yet (little traffic to that sandbox in its spell) strikes the next
// calls instead of vanishing, so a short soak meets every kind it asks for.
func (r *run) keepUnfired(provider string, mode map[string]any) {
	var cur struct {
		Faults struct {
			FailNext        int    `json:"fail_next"`
			Status          int    `json:"status"`
			LoseAnswersNext int    `json:"lose_answers_next"`
			LoseMode        string `json:"lose_mode"`
		}
	}
	if err := r.c.sandbox(http.MethodGet, "/sandbox/"+provider+"/_control/faults", nil, &cur); err != nil {
		return // the new setting applies as drawn
	}
	if _, set := mode["fail_next"]; !set && cur.Faults.FailNext > 0 {
		mode["fail_next"], mode["status"] = cur.Faults.FailNext, cur.Faults.Status
	}
	if _, set := mode["lose_answers_next"]; !set && cur.Faults.LoseAnswersNext > 0 {
		mode["lose_answers_next"], mode["lose_mode"] = cur.Faults.LoseAnswersNext, cur.Faults.LoseMode
	}
}

// unfiredFaults are the counted kinds of fault asked for whose counter has
// not moved since before in any sandbox.
func (r *run) unfiredFaults(kinds []string, before map[string]int) []string {
	if before == nil {
		return nil
	}
	now, err := r.faultStats()
	if err != nil {
		return nil
	}
	var out []string
	for _, k := range kinds {
		if _, counted := firedCounter[k]; !counted {
			continue
		}
		fired := false
		for _, p := range providers {
			c := p + "." + firedCounter[k]
			fired = fired || now[c] > before[c]
		}
		if !fired {
			out = append(out, k)
		}
	}
	return out
}

// firedCounter is the sandbox counter each counted fault kind moves.
var firedCounter = map[string]string{"errors": "failed_calls", "lose": "answers_lost", "drop": "webhooks_dropped", "duplicate": "webhooks_replayed"}

func (r *run) clearFaults() error {
	for _, p := range providers {
		if err := r.c.sandbox(http.MethodPost, "/sandbox/"+p+"/_control/faults", map[string]any{}, nil); err != nil {
			return err
		}
	}
	return nil
}

// faultStats reads each sandbox's counters (_control/faults answers them
// without the transaction lists of _control/state).
func (r *run) faultStats() (map[string]int, error) {
	out := map[string]int{}
	for _, p := range providers {
		var st struct{ Stats map[string]any }
		if err := r.c.sandbox(http.MethodGet, "/sandbox/"+p+"/_control/faults", nil, &st); err != nil {
			return nil, err
		}
		for k, v := range st.Stats {
			if n, ok := v.(float64); ok {
				out[p+"."+k] = int(n)
			}
		}
	}
	return out, nil
}

func diffStats(before, after map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range after {
		if d := v - before[k]; d != 0 && faultCounter(k) {
			out[k] = d
		}
	}
	return out
}

// faultCounter: the counters of injected faults (not of normal traffic).
func faultCounter(key string) bool {
	for _, s := range []string{"failed_calls", "answers_lost", "webhooks_dropped", "webhooks_replayed", "webhooks_failed"} {
		if strings.HasSuffix(key, "."+s) {
			return true
		}
	}
	return false
}

// checkFaultsFired: each counted fault the soak asked for struck at least
// once somewhere (a soak whose faults never fired proves nothing).
func (r *run) checkFaultsFired(kinds []string, got map[string]int) []string {
	var v []string
	for _, k := range kinds {
		c, ok := firedCounter[k]
		if !ok {
			continue
		}
		n := 0
		for _, p := range providers {
			n += got[p+"."+c]
		}
		if n == 0 {
			v = append(v, fmt.Sprintf("fault %s was asked for but never fired (%s = 0 in every sandbox)", k, c))
		}
	}
	return v
}
