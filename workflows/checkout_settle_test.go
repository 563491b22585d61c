package workflows

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
)

// Issue 8 on virtual time: paid means captured, voids and refunds count when
// Checkout.com confirms them, lost charge answers are found by reference,
// wallet payments are found without webhooks, stray payments are retried,
// and an operator's Cancel settles the order.

func requireNeverStatus(t *testing.T, h *checkoutHarness, status CheckoutStatus) {
	t.Helper()
	for _, s := range h.f.savedStatuses() {
		require.NotEqual(t, status, s, "the order read %s: %v", status, h.f.savedStatuses())
	}
}

func TestCheckoutCaptureDeclinedBeforeFulfilment(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.statuses = []string{"Authorized"} // a declined capture leaves the authorisation
	h.signalAt(time.Minute, ckoEvent("payment_approved", "evt_1", ckPaymentID))
	ev := ckoEvent("payment_capture_declined", "evt_2", ckPaymentID)
	ev.ResponseCode = "20005"
	h.signalAt(2*time.Minute, ev)
	st := h.runOK(cardCheckoutInput())

	require.Equal(t, StatusFailed, st.Status)
	require.Equal(t, ReasonCaptureDeclined, st.FailureReason)
	require.Equal(t, "Voided", st.Payment.Status)
	requireSubsequence(t, timelineSteps(st), []string{string(StatusAwaitingPayment), "webhook", "webhook", "void_requested", "voided", string(StatusFailed)})
	h.requireCalls(map[string]int{ActCommitStock: 0, ActReleaseStock: 1, ActVoidCard: 1, ActGetCardAction: 1, ActRefundCard: 0})
	requireNeverStatus(t, h, StatusFulfilled)
}

// Reordered events: the decline arrives, but the provider shows the capture.
func TestCheckoutCaptureDeclinedButProviderCaptured(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.statuses = []string{"Captured"}
	h.signalAt(time.Minute, ckoEvent("payment_capture_declined", "evt_2", ckPaymentID))
	st := h.runOK(cardCheckoutInput())
	require.Equal(t, StatusFulfilled, st.Status)
	require.Equal(t, 1, countTimelineStep(st, "capture_check"))
	h.requireCalls(map[string]int{ActCommitStock: 1, ActVoidCard: 0})
}

// A run that fulfilled on payment_approved (before versionCardCaptured) and
// then hears the capture was declined: never left fulfilled and unpaid.
func TestCheckoutCaptureDeclinedAfterFulfilment(t *testing.T) {
	h := newCheckoutHarness(t)
	h.legacy(versionCardCaptured)
	h.f.statuses = []string{"Authorized"}
	h.signalAt(time.Minute, ckoEvent("payment_approved", "evt_1", ckPaymentID))
	h.signalAt(time.Hour, ckoEvent("payment_capture_declined", "evt_2", ckPaymentID))
	start := h.env.Now()
	st := h.runOK(cardCheckoutInput())

	require.Equal(t, StatusFailed, st.Status)
	require.Equal(t, ReasonCaptureDeclined, st.FailureReason)
	require.Equal(t, "Voided", st.Payment.Status)
	requireSubsequence(t, timelineSteps(st), []string{string(StatusFulfilled), "webhook", "voided", string(StatusFailed)})
	require.Contains(t, st.Timeline[len(st.Timeline)-1].Detail, "restocked")
	h.requireCalls(map[string]int{ActCommitStock: 1, ActRestockOrder: 1, ActVoidCard: 1, ActRefundCard: 0})
	require.Less(t, h.env.Now().Sub(start), 2*time.Hour, "closes at the decline, not at the end of the window")
}

func TestCheckoutRefundDeclinedNeedsAttention(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.statuses = []string{"Captured"}
	declined := CardActionResult{Found: true, Approved: false, ResponseCode: "20005", ResponseSummary: "Declined"}
	h.f.outcomes = map[string][]CardActionResult{"Refund": {declined}}
	h.signalAt(time.Minute, ckoEvent("payment_captured", "evt_1", ckPaymentID))
	mid := h.queryAt(time.Hour + 10*time.Second)
	h.cancelAt(time.Hour)
	st := h.runOK(cardCheckoutInput())

	require.Equal(t, StatusFulfilled, mid.Status, "while the refund is retried")
	require.Equal(t, StatusNeedsAttention, st.Status)
	require.Equal(t, ReasonRefundDeclined, st.FailureReason)
	require.Equal(t, "Refund Declined", st.Payment.Status)
	require.Empty(t, st.Payment.RefundID)
	require.Equal(t, actionAttempts, countTimelineStep(st, "refund_declined"))
	requireNeverStatus(t, h, StatusRefunded)
	// Each attempt has its own idempotency key.
	var attempts []int
	for _, r := range h.f.cardRefunds {
		attempts = append(attempts, r.Attempt)
	}
	require.Equal(t, []int{1, 2, 3}, attempts)
	h.requireCalls(map[string]int{ActRefundCard: 3, ActRestockOrder: 1, ActReleaseStock: 1})
}

func TestCheckoutRefundDeclinedThenApproved(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.statuses = []string{"Captured"}
	h.f.outcomes = map[string][]CardActionResult{"Refund": {
		{Found: false},                 // not processed yet
		{Found: true, Approved: false}, // declined
		{Found: true, Approved: true, ResponseCode: "10000"}, // the second attempt
	}}
	h.signalAt(time.Minute, ckoEvent("payment_captured", "evt_1", ckPaymentID))
	u := h.cancelAt(time.Hour)
	st := h.runOK(cardCheckoutInput())

	require.Equal(t, StatusRefunded, st.Status)
	require.Equal(t, "Refunded", st.Payment.Status)
	require.Equal(t, "rfd_"+ckPaymentID+"_2", st.Payment.RefundID)
	requireUpdateCompleted(t, u, StatusRefunded)
	h.requireCalls(map[string]int{ActRefundCard: 2, ActGetCardAction: 3})
}

// A refund accepted whose outcome never shows is not sent again (that could
// refund twice): the order needs attention.
func TestCheckoutRefundUnconfirmedNeedsAttention(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.statuses = []string{"Captured"}
	h.f.outcomes = map[string][]CardActionResult{"Refund": {{Found: false}}}
	h.signalAt(time.Minute, ckoEvent("payment_captured", "evt_1", ckPaymentID))
	h.cancelAt(time.Hour)
	st := h.runOK(cardCheckoutInput())
	require.Equal(t, StatusNeedsAttention, st.Status)
	require.Equal(t, 1, h.f.count(ActRefundCard))
	requireNeverStatus(t, h, StatusRefunded)
}

// A refund's webhook wakes the wait for its outcome at once.
func TestCheckoutRefundConfirmedOnWebhook(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.statuses = []string{"Captured"}
	h.f.outcomes = map[string][]CardActionResult{"Refund": {{Found: false}, {Found: true, Approved: true}}}
	h.signalAt(time.Minute, ckoEvent("payment_captured", "evt_1", ckPaymentID))
	h.cancelAt(time.Hour)
	h.signalAt(time.Hour+100*time.Millisecond, ckoEvent("payment_refunded", "evt_r", ckPaymentID))
	st := h.runOK(cardCheckoutInput())
	require.Equal(t, StatusRefunded, st.Status)
	require.Less(t, timelineAt(t, st, StatusRefunded).Sub(st.Timeline[0].At), time.Hour+time.Second)
}

func TestCheckoutVoidDeclinedAtTimeoutNeedsAttention(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.statuses = []string{"Authorized"}
	h.f.outcomes = map[string][]CardActionResult{"Void": {{Found: true, Approved: false, ResponseCode: "20005"}}}
	st := h.runOK(cardCheckoutInput())
	require.Equal(t, StatusNeedsAttention, st.Status)
	require.Equal(t, ReasonVoidDeclined, st.FailureReason)
	require.Equal(t, actionAttempts, countTimelineStep(st, "void_declined"))
	h.requireCalls(map[string]int{ActVoidCard: actionAttempts, ActReleaseStock: 1, ActCommitStock: 0})
	requireNeverStatus(t, h, StatusExpired)
}

// The charge's answer was lost (token_used on the retry): the payment is
// found by reference, never charged again, and the order goes on.
func TestCheckoutLostChargeAnswerFoundByReference(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.chargeErr = nonRetryableErr("request_invalid [token_used]", ErrTypeChargeUnknown)
	h.f.found = []FindCardPaymentResult{
		{}, // not visible yet
		{Found: true, Count: 1, Charge: ChargeResult{PaymentID: ckPaymentID, Status: "Authorized", Approved: true}},
	}
	h.signalAt(time.Minute, ckoEvent("payment_captured", "evt_1", ckPaymentID))
	st := h.runOK(cardCheckoutInput())

	require.Equal(t, StatusFulfilled, st.Status)
	require.Equal(t, ckPaymentID, st.Payment.ProviderPaymentID)
	requireSubsequence(t, timelineSteps(st), []string{string(StatusReserved), "charge_unknown", "charge_lookup", "charge_found", string(StatusAwaitingPayment), string(StatusPaid), string(StatusFulfilled)})
	h.requireCalls(map[string]int{ActChargeCard: 1, ActFindCardPayment: 2, ActCommitStock: 1, ActReleaseStock: 0})
}

// A lost answer after the payment was captured: fulfilled from the lookup.
func TestCheckoutLostChargeAnswerAlreadyCaptured(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.chargeErr = temporal.NewApplicationError("checkoutcom: retryable (HTTP 502)", "retryable")
	h.f.found = []FindCardPaymentResult{{Found: true, Count: 1, Charge: ChargeResult{PaymentID: ckPaymentID, Status: "Captured", Approved: true}}}
	st := h.runOK(cardCheckoutInput())
	require.Equal(t, StatusFulfilled, st.Status)
	h.requireCalls(map[string]int{ActFindCardPayment: 1, ActCommitStock: 1, ActGetCardPayment: 0})
}

func TestCheckoutLostChargeAnswerNothingFound(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.chargeErr = nonRetryableErr("request_invalid [token_used]", ErrTypeChargeUnknown)
	st := h.runOK(cardCheckoutInput())
	require.Equal(t, StatusFailed, st.Status)
	require.Equal(t, ReasonPaymentError, st.FailureReason)
	// Looked up with backoff for the whole window, each lookup on the timeline.
	require.GreaterOrEqual(t, timelineAt(t, st, StatusFailed).Sub(timelineAt(t, st, "charge_unknown")), chargeLookup.within)
	require.Equal(t, h.f.count(ActFindCardPayment), countTimelineStep(st, "charge_lookup"))
	require.Greater(t, h.f.count(ActFindCardPayment), 5)
	h.requireCalls(map[string]int{ActChargeCard: 1, ActReleaseStock: 1})
}

func TestCheckoutLostChargeAnswerLegacyFails(t *testing.T) {
	h := newCheckoutHarness(t)
	h.legacy(versionChargeLookup)
	h.f.chargeErr = nonRetryableErr("request_invalid [token_used]", ErrTypeChargeUnknown)
	st := h.runOK(cardCheckoutInput())
	require.Equal(t, StatusFailed, st.Status)
	h.requireCalls(map[string]int{ActFindCardPayment: 0})
}

// The API hands the transfer it posted to the workflow; with every webhook
// lost, the timeout asks Rehive about it and the order is fulfilled.
func TestCheckoutRehiveAPITransferWithoutWebhooks(t *testing.T) {
	h := newCheckoutHarness(t)
	paid := RehivePaymentResult{Outcome: RehivePaid, TxID: "tx_credit"}
	h.f.verdicts["tx_credit"] = []RehivePaymentResult{{Outcome: RehivePending, TxID: "tx_credit"}, paid}
	h.signalAt(time.Minute, PaymentEvent{Provider: "rehive", EventID: "api:tx_credit", Type: EventAPITransfer, PaymentID: "tx_credit"})
	st := h.runOK(rehiveCheckoutInput())
	require.Equal(t, StatusFulfilled, st.Status)
	require.Equal(t, "tx_credit", st.Payment.ProviderPaymentID)
	require.Equal(t, ckPaymentTimeout, timelineAt(t, st, StatusPaid).Sub(st.Timeline[0].At))
	h.requireCalls(map[string]int{ActVerifyRehivePayment: 2, ActFindRehivePayments: 1, ActCommitStock: 1})
}

// A transfer posted from the browser whose webhooks never came is found in
// the merchant's credits before the order expires.
func TestCheckoutRehiveTransferFoundByListing(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.rehiveFound = []string{"tx_browser"}
	h.f.verdicts["tx_browser"] = []RehivePaymentResult{{Outcome: RehivePaid, TxID: "tx_browser"}}
	st := h.runOK(rehiveCheckoutInput())
	require.Equal(t, StatusFulfilled, st.Status)
	require.Equal(t, "tx_browser", st.Payment.ProviderPaymentID)
	requireSubsequence(t, timelineSteps(st), []string{string(StatusAwaitingPayment), "payment_found", string(StatusPaid), string(StatusFulfilled)})
}

func TestCheckoutRehiveNothingFoundExpires(t *testing.T) {
	h := newCheckoutHarness(t)
	st := h.runOK(rehiveCheckoutInput())
	require.Equal(t, StatusExpired, st.Status)
	h.requireCalls(map[string]int{ActFindRehivePayments: 1, ActVerifyRehivePayment: 0, ActReleaseStock: 1})
}

// A second wallet payment in the refund window whose verification and then
// reversal fail is retried until it is sent back.
func TestCheckoutStrayPaymentRetriedUntilReversed(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.verdicts["tx_1"] = []RehivePaymentResult{{Outcome: RehivePaid, TxID: "tx_1"}}
	h.f.verdicts["tx_2"] = []RehivePaymentResult{{Outcome: RehivePaid, TxID: "tx_2", PayerAccount: "acc_payer"}}
	h.f.verifyErrs = map[string][]error{"tx_2": {nonRetryableErr("rehive down", "retryable"), nonRetryableErr("rehive down", "retryable")}}
	h.f.reversalErrs = []error{nonRetryableErr("insufficient funds", "invalid_request"), nonRetryableErr("insufficient funds", "invalid_request")}
	h.signalAt(time.Minute, rehiveTxEvent("tx_1"))
	h.signalAt(time.Hour, rehiveTxEvent("tx_2"))
	st := h.runOK(rehiveCheckoutInput())

	require.Equal(t, StatusFulfilled, st.Status)
	require.Equal(t, "tx_1", st.Payment.ProviderPaymentID)
	require.Equal(t, 2, countTimelineStep(st, "verify_failed"))
	require.Equal(t, 2, countTimelineStep(st, "reversal_failed"))
	require.Equal(t, 1, countTimelineStep(st, "reversed"))
	var attempts []int
	for _, r := range h.f.rehiveRefund {
		require.Equal(t, "tx_2", r.TxID)
		attempts = append(attempts, r.Attempt)
	}
	require.Equal(t, []int{1, 2, 3}, attempts, "a new idempotency key per attempt")
}

// Before versionStrayRetry a failing verification dropped the payment.
func TestCheckoutStrayPaymentLegacyDropped(t *testing.T) {
	h := newCheckoutHarness(t)
	h.legacy(versionStrayRetry)
	h.f.verdicts["tx_1"] = []RehivePaymentResult{{Outcome: RehivePaid, TxID: "tx_1"}}
	h.f.verifyErrs = map[string][]error{"tx_2": {nonRetryableErr("rehive down", "retryable")}}
	h.signalAt(time.Minute, rehiveTxEvent("tx_1"))
	h.signalAt(time.Hour, rehiveTxEvent("tx_2"))
	st := h.runOK(rehiveCheckoutInput())
	require.Equal(t, StatusFulfilled, st.Status)
	h.requireCalls(map[string]int{ActRefundRehive: 0})
}

// An operator's Cancel (workflow context cancelled) while awaiting payment:
// voided, released, cancelled, and the run closes as Canceled.
func TestCheckoutOperatorCancelWhileAwaitingPayment(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.statuses = []string{"Authorized"}
	h.env.RegisterDelayedCallback(h.env.CancelWorkflow, 5*time.Minute)
	_, err := h.run(cardCheckoutInput())
	require.True(t, temporal.IsCanceledError(err), "closes as Canceled: %v", err)

	st := h.f.lastSaved()
	require.Equal(t, StatusCancelled, st.Status)
	require.Equal(t, ReasonCancelled, st.FailureReason)
	require.Equal(t, "Voided", st.Payment.Status)
	requireSubsequence(t, timelineSteps(st), []string{string(StatusAwaitingPayment), "operator_cancel", "voided", string(StatusCancelled)})
	h.requireCalls(map[string]int{ActVoidCard: 1, ActReleaseStock: 1, ActCommitStock: 0, ActRefundCard: 0})
}

func TestCheckoutOperatorCancelAfterFulfilmentRefunds(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.statuses = []string{"Captured"}
	h.signalAt(time.Minute, ckoEvent("payment_captured", "evt_1", ckPaymentID))
	h.env.RegisterDelayedCallback(h.env.CancelWorkflow, time.Hour)
	_, err := h.run(cardCheckoutInput())
	require.True(t, temporal.IsCanceledError(err))
	st := h.f.lastSaved()
	require.Equal(t, StatusRefunded, st.Status)
	h.requireCalls(map[string]int{ActRefundCard: 1, ActRestockOrder: 1})
}

func TestCheckoutOperatorCancelWalletBeforePayment(t *testing.T) {
	h := newCheckoutHarness(t)
	h.env.RegisterDelayedCallback(h.env.CancelWorkflow, 5*time.Minute)
	_, err := h.run(rehiveCheckoutInput())
	require.True(t, temporal.IsCanceledError(err))
	require.Equal(t, StatusCancelled, h.f.lastSaved().Status)
	h.requireCalls(map[string]int{ActReleaseStock: 1, ActFindRehivePayments: 0})
}

// Runs from before versionOperatorCancel still honour the cancel signal;
// newer runs do not listen to it (the API uses the update).
func TestCheckoutCancelSignal(t *testing.T) {
	t.Run("legacy run: honoured", func(t *testing.T) {
		h := newCheckoutHarness(t)
		h.legacy(versionOperatorCancel)
		h.f.statuses = []string{"Authorized"}
		h.cancelSignalAt(5 * time.Minute)
		st := h.runOK(cardCheckoutInput())
		require.Equal(t, StatusCancelled, st.Status)
	})
	t.Run("new run: ignored", func(t *testing.T) {
		h := newCheckoutHarness(t)
		h.signalAt(time.Minute, ckoEvent("payment_captured", "evt_1", ckPaymentID))
		h.cancelSignalAt(5 * time.Minute)
		st := h.runOK(cardCheckoutInput())
		require.Equal(t, StatusFulfilled, st.Status)
		h.requireCalls(map[string]int{ActRefundCard: 0})
	})
}

// However many unsolicited events point at one order, its timeline stays
// bounded: repeats are counted on one entry, and the oldest of many distinct
// entries are dropped behind a marker.
func TestCheckoutTimelineBounded(t *testing.T) {
	h := newCheckoutHarness(t)
	for i := 0; i < 300; i++ {
		// The same redelivered event, and events for 300 other payments.
		h.signalAt(time.Minute, ckoEvent("payment_pending", "evt_dup", ckPaymentID))
		h.signalAt(2*time.Minute, ckoEvent("payment_captured", fmt.Sprintf("evt_%d", i), fmt.Sprintf("pay_other_%d", i)))
	}
	h.signalAt(3*time.Minute, ckoEvent("payment_captured", "evt_ok", ckPaymentID))
	st := h.runOK(cardCheckoutInput())

	require.Equal(t, StatusFulfilled, st.Status)
	require.LessOrEqual(t, len(st.Timeline), maxTimeline)
	require.Equal(t, "created", st.Timeline[0].Step, "the start of the story is kept")
	require.Equal(t, 300, countTimelineStep(st, "webhook")-1, "300 redeliveries of one event, on one entry")
	var dropped, markers int
	for _, e := range st.Timeline {
		if e.Step == stepTruncated {
			dropped, markers = e.Repeats, markers+1
		}
	}
	require.Equal(t, 1, markers)
	// created, priced, reserved, awaiting_payment, the pending webhook, 300
	// ignored events, the capture, paid, fulfilled: 308 entries, of which
	// the marker stands for those dropped.
	require.Equal(t, maxTimeline, len(st.Timeline))
	require.Equal(t, 308-(maxTimeline-1), dropped)
	requireSubsequence(t, timelineSteps(st), []string{"created", stepTruncated, "event_ignored", string(StatusPaid), string(StatusFulfilled)})
	// Only the events that mattered wrote the read model.
	require.Less(t, h.f.count(ActSaveOrder), 10)
}
