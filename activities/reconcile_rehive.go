package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/payflow/payflow/providers/checkoutcom"
	"github.com/payflow/payflow/providers/httpx"
	"github.com/payflow/payflow/providers/ledger"
	"github.com/payflow/payflow/providers/rehive"
	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/workflows"
)

// settleRehiveOrder reverses every Rehive payment of the order: those its
// workflow knew of and credits to the merchant that name it. It reports
// false while one is not final yet, and whether it sent money back.
func (a *Reconciler) settleRehiveOrder(ctx context.Context, o store.Order, st workflows.CheckoutState, p *workflows.ReconcilePass) (settled, reversed bool, err error) {
	ids := []string{}
	if st.Payment.ProviderPaymentID != "" {
		ids = append(ids, st.Payment.ProviderPaymentID)
	}
	known, err := a.Store.OrderPayments(ctx, o.OrderID)
	if err != nil {
		return false, false, err
	}
	for _, k := range known {
		if k.Provider == "rehive" && k.ProviderPaymentID != st.Payment.ProviderPaymentID {
			ids = append(ids, k.ProviderPaymentID)
		}
	}
	// A transfer whose webhooks never came: the merchant's credits since the
	// order was made, matched on metadata.order_id.
	f := rehive.TransactionFilter{TxType: rehive.Credit, CreatedAfter: o.CreatedAt.Add(-time.Minute), User: a.Merchant.Email}
	if a.Merchant.Account != "" {
		f.Account, f.User = a.Merchant.Account, ""
	}
	credits, err := a.Rehive.ListTransactions(ctx, f)
	if err != nil {
		return false, false, fmt.Errorf("list the merchant's credits: %w", err)
	}
	for _, c := range credits {
		if oid, _ := c.Metadata["order_id"].(string); oid == o.OrderID && !slices.Contains(ids, string(c.ID)) {
			ids = append(ids, string(c.ID))
		}
	}
	for _, id := range ids {
		final, did, err := a.reverseRehivePayment(ctx, o.OrderID, id, "", p)
		if err != nil || !final {
			return false, reversed, err
		}
		reversed = reversed || did
	}
	return true, reversed, nil
}

// reverseRehivePayment sends back a Rehive payment for orderID unless it is
// keep (the payment a fulfilled order keeps). It reports whether the payment
// is settled for good (reversed, failed, or not a payment of this order)
// and whether this call reversed it.
// The reversal has the ids RefundRehive derives, so whichever of the
// checkout and the reconciliation comes first, the other finds it made.
func (a *Reconciler) reverseRehivePayment(ctx context.Context, orderID, txID, keep string, p *workflows.ReconcilePass) (final, reversed bool, err error) {
	tx, err := a.Rehive.GetTransaction(ctx, txID)
	if httpx.ClassOf(err) == httpx.NotFound {
		return true, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("get Rehive transaction %s: %w", txID, err)
	}
	if tx.TxType != rehive.Credit && tx.Partner != nil && tx.Partner.ID != "" {
		// The payer's debit leg: the money is on the merchant's credit.
		if tx, err = a.Rehive.GetTransaction(ctx, string(tx.Partner.ID)); err != nil {
			return false, false, fmt.Errorf("get Rehive transaction %s: %w", txID, err)
		}
	}
	credit := string(tx.ID)
	if o, _ := tx.Metadata["order_id"].(string); o != orderID || tx.TxType != rehive.Credit || !a.isMerchant(tx) {
		return true, false, nil
	}
	if credit == keep || txID == keep {
		return true, false, nil
	}
	switch tx.Status {
	case rehive.StatusFailed:
		return true, false, nil
	case rehive.StatusComplete:
	default:
		return false, false, nil
	}
	id := rehive.DeriveID("payflow-refund-" + credit)
	if _, err := a.Rehive.GetCollection(ctx, id); err == nil {
		return true, false, nil // reversed already
	} else if httpx.ClassOf(err) != httpx.NotFound {
		return false, false, err
	}
	payer := rehive.CollectionTx{TxType: rehive.Credit, Amount: tx.AbsAmount(), Currency: tx.Currency.Code, Status: rehive.StatusComplete}
	if tx.Partner != nil {
		payer.Account = tx.Partner.Account
		if tx.Partner.User != nil {
			payer.User = tx.Partner.User.Email
		}
	}
	merchant := rehive.CollectionTx{TxType: rehive.Debit, Amount: tx.AbsAmount(), Currency: tx.Currency.Code, Account: tx.Account, User: a.Merchant.Email, Status: rehive.StatusComplete}
	meta := map[string]any{"refund_for_order": orderID, "refund_of": credit}
	payer.Metadata, merchant.Metadata = meta, meta
	payer.ID = rehive.DeriveID("payflow-refund-credit-" + credit)
	merchant.ID = rehive.DeriveID("payflow-refund-debit-" + credit)
	_, err = a.Rehive.CreateCollection(ctx, rehive.CollectionRequest{ID: id, Transactions: []rehive.CollectionTx{merchant, payer}, Status: rehive.StatusComplete},
		reconcileKey(ctx, "reverse", credit))
	if _, ok := refused(err); ok {
		// Made by the checkout meanwhile, or refused for good: the
		// collection's existence says which.
		if _, gerr := a.Rehive.GetCollection(ctx, id); gerr == nil {
			return true, false, nil
		}
	}
	if err != nil {
		return false, false, fmt.Errorf("reverse %s: %w", credit, err)
	}
	detail := fmt.Sprintf("%s: %d %s sent back to the payer (collection %s)", credit, tx.AbsAmount(), tx.Currency.Code, id)
	err = a.noteOrder(ctx, orderID, workflows.RecReversed, detail, func(o *store.Order, st *workflows.CheckoutState) error {
		switch o.Status {
		case workflows.StatusExpired, workflows.StatusCancelled, workflows.StatusFailed:
			o.Status = workflows.StatusRefunded
			st.Payment.RefundID = id
		}
		return nil
	})
	if err != nil {
		return false, true, err
	}
	p.Actions = append(p.Actions, orderID+": "+workflows.RecReversed+" "+credit)
	return true, true, nil
}

func (a *Reconciler) isMerchant(tx *rehive.Transaction) bool {
	if a.Merchant.Account != "" {
		return tx.Account == a.Merchant.Account
	}
	return tx.User.Email != "" && tx.User.Email == a.Merchant.Email
}

// ReconcileInbox settles events that reached a closed workflow: a payment
// for an order that does not keep it is voided, refunded or reversed; a
// managed Rehive transaction is made consistent with the ledger; a deposit
// confirmed after its stall is credited or flagged.
func (a *Reconciler) ReconcileInbox(ctx context.Context) (workflows.ReconcilePass, error) {
	events, err := a.Store.ClaimClosedWorkflowEvents(ctx, 10*time.Minute, a.Page)
	if err != nil {
		return workflows.ReconcilePass{}, err
	}
	return pass(ctx, events, func(ctx context.Context, ev store.InboxEvent, p *workflows.ReconcilePass) (recOutcome, error) {
		out, note, err := a.inboxEvent(ctx, ev, p)
		if err != nil {
			note, out = err.Error(), recDeferred
		}
		// The outcome is written even when the item used up its time.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if out == recDone {
			return out, errors.Join(err, a.Store.FinishInboxReconcile(wctx, ev.ID, "reconciled: "+note))
		}
		return out, errors.Join(err, a.Store.DeferInboxReconcile(wctx, ev.ID, "reconcile: "+note))
	}), nil
}

func (a *Reconciler) inboxEvent(ctx context.Context, ev store.InboxEvent, p *workflows.ReconcilePass) (recOutcome, string, error) {
	wf := ev.WorkflowID.String
	if id, ok := strings.CutPrefix(wf, "rehive-tx/"); ok {
		return a.reconcileRehiveTx(ctx, id, p)
	}
	if id, ok := strings.CutPrefix(wf, "ledger-deposit/"); ok {
		return a.reconcileDeposit(ctx, id, p)
	}
	orderID, ok := strings.CutPrefix(wf, "checkout/")
	if !ok {
		return recDone, "no workflow payflow reconciles", nil
	}
	o, err := a.Store.GetOrder(ctx, orderID)
	if errors.Is(err, store.ErrNotFound) {
		return recDone, "unknown order", nil
	}
	if err != nil {
		return recDeferred, "", err
	}
	if !workflows.IsTerminal(o.Status) {
		return recDeferred, "order " + string(o.Status) + ": settled by the closed-workflow pass first", nil
	}
	keep := keptPayment(o)
	switch ev.Provider {
	case "checkoutcom":
		cev, err := checkoutcom.ParseWebhook(ev.Payload)
		if err != nil {
			return recDone, "unparseable", nil
		}
		if cev.Data.ID == "" || cev.Data.ID == keep {
			return recDone, "the fulfilled order's own payment", nil
		}
		out, err := a.finishCardPayments(ctx, o, []string{cev.Data.ID}, p)
		return out, "payment " + cev.Data.ID, err
	case "rehive":
		rev, err := rehive.ParseWebhook(ev.Payload)
		if err != nil {
			return recDone, "unparseable", nil
		}
		tx, err := rev.Transaction()
		if err != nil {
			return recDone, "no transaction in the event", nil
		}
		final, _, err := a.reverseRehivePayment(ctx, orderID, string(tx.ID), keep, p)
		if err != nil || !final {
			return recDeferred, "Rehive transaction " + string(tx.ID) + " not final", err
		}
		return recDone, "Rehive transaction " + string(tx.ID), nil
	}
	return recDone, "provider " + ev.Provider + " has no payments", nil
}

// finishCardPayments settles card payments of a closed order and, once
// Checkout.com confirms a refund the reconciliation asked for, marks an
// order that was not fulfilled refunded.
func (a *Reconciler) finishCardPayments(ctx context.Context, o store.Order, ids []string, p *workflows.ReconcilePass) (recOutcome, error) {
	refunded := []string{}
	for _, id := range ids {
		s, err := a.settleCardPayment(ctx, o.OrderID, id, p)
		switch {
		case err != nil:
			return recDeferred, err
		case s == cardInFlight:
			return recDeferred, nil
		case s == cardRefunded:
			asked, err := a.Store.HasReconcileAction(ctx, store.ReconcileOrder, o.OrderID, workflows.RecRefundRequested, id)
			if err != nil {
				return recDeferred, err
			}
			if asked {
				refunded = append(refunded, id)
			}
		}
	}
	if len(refunded) == 0 {
		return recDone, nil
	}
	detail := fmt.Sprintf("Checkout.com confirmed the refund of %s", strings.Join(refunded, ", "))
	err := a.noteOrder(ctx, o.OrderID, workflows.RecRefunded, detail, func(cur *store.Order, st *workflows.CheckoutState) error {
		if cur.Status == workflows.StatusRefunded || cur.Status == workflows.StatusFulfilled {
			return store.ErrNotChanged
		}
		cur.Status = workflows.StatusRefunded
		st.Payment.Status = "refunded"
		if st.Payment.ProviderPaymentID == "" {
			st.Payment.ProviderPaymentID = refunded[0]
		}
		return nil
	})
	if err == nil {
		p.Actions = append(p.Actions, o.OrderID+": "+workflows.RecRefunded)
	}
	return recDone, err
}

// reconcileRehiveTx makes a managed transaction whose workflow has closed
// consistent with the ledger: Complete on Rehive needs exactly one complete
// ledger payout (created, idempotently by its derived id, or released when
// held); Failed needs none left standing (a live one is cancelled). What
// cannot be made consistent (the ledger paid a Failed transaction, or
// refused the payout of a Complete one, or the metadata names no usable
// destination) becomes needs_attention.
func (a *Reconciler) reconcileRehiveTx(ctx context.Context, txID string, p *workflows.ReconcilePass) (recOutcome, string, error) {
	tx, err := a.Rehive.GetTransaction(ctx, txID)
	if err != nil {
		return recDeferred, "", fmt.Errorf("get Rehive transaction %s: %w", txID, err)
	}
	switch {
	case !a.Managed(tx.Currency.Code):
		return recDone, "currency not managed", nil
	case tx.IsTransfer() || isOwnDeposit(tx) || tx.TxType != rehive.Debit:
		return recDone, "nothing on the ledger for a " + tx.TxType, nil
	case !rehive.IsFinal(tx.Status):
		return recDone, "Rehive has it " + tx.Status + "; its workflow's verdict stands", nil
	}
	ledgerID := workflows.LedgerTxIDFor(txID)
	kind := workflows.LedgerKindWithdrawal
	if l, err := a.Store.GetLedgerLink(ctx, txID); err == nil {
		ledgerID, kind = l.LedgerTxID, l.Kind
	} else if !errors.Is(err, store.ErrNotFound) {
		return recDeferred, "", err
	}
	ltx, err := a.Ledger.GetTransaction(ctx, ledgerID)
	if httpx.ClassOf(err) == httpx.NotFound {
		ltx, err = nil, nil
	}
	if err != nil {
		return recDeferred, "", fmt.Errorf("get ledger transaction %s: %w", ledgerID, err)
	}
	attention := func(why string) (recOutcome, string, error) {
		return recDone, why, a.noteRehiveTx(ctx, tx, workflows.RecNeedsAttention, why, workflows.TxStatusNeedsAttention, "reconcile_"+tx.Status, ledgerID, p)
	}
	consistent := func(status workflows.TxStatus, why string) (recOutcome, string, error) {
		return recDone, why, a.noteRehiveTx(ctx, tx, workflows.RecRehiveConsistent, why, status, "", "", p)
	}
	if tx.Status == rehive.StatusFailed {
		switch {
		case ltx == nil || ltx.Status == ledger.StatusFailed || ltx.Status == ledger.StatusCancelled:
			return consistent(workflows.TxStatusFailed, "Failed on Rehive; no ledger payout")
		case ltx.Status == ledger.StatusComplete:
			return attention("Failed on Rehive but the ledger completed payout " + ledgerID)
		}
		res, err := a.Ledger.CancelTransaction(ctx, ledgerID)
		if httpx.ClassOf(err) == httpx.Conflict {
			res, err = a.Ledger.GetTransaction(ctx, ledgerID)
		}
		if err != nil {
			return recDeferred, "", fmt.Errorf("cancel ledger transaction %s: %w", ledgerID, err)
		}
		if res.Status == ledger.StatusComplete {
			return attention("Failed on Rehive but the ledger completed payout " + ledgerID + " before the cancel")
		}
		why := "Failed on Rehive; ledger payout " + ledgerID + " " + string(res.Status)
		return recDone, why, a.noteRehiveTx(ctx, tx, workflows.RecLedgerCancelled, why, workflows.TxStatusFailed, "failed_on_rehive", ledgerID, p)
	}
	// Complete on Rehive.
	switch {
	case ltx == nil:
		dest, problem, err := a.payoutDestination(ctx, tx)
		if err != nil {
			return recDeferred, "", err
		}
		if problem != "" {
			return attention("Complete on Rehive without a ledger payout, and " + problem)
		}
		if _, err := a.Ledger.CreateTransaction(ctx, ledger.CreateRequest{
			ID: ledgerID, Type: ledger.Withdrawal, Account: a.WithdrawalAccount, Amount: tx.AbsAmount(), Currency: tx.Currency.Code,
			Status: ledger.StatusComplete, Destination: dest,
			Metadata: map[string]string{"rehive_tx_id": txID, "rehive_account": tx.Account},
		}); err != nil {
			if httpx.ClassOf(err) == httpx.Invalid || httpx.ClassOf(err) == httpx.Declined {
				return attention("Complete on Rehive but the ledger refused the payout: " + err.Error())
			}
			return recDeferred, "", fmt.Errorf("create ledger payout %s: %w", ledgerID, err)
		}
		if _, err := a.Store.PutLedgerLink(ctx, store.LedgerLink{RehiveTxID: txID, LedgerTxID: ledgerID, Kind: workflows.LedgerKindWithdrawal}); err != nil {
			return recDeferred, "", err
		}
		why := "Complete on Rehive: ledger payout " + ledgerID + " to " + dest + " created"
		return recDeferred, why, a.noteRehiveTx(ctx, tx, workflows.RecLedgerCreated, why, workflows.TxStatusAwaitingLedger, "", ledgerID, p)
	case ltx.Status == ledger.StatusComplete:
		return consistent(workflows.TxStatusComplete, "Complete on Rehive and on the ledger")
	case ltx.Status == ledger.StatusFailed || ltx.Status == ledger.StatusCancelled:
		return attention("Complete on Rehive but the ledger " + string(ltx.Status) + " payout " + ledgerID)
	case kind != workflows.LedgerKindPending:
		return recDeferred, "ledger payout " + ledgerID + " still processing", nil
	}
	released, err := a.Store.HasReconcileAction(ctx, store.ReconcileRehiveTx, txID, workflows.RecLedgerCompleted, ledgerID)
	if err != nil || released {
		return recDeferred, "ledger payout " + ledgerID + " released, processing", err
	}
	if _, err := a.Ledger.CompleteTransaction(ctx, ledgerID); err != nil && httpx.ClassOf(err) != httpx.Conflict {
		return recDeferred, "", fmt.Errorf("release ledger transaction %s: %w", ledgerID, err)
	}
	why := ledgerID + ": held payout released, Complete on Rehive"
	return recDeferred, why, a.noteRehiveTx(ctx, tx, workflows.RecLedgerCompleted, why, workflows.TxStatusAwaitingLedger, "", ledgerID, p)
}

// payoutDestination reads the withdrawal instructions as the workflow does;
// problem says why they are unusable.
func (a *Reconciler) payoutDestination(ctx context.Context, tx *rehive.Transaction) (dest, problem string, err error) {
	dest, account, problem := workflows.ParseWithdrawalMetadata(tx.Metadata)
	if problem != "" || account == "" {
		return dest, problem, nil
	}
	l, err := a.Store.FindAccountLinkByLedger(ctx, account, tx.Currency.Code)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", fmt.Sprintf("ledger account %q is not linked for %s", account, tx.Currency.Code), nil
	case err != nil:
		return "", "", err
	case l.RehiveAccount != tx.Account:
		return "", fmt.Sprintf("ledger account %q is not linked to this account", account), nil
	}
	return account, "", nil
}

// noteRehiveTx records an action on a managed transaction's read model.
func (a *Reconciler) noteRehiveTx(ctx context.Context, tx *rehive.Transaction, action, detail string, status workflows.TxStatus, reason, ledgerID string, p *workflows.ReconcilePass) error {
	id := string(tx.ID)
	change := func(t *store.RehiveTx) error {
		var st workflows.RehiveTxState
		if len(t.State) > 2 {
			_ = json.Unmarshal(t.State, &st)
		}
		if st.TxID == "" {
			st = workflows.RehiveTxState{TxID: id, TxType: tx.TxType, Amount: tx.AbsAmount(), Currency: tx.Currency.Code, Account: tx.Account, Timeline: []workflows.TimelineEntry{}}
		}
		if action == workflows.RecRehiveConsistent && t.Status == status {
			return store.ErrNotChanged // nothing new to say
		}
		t.Status, st.Status = status, status
		if reason != "" {
			t.FailureReason, st.FailureReason = reason, reason
		}
		if ledgerID != "" {
			t.LedgerTxID, st.LedgerTxID = ledgerID, ledgerID
		}
		t.RehiveStatus = workflows.RehiveStatus(tx.Status)
		st.RehiveStatus = t.RehiveStatus
		st.Timeline = append(st.Timeline, workflows.TimelineEntry{At: time.Now().UTC(), Step: action, Detail: detail})
		raw, err := json.Marshal(st)
		t.State = raw
		return err
	}
	err := a.Store.ReconcileRehiveTxUpdate(ctx, id, action, detail, change)
	if errors.Is(err, store.ErrNotFound) {
		// No run ever saved it: record it first, then the action.
		if err = a.Store.SaveRehiveTxState(ctx, store.RehiveTx{ID: id, TxType: tx.TxType, Currency: tx.Currency.Code,
			Amount: tx.AbsAmount(), Account: tx.Account, RehiveStatus: workflows.RehiveStatus(tx.Status)}); err == nil {
			err = a.Store.ReconcileRehiveTxUpdate(ctx, id, action, detail, change)
		}
	}
	switch {
	case errors.Is(err, store.ErrNotChanged):
		return nil
	case err == nil:
		p.Actions = append(p.Actions, id+": "+action)
	}
	return err
}

// ReconcileDeposits looks at deposits failed by their stall timer: the
// ledger may have confirmed them since, with its webhook lost.
func (a *Reconciler) ReconcileDeposits(ctx context.Context) (workflows.ReconcilePass, error) {
	deps, err := a.Store.StalledDeposits(ctx, a.LookBack, a.Page)
	if err != nil {
		return workflows.ReconcilePass{}, err
	}
	return pass(ctx, deps, func(ctx context.Context, d store.Deposit, p *workflows.ReconcilePass) (recOutcome, error) {
		out, _, err := a.reconcileDeposit(ctx, d.LedgerTxID, p)
		return out, err
	}), nil
}

// reconcileDeposit credits a deposit the ledger confirmed after its stall
// timer had failed its Rehive credit: the Failed credit cannot change, so a
// replacement credit is made, with an id derived from the ledger
// transaction (one at most). If Rehive refuses, the deposit becomes
// needs_attention; never silently stranded.
func (a *Reconciler) reconcileDeposit(ctx context.Context, ledgerTxID string, p *workflows.ReconcilePass) (recOutcome, string, error) {
	d, err := a.Store.GetDeposit(ctx, ledgerTxID)
	if errors.Is(err, store.ErrNotFound) {
		return recDone, "no deposit recorded", nil
	}
	if err != nil {
		return recDeferred, "", err
	}
	if d.Status != workflows.DepositFailed || d.FailureReason != "stalled" {
		return recDone, "deposit " + d.Status + "; its workflow's verdict stands", nil
	}
	ltx, err := a.Ledger.GetTransaction(ctx, ledgerTxID)
	if err != nil {
		return recDeferred, "", fmt.Errorf("get ledger transaction %s: %w", ledgerTxID, err)
	}
	switch {
	case ltx.Status == ledger.StatusFailed || ltx.Status == ledger.StatusCancelled:
		return recDone, "the ledger " + string(ltx.Status) + " it", a.Store.MarkSettled(ctx, store.ReconcileDeposit, ledgerTxID, "ledger_"+string(ltx.Status))
	case ltx.Status != ledger.StatusComplete && ltx.Confirmations < ltx.RequiredConfirmations:
		return recDeferred, "not confirmed yet", nil
	}
	creditID, status, problem, err := a.creditAfterStall(ctx, d)
	if err != nil {
		return recDeferred, "", err
	}
	if problem != "" {
		why := "confirmed on the ledger after the stall, but " + problem
		if err := a.noteDeposit(ctx, d, workflows.RecNeedsAttention, why, workflows.DepositNeedsAttention, "credit_after_stall_refused", "", p); err != nil {
			return recDeferred, "", err
		}
		return recDone, why, a.Store.MarkSettled(ctx, store.ReconcileDeposit, ledgerTxID, "needs_attention")
	}
	if status != rehive.StatusComplete {
		return recDeferred, "replacement credit " + creditID + " is " + status, nil
	}
	why := fmt.Sprintf("confirmed on the ledger after the stall: credited Complete as %s", creditID)
	if err := a.noteDeposit(ctx, d, workflows.RecDepositCredited, why, workflows.DepositComplete, "", creditID, p); err != nil {
		return recDeferred, "", err
	}
	return recDone, why, a.Store.MarkSettled(ctx, store.ReconcileDeposit, ledgerTxID, "credited")
}

// creditAfterStall completes the deposit's credit on Rehive: the original
// one if it is still live, else a replacement. problem says why Rehive
// refused.
func (a *Reconciler) creditAfterStall(ctx context.Context, d store.Deposit) (id, status, problem string, err error) {
	if d.RehiveTxID != "" {
		tx, err := a.Rehive.GetTransaction(ctx, d.RehiveTxID)
		switch {
		case err != nil && httpx.ClassOf(err) != httpx.NotFound:
			return "", "", "", err
		case err == nil && tx.Status == rehive.StatusComplete:
			return d.RehiveTxID, tx.Status, "", nil
		case err == nil && !rehive.IsFinal(tx.Status):
			_, perr := a.Rehive.PatchTransaction(ctx, d.RehiveTxID, rehive.TransactionPatch{Status: rehive.StatusComplete, Note: "confirmed on the ledger"},
				reconcileKey(ctx, "deposit-complete", d.RehiveTxID))
			if pe, ok := refused(perr); ok {
				return d.RehiveTxID, "", "Rehive refused to complete credit " + d.RehiveTxID + ": " + pe.Message, nil
			}
			if perr != nil {
				return "", "", "", perr
			}
			return d.RehiveTxID, rehive.StatusComplete, "", nil
		}
	}
	if d.Account == "" {
		return "", "", "no Rehive account was recorded for it", nil
	}
	id, colID := lateDepositTxID(d.LedgerTxID), lateDepositCollectionID(d.LedgerTxID)
	if tx, err := a.Rehive.GetTransaction(ctx, id); err == nil {
		return id, tx.Status, "", nil
	} else if httpx.ClassOf(err) != httpx.NotFound {
		return "", "", "", err
	}
	meta := map[string]any{workflows.DepositMetadataKey: d.LedgerTxID, "replaces": d.RehiveTxID}
	col, err := a.Rehive.CreateCollection(ctx, rehive.CollectionRequest{ID: colID, Transactions: []rehive.CollectionTx{{
		ID: id, TxType: rehive.Credit, Amount: d.Amount, Currency: d.Currency, Account: d.Account,
		Reference: d.LedgerTxID, Metadata: meta, Status: rehive.StatusComplete,
	}}}, reconcileKey(ctx, "deposit-credit", d.LedgerTxID))
	if pe, ok := refused(err); ok {
		return id, "", "Rehive refused the credit: " + pe.Message, nil
	}
	if err != nil {
		return "", "", "", err
	}
	for _, t := range col.Transactions {
		if string(t.ID) == id {
			return id, t.Status, "", nil
		}
	}
	return id, rehive.StatusPending, "", nil
}

// noteDeposit records an action on a deposit's read model.
func (a *Reconciler) noteDeposit(ctx context.Context, d store.Deposit, action, detail, status, reason, creditID string, p *workflows.ReconcilePass) error {
	err := a.Store.ReconcileDepositUpdate(ctx, d.LedgerTxID, action, detail, func(row *store.Deposit) error {
		var st workflows.DepositState
		if len(row.State) > 2 {
			_ = json.Unmarshal(row.State, &st)
		}
		if st.LedgerTxID == "" {
			st = workflows.DepositState{LedgerTxID: row.LedgerTxID, RehiveTxID: row.RehiveTxID, Account: row.Account, Amount: row.Amount, Currency: row.Currency, Timeline: []workflows.TimelineEntry{}}
		}
		row.Status, st.Status = status, status
		row.FailureReason, st.FailureReason = reason, reason
		if creditID != "" {
			row.RehiveTxID, st.RehiveTxID = creditID, creditID
		}
		st.Timeline = append(st.Timeline, workflows.TimelineEntry{At: time.Now().UTC(), Step: action, Detail: detail})
		raw, err := json.Marshal(st)
		row.State = raw
		return err
	})
	if err == nil {
		p.Actions = append(p.Actions, d.LedgerTxID+": "+action)
	}
	return err
}

// keptPayment is the payment an order took that the reconciliation must never
// send back, or "": the order kept it (fulfilled, partially refunded), or its
// checkout already returned it (refunded, or any refund made), which the
// reconciliation's own reversal, keyed by the whole payment, would not see
// and would return a second time.
func keptPayment(o store.Order) string {
	st := o.CheckoutState()
	switch {
	case o.Status == workflows.StatusFulfilled, o.Status == workflows.StatusPartiallyRefunded,
		o.Status == workflows.StatusRefunded, len(st.Refunds) > 0:
		return st.Payment.ProviderPaymentID
	}
	return ""
}
