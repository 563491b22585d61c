package workflows

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
)

// outcomeAt sends the first-outcome update at virtual time d (0: with the
// start, as the API's Update-with-Start does) and returns what it answered.
func (h *checkoutHarness) outcomeAt(d time.Duration) func() (CheckoutState, error, bool) {
	var mu sync.Mutex
	var st CheckoutState
	var err error
	done := false
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(UpdateFirstOutcome, "first-outcome", &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(e error) { mu.Lock(); err, done = e, true; mu.Unlock() },
			OnComplete: func(res any, e error) {
				mu.Lock()
				defer mu.Unlock()
				if res != nil {
					st = res.(CheckoutState)
				}
				err, done = e, true
			},
		})
	}, d)
	return func() (CheckoutState, error, bool) { mu.Lock(); defer mu.Unlock(); return st, err, done }
}

// The update answers with the charge's first outcome, whatever it is.
func TestCheckoutFirstOutcome(t *testing.T) {
	t.Run("approved: awaiting the capture", func(t *testing.T) {
		h := newCheckoutHarness(t)
		got := h.outcomeAt(0)
		h.signalAt(time.Minute, ckoEvent("payment_captured", "evt_1", ckPaymentID))
		require.Equal(t, StatusFulfilled, h.runOK(cardCheckoutInput()).Status)
		st, err, done := got()
		require.True(t, done)
		require.NoError(t, err)
		require.Equal(t, StatusAwaitingPayment, st.Status)
		require.Equal(t, ckPaymentID, st.Payment.ProviderPaymentID)
	})
	t.Run("3-D Secure: the redirect", func(t *testing.T) {
		h := newCheckoutHarness(t)
		const redirect = "https://3ds.example/challenge/pay_abc"
		h.f.chargeRes = ChargeResult{PaymentID: ckPaymentID, Status: "Pending", RequiresAction: true, RedirectURL: redirect}
		got := h.outcomeAt(0)
		h.runOK(cardCheckoutInput())
		st, err, done := got()
		require.True(t, done)
		require.NoError(t, err)
		require.Equal(t, StatusRequiresAction, st.Status)
		require.Equal(t, redirect, st.Payment.RedirectURL)
	})
	t.Run("declined", func(t *testing.T) {
		h := newCheckoutHarness(t)
		h.f.chargeRes = ChargeResult{PaymentID: ckPaymentID, Status: "Declined", ResponseCode: "20005", ResponseSummary: "Declined - Do Not Honour"}
		got := h.outcomeAt(0)
		h.runOK(cardCheckoutInput())
		st, err, done := got()
		require.True(t, done)
		require.NoError(t, err)
		require.Equal(t, StatusFailed, st.Status)
		require.Equal(t, ReasonPaymentDeclined, st.FailureReason)
	})
	t.Run("out of stock, before any charge", func(t *testing.T) {
		h := newCheckoutHarness(t)
		h.f.reserveErr = nonRetryableErr("TSHIRT-M: 1 left, 2 wanted", ErrTypeOutOfStock)
		got := h.outcomeAt(0)
		h.runOK(cardCheckoutInput())
		st, _, done := got()
		require.True(t, done)
		require.Equal(t, StatusFailed, st.Status)
		h.requireCalls(map[string]int{ActChargeCard: 0})
	})
	t.Run("sent later: the current state at once", func(t *testing.T) {
		h := newCheckoutHarness(t)
		got := h.outcomeAt(2 * time.Minute)
		h.signalAt(time.Minute, ckoEvent("payment_captured", "evt_1", ckPaymentID))
		h.runOK(cardCheckoutInput())
		st, err, done := got()
		require.True(t, done)
		require.NoError(t, err)
		require.Equal(t, StatusFulfilled, st.Status)
	})
}
