package bench

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Shape is what a card checkout asks of the engine up to its end point
// (fulfilled in the read model), counted from a real checkout's history.
// The baseline workflow runs as many activities (local ones as local
// activities), signals and timers. Search-attribute upserts are counted but
// not run: they are payflow's choice, and their cost (a visibility write
// each) is payflow's overhead, not the engine's.
type Shape struct {
	// ActivitiesBefore run before the payment's webhooks are awaited
	// (price, reserve, charge...), ActivitiesAfter once they arrived
	// (commit stock, fulfil, save...).
	ActivitiesBefore int `json:"activities_before_signal"`
	ActivitiesAfter  int `json:"activities_after_signal"`
	LocalActivities  int `json:"local_activities"`
	Signals          int `json:"signals"`
	Timers           int `json:"timers"`
	SearchUpserts    int `json:"search_attribute_upserts"`
	// Events is the number of history events up to the end point.
	Events int `json:"history_events"`
}

// filedShape is a card checkout's shape when issue #13 was filed (~42
// history events without the upserts): the second baseline runs it in
// every run, so that a lever making the checkout itself cheaper for the
// engine (local activities, fewer events) shows against the engine
// running the checkout as it was.
var filedShape = Shape{ActivitiesBefore: 3, ActivitiesAfter: 1, LocalActivities: 5, Signals: 2, Timers: 2, SearchUpserts: 0, Events: 42}

const (
	baselineQueue    = "bench-baseline"
	baselineWorkflow = "BenchBaseline"
	baselineSignal   = "payment"
	// eventDelay is how long after a charge the Checkout.com sandbox sends
	// its webhooks (sandbox/checkoutcom eventDelay): the baseline's signals
	// come as late after its charge-like activity.
	eventDelay = 30 * time.Millisecond
)

// baselineWorkflowFunc is the raw engine doing a checkout's work with no
// business logic: no-op activities, the signals raced against the timers as
// a checkout awaits its payment, then the activities that follow it.
func baselineWorkflowFunc(ctx workflow.Context, shape Shape) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
	for i := 0; i < shape.LocalActivities; i++ {
		if err := workflow.ExecuteLocalActivity(lctx, noop).Get(ctx, nil); err != nil {
			return err
		}
	}
	for i := 0; i < shape.ActivitiesBefore; i++ {
		// The last one before the wait is the "charge": it has the signals sent.
		name := "BenchNoop"
		if i == shape.ActivitiesBefore-1 {
			name = "BenchCharge"
		}
		if err := workflow.ExecuteActivity(ctx, name, shape.Signals).Get(ctx, nil); err != nil {
			return err
		}
	}
	timerCtx, cancelTimers := workflow.WithCancel(ctx)
	timeout := false
	timers := make([]workflow.Future, shape.Timers)
	for i := range timers {
		timers[i] = workflow.NewTimer(timerCtx, time.Hour)
	}
	ch := workflow.GetSignalChannel(ctx, baselineSignal)
	for got := 0; got < shape.Signals && !timeout; {
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(ch, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); got++ })
		for _, t := range timers {
			sel.AddFuture(t, func(workflow.Future) { timeout = true })
		}
		sel.Select(ctx)
	}
	cancelTimers()
	if timeout {
		return fmt.Errorf("baseline: a timer fired before the signals came")
	}
	for i := 0; i < shape.ActivitiesAfter; i++ {
		if err := workflow.ExecuteActivity(ctx, "BenchNoop", 0).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

func noop(context.Context) error { return nil }

// baselineWorker runs the baseline on its own task queue, with the same
// client and worker options as payflow's worker, in the same process.
// Its signals' latencies go to signals: the engine's part of a webhook's
// acknowledgement.
func baselineWorker(c client.Client, opts sdkworker.Options, signals *samples) sdkworker.Worker {
	w := sdkworker.New(c, baselineQueue, opts)
	w.RegisterWorkflowWithOptions(baselineWorkflowFunc, workflow.RegisterOptions{Name: baselineWorkflow})
	w.RegisterActivityWithOptions(func(context.Context, int) error { return nil }, activity.RegisterOptions{Name: "BenchNoop"})
	w.RegisterActivityWithOptions(func(ctx context.Context, n int) error {
		// As the sandbox answers the charge and sends its webhooks later.
		info := activity.GetInfo(ctx)
		go func() {
			for range n {
				time.Sleep(eventDelay)
				began := time.Now()
				if c.SignalWorkflow(context.Background(), info.WorkflowExecution.ID, info.WorkflowExecution.RunID, baselineSignal, nil) == nil {
					signals.add(time.Since(began))
				}
			}
		}()
		return nil
	}, activity.RegisterOptions{Name: "BenchCharge"})
	w.RegisterActivity(noop)
	return w
}

// baselineRound runs n baseline workflows, conc at a time, each from a bare
// SDK ExecuteWorkflow to its completion; start latencies go to starts,
// start-to-completion latencies to ends.
func baselineRound(ctx context.Context, c client.Client, shape Shape, tag string, n, conc int, starts, ends *samples) (float64, error) {
	return closedLoop(n, conc, func(i int) error {
		began := time.Now()
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bench-%s-%d", tag, i), TaskQueue: baselineQueue},
			baselineWorkflow, shape)
		if err != nil {
			return fmt.Errorf("baseline start: %w", err)
		}
		if starts != nil {
			starts.add(time.Since(began))
		}
		if err := run.Get(ctx, nil); err != nil {
			return fmt.Errorf("baseline %s: %w", run.GetID(), err)
		}
		if ends != nil {
			ends.add(time.Since(began))
		}
		return nil
	})
}
