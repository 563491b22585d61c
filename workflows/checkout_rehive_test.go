package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Rehive wallet payments: the order waits for the Rehive webhook and judges
// each transaction with VerifyRehivePayment.

func rehivePaidVerdict(txID string) RehivePaymentResult {
	return RehivePaymentResult{Outcome: RehivePaid, TxID: txID, PayerAccount: "ACC_PAYER", PayerEmail: "ada@example.com"}
}

func TestCheckoutRehivePaid(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.verdicts["tx_1"] = []RehivePaymentResult{rehivePaidVerdict("tx_1")}
	mid := h.queryAt(time.Minute)
	h.signalAt(2*time.Minute, rehiveTxEvent("tx_1"))
	h.signalAt(2*time.Minute, rehiveTxEvent("tx_1")) // redelivery
	st := h.runOK(rehiveCheckoutInput())

	require.Equal(t, StatusAwaitingPayment, mid.Status)
	require.Equal(t, "awaiting_transfer", mid.Payment.Status)
	require.Equal(t, StatusFulfilled, st.Status)
	require.Empty(t, st.FailureReason)
	require.Equal(t, PaymentState{Method: MethodRehive, Status: "Complete", ProviderPaymentID: "tx_1"}, st.Payment)
	requireSubsequence(t, timelineSteps(st), []string{string(StatusAwaitingPayment), "webhook", string(StatusPaid), string(StatusFulfilled)})
	require.Equal(t, 1, countTimelineStep(st, "late_event"))
	h.requireCalls(map[string]int{ActChargeCard: 0, ActVerifyRehivePayment: 1, ActCommitStock: 1, ActReleaseStock: 0})
	require.Equal(t, []RehivePaymentInput{{OrderID: ckOrderID, TxID: "tx_1", Amount: ckAmount, Currency: "EUR"}}, h.f.verified)
}

func TestCheckoutRehiveMismatchThenTimeout(t *testing.T) {
	const why = "amount 2000 EUR does not match 2500 EUR"
	h := newCheckoutHarness(t)
	h.f.verdicts["tx_1"] = []RehivePaymentResult{{Outcome: RehiveMismatch, TxID: "tx_1", Reason: why}}
	h.signalAt(time.Minute, rehiveTxEvent("tx_1"))
	h.signalAt(2*time.Minute, rehiveTxEvent("tx_1")) // redelivery: already judged final
	mid := h.queryAt(3 * time.Minute)
	st := h.runOK(rehiveCheckoutInput())

	require.Equal(t, StatusAwaitingPayment, mid.Status, "a mismatch keeps the order waiting")
	require.Equal(t, why, mid.FailureReason)

	require.Equal(t, StatusExpired, st.Status)
	require.Equal(t, why, st.FailureReason)
	require.Equal(t, why, st.Timeline[len(st.Timeline)-1].Detail)
	require.Equal(t, 1, countTimelineStep(st, "payment_mismatch"))
	// Judged once; a final verdict is not re-checked at the timeout.
	h.requireCalls(map[string]int{ActVerifyRehivePayment: 1, ActReleaseStock: 1, ActCommitStock: 0, ActRefundRehive: 0})
}

// A correct payment after a mismatching one still fulfils the order, and the
// fulfilled order carries no failure reason.
func TestCheckoutRehiveMismatchThenPaid(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.verdicts["tx_bad"] = []RehivePaymentResult{{Outcome: RehiveMismatch, TxID: "tx_bad", Reason: "wrong currency"}}
	h.f.verdicts["tx_good"] = []RehivePaymentResult{rehivePaidVerdict("tx_good")}
	h.signalAt(time.Minute, rehiveTxEvent("tx_bad"))
	h.signalAt(2*time.Minute, rehiveTxEvent("tx_good"))
	st := h.runOK(rehiveCheckoutInput())

	require.Equal(t, StatusFulfilled, st.Status)
	require.Equal(t, "tx_good", st.Payment.ProviderPaymentID)
	require.Empty(t, st.FailureReason)
	require.Equal(t, 1, countTimelineStep(st, "payment_mismatch"), "the mismatch stays on the timeline")
	h.requireCalls(map[string]int{ActVerifyRehivePayment: 2, ActCommitStock: 1, ActReleaseStock: 0})
}

func TestCheckoutRehivePendingReverifiedAtTimeout(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.verdicts["tx_1"] = []RehivePaymentResult{{Outcome: RehivePending, TxID: "tx_1"}, rehivePaidVerdict("tx_1")}
	h.signalAt(time.Minute, rehiveTxEvent("tx_1"))
	mid := h.queryAt(2 * time.Minute)
	st := h.runOK(rehiveCheckoutInput())

	require.Equal(t, StatusAwaitingPayment, mid.Status)
	require.Equal(t, 1, countTimelineStep(*mid, "payment_pending"))
	require.Equal(t, StatusFulfilled, st.Status)
	require.Equal(t, "tx_1", st.Payment.ProviderPaymentID)
	require.Equal(t, ckPaymentTimeout, timelineAt(t, st, StatusPaid).Sub(st.Timeline[0].At), "paid on the re-check at the timeout")
	h.requireCalls(map[string]int{ActVerifyRehivePayment: 2, ActCommitStock: 1, ActReleaseStock: 0})
}

func TestCheckoutRehivePendingThenCompleteWebhook(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.verdicts["tx_1"] = []RehivePaymentResult{{Outcome: RehivePending, TxID: "tx_1"}, rehivePaidVerdict("tx_1")}
	h.signalAt(time.Minute, rehiveTxEvent("tx_1"))
	h.signalAt(3*time.Minute, rehiveTxEvent("tx_1")) // the Complete transition
	st := h.runOK(rehiveCheckoutInput())
	require.Equal(t, StatusFulfilled, st.Status)
	require.Equal(t, 3*time.Minute, timelineAt(t, st, StatusPaid).Sub(st.Timeline[0].At))
	h.requireCalls(map[string]int{ActVerifyRehivePayment: 2, ActCommitStock: 1})
}

func TestCheckoutRehivePendingStillPendingAtTimeoutExpires(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.verdicts["tx_1"] = []RehivePaymentResult{{Outcome: RehivePending, TxID: "tx_1"}}
	h.signalAt(time.Minute, rehiveTxEvent("tx_1"))
	st := h.runOK(rehiveCheckoutInput())
	require.Equal(t, StatusExpired, st.Status)
	require.Equal(t, ReasonPaymentTimeout, st.FailureReason)
	h.requireCalls(map[string]int{ActVerifyRehivePayment: 2, ActReleaseStock: 1, ActCommitStock: 0})
}

func TestCheckoutRehiveIgnoredVerdictSkipped(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.verdicts["tx_debit"] = []RehivePaymentResult{{Outcome: RehiveIgnored, TxID: "tx_debit"}}
	h.f.verdicts["tx_credit"] = []RehivePaymentResult{rehivePaidVerdict("tx_credit")}
	h.signalAt(time.Minute, rehiveTxEvent("tx_debit"))
	h.signalAt(time.Minute, rehiveTxEvent("tx_debit")) // a redelivery is not verified again
	mid := h.queryAt(2 * time.Minute)
	h.signalAt(3*time.Minute, rehiveTxEvent("tx_credit"))
	st := h.runOK(rehiveCheckoutInput())

	require.Equal(t, StatusAwaitingPayment, mid.Status)
	require.Empty(t, mid.FailureReason)
	require.Equal(t, StatusFulfilled, st.Status)
	require.Equal(t, "tx_credit", st.Payment.ProviderPaymentID)
	require.Empty(t, st.FailureReason)
	h.requireCalls(map[string]int{ActVerifyRehivePayment: 2, ActCommitStock: 1})
}

func TestCheckoutRehiveIgnoredOnlyExpires(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.verdicts["tx_debit"] = []RehivePaymentResult{{Outcome: RehiveIgnored, TxID: "tx_debit"}}
	h.signalAt(time.Minute, rehiveTxEvent("tx_debit"))
	st := h.runOK(rehiveCheckoutInput())
	require.Equal(t, StatusExpired, st.Status)
	require.Equal(t, ReasonPaymentTimeout, st.FailureReason)
	h.requireCalls(map[string]int{ActVerifyRehivePayment: 1, ActReleaseStock: 1})
}

// A verification that fails outright is retried when the payment times out.
func TestCheckoutRehiveVerifyErrorRetriedAtTimeout(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.verifyErrs = map[string][]error{"tx_1": {nonRetryableErr("rehive unavailable", "provider_error")}}
	h.f.verdicts["tx_1"] = []RehivePaymentResult{rehivePaidVerdict("tx_1")}
	h.signalAt(time.Minute, rehiveTxEvent("tx_1"))
	st := h.runOK(rehiveCheckoutInput())
	require.Equal(t, StatusFulfilled, st.Status)
	require.Equal(t, 1, countTimelineStep(st, "verify_failed"))
	h.requireCalls(map[string]int{ActVerifyRehivePayment: 2, ActCommitStock: 1})
}

func TestCheckoutRehiveForeignEventsIgnored(t *testing.T) {
	h := newCheckoutHarness(t)
	h.signalAt(time.Minute, ckoEvent("payment_captured", "evt_c", ckPaymentID))
	h.signalAt(time.Minute, PaymentEvent{Provider: "rehive", EventID: "evt_empty", Type: "transaction.update"})
	st := h.runOK(rehiveCheckoutInput())
	require.Equal(t, StatusExpired, st.Status)
	require.Equal(t, 2, countTimelineStep(st, "event_ignored"))
	h.requireCalls(map[string]int{ActVerifyRehivePayment: 0, ActCommitStock: 0, ActReleaseStock: 1})
}

func TestCheckoutRehiveCancel(t *testing.T) {
	t.Run("while awaiting: cancelled, released", func(t *testing.T) {
		h := newCheckoutHarness(t)
		u := h.cancelUpdateAt(5*time.Minute, "cancel-1")
		st := h.runOK(rehiveCheckoutInput())
		require.Equal(t, StatusCancelled, st.Status)
		require.Equal(t, ReasonCancelled, st.FailureReason)
		requireUpdateCompleted(t, u, StatusCancelled)
		h.requireCalls(map[string]int{ActReleaseStock: 1, ActRefundRehive: 0, ActGetCardPayment: 0, ActVoidCard: 0})
	})
	t.Run("after fulfilment: reversed, restocked, refunded", func(t *testing.T) {
		h := newCheckoutHarness(t)
		h.f.verdicts["tx_1"] = []RehivePaymentResult{rehivePaidVerdict("tx_1")}
		h.signalAt(time.Minute, rehiveTxEvent("tx_1"))
		u := h.cancelUpdateAt(time.Hour, "cancel-1")
		st := h.runOK(rehiveCheckoutInput())

		require.Equal(t, StatusRefunded, st.Status)
		require.Equal(t, "rev_tx_1", st.Payment.RefundID)
		require.Equal(t, "Refunded", st.Payment.Status)
		requireUpdateCompleted(t, u, StatusRefunded)
		h.requireCalls(map[string]int{ActRefundRehive: 1, ActRefundCard: 0, ActRestockOrder: 1, ActCommitStock: 1})
		require.Equal(t, []RehiveRefundInput{{
			OrderID: ckOrderID, TxID: "tx_1",
			PayerAccount: "ACC_PAYER", PayerEmail: "ada@example.com",
		}}, h.f.rehiveRefund)
	})
}
