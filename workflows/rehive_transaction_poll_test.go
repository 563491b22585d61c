package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// runTxStall is runTx with a stall timeout of its own.
func (h *cmHarness) runTxStall(first RehiveEvent, stall time.Duration) RehiveTxState {
	h.t.Helper()
	h.env.SetStartWorkflowOptions(cmStartOptions(cmTxID))
	h.rehiveEventAt(0, first)
	h.env.ExecuteWorkflow(RehiveTxWorkflowName, RehiveTxInput{TxID: cmTxID, StallTimeout: stall})
	require.True(h.t, h.env.IsWorkflowCompleted(), "workflow did not complete")
	require.NoError(h.t, h.env.GetWorkflowError())
	var st RehiveTxState
	require.NoError(h.t, h.env.GetWorkflowResult(&st))
	return st
}

// A stall timeout shorter than the old fixed 30 s ledger poll (as the soak
// runs): the released payout completes on the ledger with its webhook lost,
// and the run still sees it within the timeout, by polling, instead of
// leaving a paid withdrawal to an operator.
func TestRehiveTxPollsTheLedgerWithinAShortStall(t *testing.T) {
	h := newCMHarness(t)
	h.f.ledgerLinks[cmTxID] = cmLedgerID
	h.f.ledger[cmLedgerID] = &LedgerTxResult{ID: cmLedgerID, Type: "withdrawal", Status: LedgerPending}
	h.transition("tr_pc", RehiveTxPending, RehiveTxComplete)
	h.ledgerMovesAt(3*time.Second, cmLedgerID, LedgerComplete, 1, "") // webhook lost
	st := h.runTxStall(transitionEvent("evt_1", "tr_pc"), 20*time.Second)

	require.Equal(t, TxStatusComplete, st.Status, "timeline: %v", cmSteps(st.Timeline))
	h.requireCalls(map[string]int{ActCompleteLedgerTx: 1, ActCancelLedgerTx: 0})
}

// The ledger completes the payout just before the stall timer, webhook
// lost, before the first poll (every 2 s here): the wait asks once more
// before it gives up, rather than cancelling a payout that was made.
func TestRehiveTxLooksAtTheLedgerOnceMoreAtTheStall(t *testing.T) {
	h := newCMHarness(t)
	h.f.tx.Metadata = map[string]any{MetaDestination: "GDEST"}
	h.transition("tr_pc", RehiveTxPending, RehiveTxComplete)
	h.ledgerMovesAt(1900*time.Millisecond, cmLedgerID, LedgerComplete, 1, "")
	st := h.runTxStall(transitionEvent("evt_1", "tr_pc"), 2*time.Second)

	require.Equal(t, TxStatusComplete, st.Status, "timeline: %v", cmSteps(st.Timeline))
	require.Equal(t, []TransitionInput{{TxID: cmTxID, TransitionID: "tr_pc"}}, h.f.approvals)
	h.requireCalls(map[string]int{ActCancelLedgerTx: 0, ActDeclineTransition: 0})
}
