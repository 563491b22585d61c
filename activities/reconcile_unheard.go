package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/payflow/payflow/providers/ledger"
	"github.com/payflow/payflow/providers/rehive"
	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/workflows"
)

// The passes that start from the providers' books rather than payflow's
// tables: a managed Rehive transaction or a ledger deposit whose webhooks
// were all lost is in no table, so only listing the provider finds it.

// liveRehiveStatuses are the statuses a managed transaction waits in.
var liveRehiveStatuses = []string{rehive.StatusInitiating, rehive.StatusQuoted, rehive.StatusPending}

// ReconcileUnheardRehive finds managed Rehive transactions with a
// transition waiting for payflow's verdict that no run of theirs has taken
// up (the transition's webhook was lost, or never delivered) and hands the
// transition to the transaction's workflow rehive-tx/<id>, starting it when
// there is none, exactly as the webhook would have (SignalWithStart, the
// same id, a closed run never started again). A run already holding the
// transition ignores the repeat; the transaction's own workflow then does
// all the work.
func (a *Reconciler) ReconcileUnheardRehive(ctx context.Context) (workflows.ReconcilePass, error) {
	since, quietSince := time.Now().Add(-a.LookBack), time.Now().Add(-a.Quiet)
	var live []rehive.Transaction
	for _, status := range liveRehiveStatuses {
		txs, err := a.Rehive.ListTransactions(ctx, rehive.TransactionFilter{Status: status, CreatedAfter: since})
		if err != nil {
			return workflows.ReconcilePass{}, fmt.Errorf("list %s Rehive transactions: %w", status, err)
		}
		for _, tx := range txs {
			// A transaction that moved just now may have its webhook on the way.
			if a.Managed(tx.Currency.Code) && !rehive.IsFinal(tx.Status) && time.UnixMilli(max(tx.Updated, tx.Created)).Before(quietSince) {
				live = append(live, tx)
			}
		}
	}
	ids := make([]string, len(live))
	for i, tx := range live {
		ids[i] = string(tx.ID)
	}
	seen, err := a.Store.RehiveTxsSeen(ctx, ids)
	if err != nil {
		return workflows.ReconcilePass{}, err
	}
	var todo []rehive.Transaction
	for _, tx := range live {
		// A run that ended gave its verdict (or left it to an operator, or
		// to the reconciliation of closed workflows).
		if s, ok := seen[string(tx.ID)]; !ok || !workflows.IsTxStatusFinal(workflows.TxStatus(s.Status)) {
			todo = append(todo, tx)
		}
	}
	if len(todo) > a.Page {
		todo = todo[:a.Page]
	}
	return pass(ctx, todo, func(ctx context.Context, tx rehive.Transaction, p *workflows.ReconcilePass) (recOutcome, error) {
		return a.handOverTransition(ctx, tx, seen[string(tx.ID)], p)
	}), nil
}

func (a *Reconciler) handOverTransition(ctx context.Context, tx rehive.Transaction, seen store.RehiveTxSeen, p *workflows.ReconcilePass) (recOutcome, error) {
	id := string(tx.ID)
	trs, err := a.Rehive.ListTransitions(ctx, id)
	if err != nil {
		return recDeferred, fmt.Errorf("list transitions of %s: %w", id, err)
	}
	var waiting *rehive.Transition
	for i := range trs {
		if trs[i].Status == rehive.TransitionPending || trs[i].Status == rehive.TransitionQueued {
			waiting = &trs[i]
			break // newest first
		}
	}
	switch {
	case waiting == nil:
		// Nothing waits for payflow: the webhook route would start nothing
		// either (a transfer's other leg, a step Rehive is still applying).
		return recDone, nil
	case waiting.Status == rehive.TransitionQueued:
		return recDone, nil // approved already; Rehive applies it
	case seen.ID != "" && strings.Contains(string(seen.State), string(waiting.ID)):
		return recDone, nil // its run has taken it up
	}
	wfID := workflows.RehiveTxWorkflowID(id)
	ev := workflows.RehiveEvent{EventID: "reconcile:" + string(waiting.ID), Event: "transaction.transition.create", TxID: id,
		TransitionID: string(waiting.ID), Status: workflows.RehiveStatus(tx.Status), Currency: tx.Currency.Code}
	md := workflows.RehiveTxMetadata(id, tx.TxType, tx.Subtype, tx.Status, tx.AbsAmount(), tx.Currency.Code)
	_, err = a.Temporal.SignalWithStartWorkflow(ctx, wfID, workflows.SignalRehiveEvent, ev, client.StartWorkflowOptions{
		ID: wfID, TaskQueue: a.TaskQueue,
		// A closed run is final, as for the webhook route.
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		StaticSummary:         md.Summary, StaticDetails: md.Details,
	}, workflows.RehiveTxWorkflowName, workflows.RehiveTxInput{TxID: id, StallTimeout: a.StallTimeout})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return recDone, nil // its run closed: settled by the closed-workflow passes
	}
	if err != nil {
		return recDeferred, fmt.Errorf("hand transition %s to %s: %w", waiting.ID, wfID, err)
	}
	detail := fmt.Sprintf("%s: transition %s %s->%s waiting for payflow, unannounced; handed to %s", id, waiting.ID, waiting.FromStatus, waiting.ToStatus, wfID)
	if err := a.Store.RecordReconcileAction(ctx, store.ReconcileRehiveTx, id, workflows.RecTransitionHandedOver, detail); err != nil {
		return recDone, err
	}
	p.Actions = append(p.Actions, id+": "+workflows.RecTransitionHandedOver)
	return recDone, nil
}

// ReconcileUnheardDeposits finds ledger deposits that payflow has no
// record of (the incoming webhook, the only one a deposit needing no
// confirmations gets, was lost) and starts their workflow
// ledger-deposit/<id> as the webhook would have. The workflow reads the
// ledger itself from there.
func (a *Reconciler) ReconcileUnheardDeposits(ctx context.Context) (workflows.ReconcilePass, error) {
	deps, err := a.Ledger.ListTransactions(ctx, ledger.ListFilter{Type: ledger.Deposit, CreatedAfter: time.Now().Add(-a.LookBack)})
	if err != nil {
		return workflows.ReconcilePass{}, fmt.Errorf("list ledger deposits: %w", err)
	}
	quietSince := time.Now().Add(-a.Quiet)
	var recent []ledger.Transaction
	for _, d := range deps {
		if d.Created.Before(quietSince) {
			recent = append(recent, d)
		}
	}
	ids := make([]string, len(recent))
	for i, d := range recent {
		ids[i] = d.ID
	}
	known, err := a.Store.KnownDeposits(ctx, ids)
	if err != nil {
		return workflows.ReconcilePass{}, err
	}
	var todo []ledger.Transaction
	for _, d := range recent {
		if !known[d.ID] {
			todo = append(todo, d)
		}
	}
	if len(todo) > a.Page {
		todo = todo[:a.Page]
	}
	return pass(ctx, todo, func(ctx context.Context, d ledger.Transaction, p *workflows.ReconcilePass) (recOutcome, error) {
		wfID := workflows.DepositWorkflowID(d.ID)
		ev := workflows.LedgerEvent{EventID: "reconcile:" + d.ID, Type: "transaction.incoming", LedgerTxID: d.ID, TxType: string(d.Type),
			Status: string(d.Status), Account: d.Account, Amount: d.Amount, Currency: d.Currency,
			Confirmations: d.Confirmations, RequiredConfirmations: d.RequiredConfirmations, FailureReason: d.FailureReason}
		md := workflows.DepositMetadata(d.ID, d.Amount, d.Currency, d.Account)
		_, err := a.Temporal.SignalWithStartWorkflow(ctx, wfID, workflows.SignalLedgerEvent, ev, client.StartWorkflowOptions{
			ID: wfID, TaskQueue: a.TaskQueue, WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			StaticSummary: md.Summary, StaticDetails: md.Details,
		}, workflows.DepositWorkflowName, workflows.DepositInput{LedgerTxID: d.ID, StallTimeout: a.StallTimeout})
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		if errors.As(err, &started) {
			return recDone, nil // its run closed
		}
		if err != nil {
			return recDeferred, fmt.Errorf("start %s: %w", wfID, err)
		}
		detail := fmt.Sprintf("%s: %s deposit of %d %s to %s that payflow never heard of; %s started", d.ID, d.Status, d.Amount, d.Currency, d.Account, wfID)
		if err := a.Store.RecordReconcileAction(ctx, store.ReconcileDeposit, d.ID, workflows.RecDepositStarted, detail); err != nil {
			return recDone, err
		}
		p.Actions = append(p.Actions, d.ID+": "+workflows.RecDepositStarted)
		return recDone, nil
	}), nil
}

// ReconcileMerchantCredits looks at the merchant's Complete Rehive credits
// naming an order (metadata.order_id) in the last CreditLookBack: a
// payment whose webhook was lost (a customer who paid twice, or after the
// order closed) is known from here only. Once the order is terminal, every
// credit but the one it keeps is sent back, with the ids the checkout
// derives (whichever comes first, the other finds it made). A credit found
// final is remembered and not looked at again.
func (a *Reconciler) ReconcileMerchantCredits(ctx context.Context) (workflows.ReconcilePass, error) {
	f := rehive.TransactionFilter{TxType: rehive.Credit, Status: rehive.StatusComplete, CreatedAfter: time.Now().Add(-a.CreditLookBack), User: a.Merchant.Email}
	if a.Merchant.Account != "" {
		f.Account, f.User = a.Merchant.Account, ""
	}
	credits, err := a.Rehive.ListTransactions(ctx, f)
	if err != nil {
		return workflows.ReconcilePass{}, fmt.Errorf("list the merchant's credits: %w", err)
	}
	quietSince := time.Now().Add(-a.Quiet)
	var named []rehive.Transaction
	ids := []string{}
	for _, c := range credits {
		if oid, _ := c.Metadata["order_id"].(string); oid != "" && time.UnixMilli(c.Created).Before(quietSince) {
			named = append(named, c)
			ids = append(ids, string(c.ID))
		}
	}
	settled, err := a.Store.SettledSubjects(ctx, store.ReconcileRehiveCredit, ids)
	if err != nil {
		return workflows.ReconcilePass{}, err
	}
	var todo []rehive.Transaction
	for _, c := range named {
		if !settled[string(c.ID)] {
			todo = append(todo, c)
		}
	}
	if len(todo) > a.Page {
		todo = todo[:a.Page]
	}
	return pass(ctx, todo, func(ctx context.Context, c rehive.Transaction, p *workflows.ReconcilePass) (recOutcome, error) {
		orderID, _ := c.Metadata["order_id"].(string)
		o, err := a.Store.GetOrder(ctx, orderID)
		if errors.Is(err, store.ErrNotFound) {
			return recDone, a.Store.MarkSettled(ctx, store.ReconcileRehiveCredit, string(c.ID), "unknown_order")
		}
		if err != nil {
			return recDeferred, err
		}
		if !workflows.IsTerminal(o.Status) {
			return recDeferred, nil // its workflow owns it
		}
		// The payment the order took: the checkout refunds it, never the
		// reconciliation.
		keep := keptPayment(o)
		final, reversed, err := a.reverseRehivePayment(ctx, orderID, string(c.ID), keep, p)
		if err != nil || !final {
			return recDeferred, err
		}
		outcome := "kept_or_settled"
		if reversed {
			outcome = "reversed"
		}
		return recDone, a.Store.MarkSettled(ctx, store.ReconcileRehiveCredit, string(c.ID), outcome)
	}), nil
}
