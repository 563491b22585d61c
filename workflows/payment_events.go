package workflows

// Payment events in payflow's terms. The inbox translates what a provider's
// webhook says (Checkout.com's payment_approved, payment_captured, ...) into
// a CardEvent on the PaymentEvent it signals, and the checkout branches on
// that, never on the provider's event type.

// Providers of payment events (PaymentEvent.Provider).
const (
	ProviderCheckoutCom = "checkoutcom"
	ProviderRehive      = "rehive"
)

// CardEvent is what a card payment event says happened.
type CardEvent string

const (
	// CardAuthorized: the card was authorised; money is held, not taken.
	CardAuthorized CardEvent = "authorized"
	// CardCaptured: the money was taken (CardPaid: and paid out to the
	// merchant); either pays the order.
	CardCaptured CardEvent = "captured"
	CardPaid     CardEvent = "paid"
	// CardCaptureDeclined: the authorisation stands but its capture was
	// declined.
	CardCaptureDeclined CardEvent = "capture_declined"
	// CardDeclined: the payment ended with nothing taken (declined, expired,
	// cancelled, voided).
	CardDeclined CardEvent = "declined"
)

// checkoutComEvents is Checkout.com's event vocabulary, as the inbox
// translates it; an event type missing here says nothing the checkout acts on.
var checkoutComEvents = map[string]CardEvent{
	"payment_approved":         CardAuthorized,
	"payment_captured":         CardCaptured,
	"payment_paid":             CardPaid,
	"payment_capture_declined": CardCaptureDeclined,
	"payment_declined":         CardDeclined,
	"payment_expired":          CardDeclined,
	"payment_canceled":         CardDeclined,
	"payment_voided":           CardDeclined,
}

// CheckoutComEvent translates a Checkout.com event type ("" when the
// checkout has nothing to do with it).
func CheckoutComEvent(eventType string) CardEvent { return checkoutComEvents[eventType] }

// card is the event's CardEvent. Events signalled before the inbox
// translated them (runs in flight, recorded histories) carry only the
// provider's type, translated here the same way.
func (ev PaymentEvent) card() CardEvent {
	if ev.Card != "" {
		return ev.Card
	}
	return CheckoutComEvent(ev.Type)
}

// capturedStatus is the payment status a capture event leaves.
func capturedStatus(e CardEvent) string {
	if e == CardPaid {
		return "Paid"
	}
	return "Captured"
}

// CardState is where a card payment stands, in payflow's terms: the
// activity that reads the payment translates the provider's status into it
// (CardPaymentStatus.State), and the checkout branches on it.
type CardState string

const (
	CardStateCaptured   CardState = "captured"   // money taken: cannot be voided any more
	CardStateAuthorized CardState = "authorized" // money held: voidable
	CardStateEnded      CardState = "ended"      // declined, cancelled or expired: nothing taken
	CardStateRefunded   CardState = "refunded"
	CardStateOther      CardState = "other" // pending, voided, unknown to the order
)

// checkoutComStates is Checkout.com's payment status vocabulary.
var checkoutComStates = map[string]CardState{
	"Captured":           CardStateCaptured,
	"Partially Captured": CardStateCaptured,
	"Paid":               CardStateCaptured,
	"Authorized":         CardStateAuthorized,
	"Card Verified":      CardStateAuthorized,
	"Declined":           CardStateEnded,
	"Canceled":           CardStateEnded,
	"Expired":            CardStateEnded,
	"Refunded":           CardStateRefunded,
}

// CheckoutComState translates a Checkout.com payment status.
func CheckoutComState(status string) CardState {
	if s, ok := checkoutComStates[status]; ok {
		return s
	}
	return CardStateOther
}

// state is the payment's CardState; results recorded before the activity
// translated the status carry only the status, translated here the same way.
func (st CardPaymentStatus) state() CardState {
	if st.State != "" {
		return st.State
	}
	return CheckoutComState(st.Status)
}
