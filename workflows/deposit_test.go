package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// The ledger deposit workflow (PRODUCT.md flow 3), on the harness of
// rehive_transaction_fakes_test.go.

const (
	depLedgerID      = "ltx_1"
	depLedgerAccount = "ledger-acct-ada"
)

// incoming seeds the fake ledger with a credit on a linked ledger account.
func (h *cmHarness) incoming(required, confirmations int) {
	h.f.ledger[depLedgerID] = &LedgerTxResult{
		ID: depLedgerID, Type: "deposit", Account: depLedgerAccount, Amount: cmAmount, Currency: cmCurrency,
		Status: LedgerPending, Confirmations: confirmations, RequiredConfirmations: required,
	}
	h.f.accountLinks[depLedgerAccount+"/"+cmCurrency] = AccountLinkResult{Found: true, RehiveAccount: cmAccount, LedgerAccount: depLedgerAccount, Currency: cmCurrency}
}

func incomingEvent(eventID string, confirmations, required int) LedgerEvent {
	return LedgerEvent{
		EventID: eventID, Type: "transaction.incoming", LedgerTxID: depLedgerID, TxType: "deposit", Status: LedgerPending,
		Account: depLedgerAccount, Amount: cmAmount, Currency: cmCurrency, Confirmations: confirmations, RequiredConfirmations: required,
	}
}

// runDeposit runs the deposit workflow, first signalled with first (as
// SignalWithStart does), to its end.
func (h *cmHarness) runDeposit(first LedgerEvent) DepositState {
	h.t.Helper()
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: DepositWorkflowID(depLedgerID)})
	h.ledgerEventAt(0, first)
	h.env.ExecuteWorkflow(DepositWorkflowName, DepositInput{LedgerTxID: depLedgerID, StallTimeout: cmStall})
	require.True(h.t, h.env.IsWorkflowCompleted(), "workflow did not complete")
	require.NoError(h.t, h.env.GetWorkflowError())
	var st DepositState
	require.NoError(h.t, h.env.GetWorkflowResult(&st))
	return st
}

func (h *cmHarness) queryDepositAt(d time.Duration) *DepositState {
	var st DepositState
	h.at(d, func() {
		v, err := h.env.QueryWorkflow(QueryState)
		require.NoError(h.t, err)
		require.NoError(h.t, v.Get(&st))
	})
	return &st
}

func TestDepositWithoutConfirmationsCreditedComplete(t *testing.T) {
	h := newCMHarness(t)
	h.incoming(0, 0)
	st := h.runDeposit(incomingEvent("lev_1", 0, 0))

	require.Equal(t, DepositComplete, st.Status)
	require.Equal(t, cmDepositTxID, st.RehiveTxID)
	require.Equal(t, cmDepositColID, st.RehiveCollectionID)
	require.Equal(t, cmAccount, st.Account)
	require.Equal(t, int64(cmAmount), st.Amount)
	require.Equal(t, cmCurrency, st.Currency)
	require.Equal(t, []RehiveCreditInput{{
		LedgerTxID: depLedgerID, Account: cmAccount, Amount: cmAmount, Currency: cmCurrency, Status: RehiveTxComplete,
		Reference: depLedgerID, Metadata: map[string]string{DepositMetadataKey: depLedgerID},
	}}, h.f.credits)
	h.requireCalls(map[string]int{ActSetRehiveTxStatus: 0, ActCancelLedgerTx: 0})
	require.Equal(t, []string{DepositComplete}, h.f.savedStatuses())
}

func TestDepositPendingUntilThirdConfirmation(t *testing.T) {
	h := newCMHarness(t)
	h.incoming(3, 0)
	start := h.env.Now()
	h.ledgerMovesAt(10*time.Second, depLedgerID, LedgerPending, 1, "lev_2")
	h.ledgerMovesAt(20*time.Second, depLedgerID, LedgerPending, 2, "lev_3")
	h.ledgerEventAt(21*time.Second, incomingEvent("lev_2b", 1, 3)) // late, out of order
	afterTwo := h.queryDepositAt(25 * time.Second)
	h.ledgerMovesAt(28*time.Second, depLedgerID, LedgerComplete, 3, "lev_4")
	st := h.runDeposit(incomingEvent("lev_1", 0, 3))

	require.Equal(t, DepositPending, afterTwo.Status)
	require.Equal(t, 2, afterTwo.Confirmations, "confirmations never go down")
	require.Equal(t, DepositComplete, st.Status)
	require.Equal(t, 3, st.Confirmations)
	require.Equal(t, 28*time.Second, h.env.Now().Sub(start))
	require.Len(t, h.f.credits, 1)
	require.Equal(t, RehiveTxPending, h.f.credits[0].Status)
	require.Equal(t, []RehiveStatusInput{{TxID: cmDepositTxID, Status: RehiveTxComplete, Note: "confirmed on the ledger"}}, h.f.statusSets)
	require.Equal(t, []string{DepositPending, DepositComplete}, h.f.savedStatuses())
}

func TestDepositConfirmedByPollWhenWebhooksLost(t *testing.T) {
	h := newCMHarness(t)
	h.incoming(3, 0)
	start := h.env.Now()
	h.ledgerMovesAt(50*time.Second, depLedgerID, LedgerPending, 3, "") // no webhook
	st := h.runDeposit(incomingEvent("lev_1", 0, 3))

	require.Equal(t, DepositComplete, st.Status)
	require.Equal(t, 60*time.Second, h.env.Now().Sub(start))
	h.requireCalls(map[string]int{ActCreateRehiveCredit: 1, ActSetRehiveTxStatus: 1})
}

func TestDepositUnknownAccountRecordedOnly(t *testing.T) {
	h := newCMHarness(t)
	h.incoming(0, 0)
	delete(h.f.accountLinks, depLedgerAccount+"/"+cmCurrency)
	st := h.runDeposit(incomingEvent("lev_1", 0, 0))

	require.Equal(t, DepositUnlinked, st.Status)
	require.Equal(t, "unlinked_account", st.FailureReason)
	require.Equal(t, depLedgerAccount, st.LedgerAccount)
	require.Empty(t, st.RehiveTxID)
	h.requireCalls(map[string]int{ActCreateRehiveCredit: 0, ActSetRehiveTxStatus: 0})
	require.Equal(t, []string{DepositUnlinked}, h.f.savedStatuses())
}

func TestDepositDuplicateLedgerEventsCreditOnce(t *testing.T) {
	h := newCMHarness(t)
	h.incoming(2, 0)
	first := incomingEvent("lev_1", 0, 2)
	h.ledgerEventAt(0, first)
	h.ledgerEventAt(time.Second, first)
	h.ledgerMovesAt(5*time.Second, depLedgerID, LedgerPending, 2, "lev_2")
	h.ledgerMovesAt(6*time.Second, depLedgerID, LedgerPending, 2, "lev_2")
	st := h.runDeposit(first)

	require.Equal(t, DepositComplete, st.Status)
	h.requireCalls(map[string]int{ActCreateRehiveCredit: 1, ActSetRehiveTxStatus: 1})
	require.Contains(t, cmSteps(st.Timeline), "duplicate_ledger_event")
}

func TestDepositLedgerFailureFailsCredit(t *testing.T) {
	h := newCMHarness(t)
	h.incoming(3, 0)
	h.ledgerMovesAt(10*time.Second, depLedgerID, LedgerFailed, 0, "lev_2")
	st := h.runDeposit(incomingEvent("lev_1", 0, 3))

	require.Equal(t, DepositFailed, st.Status)
	require.Equal(t, "ledger_failed", st.FailureReason)
	require.Equal(t, []RehiveStatusInput{{TxID: cmDepositTxID, Status: RehiveTxFailed, Note: "the ledger failed it"}}, h.f.statusSets)
}

func TestDepositStallFailsCreditAndLeavesLedger(t *testing.T) {
	h := newCMHarness(t)
	h.incoming(3, 0)
	start := h.env.Now()
	st := h.runDeposit(incomingEvent("lev_1", 0, 3))

	require.Equal(t, cmStall, h.env.Now().Sub(start))
	require.Equal(t, DepositFailed, st.Status)
	require.Equal(t, "stalled", st.FailureReason)
	require.Len(t, h.f.statusSets, 1)
	require.Equal(t, RehiveTxFailed, h.f.statusSets[0].Status)
	h.requireCalls(map[string]int{ActCancelLedgerTx: 0, ActCreateRehiveCredit: 1})
}

func TestDepositAlreadyFailedOnLedgerCreditsNothing(t *testing.T) {
	h := newCMHarness(t)
	h.incoming(3, 0)
	h.f.ledger[depLedgerID].Status = LedgerCancelled
	st := h.runDeposit(incomingEvent("lev_1", 0, 3))

	require.Equal(t, DepositFailed, st.Status)
	h.requireCalls(map[string]int{ActCreateRehiveCredit: 0, ActLookupAccountLink: 0})
}

func TestDepositCreditRejected(t *testing.T) {
	h := newCMHarness(t)
	h.incoming(0, 0)
	h.f.creditErr = cmNonRetryable("Account does not exist.", ErrTypeRehiveRejected)
	st := h.runDeposit(incomingEvent("lev_1", 0, 0))

	require.Equal(t, DepositFailed, st.Status)
	require.Equal(t, "credit_failed", st.FailureReason)
}

func TestDepositPartialEventDoesNotConfirm(t *testing.T) {
	h := newCMHarness(t)
	h.incoming(3, 0)
	// An event that leaves required_confirmations out must not look confirmed.
	h.ledgerEventAt(5*time.Second, LedgerEvent{EventID: "lev_2", Type: "transaction.updated", LedgerTxID: depLedgerID, Status: LedgerPending, Confirmations: 1})
	mid := h.queryDepositAt(10 * time.Second)
	h.ledgerMovesAt(20*time.Second, depLedgerID, LedgerComplete, 3, "lev_3")
	st := h.runDeposit(incomingEvent("lev_1", 0, 3))

	require.Equal(t, DepositPending, mid.Status)
	require.Equal(t, 1, mid.Confirmations)
	require.Equal(t, 3, mid.RequiredConfirmations)
	require.Equal(t, DepositComplete, st.Status)
	h.requireCalls(map[string]int{ActSetRehiveTxStatus: 1})
}

func TestDepositCancelledByOperator(t *testing.T) {
	h := newCMHarness(t)
	h.incoming(3, 0)
	h.at(time.Minute, h.env.CancelWorkflow)
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: DepositWorkflowID(depLedgerID)})
	h.ledgerEventAt(0, incomingEvent("lev_1", 0, 3))
	h.env.ExecuteWorkflow(DepositWorkflowName, DepositInput{LedgerTxID: depLedgerID, StallTimeout: cmStall})

	var canceled *temporal.CanceledError
	require.ErrorAs(t, h.env.GetWorkflowError(), &canceled)
	require.Equal(t, DepositNeedsAttention, h.f.savedDeposits[len(h.f.savedDeposits)-1].Status)
	h.requireCalls(map[string]int{ActCreateRehiveCredit: 1, ActSetRehiveTxStatus: 0})
}
