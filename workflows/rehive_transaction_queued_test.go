package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Rehive answers an approval queued and then fails the transaction (its
// webhook lost): the held ledger transaction is cancelled, nothing paid.
func TestRehiveTxQueuedApprovalThenFailedCancelsHeldPayout(t *testing.T) {
	h := newCMHarness(t)
	h.f.queued = true
	h.f.tx.Status = RehiveTxInitiating
	h.transition("tr_ip", RehiveTxInitiating, RehiveTxPending)
	h.rehiveMovesAt(time.Minute, RehiveTxFailed)
	st := h.runTx(transitionEvent("evt_1", "tr_ip"))

	require.Equal(t, TxStatusFailed, st.Status)
	require.Equal(t, RehiveTxFailed, st.RehiveStatus)
	require.Equal(t, LedgerCancelled, h.f.ledger[cmLedgerID].Status)
	require.Contains(t, cmSteps(st.Timeline), "approval_overridden")
	h.requireCalls(map[string]int{ActApproveTransition: 1, ActCancelLedgerTx: 1, ActCompleteLedgerTx: 0, ActSetRehiveTxStatus: 0})
}

// Pending->Complete answered queued, then Failed on Rehive: the payout was
// still held (approve before release), so it is cancelled and never paid.
func TestRehiveTxQueuedPendingToCompleteFailedLeavesNoPayout(t *testing.T) {
	h := newCMHarness(t)
	h.f.queued = true
	h.f.ledgerLinks[cmTxID] = cmLedgerID
	h.f.ledger[cmLedgerID] = &LedgerTxResult{ID: cmLedgerID, Type: "withdrawal", Status: LedgerPending}
	h.transition("tr_pc", RehiveTxPending, RehiveTxComplete)
	h.rehiveMovesAt(30*time.Second, RehiveTxFailed)
	st := h.runTx(transitionEvent("evt_1", "tr_pc"))

	require.Equal(t, TxStatusFailed, st.Status)
	require.Equal(t, LedgerCancelled, h.f.ledger[cmLedgerID].Status)
	h.requireCalls(map[string]int{ActApproveTransition: 1, ActCompleteLedgerTx: 0, ActCancelLedgerTx: 1})
}

// The queued approval is applied later: the payout is released only then,
// and the run closes once the ledger completes it.
func TestRehiveTxQueuedPendingToCompleteAppliedReleasesPayout(t *testing.T) {
	h := newCMHarness(t)
	h.f.queued = true
	h.f.ledgerLinks[cmTxID] = cmLedgerID
	h.f.ledger[cmLedgerID] = &LedgerTxResult{ID: cmLedgerID, Type: "withdrawal", Status: LedgerPending}
	h.transition("tr_pc", RehiveTxPending, RehiveTxComplete)
	h.rehiveMovesAt(30*time.Second, RehiveTxComplete)
	beforeApplied := h.queryTxAt(20 * time.Second)
	h.ledgerMovesAt(2*time.Minute, cmLedgerID, LedgerComplete, 1, "lev_1")
	st := h.runTx(transitionEvent("evt_1", "tr_pc"))

	require.False(t, IsTxStatusFinal(beforeApplied.Status), "closed before Rehive applied the approval: %+v", beforeApplied)
	require.Equal(t, TxStatusComplete, st.Status)
	require.Equal(t, RehiveTxComplete, st.RehiveStatus)
	h.requireCalls(map[string]int{ActApproveTransition: 1, ActCompleteLedgerTx: 1, ActCancelLedgerTx: 0})
}

// The ledger fails a payout released after Rehive completed the
// transaction: Rehive cannot be failed any more, so an operator must look.
func TestRehiveTxReleasedPayoutFailedNeedsAttention(t *testing.T) {
	h := newCMHarness(t)
	h.f.ledgerLinks[cmTxID] = cmLedgerID
	h.f.ledger[cmLedgerID] = &LedgerTxResult{ID: cmLedgerID, Type: "withdrawal", Status: LedgerPending}
	h.transition("tr_pc", RehiveTxPending, RehiveTxComplete)
	h.ledgerMovesAt(time.Minute, cmLedgerID, LedgerFailed, 0, "lev_1")
	st := h.runTx(transitionEvent("evt_1", "tr_pc"))

	require.Equal(t, TxStatusNeedsAttention, st.Status)
	require.Equal(t, "ledger_failed_after_complete", st.FailureReason)
	h.requireCalls(map[string]int{ActSetRehiveTxStatus: 0, ActDeclineTransition: 0})
}

// Complete on Rehive before a payout, with metadata that names no usable
// destination: never a silent close.
func TestRehiveTxCompleteWithoutUsableMetadataNeedsAttention(t *testing.T) {
	h := newCMHarness(t)
	h.f.tx.Status = RehiveTxComplete
	h.f.tx.Metadata = map[string]any{}
	st := h.runTx(updateEvent("evt_1"))

	require.Equal(t, TxStatusNeedsAttention, st.Status)
	require.Equal(t, "complete_without_payout", st.FailureReason)
	h.requireCalls(map[string]int{ActCreateLedgerTx: 0, ActSetRehiveTxStatus: 0})
}
