// Package soak drives a running payflow with a random mix of checkouts while
// the Checkout.com sandbox misbehaves (duplicated, reordered and dropped
// webhooks, 5xx and latency), then checks PRODUCT.md's invariants: every order
// ends in a terminal status, no reservation outlives its order, stock adds
// up, nothing is charged twice, and nothing paid is left unfulfilled or
// unrefunded. `payflow soak` and a test run it on an in-process stack.
package soak

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/payflow/payflow/testenv"
	"github.com/payflow/payflow/workflows"
)

// Options size a soak.
type Options struct {
	Duration    time.Duration // how long new checkouts are started
	Concurrency int
	// Pause is each worker's rest between checkouts, which sets the load.
	Pause time.Duration
	Seed  uint64
	Logf  func(format string, args ...any)
}

// Report is what a soak did and what it found.
type Report struct {
	Orders     int
	ByScenario map[string]int
	ByStatus   map[string]int
	Elapsed    time.Duration
	Violations []string
}

func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d checkouts in %s (%.1f/s)\n", r.Orders, r.Elapsed.Round(time.Millisecond), float64(r.Orders)/r.Elapsed.Seconds())
	fmt.Fprintf(&b, "scenarios: %s\nfinal statuses: %s\n", counts(r.ByScenario), counts(r.ByStatus))
	if len(r.Violations) == 0 {
		b.WriteString("invariants: all hold\n")
	} else {
		fmt.Fprintf(&b, "invariants: %d violations\n  %s\n", len(r.Violations), strings.Join(r.Violations, "\n  "))
	}
	return b.String()
}

func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

type order struct {
	id, sku, scenario string
	qty, amount       int64
}

type run struct {
	env       *testenv.Env
	opts      Options
	skus      map[string]int64 // initial stock
	mu        sync.Mutex
	orders    []order
	followUps sync.WaitGroup
}

// Run soaks env and checks the invariants.
func Run(ctx context.Context, env *testenv.Env, opts Options) (Report, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 8
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	r := &run{env: env, opts: opts, skus: map[string]int64{}}
	if err := r.setup(); err != nil {
		return Report{}, err
	}
	began := time.Now()
	deadline := began.Add(opts.Duration)
	faultsDone := make(chan struct{})
	go r.chaos(deadline, faultsDone)
	var wg sync.WaitGroup
	errs := make(chan error, opts.Concurrency)
	for w := 0; w < opts.Concurrency; w++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(opts.Seed, seed))
			for time.Now().Before(deadline) && ctx.Err() == nil {
				if err := r.checkout(rng); err != nil {
					errs <- err
					return
				}
				time.Sleep(opts.Pause)
			}
		}(uint64(w))
	}
	wg.Wait()
	r.followUps.Wait()
	<-faultsDone
	close(errs)
	for err := range errs {
		return Report{}, err
	}
	rep := Report{Orders: len(r.orders), ByScenario: map[string]int{}, ByStatus: map[string]int{}}
	for _, o := range r.orders {
		rep.ByScenario[o.scenario]++
	}
	finals := r.settle(ctx)
	rep.Elapsed = time.Since(began)
	for _, st := range finals {
		rep.ByStatus[st.Status]++
	}
	rep.Violations = r.check(ctx, finals)
	return rep, nil
}

func (r *run) setup() error {
	// One scarce product makes checkouts race for the last units; the others
	// rarely run out.
	for i, stock := range []int64{6, 500, 500, 500} {
		sku := fmt.Sprintf("SOAK-%s-%d", testenv.RandomID(2), i)
		if _, err := r.api(http.MethodPut, "/v1/products/"+sku, map[string]any{"name": sku, "price": 500 + 100*i, "currency": "USD", "stock": stock}, http.StatusOK); err != nil {
			return err
		}
		r.skus[sku] = stock
	}
	return nil
}

// scenarios and their weights.
var scenarios = []struct {
	name   string
	weight int
}{
	{"card_approved", 30}, {"card_declined", 10}, {"card_3ds_approved", 8}, {"card_3ds_declined", 5},
	{"card_3ds_abandoned", 4}, {"rehive_paid", 15}, {"rehive_abandoned", 4}, {"cancel_before_payment", 8},
	{"cancel_after_fulfilment", 8},
}

func pick(rng *rand.Rand) string {
	total := 0
	for _, s := range scenarios {
		total += s.weight
	}
	n := rng.IntN(total)
	for _, s := range scenarios {
		if n < s.weight {
			return s.name
		}
		n -= s.weight
	}
	return scenarios[0].name
}

func (r *run) checkout(rng *rand.Rand) error {
	scenario := pick(rng)
	skus := make([]string, 0, len(r.skus))
	for s := range r.skus {
		skus = append(skus, s)
	}
	sort.Strings(skus)
	o := order{id: "soak_" + testenv.RandomID(5), sku: skus[rng.IntN(len(skus))], scenario: scenario, qty: int64(1 + rng.IntN(2))}
	payment := map[string]any{"method": "card"}
	switch {
	case strings.HasPrefix(scenario, "rehive"), scenario == "cancel_before_payment":
		payment["method"] = "rehive"
	default:
		card := map[string]string{"card_approved": "4242424242424242", "cancel_after_fulfilment": "4242424242424242", "card_declined": "4000000000000002"}[scenario]
		if card == "" {
			card = "4000000000003220"
		}
		var tok struct{ Token string }
		var err error
		for attempt := 0; attempt < 5; attempt++ { // the chaos may fail the token call too
			if err = r.sandbox(http.MethodPost, "/sandbox/checkoutcom/tokens", map[string]any{"type": "card", "number": card, "expiry_month": 1, "expiry_year": 2032, "cvv": "123"}, &tok); err == nil {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if err != nil {
			return err
		}
		payment["processor_token"] = tok.Token
	}
	var created struct{ Amount int64 }
	body, err := r.api(http.MethodPost, "/v1/checkouts", map[string]any{"order_id": o.id, "currency": "USD",
		"lines": []map[string]any{{"sku": o.sku, "quantity": o.qty}}, "payment": payment}, http.StatusCreated)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, &created); err != nil {
		return err
	}
	o.amount = created.Amount
	r.mu.Lock()
	r.orders = append(r.orders, o)
	r.mu.Unlock()
	// Scenarios that act after the checkout started do so in the background,
	// as a customer would, while this worker starts the next checkout.
	r.followUps.Add(1)
	go func() { defer r.followUps.Done(); r.followUp(o) }()
	return nil
}

func (r *run) followUp(o order) {
	wait := func(statuses ...string) workflows.CheckoutState {
		var st workflows.CheckoutState
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			st = r.state(o.id)
			if workflows.IsTerminal(st.Status) {
				return st // what the follow-up waited for will not come
			}
			for _, s := range statuses {
				if st.Status == s {
					return st
				}
			}
		}
		return st
	}
	switch o.scenario {
	case "card_3ds_approved", "card_3ds_declined":
		st := wait(workflows.StatusRequiresAction, workflows.StatusFailed)
		if st.Status == workflows.StatusRequiresAction {
			outcome := strings.TrimPrefix(o.scenario, "card_3ds_")
			_ = r.sandbox(http.MethodPost, "/sandbox/checkoutcom/_control/3ds/"+st.Payment.ProviderPaymentID, map[string]string{"outcome": outcome}, nil)
		}
	case "rehive_paid":
		if st := wait(workflows.StatusAwaitingPayment); st.Status != workflows.StatusAwaitingPayment {
			return
		}
		var u struct{ Account, Token string }
		if err := r.sandbox(http.MethodPost, "/sandbox/rehive/_control/users", map[string]any{"email": o.id + "@soak.test", "password": "pw", "balances": map[string]int64{"USD": 100000}}, &u); err != nil {
			return
		}
		_, _ = r.api(http.MethodPost, "/v1/checkouts/"+o.id+"/rehive/pay", map[string]string{"token": u.Token, "account": u.Account}, http.StatusAccepted)
	case "cancel_before_payment":
		if st := wait(workflows.StatusAwaitingPayment); st.Status == workflows.StatusAwaitingPayment {
			_, _ = r.api(http.MethodPost, "/v1/checkouts/"+o.id+"/cancel", nil, http.StatusAccepted)
		}
	case "cancel_after_fulfilment":
		if st := wait(workflows.StatusFulfilled, workflows.StatusFailed); st.Status == workflows.StatusFulfilled {
			_, _ = r.api(http.MethodPost, "/v1/checkouts/"+o.id+"/cancel", nil, http.StatusAccepted)
		}
	}
}

// chaos flips the Checkout.com sandbox between faults until the deadline,
// then leaves it clean.
func (r *run) chaos(deadline time.Time, done chan<- struct{}) {
	defer close(done)
	modes := []map[string]any{
		{},
		{"duplicate_webhooks": true},
		{"reorder_webhooks": true, "duplicate_webhooks": true},
		{"drop_webhooks": true},
		{"fail_next": 2, "status": 503},
		{"latency_ms": 300},
	}
	for i := 0; time.Now().Before(deadline); i++ {
		mode := modes[i%len(modes)]
		_ = r.sandbox(http.MethodPost, "/sandbox/checkoutcom/_control/faults", mode, nil)
		r.opts.Logf("soak: checkout.com faults %v", mode)
		time.Sleep(min(2*time.Second, time.Until(deadline)))
	}
	_ = r.sandbox(http.MethodPost, "/sandbox/checkoutcom/_control/faults", map[string]any{}, nil)
	r.env.Sandbox.Flush()
}

// settle waits until every order is final and its workflow done with
// payment (refund windows aside) and returns the final states.
func (r *run) settle(ctx context.Context) map[string]workflows.CheckoutState {
	limit := r.env.Config.PaymentTimeout + 60*time.Second
	out := map[string]workflows.CheckoutState{}
	for deadline := time.Now().Add(limit); time.Now().Before(deadline) && ctx.Err() == nil; time.Sleep(250 * time.Millisecond) {
		pending := 0
		for _, o := range r.orders {
			if st, ok := out[o.id]; ok && workflows.IsTerminal(st.Status) && !r.mayStillMove(o, st) {
				continue
			}
			st := r.state(o.id)
			out[o.id] = st
			if !workflows.IsTerminal(st.Status) || r.mayStillMove(o, st) {
				pending++
			}
		}
		if pending == 0 {
			break
		}
	}
	return out
}

// mayStillMove: a fulfilment that a cancel will turn into a refund.
func (r *run) mayStillMove(o order, st workflows.CheckoutState) bool {
	return o.scenario == "cancel_after_fulfilment" && st.Status == workflows.StatusFulfilled
}

func (r *run) check(ctx context.Context, finals map[string]workflows.CheckoutState) []string {
	var v []string
	sold := map[string]int64{}
	for _, o := range r.orders {
		st := finals[o.id]
		if !workflows.IsTerminal(st.Status) {
			v = append(v, fmt.Sprintf("%s (%s) not terminal: %s", o.id, o.scenario, st.Status))
		}
		if st.Status == workflows.StatusFulfilled {
			sold[o.sku] += o.qty
		}
		if held, err := r.env.App.Store.HeldReservations(ctx, o.id); err != nil || held != 0 {
			v = append(v, fmt.Sprintf("%s (%s, %s) still holds stock (%v)", o.id, o.scenario, st.Status, err))
		}
		if strings.HasPrefix(o.scenario, "card") || o.scenario == "cancel_after_fulfilment" {
			v = append(v, r.checkCard(o, st)...)
		}
	}
	for sku, initial := range r.skus {
		var p struct{ Stock, Reserved int64 }
		body, err := r.api(http.MethodGet, "/v1/products/"+sku, nil, http.StatusOK)
		if err == nil {
			err = json.Unmarshal(body, &p)
		}
		if err != nil || p.Reserved != 0 || p.Stock != initial-sold[sku] {
			v = append(v, fmt.Sprintf("%s: stock %d reserved %d, want %d and 0 (%v)", sku, p.Stock, p.Reserved, initial-sold[sku], err))
		}
	}
	return v
}

// checkCard: one payment at most per order; money captured and kept only
// for a fulfilled order, and a fulfilled order's payment captured in full.
func (r *run) checkCard(o order, st workflows.CheckoutState) []string {
	var pays struct {
		Payments []struct {
			Captured, Refunded int64
			Status             string
		}
	}
	if err := r.sandbox(http.MethodGet, "/sandbox/checkoutcom/_control/payments?reference="+o.id, nil, &pays); err != nil {
		return []string{fmt.Sprintf("%s: %v", o.id, err)}
	}
	var v []string
	if len(pays.Payments) > 1 {
		v = append(v, fmt.Sprintf("%s charged %d times", o.id, len(pays.Payments)))
	}
	for _, p := range pays.Payments {
		kept := p.Captured - p.Refunded
		switch {
		case st.Status == workflows.StatusFulfilled && kept != o.amount:
			v = append(v, fmt.Sprintf("%s fulfilled but %d of %d kept", o.id, kept, o.amount))
		case st.Status != workflows.StatusFulfilled && kept != 0:
			v = append(v, fmt.Sprintf("%s %s but %d kept (payment %s)", o.id, st.Status, kept, p.Status))
		}
	}
	return v
}

func (r *run) state(orderID string) workflows.CheckoutState {
	var st workflows.CheckoutState
	if body, err := r.api(http.MethodGet, "/v1/checkouts/"+orderID, nil, http.StatusOK); err == nil {
		_ = json.Unmarshal(body, &st)
	}
	return st
}

func (r *run) api(method, path string, body any, want int) ([]byte, error) {
	return call(method, r.env.APIURL+path, body, map[string]string{"Authorization": "Bearer " + r.env.Config.APIKeys[0]}, want)
}

func (r *run) sandbox(method, path string, body, out any) error {
	raw, err := call(method, r.env.SandboxURL+path, body, nil, 0)
	if err != nil || out == nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

// call sends one JSON request; want 0 accepts any 2xx.
func call(method, url string, body any, headers map[string]string, want int) ([]byte, error) {
	r, err := testenv.Do(method, url, body, headers)
	if err != nil {
		return nil, err
	}
	if (want != 0 && r.Status != want) || (want == 0 && r.Status >= 300) {
		return r.Body, fmt.Errorf("%s %s: %d %s", method, url, r.Status, r.Body)
	}
	return r.Body, nil
}
