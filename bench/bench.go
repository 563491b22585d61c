// Package bench measures payflow against the raw Temporal engine on the same
// server, worker setup and process: a baseline workflow with a card
// checkout's shape (its activities, signals and timers, counted from a real
// checkout's history) against full card checkouts (POST /v1/checkouts →
// charge on the sandbox → signed webhook → fulfilled in the read model),
// interleaved in rounds after a warm-up. It also measures POST
// /v1/checkouts against a bare SDK ExecuteWorkflow, and the webhook
// acknowledgement on its real path at that load.
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/jmoiron/sqlx"

	"github.com/payflow/payflow/deploy"
	"github.com/payflow/payflow/stack"
)

// Options set a run.
type Options struct {
	N           int // workflows per round, for each side
	Rounds      int // rounds of each side, interleaved
	Concurrency int // workflows in flight at once
	Warmup      int // untimed workflows of each side first
	// TemporalAddress runs on that Temporal server (e.g. make run-prod's,
	// on PostgreSQL) instead of the embedded one, in Namespace (registered
	// if new; default DefaultNamespace).
	TemporalAddress, Namespace string
	// PprofDir, when set, receives CPU and heap profiles of this process
	// (API, worker, sandboxes; with the embedded server, the server too)
	// taken over the measured rounds.
	PprofDir string
	Out      io.Writer // the printed summary
	Logger   *slog.Logger
}

// DefaultNamespace is where the bench runs on a Temporal server of its own.
const DefaultNamespace = "payflow-bench"

// Side is one side's figures.
type Side struct {
	// Throughput is completions per second, one value per round.
	Throughput Series `json:"throughput_per_s"`
	// Start is POST /v1/checkouts (payflow) or a bare SDK ExecuteWorkflow
	// (baseline), measured at load during the rounds.
	Start Latency `json:"start_latency"`
	// Latency is one workflow's, from its start to its end point.
	Latency Latency `json:"end_to_end_latency"`
	// HistoryEvents per workflow up to the end point (mean of samples).
	HistoryEvents float64 `json:"history_events"`
}

// Report is the JSON `payflow bench --json` writes.
type Report struct {
	ThroughputRatio          float64 `json:"throughput_ratio"`
	PostP99Ratio             float64 `json:"post_p99_ratio"`
	WebhookAckP99Ms          float64 `json:"webhook_ack_p99_ms"`
	HistoryEventsPerCheckout float64 `json:"history_events_per_checkout"`
	Baseline                 Side    `json:"baseline"`
	Payflow                  Side    `json:"payflow"`
	WebhookAck               Latency `json:"webhook_ack"`
	// BareSignal is a bare SDK SignalWorkflow into a running baseline
	// workflow, during the baseline rounds: the engine's part of WebhookAck.
	BareSignal Latency `json:"bare_sdk_signal"`
	// Shape is what the baseline runs: a real checkout's counts.
	Shape     Shape     `json:"checkout_shape"`
	Temporal  string    `json:"temporal"` // "embedded" or the address
	N         int       `json:"n_per_round"`
	Rounds    int       `json:"rounds"`
	Conc      int       `json:"concurrency"`
	CPUs      int       `json:"cpus"`
	StartedAt time.Time `json:"started_at"`
	Seconds   float64   `json:"seconds"`
}

// Run brings an in-process stack up, measures, and tears it down.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.N <= 0 || o.Rounds <= 0 || o.Concurrency <= 0 {
		return nil, errors.New("bench: n, rounds and concurrency must be positive")
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	began := time.Now()
	if o.TemporalAddress != "" {
		// A namespace of the bench's own: its task queues and the
		// reconciliation schedule every payflow sets up must not touch
		// those of the payflow that runs on that server.
		if o.Namespace == "" {
			o.Namespace = DefaultNamespace
		}
		if err := deploy.RegisterNamespace(ctx, o.TemporalAddress, o.Namespace); err != nil {
			return nil, err
		}
	}
	st, err := stack.Start(stack.Options{TemporalAddress: o.TemporalAddress, Namespace: o.Namespace, Logger: o.Logger,
		// Longer than any round: no checkout may expire while it queues.
		PaymentTimeout: 10 * time.Minute})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	rep := &Report{Temporal: "embedded", N: o.N, Rounds: o.Rounds, Conc: o.Concurrency, CPUs: runtime.NumCPU(), StartedAt: began.UTC()}
	if o.TemporalAddress != "" {
		rep.Temporal = o.TemporalAddress
	}
	tc := st.App.Temporal

	p := newPayflowClient(st, o.Concurrency)
	relay, err := startAckRelay(st.APIURL+"/webhooks/checkoutcom", o.Concurrency)
	if err != nil {
		return nil, err
	}
	defer relay.close()
	st.Sandbox.CheckoutCom.SetWebhookURL(relay.URL)
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	// The watcher has its own connection: it must not queue for the app's
	// pool, nor take a connection from it.
	wdb, err := sqlx.Open("postgres", st.Config.DatabaseURL)
	if err != nil {
		return nil, err
	}
	defer wdb.Close()
	wdb.SetMaxOpenConns(1)
	w := newWatcher(wdb, 5*time.Millisecond)
	go w.run(wctx)
	sku, err := p.product(o.N*o.Rounds + 2*o.Warmup + 10)
	if err != nil {
		return nil, err
	}

	// Warm-up, and the checkout's shape from its history.
	fmt.Fprintf(o.Out, "bench: warm-up (%d checkouts, then %d baseline workflows)\n", o.Warmup, o.Warmup)
	if _, err := payflowRound(p, w, sku, "warm", max(o.Warmup, 1), o.Concurrency, nil, nil); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	if rep.Shape, err = checkoutShape(ctx, tc, st, "bench_warm_0"); err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Out, "bench: a card checkout to fulfilled: %s\n", rep.Shape)
	signals := &samples{}
	bw := baselineWorker(tc, workerOptions, signals)
	if err := bw.Start(); err != nil {
		return nil, err
	}
	defer bw.Stop()
	if _, err := baselineRound(ctx, tc, rep.Shape, "warm", max(o.Warmup, 1), o.Concurrency, nil, nil); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	relay.acks.reset()
	signals.reset()

	stopProfile, err := startProfile(o.PprofDir)
	if err != nil {
		return nil, err
	}
	var base, pay []float64
	starts, posts, baseEnds, payEnds := &samples{}, &samples{}, &samples{}, &samples{}
	for r := range o.Rounds {
		// Alternate which side goes first, so neither always runs on a
		// server still busy with the other's tail (timers, deletions).
		sides := []func() error{
			func() error {
				v, err := baselineRound(ctx, tc, rep.Shape, fmt.Sprint(r), o.N, o.Concurrency, starts, baseEnds)
				base = append(base, v)
				fmt.Fprintf(o.Out, "bench: round %d baseline %6.1f workflows/s\n", r+1, v)
				return err
			},
			func() error {
				v, err := payflowRound(p, w, sku, fmt.Sprint(r), o.N, o.Concurrency, posts, payEnds)
				pay = append(pay, v)
				fmt.Fprintf(o.Out, "bench: round %d payflow  %6.1f checkouts/s\n", r+1, v)
				return err
			},
		}
		if r%2 == 1 {
			sides[0], sides[1] = sides[1], sides[0]
		}
		for _, side := range sides {
			if err := side(); err != nil {
				stopProfile()
				return nil, err
			}
		}
	}
	if err := stopProfile(); err != nil {
		return nil, err
	}
	rep.Baseline = Side{Throughput: newSeries(base), Start: starts.latency(), Latency: baseEnds.latency()}
	rep.Payflow = Side{Throughput: newSeries(pay), Start: posts.latency(), Latency: payEnds.latency()}
	rep.WebhookAck = relay.acks.latency()
	rep.BareSignal = signals.latency()
	if rep.Payflow.HistoryEvents, err = meanEvents(ctx, tc, func(i int) string { return checkoutWorkflowID(fmt.Sprintf("bench_0_%d", i)) }, o.N); err != nil {
		return nil, err
	}
	if rep.Baseline.HistoryEvents, err = meanEvents(ctx, tc, func(i int) string { return fmt.Sprintf("bench-0-%d", i) }, o.N); err != nil {
		return nil, err
	}
	rep.HistoryEventsPerCheckout = rep.Payflow.HistoryEvents
	rep.ThroughputRatio = ratio(rep.Payflow.Throughput.Median, rep.Baseline.Throughput.Median)
	rep.PostP99Ratio = ratio(rep.Payflow.Start.P99, rep.Baseline.Start.P99)
	rep.WebhookAckP99Ms = rep.WebhookAck.P99
	rep.Seconds = time.Since(began).Seconds()
	rep.print(o.Out)
	return rep, nil
}

// workerOptions are payflow's worker options (worker.New), so that the
// baseline's worker is set up as payflow's is.
var workerOptions = sdkworker.Options{WorkerStopTimeout: 20 * time.Second, MaxConcurrentActivityExecutionSize: 200}

func checkoutWorkflowID(order string) string { return "checkout/" + order }

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// checkoutShape counts, in a fulfilled checkout's history, what the engine
// did for it. The checkout stays open for its refund window after that, so
// the history is read once it has settled into that wait.
func checkoutShape(ctx context.Context, c client.Client, st *stack.Stack, order string) (Shape, error) {
	id := checkoutWorkflowID(order)
	var s, prev Shape
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var err error
		if s, err = historyShape(ctx, c, id); err != nil {
			return s, err
		}
		if s == prev && s.Events > 0 {
			return s, nil
		}
		prev = s
	}
	return s, fmt.Errorf("bench: %s's history did not settle", id)
}

func historyShape(ctx context.Context, c client.Client, id string) (Shape, error) {
	var s Shape
	it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return s, fmt.Errorf("history of %s: %w", id, err)
		}
		s.Events++
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			if s.Signals == 0 {
				s.ActivitiesBefore++
			} else {
				s.ActivitiesAfter++
			}
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			if ev.GetMarkerRecordedEventAttributes().GetMarkerName() == "LocalActivity" {
				s.LocalActivities++
			}
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			s.Signals++
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			s.Timers++
		case enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
			s.SearchUpserts++
		}
	}
	return s, nil
}

// meanEvents is the mean history length of up to 10 of a round's workflows.
func meanEvents(ctx context.Context, c client.Client, id func(int) string, n int) (float64, error) {
	k := min(n, 10)
	total := 0
	for i := range k {
		s, err := historyShape(ctx, c, id(i))
		if err != nil {
			return 0, err
		}
		total += s.Events
	}
	return float64(total) / float64(k), nil
}

func (s Shape) String() string {
	return fmt.Sprintf("%d activities before the webhook, %d after, %d local activities, %d signals, %d timers, %d search-attribute upserts; %d history events",
		s.ActivitiesBefore, s.ActivitiesAfter, s.LocalActivities, s.Signals, s.Timers, s.SearchUpserts, s.Events)
}

// startProfile starts a CPU profile into dir; the returned stop ends it and
// writes a heap profile beside it. No dir, no profiles.
func startProfile(dir string) (func() error, error) {
	if dir == "" {
		return func() error { return nil }, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(dir, "cpu.pprof"))
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	stopped := false
	return func() error {
		if stopped {
			return nil
		}
		stopped = true
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return err
		}
		h, err := os.Create(filepath.Join(dir, "heap.pprof"))
		if err != nil {
			return err
		}
		defer h.Close()
		runtime.GC()
		return pprof.WriteHeapProfile(h)
	}, nil
}

func (r *Report) print(w io.Writer) {
	b, p := r.Baseline, r.Payflow
	fmt.Fprintf(w, "\nbench on %s Temporal, %d CPUs, %d rounds of %d per side, concurrency %d (%.0f s)\n", r.Temporal, r.CPUs, r.Rounds, r.N, r.Conc, r.Seconds)
	fmt.Fprintf(w, "  baseline (raw engine, checkout's shape): median %6.1f workflows/s (min %.1f, max %.1f, spread %.0f%%), %.0f history events\n",
		b.Throughput.Median, b.Throughput.Min, b.Throughput.Max, 100*b.Throughput.Spread, b.HistoryEvents)
	fmt.Fprintf(w, "  payflow card checkout, POST to fulfilled: median %6.1f checkouts/s (min %.1f, max %.1f, spread %.0f%%), %.0f history events\n",
		p.Throughput.Median, p.Throughput.Min, p.Throughput.Max, 100*p.Throughput.Spread, p.HistoryEvents)
	fmt.Fprintf(w, "  start to end point: baseline p50 %.0f ms p99 %.0f ms, payflow p50 %.0f ms p99 %.0f ms\n", b.Latency.P50, b.Latency.P99, p.Latency.P50, p.Latency.P99)
	fmt.Fprintf(w, "  throughput ratio payflow/baseline:   %.2f\n", r.ThroughputRatio)
	fmt.Fprintf(w, "  start p99: POST /v1/checkouts %.1f ms, bare SDK ExecuteWorkflow %.1f ms (p50 %.1f / %.1f): ratio %.2f\n",
		p.Start.P99, b.Start.P99, p.Start.P50, b.Start.P50, r.PostP99Ratio)
	fmt.Fprintf(w, "  webhook acknowledgement (signed, signalling a running checkout, at load): p50 %.1f ms, p99 %.1f ms (%d webhooks)\n",
		r.WebhookAck.P50, r.WebhookAck.P99, r.WebhookAck.N)
	fmt.Fprintf(w, "  bare SDK SignalWorkflow into a running workflow, at the baseline's load: p50 %.1f ms, p99 %.1f ms\n", r.BareSignal.P50, r.BareSignal.P99)
}

// WriteJSON writes the report to path.
func (r *Report) WriteJSON(path string) error { return writeJSON(path, r) }

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
