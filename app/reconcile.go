package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/payflow/payflow/activities"
	"github.com/payflow/payflow/breakage"
	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/workflows"
)

// Tuning of the reconciliation passes (PAYFLOW_RECONCILE_INTERVAL sets how
// often they run).
const (
	// reconcileLookBack bounds how far back orders closed unpaid and stalled
	// deposits are asked about: longer than any provider keeps an
	// authorisation or a confirmation open.
	reconcileLookBack = 7 * 24 * time.Hour
	// unstartedAfter is how long an order may wait for its workflow before
	// it is closed as never started.
	unstartedAfter = time.Minute
	// reconcileIdle is how long an open order must be unchanged before the
	// reconciliation asks Temporal whether its workflow still runs.
	reconcileIdle = 10 * time.Second
	reconcilePage = 50
	// reconcileQuiet is how long a provider's transaction must be unchanged
	// before the passes that list the providers act on it: its webhook is
	// answered within seconds when it comes at all.
	reconcileQuiet = 3 * time.Second
	// reconcileCreditLookBack bounds the listing of the merchant's Rehive
	// credits: every wallet payment is one, so a day, well past Rehive's
	// webhook retries (7 attempts, at most an hour apart).
	reconcileCreditLookBack = 24 * time.Hour
)

func (a *App) reconciler() *activities.Reconciler {
	return &activities.Reconciler{
		Store: a.Store, Temporal: a.Temporal, CheckoutCom: a.CheckoutCom, Rehive: a.Rehive, Ledger: a.Ledger,
		Merchant:          activities.Merchant{Email: a.Config.Rehive.MerchantEmail, Account: a.Config.Rehive.MerchantAccount},
		Managed:           a.Config.IsManaged,
		WithdrawalAccount: a.Config.Ledger.WithdrawalAccount,
		LookBack:          reconcileLookBack, Idle: reconcileIdle, UnstartedAfter: unstartedAfter, Page: reconcilePage,
		Quiet: reconcileQuiet, TaskQueue: a.Config.TaskQueue, StallTimeout: a.Config.StallTimeout,
		CreditLookBack: reconcileCreditLookBack,
	}
}

// EnsureReconcileSchedule creates the reconciliation's Temporal Schedule, or
// brings an existing one to the configured interval. Every API and worker
// process calls it at start: the fixed schedule id makes it one schedule
// however many processes race.
func (a *App) EnsureReconcileSchedule(ctx context.Context) error {
	if breakage.On(breakage.ReconcileOff) {
		return nil
	}
	every := a.Config.ReconcileInterval
	action := &client.ScheduleWorkflowAction{
		ID: workflows.ReconcileWorkflowID, Workflow: workflows.ReconcileWorkflowName, TaskQueue: a.Config.TaskQueue,
		// A run is a few bounded passes; one that hangs must not block the next.
		WorkflowExecutionTimeout: 30 * time.Minute,
	}
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: every}}}
	_, err := a.Temporal.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID: workflows.ReconcileScheduleID, Spec: spec, Action: action,
		// One run at a time; a run missed while Temporal was down is not
		// made up for, the next one does the same work.
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, CatchupWindow: time.Minute,
		Note: "payflow reconciliation (PAYFLOW_RECONCILE_INTERVAL)",
	})
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return err
	}
	h := a.Temporal.ScheduleClient().GetHandle(ctx, workflows.ReconcileScheduleID)
	return h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		s := in.Description.Schedule
		if s.Spec != nil && len(s.Spec.Intervals) == 1 && s.Spec.Intervals[0].Every == every && len(s.Spec.Calendars) == 0 {
			return nil, temporal.ErrSkipScheduleUpdate
		}
		s.Spec, s.Action = &spec, action
		return &client.ScheduleUpdate{Schedule: &s}, nil
	}})
}

// keepReconcileSchedule calls EnsureReconcileSchedule until it succeeds
// (Temporal may be down when the process starts).
func (a *App) keepReconcileSchedule(ctx context.Context) {
	for wait := time.Second; ; wait = min(2*wait, time.Minute) {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := a.EnsureReconcileSchedule(cctx)
		cancel()
		if err == nil {
			return
		}
		a.Logger.Warn("reconcile schedule not set up yet; retrying", "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// ReconcileNow runs one reconciliation at once and waits for its report (for
// tests and operators; the schedule runs the same workflow).
func (a *App) ReconcileNow(ctx context.Context) (workflows.ReconcileReport, error) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return a.RunReconcile(ctx, workflows.ReconcileWorkflowID+"-now-"+hex.EncodeToString(b))
}

// RunReconcile is ReconcileNow under the workflow id given.
func (a *App) RunReconcile(ctx context.Context, workflowID string) (workflows.ReconcileReport, error) {
	run, err := a.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflowID, TaskQueue: a.Config.TaskQueue, WorkflowExecutionTimeout: 30 * time.Minute,
	}, workflows.ReconcileWorkflowName)
	if err != nil {
		return workflows.ReconcileReport{}, fmt.Errorf("start reconciliation: %w", err)
	}
	var rep workflows.ReconcileReport
	err = run.Get(ctx, &rep)
	return rep, err
}

// reconcileCollector serves the reconciliation's action totals on /metrics
// from the database, so every API process reports the same numbers whichever
// worker took the actions.
type reconcileCollector struct{ store *store.Store }

var reconcileActionsDesc = prometheus.NewDesc("payflow_reconcile_actions_total",
	"Actions the reconciliation took, by subject kind and action.", []string{"kind", "action"}, nil)

func (c *reconcileCollector) Describe(ch chan<- *prometheus.Desc) { ch <- reconcileActionsDesc }

func (c *reconcileCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.store.ReconcileCounts(ctx)
	if err != nil {
		return // the database is down: /readyz says so, the other metrics still answer
	}
	for _, n := range counts {
		ch <- prometheus.MustNewConstMetric(reconcileActionsDesc, prometheus.CounterValue, float64(n.N), n.Kind, n.Action)
	}
}
