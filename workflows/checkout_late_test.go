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
	requireSubsequence(t, timelineSteps(st), []string{string(StatusExpired), "late_event", "refund", string(StatusRefunded)})
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

// A payment in the wrong amount that reached the merchant is sent back at
// once; the order keeps waiting for a correct one.
func TestCheckoutMismatchedRehivePaymentReversed(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.verdicts["tx_short"] = []RehivePaymentResult{{Outcome: RehiveMismatch, Reason: "amount_mismatch", TxID: "tx_short", Refundable: true, PayerAccount: "acc_payer"}}
	h.f.verdicts["tx_good"] = []RehivePaymentResult{{Outcome: RehivePaid, TxID: "tx_good"}}
	h.signalAt(time.Minute, rehiveTxEvent("tx_short"))
	h.signalAt(2*time.Minute, rehiveTxEvent("tx_good"))
	st := h.runOK(rehiveCheckoutInput())
	require.Equal(t, StatusFulfilled, st.Status)
	h.requireCalls(map[string]int{ActRefundRehive: 1, ActCommitStock: 1})
	require.Equal(t, "tx_short", h.f.rehiveRefund[0].TxID)
	require.Equal(t, 1, countTimelineStep(st, "reversed"))
}

// A second wallet payment for an order that is already fulfilled is sent back.
func TestCheckoutSecondRehivePaymentReversed(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.verdicts["tx_1"] = []RehivePaymentResult{{Outcome: RehivePaid, TxID: "tx_1"}}
	h.f.verdicts["tx_2"] = []RehivePaymentResult{{Outcome: RehivePaid, TxID: "tx_2"}}
	h.signalAt(time.Minute, rehiveTxEvent("tx_1"))
	h.signalAt(time.Hour, rehiveTxEvent("tx_2"))
	st := h.runOK(rehiveCheckoutInput())
	require.Equal(t, StatusFulfilled, st.Status)
	h.requireCalls(map[string]int{ActRefundRehive: 1, ActCommitStock: 1, ActRestockOrder: 0})
	require.Equal(t, "tx_2", h.f.rehiveRefund[0].TxID)
}
