package api

import (
	"context"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/workflows"
)

// maxPreferWait bounds how long POST /v1/checkouts waits for the payment's
// first outcome when asked to (Prefer: wait=N).
const maxPreferWait = 10 * time.Second

// startBudget is what the request keeps of its deadline for the plain start
// after a wait that ran out, so that it can still say which run serves the
// order instead of a 503 for a checkout that is running.
const startBudget = 5 * time.Second

// preferWait reads the wait preference of RFC 7240 (`Prefer: wait=5`): how
// long the client is willing to wait for the outcome; 0 when not asked.
func preferWait(header string) time.Duration {
	for _, pref := range strings.FieldsFunc(header, func(r rune) bool { return r == ',' || r == ';' }) {
		k, v, ok := strings.Cut(strings.TrimSpace(pref), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "wait") {
			continue
		}
		n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(v), `"`))
		if err != nil || n <= 0 {
			return 0
		}
		return time.Duration(min(n, int(maxPreferWait/time.Second))) * time.Second
	}
	return 0
}

// startCheckoutWaiting starts the checkout with its first-outcome update
// (Update-with-Start, one round trip to Temporal) and waits up to wait, and
// within the request's deadline less startBudget, for the answer: the
// charge's outcome (awaiting capture, 3-D Secure redirect, declined), the
// wallet's wait, or a failure before the charge. Without the answer in time
// the outcome is nil and the run is the one the start reported, or the plain
// start's (the run had closed, or Update-with-Start failed), which is
// idempotent.
func (s *server) startCheckoutWaiting(ctx context.Context, b checkoutBody, order store.Order, wait time.Duration) (string, *workflows.CheckoutState, error) {
	if dl, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(dl)-startBudget)
	}
	if wait <= 0 {
		runID, err := s.startCheckout(ctx, b, order)
		return runID, nil, err
	}
	opts, in := s.checkoutStart(b, order)
	// Eager start does not combine with Update-with-Start.
	opts.EnableEagerStart = false
	op := s.Temporal.NewWithStartWorkflowOperation(opts, workflows.CheckoutWorkflowName, in)
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	h, err := s.Temporal.UpdateWithStartWorkflow(wctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		// One update per run: only a new order is sent it, and a second
		// with the same id would join the first rather than grow the
		// history.
		UpdateOptions: client.UpdateWorkflowOptions{UpdateID: workflows.UpdateFirstOutcome, UpdateName: workflows.UpdateFirstOutcome,
			WaitForStage: client.WorkflowUpdateStageAccepted},
	})
	var st workflows.CheckoutState
	if err == nil {
		err = h.Get(wctx, &st)
	}
	if err == nil && st.RunID != "" {
		return st.RunID, &st, nil
	}
	// The start may have answered although the outcome did not come.
	sctx, scancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer scancel()
	if run, serr := op.Get(sctx); serr == nil && run.GetRunID() != "" {
		return run.GetRunID(), nil, nil
	}
	runID, err := s.startCheckout(ctx, b, order)
	return runID, nil, err
}
