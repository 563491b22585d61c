package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A run that received its events before the inbox translated them acts on
// them the same way.
func TestCheckoutActsOnUntranslatedCardEvents(t *testing.T) {
	h := newCheckoutHarness(t)
	h.signalAt(time.Minute, untranslatedCkoEvent("payment_approved", "evt_auth", ckPaymentID))
	h.signalAt(2*time.Minute, untranslatedCkoEvent("payment_captured", "evt_cap", ckPaymentID))
	st := h.runOK(cardCheckoutInput())
	require.Equal(t, StatusFulfilled, st.Status)
	require.Equal(t, "Captured", st.Payment.Status)

	h = newCheckoutHarness(t)
	h.signalAt(time.Minute, untranslatedCkoEvent("payment_declined", "evt_dec", ckPaymentID))
	st = h.runOK(cardCheckoutInput())
	require.Equal(t, StatusFailed, st.Status)
	require.Equal(t, ReasonPaymentDeclined, st.FailureReason)
}

func TestCardStateTranslation(t *testing.T) {
	require.Equal(t, CardStateAuthorized, CardPaymentStatus{Status: "Card Verified"}.state(), "untranslated result")
	require.Equal(t, CardStateCaptured, CardPaymentStatus{Status: "Partially Captured"}.state())
	require.Equal(t, CardStateEnded, CardPaymentStatus{Status: "Expired"}.state())
	require.Equal(t, CardStateOther, CardPaymentStatus{Status: "Pending"}.state())
	require.Equal(t, CardStateRefunded, CardPaymentStatus{Status: "Refunded", State: CardStateRefunded}.state())
	require.Equal(t, CardDeclined, CheckoutComEvent("payment_voided"))
	require.Equal(t, CardEvent(""), CheckoutComEvent("payment_refunded"))
}
