package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/payflow/payflow/breakage"
)

// cardPayment is a checkout paid by card through Checkout.com: a charge,
// perhaps a 3-D Secure challenge, then webhooks; the payment's status is
// asked before anything is undone, and voids and refunds count once
// Checkout.com confirms them (checkout_card_actions.go).
type cardPayment struct {
	*checkout
	// attention is set when a void could not be confirmed: the caller ends
	// the order needs_attention instead of its usual status.
	attention string
}

// pay charges the card and waits for the outcome. It returns true when the
// payment is captured; on every other outcome the order is already final.
func (w *cardPayment) pay(ctx workflow.Context) (bool, error) {
	res, err := ckActs.ChargeCard.Run(ctx, ChargeInput{
		OrderID: w.in.OrderID, Amount: w.state.Amount, Currency: w.in.Currency, CustomerEmail: w.in.CustomerEmail,
	})
	if err != nil {
		if isType(err, ErrTypeRejected) {
			return false, w.fail(ctx, ReasonPaymentRejected, errDetail(err))
		}
		if w.version(ctx, versionChargeLookup) == workflow.DefaultVersion {
			return false, w.fail(ctx, ReasonPaymentError, errDetail(err))
		}
		// The charge may have gone through with its answer lost: find it
		// rather than fail an order whose payment exists.
		found, ok := w.findCharge(ctx, err)
		if !ok {
			return false, w.fail(ctx, ReasonPaymentError, "no payment found for the order after: "+errDetail(err))
		}
		res = found
	}
	w.state.Payment.ProviderPaymentID = res.PaymentID
	w.state.Payment.Status = res.Status
	switch {
	case !res.Approved && !res.RequiresAction:
		return false, w.fail(ctx, ReasonPaymentDeclined, fmt.Sprintf("%s %s", res.ResponseCode, res.ResponseSummary))
	case res.RequiresAction:
		w.state.Payment.RedirectURL = res.RedirectURL
		w.setStatus(ctx, StatusRequiresAction, "3-D Secure: "+res.RedirectURL)
	case isCaptured(res.Status) && w.capturedOnly(ctx):
		w.note(ctx, "charged", fmt.Sprintf("payment %s %s", res.PaymentID, res.Status))
		return true, nil
	default:
		w.setStatus(ctx, StatusAwaitingPayment, fmt.Sprintf("payment %s %s", res.PaymentID, res.Status))
	}
	return w.await(ctx, w.onCardEvent, w.cardTimeout)
}

// chargeLookup looks up a charge whose answer was lost. A card token lives 15
// minutes, so a payment that does not show by reference within 20 minutes
// was never made and can no longer be.
var chargeLookup = askAgain{first: 5 * time.Second, max: 2 * time.Minute, within: 20 * time.Minute}

// findCharge looks the order's payment up by reference (GET
// /payments?reference=) with backoff, each attempt on the timeline. It
// reports false only when no payment showed within chargeLookup.within.
func (w *cardPayment) findCharge(ctx workflow.Context, cause error) (ChargeResult, bool) {
	w.state.Payment.Status = "unknown"
	w.note(ctx, "charge_unknown", errDetail(cause)+"; looking the payment up by reference")
	w.save(ctx)
	var charge ChargeResult
	found, _ := chargeLookup.until(ctx, func(int) bool {
		found, err := ckActs.FindCardPayment.Run(ctx, FindCardPaymentInput{OrderID: w.in.OrderID})
		switch {
		case err != nil:
			w.note(ctx, "charge_lookup", "lookup failed: "+errDetail(err))
		case found.Found:
			detail := fmt.Sprintf("payment %s %s", found.Charge.PaymentID, found.Charge.Status)
			if found.Count > 1 {
				detail += fmt.Sprintf(" (%d payments carry the reference)", found.Count)
			}
			w.note(ctx, "charge_found", detail)
			charge = found.Charge
			return true
		default:
			w.note(ctx, "charge_lookup", "no payment with this reference yet")
		}
		return false
	})
	return charge, found
}

// capturedOnly reports whether this run counts only a capture as payment
// (versionCardCaptured); older runs took payment_approved as paid.
func (w *cardPayment) capturedOnly(ctx workflow.Context) bool {
	return w.version(ctx, versionCardCaptured) == 1
}

// isCaptured reports whether the order's payment status says the money was
// taken.
func isCaptured(status string) bool {
	switch {
	case CheckoutComState(status) == CardStateCaptured:
		return true
	case status == "Authorized":
		return breakage.On(breakage.FulfilOnAuthorisation)
	}
	return false
}

func (w *cardPayment) onCardEvent(ctx workflow.Context, ev PaymentEvent) outcome {
	if ev.Provider != ProviderCheckoutCom || (w.state.Payment.ProviderPaymentID != "" && ev.PaymentID != w.state.Payment.ProviderPaymentID) {
		w.note(ctx, "event_ignored", fmt.Sprintf("%s %s for another payment %s", ev.Provider, ev.Type, ev.PaymentID))
		return keepWaiting
	}
	w.note(ctx, "webhook", fmt.Sprintf("%s %s", ev.Type, ev.EventID))
	switch ev.card() {
	case CardAuthorized:
		if w.capturedOnly(ctx) {
			// An authorisation: the capture (or its decline) follows. A
			// redelivery changes nothing and writes nothing.
			if w.state.Payment.Status != "Authorized" {
				w.state.Payment.Status = "Authorized"
				w.save(ctx)
			}
			return keepWaiting
		}
		w.state.Payment.Status = "Authorized"
		return gotPaid
	case CardCaptured, CardPaid:
		w.state.Payment.Status = capturedStatus(ev.card())
		return gotPaid
	case CardCaptureDeclined:
		if w.capturedOnly(ctx) {
			return w.onCaptureDeclined(ctx, ev)
		}
		fallthrough
	case CardDeclined:
		w.state.Payment.Status = "Declined"
		_ = w.fail(ctx, ReasonPaymentDeclined, fmt.Sprintf("%s %s %s", ev.Type, ev.ResponseCode, ev.ResponseSummary))
		return gotFailed
	}
	return keepWaiting
}

// onCaptureDeclined handles a declined capture before fulfilment: the
// provider is asked (events can be reordered: a capture that went through
// after all pays the order), what is left of the authorisation is voided and
// the order fails capture_declined.
func (w *cardPayment) onCaptureDeclined(ctx workflow.Context, ev PaymentEvent) outcome {
	st, captured, err := w.undoCard(ctx)
	if err != nil {
		return keepWaiting
	}
	if captured {
		w.note(ctx, "capture_check", "provider reports "+st.Status+" after "+ev.Type)
		return gotPaid
	}
	if w.attention != "" {
		_ = w.needsAttention(ctx, w.attention, "capture declined, and the authorisation could not be voided")
		return gotFailed
	}
	_ = w.fail(ctx, ReasonCaptureDeclined, fmt.Sprintf("%s %s %s; payment %s", ev.Type, ev.ResponseCode, ev.ResponseSummary, st.Status))
	return gotFailed
}

// cardTimeout asks Checkout.com for the truth before giving up: a payment
// whose webhook was lost is still fulfilled.
func (w *cardPayment) cardTimeout(ctx workflow.Context) (bool, error) {
	st, captured, err := w.undoCard(ctx)
	if err != nil {
		return false, err
	}
	if captured {
		w.note(ctx, "timeout_check", "provider reports "+st.Status)
		return true, nil
	}
	if w.attention != "" {
		return false, w.needsAttention(ctx, w.attention, "no capture within "+w.in.PaymentTimeout.String()+", and the authorisation could not be voided")
	}
	if st.State == CardStateEnded {
		return false, w.fail(ctx, ReasonPaymentDeclined, "provider reports "+st.Status)
	}
	return false, w.expire(ctx, "no payment within "+w.in.PaymentTimeout.String()+"; provider reports "+st.Status)
}

// undoCard asks Checkout.com where the payment stands and voids it when it is
// only authorized. captured reports a payment that cannot be voided any more.
// It does not give up: a payment whose state is unknown, or an authorization
// that would not void, is looked at again with backoff until it settles
// (authorizations expire on their own), because an unsettled payment must
// never end an order.
func (w *cardPayment) undoCard(ctx workflow.Context) (status CardPaymentStatus, captured bool, err error) {
	_, err = untilAnswered.until(ctx, func(int) bool {
		st, serr := ckActs.GetCardPayment.Run(ctx, CardPaymentInput{OrderID: w.in.OrderID, PaymentID: w.state.Payment.ProviderPaymentID})
		if serr != nil {
			if isType(serr, ErrTypeNotFound) {
				status = CardPaymentStatus{Status: "NotFound", State: CardStateOther} // never created: nothing to undo
				return true
			}
			w.note(ctx, "status_unknown", errDetail(serr))
			return false
		}
		w.state.Payment.Status = st.Status
		status = CardPaymentStatus{Status: st.Status, State: st.state()}
		switch status.State {
		case CardStateCaptured:
			captured = true
		case CardStateAuthorized:
			if w.confirmedActions(ctx) {
				voided, lookAgain := w.voidConfirmed(ctx)
				if lookAgain {
					return false // refused: it may have been captured meanwhile
				}
				if !voided {
					w.attention = ReasonVoidDeclined
					return true
				}
			} else if verr := w.void(ctx); verr != nil {
				w.note(ctx, "void_failed", errDetail(verr))
				return false // it may have been captured meanwhile: look again
			}
			status = CardPaymentStatus{Status: "Voided", State: CardStateOther}
		}
		return true
	})
	if err != nil {
		return CardPaymentStatus{}, false, err
	}
	return status, captured, nil
}

// cardState reads where the payment stands.
func (w *cardPayment) cardState(ctx workflow.Context) (CardState, error) {
	st, err := ckActs.GetCardPayment.Run(ctx, CardPaymentInput{OrderID: w.in.OrderID, PaymentID: w.state.Payment.ProviderPaymentID})
	return st.state(), err
}

func (w *cardPayment) void(ctx workflow.Context) error {
	_, err := ckActs.VoidCard.Run(ctx, CardPaymentInput{OrderID: w.in.OrderID, PaymentID: w.state.Payment.ProviderPaymentID, Amount: w.state.Amount})
	if err == nil {
		w.state.Payment.Status = "Voided"
		w.note(ctx, "voided", w.state.Payment.ProviderPaymentID)
	}
	return err
}

// onCardAfterFulfilment acts on a card event for a fulfilled order and
// reports whether it closed the order. A fulfilled order is never left
// unpaid: a capture declined after an older run fulfilled on the
// authorisation voids what is left, puts the goods back and fails the order.
func (w *cardPayment) onCardAfterFulfilment(ctx workflow.Context, ev PaymentEvent) bool {
	if ev.PaymentID != w.state.Payment.ProviderPaymentID {
		w.note(ctx, "event_ignored", fmt.Sprintf("%s %s for another payment %s", ev.Provider, ev.Type, ev.PaymentID))
		return false
	}
	w.note(ctx, "webhook", fmt.Sprintf("%s %s after %s", ev.Type, ev.EventID, w.state.Status))
	switch ev.card() {
	case CardCaptured, CardPaid:
		if st := capturedStatus(ev.card()); st != w.state.Payment.Status {
			w.state.Payment.Status = st
			w.save(ctx)
		}
	case CardCaptureDeclined:
		if isCaptured(w.state.Payment.Status) {
			return false // the capture is known: a stale or repeated decline
		}
		st, captured, err := w.undoCard(ctx)
		if err != nil {
			return false
		}
		if captured {
			w.note(ctx, "capture_check", "provider reports "+st.Status+" after "+ev.Type)
			w.save(ctx)
			return false
		}
		if err := ckActs.RestockOrder.With(forever).Run(ctx, w.in.OrderID); err != nil {
			w.note(ctx, "restock_failed", errDetail(err))
		}
		detail := fmt.Sprintf("capture declined after fulfilment (%s %s); payment %s, goods restocked", ev.ResponseCode, ev.ResponseSummary, st.Status)
		if w.attention != "" {
			_ = w.needsAttention(ctx, w.attention, detail+"; the authorisation could not be voided")
			return true
		}
		_ = w.fail(ctx, ReasonCaptureDeclined, detail)
		return true
	}
	return false
}

// cancelUnpaid asks where a charge stands before the order is cancelled:
// a captured payment is refunded, an authorisation voided.
func (w *cardPayment) cancelUnpaid(ctx workflow.Context) (bool, error) {
	if w.state.Payment.ProviderPaymentID == "" {
		return false, nil
	}
	_, captured, err := w.undoCard(ctx)
	if err != nil {
		return true, err
	}
	if captured {
		return true, w.refund(ctx, "cancel requested after capture")
	}
	if w.attention != "" {
		return true, w.needsAttention(ctx, w.attention, "cancel requested; the authorisation could not be voided")
	}
	return false, nil
}

// settleLeftovers: a card order has one payment, settled where it is met.
func (w *cardPayment) settleLeftovers(workflow.Context) {}

// afterFulfilment acts on Checkout.com's events about the payment (runs
// before versionCardAfterFulfilment only recorded them).
func (w *cardPayment) afterFulfilment(ctx workflow.Context, ev PaymentEvent) bool {
	if ev.Provider == ProviderCheckoutCom &&
		w.version(ctx, versionCardAfterFulfilment) == 1 {
		return w.onCardAfterFulfilment(ctx, ev)
	}
	w.note(ctx, "late_event", fmt.Sprintf("%s %s %s after %s", ev.Provider, ev.Type, ev.PaymentID, w.state.Status))
	return false
}

// latePayment refunds the order's payment that arrived after the order
// closed; a card order has one payment, so the watch is then over.
func (w *cardPayment) latePayment(ctx workflow.Context, ev PaymentEvent) bool {
	if ev.Provider != ProviderCheckoutCom || (w.state.Payment.ProviderPaymentID != "" && ev.PaymentID != w.state.Payment.ProviderPaymentID) {
		return false
	}
	switch ev.card() {
	case CardCaptured, CardAuthorized, CardPaid:
		w.state.Payment.ProviderPaymentID = ev.PaymentID
		_ = w.refund(ctx, "payment arrived after the order was "+string(w.state.Status))
		return true
	}
	return false
}
