package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Initiating->Pending is approved and Rehive raises Pending->Complete, but
// that transition's webhook is lost (or held back by a reordering sender):
// the run finds the transition itself and completes, instead of sitting
// until its stall timer fails a transaction that was waiting for payflow.
func TestRehiveTxFindsPendingToCompleteWithoutItsWebhook(t *testing.T) {
	h := newCMHarness(t)
	h.f.tx.Status = RehiveTxInitiating
	h.transition("tr_ip", RehiveTxInitiating, RehiveTxPending)
	h.at(time.Minute, func() {
		h.f.mu.Lock()
		defer h.f.mu.Unlock()
		h.transition("tr_pc", RehiveTxPending, RehiveTxComplete)
	})
	h.ledgerMovesAt(20*time.Minute, cmLedgerID, LedgerComplete, 1, "lev_1")
	st := h.runTx(transitionEvent("evt_1", "tr_ip"))

	require.Equal(t, TxStatusComplete, st.Status)
	require.Equal(t, RehiveTxComplete, st.RehiveStatus)
	require.Equal(t, []TransitionInput{{TxID: cmTxID, TransitionID: "tr_ip"}, {TxID: cmTxID, TransitionID: "tr_pc"}}, h.f.approvals)
	require.Contains(t, cmSteps(st.Timeline), "transition_found")
	h.requireCalls(map[string]int{ActCompleteLedgerTx: 1, ActCancelLedgerTx: 0, ActSetRehiveTxStatus: 0, ActDeclineTransition: 0})
	// Found well within the stall timeout: a look every quarter of it.
	require.Less(t, h.f.count(ActLookupRehiveTx+"/find"), 4)
}

// A transfer waits for its next transition with no webhook coming: the run
// keeps looking (quietly) and the stall timer still ends it.
func TestRehiveTxFindingNothingStillStalls(t *testing.T) {
	h := newCMHarness(t)
	h.f.tx.Status = RehiveTxInitiating
	h.f.tx.Transfer = true
	h.transition("tr_ip", RehiveTxInitiating, RehiveTxPending)
	st := h.runTx(transitionEvent("evt_1", "tr_ip"))

	require.Equal(t, TxStatusFailed, st.Status)
	require.Equal(t, "stalled", st.FailureReason)
	finds := h.f.count(ActLookupRehiveTx + "/find")
	require.GreaterOrEqual(t, finds, 3)
	require.NotContains(t, cmSteps(st.Timeline), "transition_found")
	// Looks that find nothing leave no trace on the timeline.
	require.Less(t, len(st.Timeline), 20)
}
