package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"

	"github.com/payflow/payflow/providers/checkoutcom"
	"github.com/payflow/payflow/providers/ledger"
	"github.com/payflow/payflow/providers/rehive"
	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/workflows"
)

// Reconciler implements the reconciliation's passes (workflows.Reconcile).
// Each pass reads a page of candidates from the database, asks the providers
// (the truth) and settles the difference with calls that are idempotent by
// construction: derived ids and idempotency keys, and a provider state read
// before every change. Every action lands on the subject's timeline (the
// state JSON the API serves) and in reconcile_actions, which /metrics counts.
type Reconciler struct {
	Store       *store.Store
	Temporal    client.Client
	CheckoutCom *checkoutcom.Client
	Rehive      *rehive.Client
	Ledger      *ledger.Client
	Merchant    Merchant
	// Managed is the currency-manager configuration (as the routing uses it).
	Managed           func(code string) bool
	WithdrawalAccount string
	// LookBack bounds how far back closed orders and stalled deposits are
	// asked about.
	LookBack time.Duration
	// Idle is how long an order must be unchanged before the pass that looks
	// for closed workflows checks it (a running workflow saves as it goes).
	Idle time.Duration
	// UnstartedAfter is how long an order may wait for its workflow to start.
	UnstartedAfter time.Duration
	// Page bounds each pass.
	Page int
	// Quiet is how long a provider's transaction must be unchanged before
	// the passes that list the providers act on it (its webhook may be on
	// the way).
	Quiet time.Duration
	// TaskQueue and StallTimeout start the workflows of what payflow never
	// heard of, as the webhook routes do.
	TaskQueue    string
	StallTimeout time.Duration
	// CreditLookBack bounds how far back the merchant's Rehive credits are
	// listed for payments whose webhooks were lost.
	CreditLookBack time.Duration
}

// Outcome of one subject within a pass.
type recOutcome int

const (
	recDone     recOutcome = iota // nothing (more) to do for good
	recDeferred                   // look again in a later run
)

// pass runs f over items, heartbeating, and collects the report.
func pass[T any](ctx context.Context, items []T, f func(ctx context.Context, it T, p *workflows.ReconcilePass) (recOutcome, error)) workflows.ReconcilePass {
	p := workflows.ReconcilePass{}
	for _, it := range items {
		if ctx.Err() != nil {
			break
		}
		activity.RecordHeartbeat(ctx, p.Checked)
		p.Checked++
		ictx, cancel := context.WithTimeout(ctx, 45*time.Second)
		out, err := f(ictx, it, &p)
		cancel()
		if err != nil {
			p.Errors = append(p.Errors, err.Error())
			out = recDeferred
		}
		if out == recDeferred {
			p.Deferred++
		}
	}
	return p
}

// workflowClosed reports whether the workflow has no running execution, and
// how its last run ended ("" when it does not exist at all).
func (a *Reconciler) workflowClosed(ctx context.Context, id string) (bool, string, error) {
	d, err := a.Temporal.DescribeWorkflowExecution(ctx, id, "")
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		return true, "", nil
	case err != nil:
		return false, "", err
	}
	st := d.WorkflowExecutionInfo.GetStatus()
	if st == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return false, "", nil
	}
	return true, st.String(), nil
}

// reconcileKey is the Idempotency-Key of one effect asked for by one attempt
// of a reconciliation pass (see intentKey): a later run is a new intent and
// must not be answered with an earlier refusal. Derived ids keep the effect
// itself single.
func reconcileKey(ctx context.Context, effect, id string) string {
	h := sha256.Sum256([]byte(effect + "\x00" + id))
	return intentKey(ctx, "payflow-rec-"+effect+"-"+hex.EncodeToString(h[:10]))
}

// noteOrder records action on the order's timeline; change, when not nil,
// may also change the order (status, reason, payment) and return
// store.ErrNotChanged to write nothing.
func (a *Reconciler) noteOrder(ctx context.Context, orderID, action, detail string, change func(o *store.Order, st *workflows.CheckoutState) error) error {
	err := a.Store.ReconcileOrderUpdate(ctx, orderID, action, detail, func(o *store.Order) error {
		st := o.CheckoutState()
		if change != nil {
			if err := change(o, &st); err != nil {
				return err
			}
		}
		st.Status, st.FailureReason = o.Status, o.FailureReason
		st.Timeline = append(st.Timeline, workflows.TimelineEntry{At: time.Now().UTC(), Step: action, Detail: detail})
		raw, err := json.Marshal(st)
		if err != nil {
			return err
		}
		o.State = raw
		return nil
	})
	if errors.Is(err, store.ErrNotChanged) {
		return nil
	}
	return err
}

// ReconcileUnstarted closes orders whose workflow never started (the start
// failed and the client did not retry), so every order ends terminal. A
// retry of the same request before this still starts the checkout. An order
// whose workflow did start but never saved it gets its run id recorded.
func (a *Reconciler) ReconcileUnstarted(ctx context.Context) (workflows.ReconcilePass, error) {
	orders, err := a.Store.UnstartedOrders(ctx, a.UnstartedAfter, a.Page)
	if err != nil {
		return workflows.ReconcilePass{}, err
	}
	return pass(ctx, orders, func(ctx context.Context, o store.Order, p *workflows.ReconcilePass) (recOutcome, error) {
		d, err := a.Temporal.DescribeWorkflowExecution(ctx, o.WorkflowID, "")
		if err == nil {
			// It started (the API does not record the run). Its first save is
			// on the way, or never comes because the run closed first: with
			// the run id the orphaned pass settles the order (stock, payment).
			return recDeferred, a.Store.SetOrderRun(ctx, o.OrderID, d.GetWorkflowExecutionInfo().GetExecution().GetRunId())
		}
		var notFound *serviceerror.NotFound
		if !errors.As(err, &notFound) {
			return recDeferred, err // Temporal is down
		}
		if err := a.Store.FailUnstartedOrder(ctx, o.OrderID); err != nil {
			return recDeferred, err
		}
		err = a.noteOrder(ctx, o.OrderID, workflows.RecClosedUnstarted, "the workflow never started; failed (not_started)",
			func(o *store.Order, _ *workflows.CheckoutState) error {
				if o.Status != workflows.StatusFailed || o.FailureReason != "not_started" {
					return store.ErrNotChanged // a workflow took it over after all
				}
				return nil
			})
		if err == nil {
			p.Actions = append(p.Actions, o.OrderID+": "+workflows.RecClosedUnstarted)
		}
		return recDone, err
	}), nil
}

// terminalStatuses are the checkout statuses an order ends in.
var terminalStatuses = []string{string(workflows.StatusFulfilled), string(workflows.StatusPartiallyRefunded), string(workflows.StatusFailed), string(workflows.StatusExpired), string(workflows.StatusCancelled), string(workflows.StatusRefunded)}

// ReconcileOrphaned settles orders whose workflow closed (terminated,
// failed, timed out) before the order reached a terminal status: every
// payment found for it is voided or refunded, its stock released, and it
// ends failed (workflow_closed). A card payment still in flight is followed
// by ReconcileClosedUnpaid afterwards.
func (a *Reconciler) ReconcileOrphaned(ctx context.Context) (workflows.ReconcilePass, error) {
	orders, err := a.Store.OpenOrdersIdle(ctx, terminalStatuses, a.Idle, a.Page)
	if err != nil {
		return workflows.ReconcilePass{}, err
	}
	return pass(ctx, orders, func(ctx context.Context, o store.Order, p *workflows.ReconcilePass) (recOutcome, error) {
		closed, how, err := a.workflowClosed(ctx, o.WorkflowID)
		if err != nil {
			return recDeferred, err
		}
		if !closed {
			// Its workflow owns it; move it to the back of the queue.
			return recDone, a.Store.TouchOrder(ctx, o.OrderID)
		}
		if how == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED.String() {
			// It finished; only its last save of the read model was lost.
			if repaired, err := a.repairFromResult(ctx, o, p); err != nil || repaired {
				return recDone, err
			}
		}
		if how == "" {
			how = "gone"
		}
		st := o.CheckoutState()
		var settled, reversed bool
		if o.PaymentMethod == workflows.MethodRehive {
			settled, reversed, err = a.settleRehiveOrder(ctx, o, st, p)
		} else {
			settled, err = a.settleCardOrder(ctx, o, st, p)
		}
		if err != nil || !settled {
			return recDeferred, err
		}
		if err := a.Store.Release(ctx, o.OrderID); err != nil {
			return recDeferred, err
		}
		detail := fmt.Sprintf("workflow %s ended %s while the order was %s; stock released", o.WorkflowID, how, o.Status)
		err = a.noteOrder(ctx, o.OrderID, workflows.RecSettled, detail, func(cur *store.Order, _ *workflows.CheckoutState) error {
			if workflows.IsTerminal(cur.Status) {
				return store.ErrNotChanged
			}
			cur.Status, cur.FailureReason = workflows.StatusFailed, workflows.ReasonWorkflowClosed
			if reversed {
				// The wallet payment went back at once; a card refund is
				// confirmed later, by ReconcileClosedUnpaid.
				cur.Status = workflows.StatusRefunded
			}
			return nil
		})
		if err == nil {
			p.Actions = append(p.Actions, o.OrderID+": "+workflows.RecSettled)
		}
		return recDone, err
	}), nil
}

// repairFromResult writes a completed workflow's final state to the read
// model. It reports false when the result is not terminal after all.
func (a *Reconciler) repairFromResult(ctx context.Context, o store.Order, p *workflows.ReconcilePass) (bool, error) {
	var res workflows.CheckoutState
	if err := a.Temporal.GetWorkflow(ctx, o.WorkflowID, "").Get(ctx, &res); err != nil || !workflows.IsTerminal(res.Status) {
		return false, err
	}
	detail := "the workflow completed " + string(res.Status) + "; its last save of the order was lost"
	err := a.noteOrder(ctx, o.OrderID, workflows.RecReadModelRepaired, detail, func(cur *store.Order, st *workflows.CheckoutState) error {
		if workflows.IsTerminal(cur.Status) {
			return store.ErrNotChanged
		}
		*st = res
		cur.Status, cur.FailureReason = res.Status, res.FailureReason
		return nil
	})
	if err == nil {
		p.Actions = append(p.Actions, o.OrderID+": "+workflows.RecReadModelRepaired)
	}
	return true, err
}

// settleCardOrder voids or refunds every Checkout.com payment of the order
// (known ids and those found by reference). It reports whether the order
// may be closed: payments still in flight are followed up later by
// ReconcileClosedUnpaid, which looks at orders closed unpaid.
func (a *Reconciler) settleCardOrder(ctx context.Context, o store.Order, st workflows.CheckoutState, p *workflows.ReconcilePass) (bool, error) {
	ids, err := a.cardPaymentIDs(ctx, o, st)
	if err != nil {
		return false, err
	}
	for _, id := range ids {
		if _, err := a.settleCardPayment(ctx, o.OrderID, id, p); err != nil {
			return false, err
		}
	}
	return true, nil
}

// cardPaymentIDs lists every Checkout.com payment of an order: the ones the
// read model holds and those Checkout.com finds by reference (a charge whose
// answer was lost).
func (a *Reconciler) cardPaymentIDs(ctx context.Context, o store.Order, st workflows.CheckoutState) ([]string, error) {
	seen := map[string]bool{}
	var ids []string
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	add(st.Payment.ProviderPaymentID)
	known, err := a.Store.OrderPayments(ctx, o.OrderID)
	if err != nil {
		return nil, err
	}
	for _, k := range known {
		if k.Provider == "checkoutcom" {
			add(k.ProviderPaymentID)
		}
	}
	found, err := a.CheckoutCom.FindPaymentsByReference(ctx, o.OrderID)
	if err != nil {
		return nil, fmt.Errorf("find payments of %s: %w", o.OrderID, err)
	}
	for _, f := range found {
		add(f.ID)
	}
	return ids, nil
}

// Card payment states as the reconciliation sees them.
type cardState int

const (
	cardNothingTaken cardState = iota // declined, voided, expired, refunded: final, nothing held
	cardRefunded                      // refunded in full: final
	cardInFlight                      // pending (3-D Secure), or a void/refund requested and not confirmed
	cardAttention                     // the provider declined our refund or void: an operator must look
)

// settleCardPayment brings one payment of an order that must not keep money
// to a final state: an authorisation is voided, a capture refunded. A
// request is made once; later runs wait for Checkout.com to confirm it.
func (a *Reconciler) settleCardPayment(ctx context.Context, orderID, paymentID string, p *workflows.ReconcilePass) (cardState, error) {
	pay, err := a.CheckoutCom.GetPayment(ctx, paymentID)
	if err != nil {
		return cardInFlight, fmt.Errorf("get payment %s: %w", paymentID, err)
	}
	var action, kind string
	switch pay.Status {
	case checkoutcom.StatusRefunded:
		return cardRefunded, nil
	case checkoutcom.StatusDeclined, checkoutcom.StatusVoided, checkoutcom.StatusExpired, checkoutcom.StatusCanceled, checkoutcom.StatusCardVerified:
		return cardNothingTaken, nil
	case checkoutcom.StatusPending:
		return cardInFlight, nil
	case checkoutcom.StatusAuthorized:
		action, kind = workflows.RecVoidRequested, "void"
	default: // Captured, Partially Captured, Partially Refunded, Paid
		action, kind = workflows.RecRefundRequested, "refund"
	}
	asked, err := a.Store.HasReconcileAction(ctx, store.ReconcileOrder, orderID, action, paymentID)
	if err != nil {
		return cardInFlight, err
	}
	if asked {
		declined, err := a.actionDeclined(ctx, paymentID, kind)
		if err != nil || !declined {
			return cardInFlight, err
		}
		detail := fmt.Sprintf("%s: Checkout.com declined the %s; the payment is %s", paymentID, kind, pay.Status)
		if err := a.noteOrder(ctx, orderID, workflows.RecNeedsAttention, detail, nil); err != nil {
			return cardInFlight, err
		}
		p.Actions = append(p.Actions, orderID+": "+workflows.RecNeedsAttention)
		return cardAttention, nil
	}
	// One key per payment and effect: a repeat (this run died after the
	// call) is answered with the first 202, never a second refund.
	req := checkoutcom.ActionRequest{Reference: orderID}
	if kind == "void" {
		_, err = a.CheckoutCom.Void(ctx, paymentID, req, "payflow-reconcile-void-"+paymentID)
	} else {
		_, err = a.CheckoutCom.Refund(ctx, paymentID, req, "payflow-reconcile-refund-"+paymentID)
	}
	if err != nil {
		return cardInFlight, fmt.Errorf("%s %s: %w", kind, paymentID, err)
	}
	detail := fmt.Sprintf("%s: %s requested; the payment was %s", paymentID, kind, pay.Status)
	if err := a.noteOrder(ctx, orderID, action, detail, nil); err != nil {
		return cardInFlight, err
	}
	p.Actions = append(p.Actions, orderID+": "+action+" "+paymentID)
	return cardInFlight, nil
}

// actionDeclined reports whether Checkout.com's last action of kind on the
// payment was declined.
func (a *Reconciler) actionDeclined(ctx context.Context, paymentID, kind string) (bool, error) {
	actions, err := a.CheckoutCom.GetActions(ctx, paymentID)
	if err != nil {
		return false, err
	}
	want := map[string]checkoutcom.ActionType{"void": checkoutcom.ActionVoid, "refund": checkoutcom.ActionRefund}[kind]
	var last *checkoutcom.Action
	for i := range actions {
		if actions[i].Type == want && (last == nil || !actions[i].ProcessedOn.Before(last.ProcessedOn)) {
			last = &actions[i]
		}
	}
	return last != nil && !last.Approved, nil
}

// ReconcileClosedUnpaid asks Checkout.com about card orders that closed
// unpaid (expired, cancelled, failed with a payment error or because their
// workflow closed) once their workflow has closed: a payment that still
// went through is voided or refunded, even when no webhook ever arrived. An
// order whose payments are all final is remembered as settled and not asked
// about again.
func (a *Reconciler) ReconcileClosedUnpaid(ctx context.Context) (workflows.ReconcilePass, error) {
	orders, err := a.Store.ClosedUnpaidCardOrders(ctx, a.LookBack, 0, a.Page)
	if err != nil {
		return workflows.ReconcilePass{}, err
	}
	return pass(ctx, orders, func(ctx context.Context, o store.Order, p *workflows.ReconcilePass) (recOutcome, error) {
		closed, _, err := a.workflowClosed(ctx, o.WorkflowID)
		if err != nil {
			return recDeferred, err
		}
		if !closed {
			// Within its late window the workflow refunds what arrives.
			return recDeferred, a.Store.TouchOrder(ctx, o.OrderID)
		}
		out, err := a.settleUnpaidCardOrder(ctx, o, p)
		if out == recDeferred && err == nil {
			err = a.Store.TouchOrder(ctx, o.OrderID)
		}
		return out, err
	}), nil
}

func (a *Reconciler) settleUnpaidCardOrder(ctx context.Context, o store.Order, p *workflows.ReconcilePass) (recOutcome, error) {
	ids, err := a.cardPaymentIDs(ctx, o, o.CheckoutState())
	if err != nil {
		return recDeferred, err
	}
	refunded, attention := []string{}, false
	for _, id := range ids {
		s, err := a.settleCardPayment(ctx, o.OrderID, id, p)
		switch {
		case err != nil:
			return recDeferred, err
		case s == cardInFlight:
			return recDeferred, nil
		case s == cardAttention:
			attention = true
		case s == cardRefunded:
			if ok, err := a.Store.HasReconcileAction(ctx, store.ReconcileOrder, o.OrderID, workflows.RecRefundRequested, id); err != nil {
				return recDeferred, err
			} else if ok {
				refunded = append(refunded, id)
			}
		}
	}
	if len(refunded) > 0 {
		detail := fmt.Sprintf("Checkout.com confirmed the refund of %v", refunded)
		err := a.noteOrder(ctx, o.OrderID, workflows.RecRefunded, detail, func(cur *store.Order, st *workflows.CheckoutState) error {
			if cur.Status == workflows.StatusRefunded {
				return store.ErrNotChanged
			}
			cur.Status = workflows.StatusRefunded
			st.Payment.Status = "refunded"
			if st.Payment.ProviderPaymentID == "" {
				st.Payment.ProviderPaymentID = refunded[0]
			}
			return nil
		})
		if err != nil {
			return recDeferred, err
		}
		p.Actions = append(p.Actions, o.OrderID+": "+workflows.RecRefunded)
	}
	outcome := "settled"
	if attention {
		outcome = "needs_attention"
	}
	return recDone, a.Store.MarkSettled(ctx, store.ReconcileOrder, o.OrderID, outcome)
}
