// Package soak drives a running payflow through every scenario of PRODUCT.md's
// three flows (checkouts by card and wallet, managed Rehive transactions,
// ledger deposits) while the sandboxes misbehave and, on the production
// shape, processes are killed; then it checks that each scenario ended where
// the product says it must and that PRODUCT.md's invariants hold, counting
// money from the providers' own books (the sandboxes' list controls), not
// from payflow's tables. `payflow soak` and the tests run it.
package soak

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
)

// Target is the payflow under soak.
type Target struct {
	// APIURLs are the API processes; calls go round-robin and fail over, as
	// through a load balancer.
	APIURLs        []string
	SandboxURL     string
	APIKey         string
	PaymentTimeout time.Duration
	StallTimeout   time.Duration
	// DB is payflow's database: reservations and the webhook inbox.
	DB *sqlx.DB
	// Procs kills and restarts processes (the production shape); nil when
	// there are none to kill.
	Procs Procs
}

// Procs is the production shape's process control (deploy.Shape).
type Procs interface {
	Kill(name string) error
	Terminate(name string) error
	Restart(ctx context.Context, name string) error
}

// Options size a soak. The seed fixes which scenarios run, in what order,
// with which amounts, faults and kills: --seed replays a run.
type Options struct {
	Checkouts, Transactions, Deposits int
	Concurrency                       int
	// Faults: "none", "all", or a comma-separated subset of FaultKinds.
	Faults string
	// Kills: process faults, a comma-separated subset of KillKinds
	// (production shape only); empty for none.
	Kills string
	// Scenarios, when set, restricts the draw to these scenarios (a
	// self-check aims at the one a breakage must fail).
	Scenarios []string
	Seed      uint64
	Logf      func(format string, args ...any)
}

// Report is what a soak did and what it found.
type Report struct {
	Seed       uint64
	ByScenario map[string]int
	ByOutcome  map[string]int
	Faults     map[string]int // what the sandboxes counted, per provider and kind
	Kills      []string
	Elapsed    time.Duration
	Violations []string
}

// Summary is the one line of counts.
func (r Report) Summary() string {
	return fmt.Sprintf("soak seed=%d checkouts=%d transactions=%d deposits=%d faults[%s] kills[%s] elapsed=%s violations=%d",
		r.Seed, r.count("checkout"), r.count("tx"), r.count("deposit"), counts(r.Faults), strings.Join(r.Kills, ","),
		r.Elapsed.Round(time.Second), len(r.Violations))
}

func (r Report) count(flow string) int {
	n := 0
	for k, v := range r.ByScenario {
		if strings.HasPrefix(k, flow+"/") {
			n += v
		}
	}
	return n
}

func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "scenarios: %s\noutcomes: %s\n", counts(r.ByScenario), counts(r.ByOutcome))
	if len(r.Violations) == 0 {
		b.WriteString("invariants: all hold\n")
	} else {
		fmt.Fprintf(&b, "invariants: %d violations\n  %s\n", len(r.Violations), strings.Join(r.Violations, "\n  "))
	}
	b.WriteString(r.Summary() + "\n")
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

// runTag keeps this run's ids apart from earlier runs' on the same stack
// (a replayed seed draws the same scenarios, not the same ids).
func runTag() string { return strconv.FormatInt(time.Now().UnixNano()%(36*36*36*36*36*36), 36) }

// job is one scenario instance: its flow, the scenario and what it created.
type job struct {
	flow, scenario string
	rng            *rand.Rand
	// checkout
	orderID, sku string
	qty, amount  int64
	// card_partial_refund: the refunds the API took; for every card order
	// that holds money, the refunds it confirms (checkRefunds).
	refundsAsked, confirmed int64
	// currency manager: the Rehive transaction; deposits: the ledger one
	txID, ledgerID string
	expected       []string // acceptable final statuses
	note           string   // what the follow-up could not do
}

type run struct {
	t        Target
	opts     Options
	c        *client
	merchant struct{ Email, Account string }
	skus     map[string]int64
	skuList  []string
	jobs     []*job
	done     atomic.Int64
	tag      string
}

// Run soaks t and checks the invariants. An error means the soak could not
// run; broken invariants are in Report.Violations.
func Run(ctx context.Context, t Target, opts Options) (Report, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 8
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	faults, err := parseKinds(opts.Faults, FaultKinds)
	if err != nil {
		return Report{}, err
	}
	kills, err := parseKinds(opts.Kills, KillKinds)
	if err != nil {
		return Report{}, err
	}
	if len(kills) > 0 && t.Procs == nil {
		return Report{}, fmt.Errorf("process faults need the production shape (--shape prod)")
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x50a4))
	r := &run{t: t, opts: opts, c: newClient(t), skus: map[string]int64{}, tag: runTag()}
	if err := r.setup(ctx); err != nil {
		return Report{}, err
	}
	r.plan(rng)
	rep := Report{Seed: opts.Seed, ByScenario: map[string]int{}, ByOutcome: map[string]int{}, Kills: kills}
	for _, j := range r.jobs {
		rep.ByScenario[j.flow+"/"+j.scenario]++
	}
	began := time.Now()
	before, err := r.faultStats()
	if err != nil {
		return Report{}, err
	}
	stop := make(chan struct{})
	var bg sync.WaitGroup
	bg.Add(2)
	go func() { defer bg.Done(); r.chaos(rand.New(rand.NewPCG(opts.Seed, 0xfa17)), faults, stop) }()
	var killErr error
	go func() { defer bg.Done(); killErr = r.killAll(ctx, kills) }()

	work := make(chan *job)
	var wg sync.WaitGroup
	for range opts.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				r.runJob(ctx, j)
				if n := r.done.Add(1); n%50 == 0 {
					opts.Logf("soak: %d/%d scenarios started and followed up", n, len(r.jobs))
				}
			}
		}()
	}
	for _, j := range r.jobs {
		if ctx.Err() != nil {
			break
		}
		work <- j
	}
	close(work)
	wg.Wait()
	close(stop)
	bg.Wait()
	if killErr != nil {
		return Report{}, killErr
	}
	if err := r.clearFaults(); err != nil {
		return Report{}, err
	}
	opts.Logf("soak: every scenario started; waiting for every order and transaction to end")
	final := r.settle(ctx)
	rep.Elapsed = time.Since(began)
	after, err := r.faultStats()
	if err != nil {
		return Report{}, err
	}
	rep.Faults = diffStats(before, after)
	rep.Violations = append(rep.Violations, r.checkFaultsFired(faults, rep.Faults)...)
	for _, j := range r.jobs {
		rep.ByOutcome[j.flow+"/"+final[j]]++
	}
	// The books settle after the statuses (a duplicate payment's reversal, a
	// reconciliation's refund): the invariants must hold within the bound.
	var v []string
	for deadline := time.Now().Add(r.settleLimit()); ; time.Sleep(3 * time.Second) {
		if v, err = r.check(ctx, final); err != nil {
			return Report{}, err
		}
		if len(v) == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		final = r.settle(ctx)
	}
	rep.Elapsed = time.Since(began)
	rep.Violations = append(rep.Violations, v...)
	return rep, nil
}

func parseKinds(s string, known []string) ([]string, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "", "none":
		return nil, nil
	case "all":
		return append([]string(nil), known...), nil
	}
	var out []string
	for _, k := range strings.Split(s, ",") {
		k = strings.TrimSpace(k)
		ok := false
		for _, kk := range known {
			ok = ok || kk == k
		}
		if !ok {
			return nil, fmt.Errorf("unknown %q (want none, all or some of %s)", k, strings.Join(known, ","))
		}
		out = append(out, k)
	}
	return out, nil
}

// plan draws every scenario instance from the seed, interleaving the flows.
func (r *run) plan(rng *rand.Rand) {
	add := func(flow string, n int, table []weighted) {
		if len(r.opts.Scenarios) > 0 {
			var only []weighted
			for _, s := range table {
				if slices.Contains(r.opts.Scenarios, s.name) {
					only = append(only, s)
				}
			}
			if table = only; len(table) == 0 {
				return
			}
		}
		for range n {
			r.jobs = append(r.jobs, &job{flow: flow, scenario: pick(rng, table), rng: rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))})
		}
	}
	add("checkout", r.opts.Checkouts, checkoutScenarios)
	add("tx", r.opts.Transactions, txScenarios)
	add("deposit", r.opts.Deposits, depositScenarios)
	rng.Shuffle(len(r.jobs), func(i, k int) { r.jobs[i], r.jobs[k] = r.jobs[k], r.jobs[i] })
}

type weighted struct {
	name   string
	weight int
}

func pick(rng *rand.Rand, table []weighted) string {
	total := 0
	for _, s := range table {
		total += s.weight
	}
	n := rng.IntN(total)
	for _, s := range table {
		if n < s.weight {
			return s.name
		}
		n -= s.weight
	}
	return table[0].name
}

func (r *run) runJob(ctx context.Context, j *job) {
	switch j.flow {
	case "checkout":
		r.checkout(ctx, j)
	case "tx":
		r.transaction(ctx, j)
	case "deposit":
		r.deposit(ctx, j)
	}
}

// settleLimit bounds how long everything may take to end after the last
// scenario started: the longest timer plus the reconciliation's rounds.
func (r *run) settleLimit() time.Duration {
	return max(r.t.PaymentTimeout, r.t.StallTimeout) + 2*time.Minute
}

// settle waits until every scenario reached a final state (or the time a
// stalled one may take), then returns each one's final status.
func (r *run) settle(ctx context.Context) map[*job]string {
	limit := r.settleLimit()
	final := map[*job]string{}
	for deadline := time.Now().Add(limit); ctx.Err() == nil; {
		pending := 0
		for _, j := range r.jobs {
			st := r.status(j)
			final[j] = st
			if !r.isFinal(j, st) {
				pending++
			}
		}
		if pending == 0 && r.inboxPending(ctx) == 0 {
			break
		}
		if time.Now().After(deadline) {
			r.opts.Logf("soak: %d scenarios still not final after %s", pending, limit)
			break
		}
		time.Sleep(time.Second)
	}
	return final
}
