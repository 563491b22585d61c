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
		return min(time.Duration(n)*time.Second, maxPreferWait)
	}
	return 0
}

// startCheckoutWaiting starts the checkout with its first-outcome update
// (Update-with-Start, one round trip to Temporal) and waits up to wait for
// the answer: the charge's outcome (awaiting capture, 3-D Secure redirect,
// declined), the wallet's wait, or a failure before the charge. When the
// answer does not come in time, or the run had closed (its id is not reused),
// the plain start says which run serves the order and the outcome is nil.
func (s *server) startCheckoutWaiting(ctx context.Context, b checkoutBody, order store.Order, wait time.Duration) (string, *workflows.CheckoutState, error) {
	opts, in := s.checkoutStart(b, order)
	// Eager start does not combine with Update-with-Start.
	opts.EnableEagerStart = false
	op := s.Temporal.NewWithStartWorkflowOperation(opts, workflows.CheckoutWorkflowName, in)
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	h, err := s.Temporal.UpdateWithStartWorkflow(wctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		// One id per order: a repeat joins the same update, so a client
		// retrying cannot grow the workflow's history.
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
	runID, err := s.startCheckout(ctx, b, order)
	return runID, nil, err
}
