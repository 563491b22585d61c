// Package bench measures payflow against the raw Temporal engine on the same
// server, worker setup and process: a baseline workflow with a card
// checkout's shape (its activities, signals and timers, counted from a real
// checkout's history) against full card checkouts (POST /v1/checkouts →
// charge on the sandbox → signed webhook → fulfilled in the read model),
// interleaved in rounds after a warm-up, with a second baseline at the
// shape a checkout had when issue #13 was filed. Each round's CPU (the
// process's and PostgreSQL's) is read and profiled, and the profile's
// samples are charged to components (Temporal server, SQLite, SDK,
// payflow...), so that the gap is split by whose work it is. It also
// measures POST /v1/checkouts against a bare SDK ExecuteWorkflow, and the
// webhook acknowledgement on its real path at that load.
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"sort"
	"strings"
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
	// PprofDir, when set, receives the CPU profiles of this process (API,
	// worker, sandboxes; with the embedded server, the server too) taken
	// over the measured rounds, merged per side and all together, and a
	// heap profile after them.
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
	// CPUPerWorkflow and CoresUsed are the medians over the rounds of
	// CPURounds' figures.
	CPUPerWorkflow CPUSplit   `json:"cpu_ms_per_workflow"`
	CoresUsed      CPUSplit   `json:"cores_used"`
	CPURounds      []RoundCPU `json:"cpu_rounds"`
}

// Report is the JSON `payflow bench --json` writes.
type Report struct {
	ThroughputRatio float64 `json:"throughput_ratio"`
	PostP99Ratio    float64 `json:"post_p99_ratio"`
	// PostP99RatioSameLoad is POST's p99 over ProbeStart's: a bare SDK
	// ExecuteWorkflow made during the payflow rounds, at their load.
	PostP99RatioSameLoad     float64 `json:"post_p99_ratio_same_load"`
	ProbeStart               Latency `json:"bare_sdk_start_at_payflow_load"`
	WebhookAckP99Ms          float64 `json:"webhook_ack_p99_ms"`
	HistoryEventsPerCheckout float64 `json:"history_events_per_checkout"`
	// ThroughputRatioVsFiledShape is payflow against the engine running
	// the checkout as it was when issue #13 was filed (FiledShape): a
	// lever that makes the checkout cheaper for the engine shows here, not
	// in ThroughputRatio, whose baseline follows the checkout.
	ThroughputRatioVsFiledShape float64     `json:"throughput_ratio_vs_filed_shape"`
	Baseline                    Side        `json:"baseline"`
	FiledShape                  Side        `json:"baseline_filed_shape"`
	Payflow                     Side        `json:"payflow"`
	Attribution                 Attribution `json:"attribution"`
	WebhookAck                  Latency     `json:"webhook_ack"`
	// BareSignal is a bare SDK SignalWorkflow into a running baseline
	// workflow, during both baselines' rounds: the engine's part of
	// WebhookAck.
	BareSignal Latency `json:"bare_sdk_signal"`
	// Shape is what the baseline runs: a real checkout's counts.
	Shape Shape `json:"checkout_shape"`
	// FiledShapeCounts is what the filed-shape baseline runs: filedShape.
	FiledShapeCounts Shape     `json:"filed_shape"`
	Temporal         string    `json:"temporal"` // "embedded" or the address
	N                int       `json:"n_per_round"`
	Rounds           int       `json:"rounds"`
	Conc             int       `json:"concurrency"`
	CPUs             int       `json:"cpus"`
	StartedAt        time.Time `json:"started_at"`
	Seconds          float64   `json:"seconds"`
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
	warmToks, err := p.tokens(max(o.Warmup, 1), o.Concurrency)
	if err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	if _, err := payflowRound(p, w, sku, "warm", warmToks, o.Concurrency, nil, nil); err != nil {
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

	// PostgreSQL's CPU: with the embedded server only payflow's store is
	// there, so only its database's backends count; a Temporal server
	// elsewhere may keep its persistence in the same PostgreSQL.
	scope := pgScope{database: databaseName(st.Config.DatabaseURL)}
	if o.TemporalAddress != "" {
		scope.database = ""
	}
	if err := wdb.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&scope.watcher); err != nil {
		return nil, err
	}
	base, filed, pay := newSideRun("baseline"), newSideRun("baseline-filed-shape"), newSideRun("payflow")
	starts, filedStarts, posts, probeStarts := &samples{}, &samples{}, &samples{}, &samples{}
	baseEnds, filedEnds, payEnds := &samples{}, &samples{}, &samples{}
	for r := range o.Rounds {
		sides := []func() error{
			func() error {
				v, err := base.measure(scope, o.N, func() (float64, error) {
					return baselineRound(ctx, tc, rep.Shape, fmt.Sprint(r), o.N, o.Concurrency, starts, baseEnds)
				})
				fmt.Fprintf(o.Out, "bench: round %d baseline             %6.1f workflows/s\n", r+1, v)
				return err
			},
			func() error {
				v, err := filed.measure(scope, o.N, func() (float64, error) {
					return baselineRound(ctx, tc, filedShape, fmt.Sprintf("filed-%d", r), o.N, o.Concurrency, filedStarts, filedEnds)
				})
				fmt.Fprintf(o.Out, "bench: round %d baseline, filed shape %6.1f workflows/s\n", r+1, v)
				return err
			},
			func() error {
				// Card tokens are the shopper's browser's work, before
				// the checkout: outside the measured round.
				toks, err := p.tokens(o.N, o.Concurrency)
				if err != nil {
					return err
				}
				var cleanProbe func()
				v, err := pay.measure(scope, o.N, func() (float64, error) {
					stopProbe, cleanup := startProbe(ctx, tc, fmt.Sprint(r), probeStarts)
					defer stopProbe()
					cleanProbe = cleanup
					return payflowRound(p, w, sku, fmt.Sprint(r), toks, o.Concurrency, posts, payEnds)
				})
				// Outside the measured round: its probes' workflows go.
				cleanProbe()
				fmt.Fprintf(o.Out, "bench: round %d payflow              %6.1f checkouts/s\n", r+1, v)
				return err
			},
		}
		// Rotate which side goes first, so none always runs on a server
		// still busy with another's tail (timers, deletions).
		for i := range sides {
			if err := sides[(i+r)%len(sides)](); err != nil {
				return nil, err
			}
		}
	}
	if o.PprofDir != "" {
		if err := writeProfiles(o.PprofDir, base, filed, pay); err != nil {
			return nil, err
		}
	}
	rep.Baseline = base.side(starts, baseEnds)
	rep.FiledShape = filed.side(filedStarts, filedEnds)
	rep.Payflow = pay.side(posts, payEnds)
	rep.Attribution = newAttribution(base.buckets, filed.buckets, pay.buckets)
	rep.FiledShapeCounts = filedShape
	rep.WebhookAck = relay.acks.latency()
	rep.BareSignal = signals.latency()
	if rep.Payflow.HistoryEvents, err = meanEvents(ctx, tc, func(i int) string { return checkoutWorkflowID(fmt.Sprintf("bench_0_%d", i)) }, o.N); err != nil {
		return nil, err
	}
	if rep.Baseline.HistoryEvents, err = meanEvents(ctx, tc, func(i int) string { return fmt.Sprintf("bench-0-%d", i) }, o.N); err != nil {
		return nil, err
	}
	if rep.FiledShape.HistoryEvents, err = meanEvents(ctx, tc, func(i int) string { return fmt.Sprintf("bench-filed-0-%d", i) }, o.N); err != nil {
		return nil, err
	}
	rep.HistoryEventsPerCheckout = rep.Payflow.HistoryEvents
	rep.ThroughputRatio = ratio(rep.Payflow.Throughput.Median, rep.Baseline.Throughput.Median)
	rep.ThroughputRatioVsFiledShape = ratio(rep.Payflow.Throughput.Median, rep.FiledShape.Throughput.Median)
	rep.PostP99Ratio = ratio(rep.Payflow.Start.P99, rep.Baseline.Start.P99)
	rep.ProbeStart = probeStarts.latency()
	rep.PostP99RatioSameLoad = ratio(rep.Payflow.Start.P99, rep.ProbeStart.P99)
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

func (r *Report) print(w io.Writer) {
	b, f, p := r.Baseline, r.FiledShape, r.Payflow
	fmt.Fprintf(w, "\nbench on %s Temporal, %d CPUs, %d rounds of %d per side, concurrency %d (%.0f s)\n", r.Temporal, r.CPUs, r.Rounds, r.N, r.Conc, r.Seconds)
	fmt.Fprintf(w, "  baseline (raw engine, checkout's shape): median %6.1f workflows/s (min %.1f, max %.1f, spread %.0f%%), %.0f history events\n",
		b.Throughput.Median, b.Throughput.Min, b.Throughput.Max, 100*b.Throughput.Spread, b.HistoryEvents)
	fmt.Fprintf(w, "  baseline (raw engine, the shape filed):  median %6.1f workflows/s (min %.1f, max %.1f, spread %.0f%%), %.0f history events\n",
		f.Throughput.Median, f.Throughput.Min, f.Throughput.Max, 100*f.Throughput.Spread, f.HistoryEvents)
	fmt.Fprintf(w, "  payflow card checkout, POST to fulfilled: median %6.1f checkouts/s (min %.1f, max %.1f, spread %.0f%%), %.0f history events\n",
		p.Throughput.Median, p.Throughput.Min, p.Throughput.Max, 100*p.Throughput.Spread, p.HistoryEvents)
	fmt.Fprintf(w, "  start to end point: baseline p50 %.0f ms p99 %.0f ms, payflow p50 %.0f ms p99 %.0f ms\n", b.Latency.P50, b.Latency.P99, p.Latency.P50, p.Latency.P99)
	fmt.Fprintf(w, "  throughput ratio payflow/baseline:   %.2f\n", r.ThroughputRatio)
	fmt.Fprintf(w, "  throughput ratio payflow/baseline at the shape filed: %.2f\n", r.ThroughputRatioVsFiledShape)
	fmt.Fprintf(w, "  start p99: POST /v1/checkouts %.1f ms, bare SDK ExecuteWorkflow %.1f ms (p50 %.1f / %.1f): ratio %.2f\n",
		p.Start.P99, b.Start.P99, p.Start.P50, b.Start.P50, r.PostP99Ratio)
	fmt.Fprintf(w, "  start p99 at payflow's load: bare SDK ExecuteWorkflow %.1f ms (p50 %.1f, %d probes): ratio %.2f\n",
		r.ProbeStart.P99, r.ProbeStart.P50, r.ProbeStart.N, r.PostP99RatioSameLoad)
	fmt.Fprintf(w, "  webhook acknowledgement (signed, signalling a running checkout, at load): p50 %.1f ms, p99 %.1f ms (%d webhooks)\n",
		r.WebhookAck.P50, r.WebhookAck.P99, r.WebhookAck.N)
	fmt.Fprintf(w, "  bare SDK SignalWorkflow into a running workflow, at the baselines' load: p50 %.1f ms, p99 %.1f ms\n", r.BareSignal.P50, r.BareSignal.P99)

	fmt.Fprintf(w, "\n  CPU per workflow, ms (median of rounds)  process  postgres (exited)    total   cores used (process+postgres)\n")
	for _, row := range []struct {
		name string
		s    Side
	}{{"baseline", b}, {"baseline, shape filed", f}, {"payflow", p}} {
		c, u := row.s.CPUPerWorkflow, row.s.CoresUsed
		fmt.Fprintf(w, "    %-37s %8.2f %9s %9s %8s   %s\n", row.name, c.Process, optMs(c.Postgres), "("+optMs(c.PostgresExited)+")", optMs(c.Total), optCores(u))
	}
	a := r.Attribution
	fmt.Fprintf(w, "\n  CPU per workflow by component, ms (profiles of the rounds)\n")
	fmt.Fprintf(w, "    %-32s %9s %9s %9s %10s %10s\n", "component", "baseline", "filed", "payflow", "pf−base", "pf−filed")
	row := func(name string, vb, vf, vp *float64, db, df float64, hasDiff bool) {
		d := func(v float64) string {
			if !hasDiff {
				return "unknown"
			}
			return fmt.Sprintf("%+.2f", v)
		}
		fmt.Fprintf(w, "    %-32s %9s %9s %9s %10s %10s\n", name, optMs(vb), optMs(vf), optMs(vp), d(db), d(df))
	}
	for _, k := range a.Buckets {
		vb, vf, vp := a.Baseline.MsPerWorkflow[k], a.FiledShape.MsPerWorkflow[k], a.Payflow.MsPerWorkflow[k]
		row(k, &vb, &vf, &vp, a.PayflowMinusBaseline[k], a.PayflowMinusFiledShape[k], true)
	}
	db, okb := a.PayflowMinusBaseline[pgServerRow]
	df := a.PayflowMinusFiledShape[pgServerRow]
	row(pgServerRow+" (/proc)", a.Baseline.PostgresMs, a.FiledShape.PostgresMs, a.Payflow.PostgresMs, db, df, okb)
	row(watcherRow, a.Baseline.WatcherPostgresMs, a.FiledShape.WatcherPostgresMs, a.Payflow.WatcherPostgresMs,
		a.PayflowMinusBaseline[watcherRow], a.PayflowMinusFiledShape[watcherRow], okb)
	total := func(s Buckets) *float64 {
		if s.PostgresMs == nil {
			return &s.ProfiledMs // the profiled process only
		}
		t := s.ProfiledMs + *s.PostgresMs + *s.WatcherPostgresMs
		return &t
	}
	row(totalRow, total(a.Baseline), total(a.FiledShape), total(a.Payflow), a.PayflowMinusBaseline[totalRow], a.PayflowMinusFiledShape[totalRow], true)
	for _, d := range []struct {
		name string
		m    map[string]float64
	}{{"payflow − baseline", a.PayflowMinusBaselineByPart}, {"payflow − baseline at the shape filed", a.PayflowMinusFiledShapeByPart}} {
		var ps []string
		for _, part := range parts {
			ps = append(ps, fmt.Sprintf("%s %+.2f", part.name, d.m[part.name]))
		}
		fmt.Fprintf(w, "    %s, ms per workflow: %s\n", d.name, strings.Join(ps, ", "))
	}
	if others := topOthers(a.Payflow.OtherByLibrary, 3); others != "" {
		fmt.Fprintf(w, "    payflow's \"other\" by library: %s\n", others)
	}
}

func optMs(v *float64) string {
	if v == nil {
		return "unknown"
	}
	return fmt.Sprintf("%.2f", *v)
}

func optCores(c CPUSplit) string {
	if c.Total == nil {
		return fmt.Sprintf("%.2f (postgres unknown)", c.Process)
	}
	return fmt.Sprintf("%.2f (%.2f + %.2f)", *c.Total, c.Process, *c.Postgres)
}

// topOthers names the n libraries with the most of "other", largest first.
func topOthers(m map[string]float64, n int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
	var parts []string
	for _, k := range keys[:min(n, len(keys))] {
		parts = append(parts, fmt.Sprintf("%s %.2f ms", k, m[k]))
	}
	return strings.Join(parts, ", ")
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
