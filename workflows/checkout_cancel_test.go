package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Cancels, by signal and by the cancel update, at every stage of a checkout.

func TestCheckoutCancelBeforePayment(t *testing.T) {
	for _, in := range []CheckoutInput{cardCheckoutInput(), rehiveCheckoutInput()} {
		t.Run(in.Method, func(t *testing.T) {
			h := newCheckoutHarness(t)
			h.cancelAt(0)
			st := h.runOK(in)

			require.Equal(t, StatusCancelled, st.Status)
			require.Equal(t, ReasonCancelled, st.FailureReason)
			require.Empty(t, st.Payment.ProviderPaymentID)
			requireSubsequence(t, timelineSteps(st), []string{string(StatusReserved), string(StatusCancelled)})
			h.requireCalls(map[string]int{
				ActReserveStock: 1, ActChargeCard: 0, ActGetCardPayment: 0, ActVoidCard: 0,
				ActReleaseStock: 1, ActCommitStock: 0, ActRefundCard: 0, ActRefundRehive: 0,
			})
			require.Zero(t, countTimelineStep(st, "late_cancel"))
		})
	}
}

func TestCheckoutCancelWhileAwaitingCardPayment(t *testing.T) {
	t.Run("provider authorized: voided and cancelled", func(t *testing.T) {
		h := newCheckoutHarness(t)
		h.f.statuses = []string{"Authorized"}
		h.cancelAt(5 * time.Minute)
		st := h.runOK(cardCheckoutInput())

		require.Equal(t, StatusCancelled, st.Status)
		require.Equal(t, ReasonCancelled, st.FailureReason)
		require.Equal(t, "Voided", st.Payment.Status)
		requireSubsequence(t, timelineSteps(st), []string{string(StatusAwaitingPayment), "voided", string(StatusCancelled)})
		require.Equal(t, 5*time.Minute, timelineAt(t, st, StatusCancelled).Sub(st.Timeline[0].At))
		h.requireCalls(map[string]int{ActGetCardPayment: 1, ActVoidCard: 1, ActReleaseStock: 1, ActRefundCard: 0, ActCommitStock: 0})
	})
	t.Run("provider pending: cancelled without void", func(t *testing.T) {
		h := newCheckoutHarness(t)
		h.f.statuses = []string{"Pending"}
		h.cancelAt(5 * time.Minute)
		st := h.runOK(cardCheckoutInput())
		require.Equal(t, StatusCancelled, st.Status)
		h.requireCalls(map[string]int{ActGetCardPayment: 1, ActVoidCard: 0, ActReleaseStock: 1, ActRefundCard: 0})
	})
	t.Run("provider captured (webhook not seen yet): refunded", func(t *testing.T) {
		h := newCheckoutHarness(t)
		h.f.statuses = []string{"Captured"}
		h.cancelAt(5 * time.Minute)
		st := h.runOK(cardCheckoutInput())
		require.Equal(t, StatusRefunded, st.Status)
		require.Equal(t, "Refunded", st.Payment.Status)
		require.Equal(t, "rfd_"+ckPaymentID, st.Payment.RefundID)
		// The stock was only held, never committed: releasing it is enough.
		h.requireCalls(map[string]int{ActRefundCard: 1, ActReleaseStock: 1, ActCommitStock: 0, ActRestockOrder: 0, ActVoidCard: 0})
	})
	t.Run("3-D Secure pending: cancelled", func(t *testing.T) {
		h := newCheckoutHarness(t)
		h.f.chargeRes = ChargeResult{PaymentID: ckPaymentID, Status: "Pending", RequiresAction: true, RedirectURL: "https://3ds.example/x"}
		h.f.statuses = []string{"Pending"}
		h.cancelAt(5 * time.Minute)
		st := h.runOK(cardCheckoutInput())
		require.Equal(t, StatusCancelled, st.Status)
		h.requireCalls(map[string]int{ActGetCardPayment: 1, ActReleaseStock: 1, ActRefundCard: 0})
	})
}

func TestCheckoutCancelAfterFulfilledRefunds(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.statuses = []string{"Captured"}
	start := h.env.Now()
	h.signalAt(time.Minute, ckoEvent("payment_captured", "evt_1", ckPaymentID))
	mid := h.queryAt(30 * time.Minute)
	h.cancelAt(time.Hour)
	st := h.runOK(cardCheckoutInput())

	require.Equal(t, StatusFulfilled, mid.Status)
	require.Equal(t, StatusRefunded, st.Status)
	require.Equal(t, "Refunded", st.Payment.Status)
	require.Equal(t, "rfd_"+ckPaymentID, st.Payment.RefundID)
	requireSubsequence(t, timelineSteps(st), []string{string(StatusFulfilled), "refund", string(StatusRefunded)})
	// RestockOrder puts the committed stock back; ReleaseStock is a no-op
	// on a committed reservation (store.Release).
	h.requireCalls(map[string]int{ActCommitStock: 1, ActRestockOrder: 1, ActGetCardPayment: 1, ActRefundCard: 1, ActReleaseStock: 1, ActVoidCard: 0})
	require.Equal(t, []CardPaymentInput{{OrderID: ckOrderID, PaymentID: ckPaymentID, Amount: ckAmount, Attempt: 1}}, h.f.cardRefunds)
	// The workflow closes with the refund, not at the end of the window.
	require.Equal(t, time.Hour, h.env.Now().Sub(start))
}

// An older run fulfilled on payment_approved, cancelled before Checkout.com
// captured: the authorization is voided, nothing was taken, and the order
// reads cancelled, not refunded.
func TestCheckoutCancelAfterFulfilledBeforeCaptureVoids(t *testing.T) {
	h := newCheckoutHarness(t)
	h.legacy(versionCardCaptured)
	h.f.statuses = []string{"Authorized"}
	h.signalAt(time.Minute, ckoEvent("payment_approved", "evt_1", ckPaymentID))
	h.cancelAt(time.Hour)
	st := h.runOK(cardCheckoutInput())

	require.Equal(t, StatusCancelled, st.Status)
	require.Equal(t, "Voided", st.Payment.Status)
	require.Empty(t, st.Payment.RefundID)
	requireSubsequence(t, timelineSteps(st), []string{string(StatusFulfilled), "refund", "void_requested", "voided", string(StatusCancelled)})
	h.requireCalls(map[string]int{ActCommitStock: 1, ActRestockOrder: 1, ActGetCardPayment: 1, ActVoidCard: 1, ActGetCardAction: 1, ActRefundCard: 0})
}

// A cancel and the capture webhook arriving together: whichever wins, the
// money is returned exactly once and the order ends refunded.
func TestCheckoutCancelRacingCapture(t *testing.T) {
	for _, cancelFirst := range []bool{false, true} {
		name := map[bool]string{false: "capture first", true: "cancel first"}[cancelFirst]
		t.Run(name, func(t *testing.T) {
			h := newCheckoutHarness(t)
			h.f.statuses = []string{"Captured"}
			h.env.RegisterDelayedCallback(func() {
				u := &cancelUpdateResult{}
				if cancelFirst {
					h.sendCancelUpdate(u, "cancel")
				}
				h.env.SignalWorkflow(SignalPaymentEvent, ckoEvent("payment_captured", "evt_1", ckPaymentID))
				if !cancelFirst {
					h.sendCancelUpdate(u, "cancel")
				}
			}, time.Minute)
			st := h.runOK(cardCheckoutInput())
			require.Equal(t, StatusRefunded, st.Status)
			require.Equal(t, 1, h.f.count(ActRefundCard))
			require.Zero(t, h.f.count(ActVoidCard))
		})
	}
}

func TestCheckoutCancelUpdate(t *testing.T) {
	t.Run("before payment returns cancelled", func(t *testing.T) {
		h := newCheckoutHarness(t)
		u := h.cancelUpdateAt(0, "cancel-1")
		st := h.runOK(cardCheckoutInput())
		require.Equal(t, StatusCancelled, st.Status)
		requireUpdateCompleted(t, u, StatusCancelled)
		h.requireCalls(map[string]int{ActChargeCard: 0, ActReleaseStock: 1})
	})
	t.Run("while awaiting payment returns cancelled", func(t *testing.T) {
		h := newCheckoutHarness(t)
		h.f.statuses = []string{"Authorized"}
		u := h.cancelUpdateAt(5*time.Minute, "cancel-1")
		st := h.runOK(cardCheckoutInput())
		require.Equal(t, StatusCancelled, st.Status)
		requireUpdateCompleted(t, u, StatusCancelled)
		h.requireCalls(map[string]int{ActVoidCard: 1, ActReleaseStock: 1, ActRefundCard: 0})
	})
	t.Run("after fulfilment returns refunded", func(t *testing.T) {
		h := newCheckoutHarness(t)
		h.f.statuses = []string{"Captured"}
		h.signalAt(time.Minute, ckoEvent("payment_captured", "evt_1", ckPaymentID))
		u := h.cancelUpdateAt(2*time.Hour, "cancel-1")
		st := h.runOK(cardCheckoutInput())
		require.Equal(t, StatusRefunded, st.Status)
		requireUpdateCompleted(t, u, StatusRefunded)
		h.requireCalls(map[string]int{ActRefundCard: 1, ActRestockOrder: 1, ActCommitStock: 1})
	})
	t.Run("twice: both answered, compensated once", func(t *testing.T) {
		h := newCheckoutHarness(t)
		h.f.statuses = []string{"Authorized"}
		u1 := h.cancelUpdateAt(5*time.Minute, "cancel-1")
		u2 := h.cancelUpdateAt(5*time.Minute, "cancel-2")
		h.cancelAt(5 * time.Minute)
		st := h.runOK(cardCheckoutInput())
		require.Equal(t, StatusCancelled, st.Status)
		requireUpdateCompleted(t, u1, StatusCancelled)
		requireUpdateCompleted(t, u2, StatusCancelled)
		h.requireCalls(map[string]int{ActGetCardPayment: 1, ActVoidCard: 1, ActReleaseStock: 1})
	})
}

// The validator refuses to cancel an order that already ended failed. The
// only moment a failed order's workflow is still open is while it saves its
// final state, so the update is sent from inside that SaveOrder call.
func TestCheckoutCancelUpdateRejectedWhenFailed(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.chargeRes = ChargeResult{PaymentID: ckPaymentID, Status: "Declined", Approved: false, ResponseCode: "20005"}
	u := &cancelUpdateResult{}
	sent := false
	h.f.onSave = func(st CheckoutState) {
		if st.Status == StatusFailed && !sent {
			sent = true
			h.sendCancelUpdate(u, "late-cancel")
		}
	}
	st := h.runOK(cardCheckoutInput())

	require.Equal(t, StatusFailed, st.Status)
	require.True(t, sent)
	accepted, rejected, completed, _, _ := u.snapshot()
	require.False(t, accepted)
	require.False(t, completed)
	require.ErrorContains(t, rejected, "already failed")
	h.requireCalls(map[string]int{ActReleaseStock: 1, ActVoidCard: 0, ActRefundCard: 0})
}

func requireUpdateCompleted(t *testing.T, u *cancelUpdateResult, status CheckoutStatus) {
	t.Helper()
	accepted, rejected, completed, got, err := u.snapshot()
	require.NoError(t, rejected)
	require.True(t, accepted, "update accepted")
	require.True(t, completed, "update completed")
	require.NoError(t, err)
	require.Equal(t, status, got)
}
