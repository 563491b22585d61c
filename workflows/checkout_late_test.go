package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A 3-D Secure payment completed after the order expired is refunded: the
// order ends refunded, not expired with the money taken.
func TestCheckoutLateCardPaymentRefunded(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.chargeRes = ChargeResult{PaymentID: ckPaymentID, Status: "Pending", RequiresAction: true, RedirectURL: "https://3ds.test/x"}
	h.f.statuses = []string{"Pending", "Captured"} // at the timeout, then when refunding
	h.signalAt(ckPaymentTimeout+10*time.Minute, ckoEvent("payment_captured", "evt_late", ckPaymentID))
	st := h.runOK(cardCheckoutInput())
	require.Equal(t, StatusRefunded, st.Status)
	requireSubsequence(t, timelineSteps(st), []string{StatusExpired, "late_event", "refund", StatusRefunded})
	h.requireCalls(map[string]int{ActRefundCard: 1, ActReleaseStock: 2, ActCommitStock: 0})
}

// With no late payment the order stays expired, and closes after the window.
func TestCheckoutLateWindowEndsQuietly(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.statuses = []string{"Pending"}
	h.signalAt(ckPaymentTimeout+time.Minute, ckoEvent("payment_captured", "evt_other", "pay_someone_else"))
	st := h.runOK(cardCheckoutInput())
	require.Equal(t, StatusExpired, st.Status)
	h.requireCalls(map[string]int{ActRefundCard: 0, ActVoidCard: 0})
	require.Equal(t, 1, countTimelineStep(st, "late_event"))
}

// A wallet transfer that lands after the order expired is reversed.
func TestCheckoutLateRehivePaymentReversed(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.verdicts["tx_late"] = []RehivePaymentResult{{Outcome: RehivePaid, TxID: "tx_late", PayerAccount: "acc_payer", PayerEmail: "ada@example.com"}}
	h.signalAt(ckPaymentTimeout+5*time.Minute, rehiveTxEvent("tx_late"))
	st := h.runOK(rehiveCheckoutInput())
	require.Equal(t, StatusRefunded, st.Status)
	h.requireCalls(map[string]int{ActRefundRehive: 1, ActCommitStock: 0})
	require.Equal(t, "acc_payer", h.f.rehiveRefund[0].PayerAccount)
}
