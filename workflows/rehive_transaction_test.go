package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
)

// The Rehive transaction workflow: every flow of PRODUCT.md flow 2, the stall
// timer, duplicates and the Initiating->Pending->Complete chain in one run.
// The harness is in rehive_transaction_fakes_test.go.

func TestRehiveTxWithdrawalConfirmedByWebhook(t *testing.T) {
	h := newCMHarness(t)
	h.transition("tr_pc", RehiveTxPending, RehiveTxComplete)
	start := h.env.Now()
	mid := h.queryTxAt(5 * time.Second)
	h.ledgerMovesAt(10*time.Second, cmLedgerID, LedgerComplete, 1, "lev_1")
	st := h.runTx(transitionEvent("evt_1", "tr_pc"))

	require.Equal(t, TxStatusAwaitingLedger, mid.Status, "state mid-flight")
	require.Equal(t, FlowWithdrawal, mid.Flow)
	require.Equal(t, cmLedgerID, mid.LedgerTxID)

	require.Equal(t, TxStatusComplete, st.Status)
	require.Equal(t, FlowWithdrawal, st.Flow)
	require.Equal(t, RehiveTxComplete, st.RehiveStatus)
	require.Equal(t, cmLedgerID, st.LedgerTxID)
	require.Empty(t, st.FailureReason)
	require.Equal(t, "GDESTINATION", st.Destination)
	require.Equal(t, 10*time.Second, h.env.Now().Sub(start))
	require.Equal(t, []CreateLedgerTxInput{{
		LedgerTxID: cmLedgerID, RehiveTxID: cmTxID, Kind: LedgerKindWithdrawal, RehiveAccount: cmAccount,
		Amount: cmAmount, Currency: cmCurrency, Destination: "GDESTINATION", Status: LedgerComplete,
	}}, h.f.creates)
	require.Equal(t, []TransitionInput{{TxID: cmTxID, TransitionID: "tr_pc"}}, h.f.approvals)
	h.requireCalls(map[string]int{ActLookupRehiveTx: 1, ActDeclineTransition: 0, ActSetRehiveTxStatus: 0, ActAddRehiveMessage: 0, ActCancelLedgerTx: 0})
	require.Equal(t, []string{string(TxStatusAwaitingLedger), string(TxStatusComplete)}, h.f.savedStatuses())
	cmRequireInOrder(t, cmSteps(st.Timeline), []string{"started", "rehive_event", "transition", "ledger_linked", string(TxStatusAwaitingLedger), "ledger_complete", "approved", string(TxStatusComplete)})
}

func TestRehiveTxWithdrawalPollsWhenWebhookLost(t *testing.T) {
	h := newCMHarness(t)
	h.transition("tr_pc", RehiveTxPending, RehiveTxComplete)
	start := h.env.Now()
	h.ledgerMovesAt(45*time.Second, cmLedgerID, LedgerComplete, 1, "") // webhook lost
	st := h.runTx(transitionEvent("evt_1", "tr_pc"))

	require.Equal(t, TxStatusComplete, st.Status)
	// Polls at 30 s (pending) and 60 s (complete).
	require.Equal(t, 60*time.Second, h.env.Now().Sub(start))
	h.requireCalls(map[string]int{ActGetLedgerTx: 2, ActApproveTransition: 1})
}

func TestRehiveTxWithdrawalToLinkedLedgerAccount(t *testing.T) {
	h := newCMHarness(t)
	h.f.tx.Metadata = map[string]any{MetaLedgerAccount: "ledger-acct-9"}
	h.f.accountLinks["ledger-acct-9/"+cmCurrency] = AccountLinkResult{Found: true, RehiveAccount: cmAccount, LedgerAccount: "ledger-acct-9", Currency: cmCurrency}
	h.transition("tr_pc", RehiveTxPending, RehiveTxComplete)
	h.ledgerMovesAt(time.Second, cmLedgerID, LedgerComplete, 1, "lev_1")
	st := h.runTx(transitionEvent("evt_1", "tr_pc"))

	require.Equal(t, TxStatusComplete, st.Status)
	require.Len(t, h.f.creates, 1)
	require.Equal(t, "ledger-acct-9", h.f.creates[0].Destination)
	h.requireCalls(map[string]int{ActLookupAccountLink: 1})
}

// A user cannot withdraw to the ledger account linked to someone else.
func TestRehiveTxWithdrawalToSomeoneElsesLedgerAccountFails(t *testing.T) {
	h := newCMHarness(t)
	h.f.tx.Metadata = map[string]any{MetaLedgerAccount: "ledger-acct-9"}
	h.f.accountLinks["ledger-acct-9/"+cmCurrency] = AccountLinkResult{Found: true, RehiveAccount: "ACC-BOB", LedgerAccount: "ledger-acct-9", Currency: cmCurrency}
	h.transition("tr_pc", RehiveTxPending, RehiveTxComplete)
	st := h.runTx(transitionEvent("evt_1", "tr_pc"))

	require.Equal(t, TxStatusFailed, st.Status)
	require.Empty(t, h.f.creates)
}

func TestRehiveTxUnusableMetadataFailsAtOnce(t *testing.T) {
	cases := map[string]map[string]any{
		"no instructions":   {"note": "hello"},
		"both set":          {MetaDestination: "GDEST", MetaLedgerAccount: "ledger-acct-9"},
		"not a string":      {MetaDestination: 42.0},
		"empty":             {MetaDestination: ""},
		"spaces":            {MetaDestination: "G DEST"},
		"unlinked account":  {MetaLedgerAccount: "ledger-unknown"},
		"nil metadata keys": nil,
	}
	for name, meta := range cases {
		t.Run(name, func(t *testing.T) {
			h := newCMHarness(t)
			h.f.tx.Metadata = meta
			h.transition("tr_pc", RehiveTxPending, RehiveTxComplete)
			st := h.runTx(transitionEvent("evt_1", "tr_pc"))

			require.Equal(t, TxStatusFailed, st.Status)
			require.Equal(t, FlowWithdrawal, st.Flow)
			require.Equal(t, "unusable_metadata", st.FailureReason)
			require.Equal(t, RehiveTxFailed, st.RehiveStatus)
			require.Empty(t, st.LedgerTxID, "nothing on the ledger")
			require.Equal(t, []TransitionInput{{TxID: cmTxID, TransitionID: "tr_pc"}}, h.f.declines)
			require.Len(t, h.f.messages, 1)
			msg := h.f.messages[0]
			require.Equal(t, "user", msg.Section)
			require.Equal(t, "error", msg.Level)
			require.Contains(t, msg.Message, "Withdrawal failed")
			require.NotEmpty(t, msg.Key)
			h.requireCalls(map[string]int{ActCreateLedgerTx: 0, ActApproveTransition: 0, ActSetRehiveTxStatus: 0})
		})
	}
}

func TestRehiveTxLedgerFailsWithdrawal(t *testing.T) {
	h := newCMHarness(t)
	h.transition("tr_pc", RehiveTxPending, RehiveTxComplete)
	h.at(2*time.Second, func() {
		h.f.mu.Lock()
		h.f.ledger[cmLedgerID].FailureReason = "destination rejected"
		h.f.mu.Unlock()
	})
	h.ledgerMovesAt(2*time.Second, cmLedgerID, LedgerFailed, 0, "lev_1")
	st := h.runTx(transitionEvent("evt_1", "tr_pc"))

	require.Equal(t, TxStatusFailed, st.Status)
	require.Equal(t, "ledger_failed", st.FailureReason)
	require.Equal(t, RehiveTxFailed, st.RehiveStatus)
	require.Len(t, h.f.declines, 1)
	require.Len(t, h.f.messages, 1)
	require.Contains(t, h.f.messages[0].Message, "the ledger failed it: destination rejected", "the ledger's reason, from its webhook")
	h.requireCalls(map[string]int{ActApproveTransition: 0, ActCancelLedgerTx: 0, ActGetLedgerTx: 0})
}

func TestRehiveTxLedgerRejectsCreate(t *testing.T) {
	h := newCMHarness(t)
	h.transition("tr_pc", RehiveTxPending, RehiveTxComplete)
	h.f.createErr = cmNonRetryable("insufficient funds on the ledger", ErrTypeLedgerRejected)
	st := h.runTx(transitionEvent("evt_1", "tr_pc"))

	require.Equal(t, TxStatusFailed, st.Status)
	require.Equal(t, "ledger_rejected", st.FailureReason)
	require.Len(t, h.f.declines, 1)
	require.Contains(t, h.f.messages[0].Message, "insufficient funds")
	h.requireCalls(map[string]int{ActCreateLedgerTx: 1, ActApproveTransition: 0})
}

func TestRehiveTxLedgerCreateErrorNeedsAttention(t *testing.T) {
	h := newCMHarness(t)
	h.transition("tr_pc", RehiveTxPending, RehiveTxComplete)
	h.f.createErr = cmNonRetryable("unexpected answer", "bug")
	st := h.runTx(transitionEvent("evt_1", "tr_pc"))

	// The ledger may hold the withdrawal: failing it on Rehive could pay twice.
	require.Equal(t, TxStatusNeedsAttention, st.Status)
	require.Equal(t, "ledger_create_failed", st.FailureReason)
	h.requireCalls(map[string]int{ActDeclineTransition: 0, ActApproveTransition: 0, ActSetRehiveTxStatus: 0})
}

func TestRehiveTxUnmanagedCurrencyIgnored(t *testing.T) {
	h := newCMHarness(t)
	h.f.tx.Managed = false
	h.f.tx.Currency = "USD"
	h.transition("tr_pc", RehiveTxPending, RehiveTxComplete)
	st := h.runTx(transitionEvent("evt_1", "tr_pc"))

	require.Equal(t, TxStatusIgnored, st.Status)
	require.Equal(t, FlowIgnored, st.Flow)
	h.requireCalls(map[string]int{
		ActApproveTransition: 0, ActDeclineTransition: 0, ActSetRehiveTxStatus: 0, ActAddRehiveMessage: 0, ActCreateLedgerTx: 0,
	})
	require.Equal(t, []string{string(TxStatusIgnored)}, h.f.savedStatuses())
}

func TestRehiveTxTransferApproved(t *testing.T) {
	h := newCMHarness(t)
	h.f.tx.Transfer = true
	h.f.tx.Metadata = nil
	h.transition("tr_pc", RehiveTxPending, RehiveTxComplete)
	st := h.runTx(transitionEvent("evt_1", "tr_pc"))

	require.Equal(t, TxStatusComplete, st.Status)
	require.Equal(t, FlowTransfer, st.Flow)
	require.Equal(t, RehiveTxComplete, st.RehiveStatus)
	require.Len(t, h.f.approvals, 1)
	h.requireCalls(map[string]int{ActCreateLedgerTx: 0, ActGetLedgerTx: 0, ActDeclineTransition: 0})
}

func TestRehiveTxTransferCreditSideFollowsCollection(t *testing.T) {
	h := newCMHarness(t)
	h.f.tx.Transfer = true
	h.f.tx.TxType = "credit"
	// The debit side's approval completes the collection, credit included.
	h.at(time.Minute, func() {
		h.f.mu.Lock()
		h.f.tx.Status = RehiveTxComplete
		h.f.mu.Unlock()
	})
	h.rehiveEventAt(time.Minute, updateEvent("evt_2"))
	mid := h.queryTxAt(30 * time.Second)
	st := h.runTx(RehiveEvent{EventID: "evt_1", Event: "transaction.create", TxID: cmTxID})

	require.Equal(t, TxStatusAwaitingTransition, mid.Status)
	require.Equal(t, FlowTransfer, mid.Flow)
	require.Equal(t, TxStatusComplete, st.Status)
	require.Equal(t, FlowTransfer, st.Flow)
	h.requireCalls(map[string]int{ActApproveTransition: 0, ActSetRehiveTxStatus: 0, ActLookupRehiveTx: 2})
}

func TestRehiveTxUnsupportedCreditFailedAtOnce(t *testing.T) {
	h := newCMHarness(t)
	h.f.tx.TxType = "credit"
	st := h.runTx(RehiveEvent{EventID: "evt_1", Event: "transaction.create", TxID: cmTxID})

	require.Equal(t, TxStatusFailed, st.Status)
	require.Equal(t, FlowUnsupported, st.Flow)
	require.Equal(t, "unsupported", st.FailureReason)
	// No transition to decline: the status is set directly.
	require.Equal(t, []RehiveStatusInput{{TxID: cmTxID, Status: RehiveTxFailed, Note: "unsupported"}}, h.f.statusSets)
	require.Len(t, h.f.messages, 1)
	require.Equal(t, "user", h.f.messages[0].Section)
	h.requireCalls(map[string]int{ActDeclineTransition: 0, ActCreateLedgerTx: 0})
}

func TestRehiveTxUnsupportedTransitionDeclined(t *testing.T) {
	h := newCMHarness(t)
	h.transition("tr_q", RehiveTxInitiating, "Quoted")
	st := h.runTx(transitionEvent("evt_1", "tr_q"))

	require.Equal(t, TxStatusFailed, st.Status)
	require.Equal(t, FlowUnsupported, st.Flow)
	require.Len(t, h.f.declines, 1)
	h.requireCalls(map[string]int{ActSetRehiveTxStatus: 0, ActCreateLedgerTx: 0})
}

func TestRehiveTxInitiatingPendingCompleteInOneRun(t *testing.T) {
	h := newCMHarness(t)
	h.f.tx.Status = RehiveTxInitiating
	h.transition("tr_ip", RehiveTxInitiating, RehiveTxPending)
	h.transition("tr_pc", RehiveTxPending, RehiveTxComplete)
	afterPending := h.queryTxAt(time.Minute)
	// Rehive reports the approval of tr_ip, then raises tr_pc.
	h.rehiveEventAt(2*time.Minute, RehiveEvent{EventID: "evt_2", Event: "transaction.transition.update", TxID: cmTxID, TransitionID: "tr_ip"})
	h.rehiveEventAt(3*time.Minute, transitionEvent("evt_3", "tr_pc"))
	h.ledgerMovesAt(4*time.Minute, cmLedgerID, LedgerComplete, 1, "lev_1")
	st := h.runTx(transitionEvent("evt_1", "tr_ip"))

	require.Equal(t, TxStatusAwaitingTransition, afterPending.Status)
	require.Equal(t, FlowInitiatingToPending, afterPending.Flow)
	require.Equal(t, RehiveTxPending, afterPending.RehiveStatus)
	require.Equal(t, cmLedgerID, afterPending.LedgerTxID)

	require.Equal(t, TxStatusComplete, st.Status)
	require.Equal(t, FlowPendingToComplete, st.Flow)
	require.Equal(t, RehiveTxComplete, st.RehiveStatus)
	require.Equal(t, cmLedgerID, st.LedgerTxID)
	require.Len(t, h.f.creates, 1)
	require.Equal(t, LedgerPending, h.f.creates[0].Status)
	require.Equal(t, LedgerKindPending, h.f.creates[0].Kind)
	require.Equal(t, []TransitionInput{{TxID: cmTxID, TransitionID: "tr_ip"}, {TxID: cmTxID, TransitionID: "tr_pc"}}, h.f.approvals)
	// evt_2 names a transition already handled: no lookup for it.
	h.requireCalls(map[string]int{ActLookupRehiveTx: 2, ActCompleteLedgerTx: 1, ActDeclineTransition: 0, ActCancelLedgerTx: 0})
	require.Equal(t, []string{string(TxStatusAwaitingTransition), string(TxStatusAwaitingLedger), string(TxStatusComplete)}, h.f.savedStatuses())
}

func TestRehiveTxPendingToCompleteFromStoredLink(t *testing.T) {
	h := newCMHarness(t)
	// A held ledger transaction that ledger_links knows from before this run.
	h.f.ledgerLinks[cmTxID] = cmLedgerID
	h.f.ledger[cmLedgerID] = &LedgerTxResult{ID: cmLedgerID, Type: "withdrawal", Status: LedgerPending}
	h.transition("tr_pc", RehiveTxPending, RehiveTxComplete)
	h.ledgerMovesAt(time.Second, cmLedgerID, LedgerComplete, 1, "lev_1")
	st := h.runTx(transitionEvent("evt_1", "tr_pc"))

	require.Equal(t, TxStatusComplete, st.Status)
	require.Equal(t, FlowPendingToComplete, st.Flow)
	h.requireCalls(map[string]int{ActCreateLedgerTx: 0, ActCompleteLedgerTx: 1, ActApproveTransition: 1})
}

func TestRehiveTxHeldLedgerFailureFailsRehive(t *testing.T) {
	h := newCMHarness(t)
	h.f.tx.Status = RehiveTxInitiating
	h.transition("tr_ip", RehiveTxInitiating, RehiveTxPending)
	h.ledgerMovesAt(time.Minute, cmLedgerID, LedgerFailed, 0, "lev_1")
	st := h.runTx(transitionEvent("evt_1", "tr_ip"))

	require.Equal(t, TxStatusFailed, st.Status)
	require.Equal(t, "ledger_failed", st.FailureReason)
	require.Equal(t, []RehiveStatusInput{{TxID: cmTxID, Status: RehiveTxFailed, Note: "ledger_failed"}}, h.f.statusSets)
	require.Len(t, h.f.messages, 1)
}

func TestRehiveTxDuplicateEventsAppliedOnce(t *testing.T) {
	h := newCMHarness(t)
	h.f.tx.Status = RehiveTxInitiating
	h.transition("tr_ip", RehiveTxInitiating, RehiveTxPending)
	h.transition("tr_pc", RehiveTxPending, RehiveTxComplete)
	first := transitionEvent("evt_1", "tr_ip")
	h.rehiveEventAt(time.Second, first)                                   // redelivered, same id
	h.rehiveEventAt(2*time.Second, first)                                 // and again
	h.rehiveEventAt(3*time.Second, transitionEvent("evt_other", "tr_ip")) // another event, same transition
	h.rehiveEventAt(time.Minute, transitionEvent("evt_3", "tr_pc"))
	h.ledgerMovesAt(2*time.Minute, cmLedgerID, LedgerPending, 0, "lev_1")
	h.ledgerMovesAt(2*time.Minute, cmLedgerID, LedgerPending, 0, "lev_1") // duplicate ledger webhook
	h.ledgerMovesAt(3*time.Minute, cmLedgerID, LedgerComplete, 1, "lev_2")
	st := h.runTx(first)

	require.Equal(t, TxStatusComplete, st.Status)
	h.requireCalls(map[string]int{
		ActLookupRehiveTx: 2, ActCreateLedgerTx: 1, ActCompleteLedgerTx: 1, ActApproveTransition: 2, ActDeclineTransition: 0,
	})
	steps := cmSteps(st.Timeline)
	require.Contains(t, steps, "duplicate_event")
	require.Contains(t, steps, "duplicate_transition")
	require.Contains(t, steps, "duplicate_ledger_event")
}

func TestRehiveTxLateAndForeignLedgerEventsChangeNothing(t *testing.T) {
	h := newCMHarness(t)
	h.transition("tr_pc", RehiveTxPending, RehiveTxComplete)
	h.ledgerEventAt(time.Second, LedgerEvent{EventID: "lev_2", Type: "transaction.updated", LedgerTxID: cmLedgerID, Status: LedgerComplete})
	h.ledgerEventAt(time.Second, LedgerEvent{EventID: "lev_1", Type: "transaction.updated", LedgerTxID: cmLedgerID, Status: LedgerPending})
	h.ledgerEventAt(time.Second, LedgerEvent{EventID: "lev_x", Type: "transaction.updated", LedgerTxID: "rehive-other", Status: LedgerFailed})
	st := h.runTx(transitionEvent("evt_1", "tr_pc"))

	require.Equal(t, TxStatusComplete, st.Status)
	h.requireCalls(map[string]int{ActApproveTransition: 1, ActDeclineTransition: 0})
}

func TestRehiveTxStallFailsAndCancelsLedger(t *testing.T) {
	h := newCMHarness(t)
	h.transition("tr_pc", RehiveTxPending, RehiveTxComplete)
	start := h.env.Now()
	st := h.runTx(transitionEvent("evt_1", "tr_pc")) // the ledger never confirms

	require.Equal(t, cmStall, h.env.Now().Sub(start))
	require.Equal(t, TxStatusFailed, st.Status)
	require.Equal(t, "stalled", st.FailureReason)
	require.Equal(t, RehiveTxFailed, st.RehiveStatus)
	require.Equal(t, FlowWithdrawal, st.Flow)
	h.requireCalls(map[string]int{ActCancelLedgerTx: 1, ActDeclineTransition: 1, ActApproveTransition: 0, ActAddRehiveMessage: 1})
	require.Equal(t, LedgerCancelled, h.f.ledger[cmLedgerID].Status)
	require.Contains(t, h.f.messages[0].Message, "did not complete in time")
}

func TestRehiveTxStallWhileHeldOnLedger(t *testing.T) {
	h := newCMHarness(t)
	h.f.tx.Status = RehiveTxInitiating
	h.transition("tr_ip", RehiveTxInitiating, RehiveTxPending)
	st := h.runTx(transitionEvent("evt_1", "tr_ip")) // Pending->Complete never comes

	require.Equal(t, TxStatusFailed, st.Status)
	require.Equal(t, "stalled", st.FailureReason)
	require.Equal(t, []RehiveStatusInput{{TxID: cmTxID, Status: RehiveTxFailed, Note: "stalled"}}, h.f.statusSets)
	h.requireCalls(map[string]int{ActCancelLedgerTx: 1, ActApproveTransition: 1, ActDeclineTransition: 0})
}

func TestRehiveTxStallFindsLedgerCompleteAndCompletes(t *testing.T) {
	h := newCMHarness(t)
	h.transition("tr_pc", RehiveTxPending, RehiveTxComplete)
	h.f.cancelTo = LedgerComplete // too late to cancel: the ledger paid
	st := h.runTx(transitionEvent("evt_1", "tr_pc"))

	require.Equal(t, TxStatusComplete, st.Status)
	require.Empty(t, st.FailureReason)
	h.requireCalls(map[string]int{ActCancelLedgerTx: 1, ActApproveTransition: 1, ActDeclineTransition: 0, ActAddRehiveMessage: 0})
}

func TestRehiveTxStallWithoutTransitionFails(t *testing.T) {
	h := newCMHarness(t)
	st := h.runTx(updateEvent("evt_1")) // a debit whose transition never arrives

	require.Equal(t, TxStatusFailed, st.Status)
	require.Equal(t, "stalled", st.FailureReason)
	require.Equal(t, FlowWithdrawal, st.Flow)
	require.Equal(t, []RehiveStatusInput{{TxID: cmTxID, Status: RehiveTxFailed, Note: "stalled"}}, h.f.statusSets)
	h.requireCalls(map[string]int{ActCancelLedgerTx: 0, ActCreateLedgerTx: 0})
}

func TestRehiveTxStallReadsRehiveFirst(t *testing.T) {
	h := newCMHarness(t)
	// An admin completes the transaction on Rehive and its webhook is lost.
	h.at(time.Minute, func() {
		h.f.mu.Lock()
		h.f.tx.Status = RehiveTxComplete
		h.f.mu.Unlock()
	})
	// Complete on Rehive before any ledger payout: the payout is created
	// (versionCompleteMirrored) and followed until the ledger completes it.
	h.ledgerMovesAt(cmStall+time.Minute, cmLedgerID, LedgerComplete, 1, "lev_1")
	st := h.runTx(updateEvent("evt_1"))

	require.Equal(t, TxStatusComplete, st.Status)
	require.Equal(t, RehiveTxComplete, st.RehiveStatus)
	require.Equal(t, cmLedgerID, st.LedgerTxID)
	require.Len(t, h.f.creates, 1)
	require.Equal(t, LedgerComplete, h.f.creates[0].Status)
	h.requireCalls(map[string]int{ActLookupRehiveTx: 2, ActSetRehiveTxStatus: 0, ActAddRehiveMessage: 0})
}

func TestRehiveTxFailedElsewhereCancelsLedger(t *testing.T) {
	h := newCMHarness(t)
	h.f.tx.Status = RehiveTxInitiating
	h.transition("tr_ip", RehiveTxInitiating, RehiveTxPending)
	h.transition("tr_pf", RehiveTxPending, RehiveTxFailed) // the user cancels
	h.rehiveEventAt(time.Minute, transitionEvent("evt_2", "tr_pf"))
	st := h.runTx(transitionEvent("evt_1", "tr_ip"))

	require.Equal(t, TxStatusFailed, st.Status)
	require.Equal(t, "failed_on_rehive", st.FailureReason)
	require.Equal(t, LedgerCancelled, h.f.ledger[cmLedgerID].Status)
	h.requireCalls(map[string]int{ActApproveTransition: 2, ActCancelLedgerTx: 1, ActDeclineTransition: 0})
}

func TestRehiveTxOwnDepositCreditIsLeftToDeposit(t *testing.T) {
	h := newCMHarness(t)
	h.f.tx = RehiveTxInfo{
		TxID: cmDepositTxID, TxType: "credit", Status: RehiveTxPending, Amount: cmAmount, Currency: cmCurrency,
		Account: cmAccount, Managed: true, OwnDeposit: true, Metadata: map[string]any{DepositMetadataKey: "ltx_1"},
	}
	h.at(time.Minute, func() {
		h.f.mu.Lock()
		h.f.tx.Status = RehiveTxComplete // the deposit workflow completed it
		h.f.mu.Unlock()
	})
	mid := h.queryTxAt(30 * time.Second)
	h.env.SetStartWorkflowOptions(cmStartOptions(cmDepositTxID))
	h.rehiveEventAt(0, RehiveEvent{EventID: "evt_1", Event: "transaction.create", TxID: cmDepositTxID})
	h.rehiveEventAt(time.Minute, RehiveEvent{EventID: "evt_2", Event: "transaction.update", TxID: cmDepositTxID})
	h.env.ExecuteWorkflow(RehiveTxWorkflowName, RehiveTxInput{TxID: cmDepositTxID, StallTimeout: cmStall})
	require.NoError(t, h.env.GetWorkflowError())
	var st RehiveTxState
	require.NoError(t, h.env.GetWorkflowResult(&st))

	require.Equal(t, TxStatusDelegated, mid.Status)
	require.Equal(t, FlowDeposit, mid.Flow)
	require.Equal(t, TxStatusComplete, st.Status)
	h.requireCalls(map[string]int{ActSetRehiveTxStatus: 0, ActDeclineTransition: 0, ActAddRehiveMessage: 0})
}

func TestRehiveTxForgedDepositMarkerIsUnsupported(t *testing.T) {
	h := newCMHarness(t)
	h.f.tx.TxType = "credit"
	// The marker, on a credit the lookup did not recognise as ours (its id is
	// not the one derived from the ledger transaction).
	h.f.tx.Metadata = map[string]any{DepositMetadataKey: "ltx_1"}
	st := h.runTx(RehiveEvent{EventID: "evt_1", Event: "transaction.create", TxID: cmTxID})

	require.Equal(t, FlowUnsupported, st.Flow)
	require.Equal(t, TxStatusFailed, st.Status)
}

func TestRehiveTxCancelledByOperator(t *testing.T) {
	h := newCMHarness(t)
	h.transition("tr_pc", RehiveTxPending, RehiveTxComplete)
	h.at(time.Minute, h.env.CancelWorkflow)
	h.env.SetStartWorkflowOptions(cmStartOptions(cmTxID))
	h.rehiveEventAt(0, transitionEvent("evt_1", "tr_pc"))
	h.env.ExecuteWorkflow(RehiveTxWorkflowName, RehiveTxInput{TxID: cmTxID, StallTimeout: cmStall})

	var canceled *temporal.CanceledError
	require.ErrorAs(t, h.env.GetWorkflowError(), &canceled)
	require.Equal(t, TxStatusNeedsAttention, h.f.savedTxs[len(h.f.savedTxs)-1].Status)
	h.requireCalls(map[string]int{ActDeclineTransition: 0, ActApproveTransition: 0, ActCancelLedgerTx: 0})
}

func TestRehiveTxSearchAttributes(t *testing.T) {
	h := newCMHarness(t)
	h.transition("tr_pc", RehiveTxPending, RehiveTxComplete)
	var statuses []string
	h.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		sa := args.Get(0).(temporal.SearchAttributes)
		id, ok := sa.GetKeyword(SARehiveTxID)
		require.True(t, ok)
		require.Equal(t, cmTxID, id)
		st, ok := sa.GetKeyword(SAStatus)
		require.True(t, ok)
		statuses = append(statuses, st)
	}).Return(nil)
	h.ledgerMovesAt(time.Second, cmLedgerID, LedgerComplete, 1, "lev_1")
	h.runTx(transitionEvent("evt_1", "tr_pc"))

	require.Equal(t, []string{string(TxStatusReceived), string(TxStatusAwaitingLedger), string(TxStatusComplete)}, statuses)
}

func TestParseWithdrawalMetadata(t *testing.T) {
	dest, account, problem := parseWithdrawalMetadata(map[string]any{MetaDestination: "GABC", "memo": 1.0})
	require.Equal(t, []string{"GABC", "", ""}, []string{dest, account, problem})
	dest, account, problem = parseWithdrawalMetadata(map[string]any{MetaLedgerAccount: "acct-1", MetaDestination: nil})
	require.Equal(t, []string{"", "acct-1", ""}, []string{dest, account, problem})
	_, _, problem = parseWithdrawalMetadata(map[string]any{MetaDestination: string(make([]byte, maxInstructionLen+1))})
	require.NotEmpty(t, problem)
	_, _, problem = parseWithdrawalMetadata(map[string]any{MetaDestination: "GABC\x00"})
	require.NotEmpty(t, problem)
}
