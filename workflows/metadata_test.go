package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdk "go.temporal.io/api/sdk/v1"
)

// metadataAt reads the workflow's current details (what the Web UI shows)
// at virtual time d.
func metadataAt(h *checkoutHarness, d time.Duration) *string {
	var details string
	h.env.RegisterDelayedCallback(func() {
		v, err := h.env.QueryWorkflow("__temporal_workflow_metadata")
		require.NoError(h.t, err)
		var md sdk.WorkflowMetadata
		require.NoError(h.t, v.Get(&md))
		details = md.GetCurrentDetails()
	}, d)
	return &details
}

func TestCheckoutCurrentDetailsFollowTheStatus(t *testing.T) {
	h := newCheckoutHarness(t)
	waiting := metadataAt(h, time.Minute)
	h.signalAt(2*time.Minute, ckoEvent("payment_captured", "evt_cap", ckPaymentID))
	fulfilled := metadataAt(h, 3*time.Minute)
	h.runOK(cardCheckoutInput())

	require.Contains(t, *waiting, "**Status**: awaiting_payment")
	require.Contains(t, *waiting, "**Waiting for**: the card payment, for at most 15m0s")
	require.Contains(t, *fulfilled, "**Status**: fulfilled")
	require.Contains(t, *fulfilled, "refund window (24h0m0s)")
}

func TestStartMetadata(t *testing.T) {
	md := CheckoutMetadata(cardCheckoutInput(), 2500)
	require.Equal(t, "Order ord_1001: 25.00 EUR by card", md.Summary)
	require.Equal(t, "**Order**: ord_1001  \n**Amount**: 25.00 EUR  \n**Payment method**: card  \n**Lines**: 1", md.Details)
	require.Equal(t, "1250 JPY", formatMinor(1250, "JPY"))
	require.Equal(t, "-1.005 KWD", formatMinor(-1005, "KWD"))
	require.Equal(t, "Rehive debit withdrawal tx_1: 5000000 XLM (minor units)",
		RehiveTxMetadata("tx_1", "debit", "withdrawal", "Pending", 5000000, "XLM").Summary)
	require.Equal(t, "Ledger deposit ltx_1: 700 XLM (minor units)", DepositMetadata("ltx_1", 700, "XLM", "acct").Summary)
}
