package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Search attributes that let operators find workflows in the Web UI.
var (
	SAOrderID    = temporal.NewSearchAttributeKeyKeyword("OrderId")
	SARehiveTxID = temporal.NewSearchAttributeKeyKeyword("RehiveTxId")
	SAStatus     = temporal.NewSearchAttributeKeyKeyword("PayflowStatus")
)

// Checkout is the workflow `checkout/<order_id>`: verify and price the cart,
// reserve stock, take the payment, fulfil, and compensate on every failure
// path. Once fulfilled it stays open for the refund window so that a cancel
// can still refund it.
func Checkout(ctx workflow.Context, in CheckoutInput) (CheckoutState, error) {
	w := &checkout{in: in}
	if err := w.setup(ctx); err != nil {
		return w.state, err
	}
	err := w.run(ctx)
	if err == nil {
		w.watchLatePayments(ctx)
	}
	w.drain(ctx)
	return w.state, err
}

type checkout struct {
	in    CheckoutInput
	state CheckoutState

	payments workflow.ReceiveChannel
	cancels  workflow.ReceiveChannel
	// updateCancels wakes the main loop when the cancel update arrives.
	updateCancels workflow.Channel

	cancelRequested bool
	cancelHandled   bool
	// Rehive transactions seen, by id, with their last verdict.
	rehiveSeen map[string]RehivePaymentResult
	rehivePaid RehivePaymentResult
}

// Defaults for inputs that leave the timeouts unset: a zero timer would fire
// at once.
const (
	DefaultPaymentTimeout = 15 * time.Minute
	DefaultRefundWindow   = 24 * time.Hour
	// DefaultLateWindow is how long an unpaid order that closed keeps
	// listening for a payment that was still under way (a 3-D Secure
	// challenge completed late, a wallet transfer sent at the last moment).
	DefaultLateWindow = time.Hour
)

func (w *checkout) setup(ctx workflow.Context) error {
	if w.in.PaymentTimeout <= 0 {
		w.in.PaymentTimeout = DefaultPaymentTimeout
	}
	if w.in.RefundWindow <= 0 {
		w.in.RefundWindow = DefaultRefundWindow
	}
	if w.in.LateWindow <= 0 {
		w.in.LateWindow = DefaultLateWindow
	}
	info := workflow.GetInfo(ctx)
	w.state = CheckoutState{
		OrderID:       w.in.OrderID,
		Status:        StatusPending,
		Currency:      w.in.Currency,
		Payment:       PaymentState{Method: w.in.Method, Status: "none"},
		CustomerEmail: w.in.CustomerEmail,
		WorkflowID:    info.WorkflowExecution.ID,
		RunID:         info.WorkflowExecution.RunID,
		Lines:         []PricedLine{},
		Timeline:      []TimelineEntry{},
	}
	for _, l := range w.in.Lines {
		w.state.Lines = append(w.state.Lines, PricedLine{SKU: l.SKU, Quantity: l.Quantity})
	}
	w.rehiveSeen = map[string]RehivePaymentResult{}
	w.payments = workflow.GetSignalChannel(ctx, SignalPaymentEvent)
	w.cancels = workflow.GetSignalChannel(ctx, SignalCancel)
	w.updateCancels = workflow.NewBufferedChannel(ctx, 1)
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (CheckoutState, error) { return w.state, nil }); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateCancel,
		func(ctx workflow.Context) (string, error) {
			w.updateCancels.SendAsync(true)
			if err := workflow.Await(ctx, func() bool { return w.cancelHandled }); err != nil {
				return "", err
			}
			return w.state.Status, nil
		},
		workflow.UpdateHandlerOptions{Validator: func() error {
			if w.cancelRequested {
				return nil
			}
			if IsTerminal(w.state.Status) && w.state.Status != StatusFulfilled {
				return fmt.Errorf("checkout is already %s", w.state.Status)
			}
			return nil
		}},
	)
}

func (w *checkout) run(ctx workflow.Context) error {
	w.note(ctx, "created", fmt.Sprintf("payment by %s", w.in.Method))
	w.save(ctx)

	var priced PriceCartResult
	if err := workflow.ExecuteActivity(short(ctx), ActPriceCart, PriceCartInput{OrderID: w.in.OrderID, Currency: w.in.Currency, Lines: w.in.Lines}).Get(ctx, &priced); err != nil {
		reason := ReasonInvalidCart
		if !isType(err, ErrTypeInvalidCart) {
			reason = ReasonInternalError
		}
		return w.fail(ctx, reason, errDetail(err), false)
	}
	w.state.Lines, w.state.Amount = priced.Lines, priced.Amount
	w.note(ctx, "priced", fmt.Sprintf("%d %s", priced.Amount, w.in.Currency))

	if err := workflow.ExecuteActivity(short(ctx), ActReserveStock, ReserveInput{OrderID: w.in.OrderID, Lines: w.in.Lines}).Get(ctx, nil); err != nil {
		switch {
		case isType(err, ErrTypeOutOfStock):
			return w.fail(ctx, ReasonOutOfStock, errDetail(err), false)
		case isType(err, ErrTypeInvalidCart):
			return w.fail(ctx, ReasonInvalidCart, errDetail(err), false)
		}
		// Unknown outcome (the retries ran out): release in case the last
		// attempt held stock after all.
		return w.fail(ctx, ReasonInternalError, errDetail(err), true)
	}
	w.setStatus(ctx, StatusReserved, "stock reserved")
	w.pollCancel()
	if w.cancelRequested {
		return w.cancelBeforePayment(ctx)
	}

	var paid bool
	var err error
	if w.in.Method == MethodCard {
		paid, err = w.payByCard(ctx)
	} else {
		paid, err = w.payByRehive(ctx)
	}
	if err != nil || !paid {
		return err
	}

	w.setStatus(ctx, StatusPaid, "payment "+w.state.Payment.ProviderPaymentID)
	if err := workflow.ExecuteActivity(short(ctx), ActCommitStock, w.in.OrderID).Get(ctx, nil); err != nil {
		// Stock commit retries until its deadline; failing it is an outage, and the
		// payment must not be left unfulfilled and unrefunded.
		return w.refund(ctx, "stock commit failed: "+errDetail(err))
	}
	w.setStatus(ctx, StatusFulfilled, "stock committed")
	return w.refundWindow(ctx)
}

// payByCard charges the card and waits for the outcome. It returns true when
// the payment is captured; on every other outcome the order is already final.
func (w *checkout) payByCard(ctx workflow.Context) (bool, error) {
	var res ChargeResult
	err := workflow.ExecuteActivity(charge(ctx), ActChargeCard, ChargeInput{
		OrderID: w.in.OrderID, Amount: w.state.Amount, Currency: w.in.Currency, CustomerEmail: w.in.CustomerEmail,
	}).Get(ctx, &res)
	if err != nil {
		if isType(err, ErrTypeRejected) {
			return false, w.fail(ctx, ReasonPaymentRejected, errDetail(err), true)
		}
		return false, w.fail(ctx, ReasonPaymentError, errDetail(err), true)
	}
	w.state.Payment.ProviderPaymentID = res.PaymentID
	w.state.Payment.Status = res.Status
	switch {
	case !res.Approved && !res.RequiresAction:
		return false, w.fail(ctx, ReasonPaymentDeclined, fmt.Sprintf("%s %s", res.ResponseCode, res.ResponseSummary), true)
	case res.RequiresAction:
		w.state.Payment.RedirectURL = res.RedirectURL
		w.setStatus(ctx, StatusRequiresAction, "3-D Secure: "+res.RedirectURL)
	default:
		w.setStatus(ctx, StatusAwaitingPayment, fmt.Sprintf("payment %s %s", res.PaymentID, res.Status))
	}
	return w.await(ctx, w.onCardEvent, w.cardTimeout)
}

// payByRehive waits for the Rehive webhook of a transaction paying this order.
func (w *checkout) payByRehive(ctx workflow.Context) (bool, error) {
	w.state.Payment.Status = "awaiting_transfer"
	w.setStatus(ctx, StatusAwaitingPayment, "waiting for a Rehive transfer with metadata.order_id")
	return w.await(ctx, w.onRehiveEvent, w.rehiveTimeout)
}

// outcome of handling one event while waiting for payment.
type outcome int

const (
	keepWaiting outcome = iota
	gotPaid
	gotFailed // the order is already final
)

// await races payment events against cancellation and the payment timeout.
func (w *checkout) await(ctx workflow.Context, onEvent func(workflow.Context, PaymentEvent) outcome, onTimeout func(workflow.Context) (bool, error)) (bool, error) {
	timerCtx, cancelTimer := workflow.WithCancel(ctx)
	defer cancelTimer()
	timer := workflow.NewTimer(timerCtx, w.in.PaymentTimeout)
	result := keepWaiting
	timedOut := false
	for result == keepWaiting && !timedOut && !w.cancelRequested {
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(w.payments, func(c workflow.ReceiveChannel, _ bool) {
			var ev PaymentEvent
			c.Receive(ctx, &ev)
			result = onEvent(ctx, ev)
		})
		w.onCancel(ctx, sel)
		sel.AddFuture(timer, func(workflow.Future) { timedOut = true })
		sel.Select(ctx)
	}
	switch {
	case result == gotPaid:
		return true, nil
	case result == gotFailed:
		return false, nil
	case w.cancelRequested:
		return false, w.cancelBeforePayment(ctx)
	default:
		return onTimeout(ctx)
	}
}

func (w *checkout) onCardEvent(ctx workflow.Context, ev PaymentEvent) outcome {
	if ev.Provider != "checkoutcom" || (w.state.Payment.ProviderPaymentID != "" && ev.PaymentID != w.state.Payment.ProviderPaymentID) {
		w.note(ctx, "event_ignored", fmt.Sprintf("%s %s for another payment %s", ev.Provider, ev.Type, ev.PaymentID))
		return keepWaiting
	}
	w.note(ctx, "webhook", fmt.Sprintf("%s %s", ev.Type, ev.EventID))
	switch ev.Type {
	case "payment_captured", "payment_approved", "payment_paid":
		w.state.Payment.Status = map[string]string{"payment_captured": "Captured", "payment_approved": "Authorized", "payment_paid": "Paid"}[ev.Type]
		return gotPaid
	case "payment_declined", "payment_capture_declined", "payment_expired", "payment_canceled", "payment_voided":
		w.state.Payment.Status = "Declined"
		_ = w.fail(ctx, ReasonPaymentDeclined, fmt.Sprintf("%s %s %s", ev.Type, ev.ResponseCode, ev.ResponseSummary), true)
		return gotFailed
	}
	return keepWaiting
}

// cardTimeout asks Checkout.com for the truth before giving up: a payment
// whose webhook was lost is still fulfilled.
func (w *checkout) cardTimeout(ctx workflow.Context) (bool, error) {
	st, captured, err := w.undoCard(ctx)
	if err != nil {
		return false, err
	}
	if captured {
		w.note(ctx, "timeout_check", "provider reports "+st)
		return true, nil
	}
	switch st {
	case "Declined", "Canceled", "Expired":
		return false, w.fail(ctx, ReasonPaymentDeclined, "provider reports "+st, true)
	}
	return false, w.expire(ctx, "no payment within "+w.in.PaymentTimeout.String()+"; provider reports "+st)
}

func (w *checkout) onRehiveEvent(ctx workflow.Context, ev PaymentEvent) outcome {
	if ev.Provider != "rehive" || ev.PaymentID == "" {
		w.note(ctx, "event_ignored", fmt.Sprintf("%s %s", ev.Provider, ev.Type))
		return keepWaiting
	}
	if prev, seen := w.rehiveSeen[ev.PaymentID]; seen && prev.Outcome != RehivePending {
		return keepWaiting // already judged final
	}
	w.note(ctx, "webhook", fmt.Sprintf("rehive %s %s", ev.Type, ev.PaymentID))
	res, err := w.verifyRehive(ctx, ev.PaymentID)
	if err != nil {
		w.note(ctx, "verify_failed", errDetail(err))
		w.rehiveSeen[ev.PaymentID] = RehivePaymentResult{Outcome: RehivePending, TxID: ev.PaymentID}
		return keepWaiting
	}
	return w.judgeRehive(ctx, res)
}

func (w *checkout) judgeRehive(ctx workflow.Context, res RehivePaymentResult) outcome {
	w.rehiveSeen[res.TxID] = res
	switch res.Outcome {
	case RehivePaid:
		w.rehivePaid = res
		// An earlier mismatch stays on the timeline; a fulfilled order has no
		// failure reason.
		w.state.FailureReason = ""
		w.state.Payment.ProviderPaymentID = res.TxID
		w.state.Payment.Status = "Complete"
		return gotPaid
	case RehiveMismatch:
		// A payment that does not match never fulfils; the order says why and
		// keeps waiting for a correct one until the timeout. Money that did
		// reach the merchant goes back to the payer.
		w.state.FailureReason = res.Reason
		w.note(ctx, "payment_mismatch", fmt.Sprintf("%s: %s", res.TxID, res.Reason))
		if res.Refundable {
			w.reverse(ctx, res)
		} else {
			w.save(ctx)
		}
	case RehivePending:
		w.note(ctx, "payment_pending", res.TxID)
	}
	return keepWaiting
}

// rehiveTimeout re-checks every transaction still pending before expiring.
func (w *checkout) rehiveTimeout(ctx workflow.Context) (bool, error) {
	for _, id := range sortedKeys(w.rehiveSeen) {
		if w.rehiveSeen[id].Outcome != RehivePending {
			continue
		}
		// A transaction that may be Complete is never expired unverified:
		// Rehive is asked until it answers (or says it does not exist).
		for attempt := 0; ; attempt++ {
			res, err := w.verifyRehive(ctx, id)
			if err == nil {
				if w.judgeRehive(ctx, res) == gotPaid {
					return true, nil
				}
				break
			}
			if isType(err, ErrTypeNotFound) {
				break
			}
			w.note(ctx, "verify_failed", errDetail(err))
			if err := workflow.Sleep(ctx, min(10*time.Second<<min(attempt, 5), 5*time.Minute)); err != nil {
				return false, err
			}
		}
	}
	reason := "no Rehive payment within " + w.in.PaymentTimeout.String()
	if w.state.FailureReason != "" {
		reason = w.state.FailureReason
	}
	return false, w.expire(ctx, reason)
}

func (w *checkout) verifyRehive(ctx workflow.Context, txID string) (RehivePaymentResult, error) {
	var res RehivePaymentResult
	err := workflow.ExecuteActivity(short(ctx), ActVerifyRehivePayment, RehivePaymentInput{
		OrderID: w.in.OrderID, TxID: txID, Amount: w.state.Amount, Currency: w.in.Currency,
	}).Get(ctx, &res)
	return res, err
}

// cancelBeforePayment settles a cancel that arrived before the order was paid.
// A card payment may still have moved: ask, then void or refund as needed.
func (w *checkout) cancelBeforePayment(ctx workflow.Context) error {
	defer func() { w.cancelHandled = true }()
	if w.in.Method == MethodCard && w.state.Payment.ProviderPaymentID != "" {
		_, captured, err := w.undoCard(ctx)
		if err != nil {
			return err
		}
		if captured {
			return w.refund(ctx, "cancel requested after capture")
		}
	}
	w.release(ctx)
	w.state.FailureReason = ReasonCancelled
	w.finish(ctx, StatusCancelled, "cancelled before payment")
	return nil
}

// refundWindow keeps a fulfilled order open for a cancel that refunds it.
func (w *checkout) refundWindow(ctx workflow.Context) error {
	w.pollCancel()
	if !w.cancelRequested {
		timer := workflow.NewTimer(ctx, w.in.RefundWindow)
		for over := false; !over && !w.cancelRequested; {
			sel := workflow.NewSelector(ctx)
			w.onCancel(ctx, sel)
			// A second wallet payment for a fulfilled order is reversed.
			sel.AddReceive(w.payments, func(c workflow.ReceiveChannel, _ bool) {
				var ev PaymentEvent
				c.Receive(ctx, &ev)
				w.onStrayPayment(ctx, ev)
			})
			sel.AddFuture(timer, func(workflow.Future) { over = true })
			sel.Select(ctx)
		}
	}
	if !w.cancelRequested {
		return nil
	}
	defer func() { w.cancelHandled = true }()
	if err := workflow.ExecuteActivity(short(ctx), ActRestockOrder, w.in.OrderID).Get(ctx, nil); err != nil {
		w.note(ctx, "restock_failed", errDetail(err))
	}
	return w.refund(ctx, "cancel requested after fulfilment")
}

// watchLatePayments keeps an order that closed unpaid (expired, cancelled,
// or failed on a charge error whose outcome is unknown) open for the late
// window, and refunds any payment for it that still arrives: nothing paid is
// left unfulfilled or unrefunded.
func (w *checkout) watchLatePayments(ctx workflow.Context) {
	unpaid := w.state.Status == StatusExpired || w.state.Status == StatusCancelled ||
		(w.state.Status == StatusFailed && w.state.FailureReason == ReasonPaymentError)
	if !unpaid || workflow.GetVersion(ctx, versionLatePayments, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	timer := workflow.NewTimer(ctx, w.in.LateWindow)
	for done := false; !done; {
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(w.payments, func(c workflow.ReceiveChannel, _ bool) {
			var ev PaymentEvent
			c.Receive(ctx, &ev)
			// A card order has one payment; a wallet can send several.
			done = w.onLatePayment(ctx, ev) && w.in.Method == MethodCard
		})
		sel.AddFuture(timer, func(workflow.Future) { done = true })
		sel.Select(ctx)
	}
}

// onLatePayment refunds a payment that arrived after the order closed and
// reports whether it did.
func (w *checkout) onLatePayment(ctx workflow.Context, ev PaymentEvent) bool {
	w.note(ctx, "late_event", fmt.Sprintf("%s %s %s after %s", ev.Provider, ev.Type, ev.PaymentID, w.state.Status))
	switch {
	case w.in.Method == MethodCard && ev.Provider == "checkoutcom":
		if w.state.Payment.ProviderPaymentID != "" && ev.PaymentID != w.state.Payment.ProviderPaymentID {
			return false
		}
		switch ev.Type {
		case "payment_captured", "payment_approved", "payment_paid":
			w.state.Payment.ProviderPaymentID = ev.PaymentID
			_ = w.refund(ctx, "payment arrived after the order was "+w.state.Status)
			return true
		}
	case w.in.Method == MethodRehive:
		if w.onStrayPayment(ctx, ev) && w.state.Status != StatusRefunded {
			w.finish(ctx, StatusRefunded, "Rehive payment arrived after the order was "+w.state.Status+"; reversed")
		}
		return true
	}
	return false
}

// onStrayPayment reverses a wallet payment that cannot pay the order (it
// closed, or was paid already) and reports whether it did.
func (w *checkout) onStrayPayment(ctx workflow.Context, ev PaymentEvent) bool {
	if w.in.Method != MethodRehive || ev.Provider != "rehive" || ev.PaymentID == "" || ev.PaymentID == w.rehivePaid.TxID {
		w.note(ctx, "late_event", fmt.Sprintf("%s %s %s after %s", ev.Provider, ev.Type, ev.PaymentID, w.state.Status))
		return false
	}
	if prev, seen := w.rehiveSeen[ev.PaymentID]; seen && prev.Outcome != RehivePending {
		return false // judged (and reversed if it had to be) already
	}
	res, err := w.verifyRehive(ctx, ev.PaymentID)
	if err != nil {
		w.note(ctx, "verify_failed", errDetail(err))
		return false
	}
	w.rehiveSeen[res.TxID] = res
	if res.Outcome != RehivePaid && !res.Refundable {
		return false
	}
	return w.reverse(ctx, res)
}

// reverse sends a wallet payment back to its payer without touching the
// order's own status.
func (w *checkout) reverse(ctx workflow.Context, res RehivePaymentResult) bool {
	var out RefundResult
	err := workflow.ExecuteActivity(forever(ctx), ActRefundRehive, RehiveRefundInput{
		OrderID: w.in.OrderID, TxID: res.TxID, PayerAccount: res.PayerAccount, PayerEmail: res.PayerEmail,
	}).Get(ctx, &out)
	if err != nil {
		w.note(ctx, "reversal_failed", res.TxID+": "+errDetail(err))
		return false
	}
	w.note(ctx, "reversed", fmt.Sprintf("%s (reversal %s)", res.TxID, out.ID))
	w.save(ctx)
	return true
}

// refund returns a captured payment and ends the order refunded. Refunds
// retry until they succeed: a paid order must never be left unrefunded.
func (w *checkout) refund(ctx workflow.Context, why string) error {
	defer func() { w.cancelHandled = true }()
	w.note(ctx, "refund", why)
	var res RefundResult
	var err error
	if w.in.Method == MethodCard {
		// A payment approved but not yet captured is voided, not refunded.
		st, captured, uerr := w.undoCard(ctx)
		if uerr != nil {
			return uerr
		}
		if !captured {
			w.release(ctx)
			w.finish(ctx, StatusRefunded, why+"; payment "+st+" before capture")
			return nil
		}
		err = workflow.ExecuteActivity(forever(ctx), ActRefundCard, CardPaymentInput{
			OrderID: w.in.OrderID, PaymentID: w.state.Payment.ProviderPaymentID, Amount: w.state.Amount,
		}).Get(ctx, &res)
	} else {
		err = workflow.ExecuteActivity(forever(ctx), ActRefundRehive, RehiveRefundInput{
			OrderID: w.in.OrderID, TxID: w.rehivePaid.TxID,
			PayerAccount: w.rehivePaid.PayerAccount, PayerEmail: w.rehivePaid.PayerEmail,
		}).Get(ctx, &res)
	}
	if err != nil {
		// Refused for good (the retries stop only on a non-retryable answer):
		// the order is failed for an operator, and its stock is not kept.
		w.release(ctx)
		w.finish(ctx, StatusFailed, "refund failed: "+errDetail(err))
		return err
	}
	w.state.Payment.RefundID = res.ID
	w.state.Payment.Status = "Refunded"
	w.release(ctx)
	w.finish(ctx, StatusRefunded, why)
	return nil
}

// undoCard asks Checkout.com where the payment stands and voids it when it is
// only authorized. captured reports a payment that cannot be voided any more.
// It does not give up: a payment whose state is unknown, or an authorization
// that would not void, is looked at again with backoff until it settles
// (authorizations expire on their own), because an unsettled payment must
// never end an order.
func (w *checkout) undoCard(ctx workflow.Context) (status string, captured bool, err error) {
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := workflow.Sleep(ctx, min(10*time.Second<<min(attempt-1, 5), 5*time.Minute)); err != nil {
				return "", false, err
			}
		}
		if status, err = w.cardStatus(ctx); err != nil {
			if isType(err, ErrTypeNotFound) {
				return "NotFound", false, nil // never created: nothing to undo
			}
			w.note(ctx, "status_unknown", errDetail(err))
			continue
		}
		w.state.Payment.Status = status
		switch status {
		case "Captured", "Partially Captured", "Paid":
			return status, true, nil
		case "Authorized", "Card Verified":
			if err := w.void(ctx); err != nil {
				w.note(ctx, "void_failed", errDetail(err))
				continue // it may have been captured meanwhile: look again
			}
			return "Voided", false, nil
		default:
			return status, false, nil
		}
	}
}

func (w *checkout) cardStatus(ctx workflow.Context) (string, error) {
	var st CardPaymentStatus
	err := workflow.ExecuteActivity(forever(ctx), ActGetCardPayment, CardPaymentInput{OrderID: w.in.OrderID, PaymentID: w.state.Payment.ProviderPaymentID}).Get(ctx, &st)
	return st.Status, err
}

func (w *checkout) void(ctx workflow.Context) error {
	err := workflow.ExecuteActivity(short(ctx), ActVoidCard, CardPaymentInput{OrderID: w.in.OrderID, PaymentID: w.state.Payment.ProviderPaymentID, Amount: w.state.Amount}).Get(ctx, nil)
	if err == nil {
		w.state.Payment.Status = "Voided"
		w.note(ctx, "voided", w.state.Payment.ProviderPaymentID)
	}
	return err
}

// fail ends the order failed; release says whether stock was reserved.
func (w *checkout) fail(ctx workflow.Context, reason, detail string, release bool) error {
	if release {
		w.release(ctx)
	}
	w.state.FailureReason = reason
	w.finish(ctx, StatusFailed, reason+": "+detail)
	return nil
}

func (w *checkout) expire(ctx workflow.Context, detail string) error {
	w.release(ctx)
	if w.state.FailureReason == "" {
		w.state.FailureReason = ReasonPaymentTimeout
	}
	w.finish(ctx, StatusExpired, detail)
	return nil
}

// release returns the order's stock; it retries until it succeeds so that no
// reservation outlives its order.
func (w *checkout) release(ctx workflow.Context) {
	if err := workflow.ExecuteActivity(forever(ctx), ActReleaseStock, w.in.OrderID).Get(ctx, nil); err != nil {
		w.note(ctx, "release_failed", errDetail(err))
	}
}

func (w *checkout) finish(ctx workflow.Context, status, detail string) {
	w.cancelHandled = w.cancelRequested
	w.setStatus(ctx, status, detail)
}

func (w *checkout) setStatus(ctx workflow.Context, status, detail string) {
	w.state.Status = status
	w.note(ctx, status, detail)
	if err := workflow.UpsertTypedSearchAttributes(ctx, SAOrderID.ValueSet(w.in.OrderID), SAStatus.ValueSet(status)); err != nil {
		workflow.GetLogger(ctx).Warn("search attributes not updated", "error", err)
	}
	w.save(ctx)
}

func (w *checkout) note(ctx workflow.Context, step, detail string) {
	w.state.Timeline = append(w.state.Timeline, TimelineEntry{At: workflow.Now(ctx).UTC(), Step: step, Detail: detail})
}

// save writes the read model. It is a local activity: cheap, retried, and a
// failure never blocks the payment flow (the next save catches up).
func (w *checkout) save(ctx workflow.Context) {
	if err := workflow.ExecuteLocalActivity(saveOptions(ctx), ActSaveOrder, w.state).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("read model not saved", "order_id", w.in.OrderID, "error", err)
	}
}

// onCancel adds both cancel sources, the signal and the update, to sel.
func (w *checkout) onCancel(ctx workflow.Context, sel workflow.Selector) {
	receive := func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(ctx, nil)
		w.cancelRequested = true
	}
	sel.AddReceive(w.cancels, receive)
	sel.AddReceive(w.updateCancels, receive)
}

// pollCancel picks up a cancel without blocking.
func (w *checkout) pollCancel() {
	if w.cancels.ReceiveAsync(nil) || w.updateCancels.ReceiveAsync(nil) {
		w.cancelRequested = true
	}
}

// drain consumes the signals left when the run closes, so that each is
// recorded on the timeline rather than silently dropped.
func (w *checkout) drain(ctx workflow.Context) {
	for {
		var ev PaymentEvent
		if !w.payments.ReceiveAsync(&ev) {
			break
		}
		w.note(ctx, "late_event", fmt.Sprintf("%s %s after %s", ev.Provider, ev.Type, w.state.Status))
	}
	for w.cancels.ReceiveAsync(nil) {
		w.note(ctx, "late_cancel", "after "+w.state.Status)
	}
	w.cancelHandled = true
}
