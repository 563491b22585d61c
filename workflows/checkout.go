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
	root := ctx
	if workflow.GetVersion(ctx, versionOperatorCancel, workflow.DefaultVersion, 1) == 1 {
		// An operator's Cancel (Web UI, CLI) cancels root; the run goes on in
		// a context it does not cancel and settles the order as the API's
		// cancel does: nothing is left reserved, authorised or unrefunded.
		w.root = root
		ctx, _ = workflow.NewDisconnectedContext(ctx)
	}
	if err := w.setup(ctx); err != nil {
		return w.state, err
	}
	err := w.run(ctx)
	if err == nil {
		w.watchLatePayments(ctx)
	}
	w.drain(ctx)
	if err == nil && w.operatorCancelled() {
		// Settled; the run closes as Canceled, as the operator asked.
		return w.state, workflow.ErrCanceled
	}
	return w.state, err
}

type checkout struct {
	in    CheckoutInput
	state CheckoutState

	payments workflow.ReceiveChannel
	// cancels is the legacy cancel signal; nil in runs that do not listen.
	cancels workflow.ReceiveChannel
	// root is the workflow's own context when operator cancels are settled
	// (versionOperatorCancel): its Done channel is the operator's Cancel.
	root workflow.Context
	// updateCancels wakes the main loop when the cancel update arrives.
	updateCancels workflow.Channel

	cancelRequested bool
	cancelHandled   bool
	// Rehive transactions seen, by id, with their last verdict.
	rehiveSeen map[string]RehivePaymentResult
	rehivePaid RehivePaymentResult
	// unreversed are wallet payments to send back whose reversal failed
	// while the order waited for payment (versionStrayRetry).
	unreversed []RehivePaymentResult
	// attention is set when a void could not be confirmed: the caller ends
	// the order needs_attention instead of its usual status.
	attention string
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
	if w.root == nil {
		w.cancels = workflow.GetSignalChannel(ctx, SignalCancel)
	}
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
		if workflow.GetVersion(ctx, versionChargeLookup, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
			return false, w.fail(ctx, ReasonPaymentError, errDetail(err), true)
		}
		// The charge may have gone through with its answer lost: find it
		// rather than fail an order whose payment exists.
		found, ok := w.findCharge(ctx, err)
		if !ok {
			return false, w.fail(ctx, ReasonPaymentError, "no payment found for the order after: "+errDetail(err), true)
		}
		res = found
	}
	w.state.Payment.ProviderPaymentID = res.PaymentID
	w.state.Payment.Status = res.Status
	switch {
	case !res.Approved && !res.RequiresAction:
		return false, w.fail(ctx, ReasonPaymentDeclined, fmt.Sprintf("%s %s", res.ResponseCode, res.ResponseSummary), true)
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

// Bounds of the lookup of a charge whose answer was lost. A card token lives
// 15 minutes, so a payment that does not show by reference within
// chargeLookupWindow was never made and can no longer be.
const (
	chargeLookupWindow = 20 * time.Minute
	chargeLookupFirst  = 5 * time.Second
	chargeLookupMax    = 2 * time.Minute
)

// findCharge looks the order's payment up by reference (GET
// /payments?reference=) with backoff, each attempt on the timeline. It
// reports false only when no payment showed within chargeLookupWindow.
func (w *checkout) findCharge(ctx workflow.Context, cause error) (ChargeResult, bool) {
	w.state.Payment.Status = "unknown"
	w.note(ctx, "charge_unknown", errDetail(cause)+"; looking the payment up by reference")
	w.save(ctx)
	deadline := workflow.Now(ctx).Add(chargeLookupWindow)
	for attempt := 0; ; attempt++ {
		var found FindCardPaymentResult
		err := workflow.ExecuteActivity(short(ctx), ActFindCardPayment, FindCardPaymentInput{OrderID: w.in.OrderID}).Get(ctx, &found)
		switch {
		case err != nil:
			w.note(ctx, "charge_lookup", "lookup failed: "+errDetail(err))
		case found.Found:
			detail := fmt.Sprintf("payment %s %s", found.Charge.PaymentID, found.Charge.Status)
			if found.Count > 1 {
				detail += fmt.Sprintf(" (%d payments carry the reference)", found.Count)
			}
			w.note(ctx, "charge_found", detail)
			return found.Charge, true
		default:
			w.note(ctx, "charge_lookup", "no payment with this reference yet")
		}
		if !workflow.Now(ctx).Before(deadline) {
			return ChargeResult{}, false
		}
		if err := workflow.Sleep(ctx, backoff(attempt, chargeLookupFirst, chargeLookupMax)); err != nil {
			return ChargeResult{}, false
		}
	}
}

// capturedOnly reports whether this run counts only a capture as payment
// (versionCardCaptured); older runs took payment_approved as paid.
func (w *checkout) capturedOnly(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, versionCardCaptured, workflow.DefaultVersion, 1) == 1
}

func isCaptured(status string) bool {
	switch status {
	case "Captured", "Partially Captured", "Paid":
		return true
	}
	return false
}

// backoff is first doubled attempt times, at most max.
func backoff(attempt int, first, max time.Duration) time.Duration {
	d := first
	for i := 0; i < attempt && d < max; i++ {
		d *= 2
	}
	return min(d, max)
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
	case "payment_approved":
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
	case "payment_captured", "payment_paid":
		w.state.Payment.Status = map[string]string{"payment_captured": "Captured", "payment_paid": "Paid"}[ev.Type]
		return gotPaid
	case "payment_capture_declined":
		if w.capturedOnly(ctx) {
			return w.onCaptureDeclined(ctx, ev)
		}
		fallthrough
	case "payment_declined", "payment_expired", "payment_canceled", "payment_voided":
		w.state.Payment.Status = "Declined"
		_ = w.fail(ctx, ReasonPaymentDeclined, fmt.Sprintf("%s %s %s", ev.Type, ev.ResponseCode, ev.ResponseSummary), true)
		return gotFailed
	}
	return keepWaiting
}

// onCaptureDeclined handles a declined capture before fulfilment: the
// provider is asked (events can be reordered: a capture that went through
// after all pays the order), what is left of the authorisation is voided and
// the order fails capture_declined.
func (w *checkout) onCaptureDeclined(ctx workflow.Context, ev PaymentEvent) outcome {
	st, captured, err := w.undoCard(ctx)
	if err != nil {
		return keepWaiting
	}
	if captured {
		w.note(ctx, "capture_check", "provider reports "+st+" after "+ev.Type)
		return gotPaid
	}
	if w.attention != "" {
		_ = w.needsAttention(ctx, w.attention, "capture declined, and the authorisation could not be voided")
		return gotFailed
	}
	_ = w.fail(ctx, ReasonCaptureDeclined, fmt.Sprintf("%s %s %s; payment %s", ev.Type, ev.ResponseCode, ev.ResponseSummary, st), true)
	return gotFailed
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
	if w.attention != "" {
		return false, w.needsAttention(ctx, w.attention, "no capture within "+w.in.PaymentTimeout.String()+", and the authorisation could not be voided")
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
			if !w.reverse(ctx, res) && w.strayRetry(ctx) {
				// Tried again, with backoff, once the wait for payment is over.
				w.unreversed = append(w.unreversed, res)
			}
		} else {
			w.save(ctx)
		}
	case RehivePending:
		w.note(ctx, "payment_pending", res.TxID)
	}
	return keepWaiting
}

// rehiveTimeout re-checks every transaction still pending before expiring,
// and, first, looks for transfers it never heard of: the merchant's recent
// credits carrying this order's id.
func (w *checkout) rehiveTimeout(ctx workflow.Context) (bool, error) {
	if workflow.GetVersion(ctx, versionRehiveFind, workflow.DefaultVersion, 1) == 1 {
		w.findRehivePayments(ctx)
	}
	for _, id := range sortedKeys(w.rehiveSeen) {
		if w.rehiveSeen[id].Outcome != RehivePending {
			continue
		}
		// A transaction that may be Complete is never expired unverified.
		res, ok, err := w.verifyUntilAnswered(ctx, id)
		if err != nil {
			return false, err
		}
		if ok && w.judgeRehive(ctx, res) == gotPaid {
			return true, nil
		}
	}
	reason := "no Rehive payment within " + w.in.PaymentTimeout.String()
	if w.state.FailureReason != "" {
		reason = w.state.FailureReason
	}
	return false, w.expire(ctx, reason)
}

// findRehivePayments lists the merchant account's credits since the order
// started and marks each one for this order that was not judged yet as
// pending, so the timeout verifies it. A failing listing is retried until it
// answers: a transfer that may pay the order is never expired unseen.
func (w *checkout) findRehivePayments(ctx workflow.Context) {
	since := workflow.GetInfo(ctx).WorkflowStartTime.Add(-time.Minute) // clock skew
	for attempt := 0; ; attempt++ {
		var found FindRehivePaymentsResult
		err := workflow.ExecuteActivity(short(ctx), ActFindRehivePayments, FindRehivePaymentsInput{OrderID: w.in.OrderID, Since: since}).Get(ctx, &found)
		if err == nil {
			var fresh []string
			for _, id := range found.TxIDs {
				if _, seen := w.rehiveSeen[id]; !seen {
					w.rehiveSeen[id] = RehivePaymentResult{Outcome: RehivePending, TxID: id}
					fresh = append(fresh, id)
				}
			}
			if len(fresh) > 0 {
				w.note(ctx, "payment_found", fmt.Sprintf("Rehive credits for the order not heard of: %v", fresh))
			}
			return
		}
		w.note(ctx, "lookup_failed", errDetail(err))
		if err := workflow.Sleep(ctx, backoff(attempt, 10*time.Second, 5*time.Minute)); err != nil {
			return
		}
	}
}

// verifyUntilAnswered asks Rehive about a transaction until it answers; ok
// is false when Rehive does not know the transaction.
func (w *checkout) verifyUntilAnswered(ctx workflow.Context, txID string) (res RehivePaymentResult, ok bool, err error) {
	for attempt := 0; ; attempt++ {
		res, err := w.verifyRehive(ctx, txID)
		if err == nil {
			return res, true, nil
		}
		if isType(err, ErrTypeNotFound) {
			return res, false, nil
		}
		w.note(ctx, "verify_failed", errDetail(err))
		if err := workflow.Sleep(ctx, min(10*time.Second<<min(attempt, 5), 5*time.Minute)); err != nil {
			return res, false, err
		}
	}
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
		if w.attention != "" {
			return w.needsAttention(ctx, w.attention, "cancel requested; the authorisation could not be voided")
		}
	}
	w.release(ctx)
	w.state.FailureReason = ReasonCancelled
	w.finish(ctx, StatusCancelled, "cancelled before payment")
	return nil
}

// refundWindow keeps a fulfilled order open for a cancel that refunds it.
func (w *checkout) refundWindow(ctx workflow.Context) error {
	w.reverseLeftovers(ctx)
	w.pollCancel()
	closed := false
	if !w.cancelRequested {
		timer := workflow.NewTimer(ctx, w.in.RefundWindow)
		for over := false; !over && !closed && !w.cancelRequested; {
			sel := workflow.NewSelector(ctx)
			w.onCancel(ctx, sel)
			// A second wallet payment for a fulfilled order is reversed.
			sel.AddReceive(w.payments, func(c workflow.ReceiveChannel, _ bool) {
				var ev PaymentEvent
				c.Receive(ctx, &ev)
				if ev.Provider == "checkoutcom" && w.in.Method == MethodCard &&
					workflow.GetVersion(ctx, versionCardAfterFulfilment, workflow.DefaultVersion, 1) == 1 {
					closed = w.onCardAfterFulfilment(ctx, ev)
					return
				}
				w.onStrayPayment(ctx, ev)
			})
			sel.AddFuture(timer, func(workflow.Future) { over = true })
			sel.Select(ctx)
		}
	}
	if closed || !w.cancelRequested {
		return nil
	}
	defer func() { w.cancelHandled = true }()
	if err := workflow.ExecuteActivity(short(ctx), ActRestockOrder, w.in.OrderID).Get(ctx, nil); err != nil {
		w.note(ctx, "restock_failed", errDetail(err))
	}
	return w.refund(ctx, "cancel requested after fulfilment")
}

// onCardAfterFulfilment acts on a card event for a fulfilled order and
// reports whether it closed the order. A fulfilled order is never left
// unpaid: a capture declined after an older run fulfilled on the
// authorisation voids what is left, puts the goods back and fails the order.
func (w *checkout) onCardAfterFulfilment(ctx workflow.Context, ev PaymentEvent) bool {
	if ev.PaymentID != w.state.Payment.ProviderPaymentID {
		w.note(ctx, "event_ignored", fmt.Sprintf("%s %s for another payment %s", ev.Provider, ev.Type, ev.PaymentID))
		return false
	}
	w.note(ctx, "webhook", fmt.Sprintf("%s %s after %s", ev.Type, ev.EventID, w.state.Status))
	switch ev.Type {
	case "payment_captured", "payment_paid":
		if st := map[string]string{"payment_captured": "Captured", "payment_paid": "Paid"}[ev.Type]; st != w.state.Payment.Status {
			w.state.Payment.Status = st
			w.save(ctx)
		}
	case "payment_capture_declined":
		if isCaptured(w.state.Payment.Status) {
			return false // the capture is known: a stale or repeated decline
		}
		st, captured, err := w.undoCard(ctx)
		if err != nil {
			return false
		}
		if captured {
			w.note(ctx, "capture_check", "provider reports "+st+" after "+ev.Type)
			w.save(ctx)
			return false
		}
		if err := workflow.ExecuteActivity(forever(ctx), ActRestockOrder, w.in.OrderID).Get(ctx, nil); err != nil {
			w.note(ctx, "restock_failed", errDetail(err))
		}
		detail := fmt.Sprintf("capture declined after fulfilment (%s %s); payment %s, goods restocked", ev.ResponseCode, ev.ResponseSummary, st)
		if w.attention != "" {
			_ = w.needsAttention(ctx, w.attention, detail+"; the authorisation could not be voided")
			return true
		}
		_ = w.fail(ctx, ReasonCaptureDeclined, detail, false)
		return true
	}
	return false
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
	w.reverseLeftovers(ctx)
	timer := workflow.NewTimer(ctx, w.in.LateWindow)
	for done := false; !done; {
		sel := workflow.NewSelector(ctx)
		if w.root != nil {
			// An operator's Cancel of a closed order ends the wait; a payment
			// still arriving is the reconciliation's.
			sel.AddReceive(w.root.Done(), func(workflow.ReceiveChannel, bool) {
				w.note(ctx, "operator_cancel", "late window ended early")
				done = true
			})
		}
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
	persist := w.strayRetry(ctx)
	var res RehivePaymentResult
	if persist {
		var ok bool
		if res, ok, _ = w.verifyUntilAnswered(ctx, ev.PaymentID); !ok {
			return false // Rehive does not know it: nothing to send back
		}
	} else {
		var err error
		if res, err = w.verifyRehive(ctx, ev.PaymentID); err != nil {
			w.note(ctx, "verify_failed", errDetail(err))
			return false
		}
	}
	w.rehiveSeen[res.TxID] = res
	if res.Outcome == RehivePending && persist {
		// Not final yet: it may still complete, and must then go back.
		w.unreversed = append(w.unreversed, res)
		w.note(ctx, "payment_pending", res.TxID+": checked again before the order closes")
		return false
	}
	if res.Outcome != RehivePaid && !res.Refundable {
		return false
	}
	if persist {
		return w.reverseUntilSettled(ctx, res)
	}
	return w.reverse(ctx, res)
}

// strayRetry reports whether this run retries stray wallet payments until
// they are settled (versionStrayRetry).
func (w *checkout) strayRetry(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, versionStrayRetry, workflow.DefaultVersion, 1) == 1
}

// Bounds of the retries of a wallet reversal Rehive refused: each attempt has
// its own idempotency key (Rehive replays a refusal for a reused one).
const (
	reversalAttempts = 10
	reversalFirst    = 30 * time.Second
	reversalMax      = time.Hour
)

// reverseLeftovers settles the wallet payments left unreversed or pending
// while the order waited for payment.
func (w *checkout) reverseLeftovers(ctx workflow.Context) {
	left := w.unreversed
	w.unreversed = nil
	for _, res := range left {
		if res.Outcome == RehivePending {
			v, ok, _ := w.verifyUntilAnswered(ctx, res.TxID)
			if !ok {
				continue
			}
			w.rehiveSeen[v.TxID] = v
			if v.Outcome == RehivePending {
				w.unreversed = append(w.unreversed, v) // still not final: the next window looks again
				continue
			}
			if v.Outcome != RehivePaid && !v.Refundable {
				continue
			}
			res = v
		}
		w.reverseUntilSettled(ctx, res)
	}
}

// reverseUntilSettled retries a reversal with backoff; a payment that could
// not be sent back after reversalAttempts stays on the timeline for an
// operator and the reconciliation.
func (w *checkout) reverseUntilSettled(ctx workflow.Context, res RehivePaymentResult) bool {
	for attempt := 1; attempt <= reversalAttempts; attempt++ {
		if attempt > 1 {
			if err := workflow.Sleep(ctx, backoff(attempt-2, reversalFirst, reversalMax)); err != nil {
				return false
			}
		}
		if w.reverseAttempt(ctx, res, attempt) {
			return true
		}
	}
	w.note(ctx, "reversal_abandoned", fmt.Sprintf("%s: not sent back after %d attempts; needs an operator", res.TxID, reversalAttempts))
	w.save(ctx)
	return false
}

// reverse sends a wallet payment back to its payer without touching the
// order's own status.
func (w *checkout) reverse(ctx workflow.Context, res RehivePaymentResult) bool {
	return w.reverseAttempt(ctx, res, 0)
}

func (w *checkout) reverseAttempt(ctx workflow.Context, res RehivePaymentResult, attempt int) bool {
	var out RefundResult
	err := workflow.ExecuteActivity(forever(ctx), ActRefundRehive, RehiveRefundInput{
		OrderID: w.in.OrderID, TxID: res.TxID, PayerAccount: res.PayerAccount, PayerEmail: res.PayerEmail, Attempt: attempt,
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
// retry until they succeed: a paid order must never be left unrefunded. A
// card refund counts only once Checkout.com confirms it.
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
			if w.confirmedActions(ctx) {
				return w.afterVoid(ctx, why, st)
			}
			w.release(ctx)
			w.finish(ctx, StatusRefunded, why+"; payment "+st+" before capture")
			return nil
		}
		if w.confirmedActions(ctx) {
			return w.refundCardConfirmed(ctx, why)
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

// afterVoid closes an order whose card payment was never captured: no money
// was taken, so nothing is refunded. A fulfilled order (an older run
// fulfilled on the authorisation) is cancelled; an order that was already
// closed unpaid keeps its status.
func (w *checkout) afterVoid(ctx workflow.Context, why, st string) error {
	w.release(ctx)
	if w.attention != "" {
		return w.needsAttention(ctx, w.attention, why+"; the authorisation could not be voided")
	}
	if !IsTerminal(w.state.Status) || w.state.Status == StatusFulfilled {
		w.state.FailureReason = ReasonCancelled
		w.finish(ctx, StatusCancelled, why+"; payment "+st+" before capture, nothing was taken")
		return nil
	}
	w.note(ctx, "settled", why+"; payment "+st+" before capture")
	w.save(ctx)
	return nil
}

// Bounds of the retries of a void or refund that Checkout.com declines, and
// of the wait for an accepted one's outcome.
const (
	actionAttempts      = 3
	actionRetryFirst    = 30 * time.Second
	actionRetryMax      = 10 * time.Minute
	actionConfirmWindow = 30 * time.Minute
	actionPollFirst     = time.Second
	actionPollMax       = time.Minute
)

// confirmedActions reports whether this run waits for Checkout.com to
// confirm voids and refunds (versionConfirmedActions).
func (w *checkout) confirmedActions(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, versionConfirmedActions, workflow.DefaultVersion, 1) == 1
}

// refundCardConfirmed refunds the captured payment and ends the order
// refunded once Checkout.com confirms it. A declined refund is tried again
// with a new idempotency key, actionAttempts times in all; then, or when an
// accepted refund's outcome never shows, the order needs attention. It never
// reads refunded before the refund is done.
func (w *checkout) refundCardConfirmed(ctx workflow.Context, why string) error {
	pid := w.state.Payment.ProviderPaymentID
	for attempt := 1; attempt <= actionAttempts; attempt++ {
		if attempt > 1 {
			if err := workflow.Sleep(ctx, backoff(attempt-2, actionRetryFirst, actionRetryMax)); err != nil {
				return err
			}
		}
		var res RefundResult
		err := workflow.ExecuteActivity(forever(ctx), ActRefundCard, CardPaymentInput{
			OrderID: w.in.OrderID, PaymentID: pid, Amount: w.state.Amount, Attempt: attempt,
		}).Get(ctx, &res)
		if err != nil {
			// Refused outright (e.g. 403: not allowed in the payment's state,
			// perhaps refunded already): the payment's status says.
			w.note(ctx, "refund_refused", errDetail(err))
			if st, serr := w.cardStatus(ctx); serr == nil && st == "Refunded" {
				return w.refunded(ctx, why, "")
			}
			continue
		}
		w.state.Payment.Status = "Refund Pending"
		w.note(ctx, "refund_requested", fmt.Sprintf("attempt %d, action %s", attempt, res.ID))
		w.save(ctx)
		out := w.confirmAction(ctx, "Refund", res.ID)
		switch {
		case out.Found && out.Approved:
			return w.refunded(ctx, why, res.ID)
		case out.Found:
			w.state.Payment.Status = "Refund Declined"
			w.note(ctx, "refund_declined", fmt.Sprintf("attempt %d: %s %s", attempt, out.ResponseCode, out.ResponseSummary))
			w.save(ctx)
		default:
			// Accepted, outcome unknown: another refund could pay twice.
			return w.needsAttention(ctx, ReasonRefundDeclined, fmt.Sprintf("%s; refund %s accepted but not confirmed within %s", why, res.ID, actionConfirmWindow))
		}
	}
	return w.needsAttention(ctx, ReasonRefundDeclined, fmt.Sprintf("%s; Checkout.com declined the refund %d times", why, actionAttempts))
}

func (w *checkout) refunded(ctx workflow.Context, why, refundID string) error {
	if refundID != "" {
		w.state.Payment.RefundID = refundID
	}
	w.state.Payment.Status = "Refunded"
	w.release(ctx)
	w.finish(ctx, StatusRefunded, why+"; confirmed by Checkout.com")
	return nil
}

// needsAttention ends the order for an operator: its stock is not kept, and
// the timeline says what was tried.
func (w *checkout) needsAttention(ctx workflow.Context, reason, detail string) error {
	w.release(ctx)
	w.state.FailureReason = reason
	w.finish(ctx, StatusNeedsAttention, detail)
	return nil
}

// confirmAction waits for the outcome of a void or refund Checkout.com
// accepted (202): it reads GET /payments/{id}/actions with backoff, and
// at once when an event about the payment arrives (events are only a
// hint). Found false means no outcome within actionConfirmWindow.
func (w *checkout) confirmAction(ctx workflow.Context, kind, actionID string) CardActionResult {
	deadline := workflow.Now(ctx).Add(actionConfirmWindow)
	for attempt := 0; ; attempt++ {
		var out CardActionResult
		err := workflow.ExecuteActivity(short(ctx), ActGetCardAction, CardActionInput{
			OrderID: w.in.OrderID, PaymentID: w.state.Payment.ProviderPaymentID, ActionID: actionID, Kind: kind,
		}).Get(ctx, &out)
		if err == nil && out.Found {
			return out
		}
		if err != nil {
			w.note(ctx, "status_unknown", errDetail(err))
		}
		if !workflow.Now(ctx).Before(deadline) {
			return CardActionResult{}
		}
		w.waitHint(ctx, backoff(attempt, actionPollFirst, actionPollMax))
	}
}

// waitHint waits for d or for a payment event, whichever comes first; the
// event is recorded on the timeline.
func (w *checkout) waitHint(ctx workflow.Context, d time.Duration) {
	tctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	sel := workflow.NewSelector(ctx)
	sel.AddFuture(workflow.NewTimer(tctx, d), func(workflow.Future) {})
	sel.AddReceive(w.payments, func(c workflow.ReceiveChannel, _ bool) {
		var ev PaymentEvent
		c.Receive(ctx, &ev)
		w.note(ctx, "webhook", fmt.Sprintf("%s %s %s", ev.Provider, ev.Type, ev.PaymentID))
	})
	sel.Select(ctx)
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
			if w.confirmedActions(ctx) {
				voided, lookAgain := w.voidConfirmed(ctx)
				if lookAgain {
					continue // refused: it may have been captured meanwhile
				}
				if !voided {
					w.attention = ReasonVoidDeclined
					return status, false, nil
				}
				return "Voided", false, nil
			}
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

// voidConfirmed voids the authorisation and waits for Checkout.com to
// confirm it; a declined void is tried again with a new idempotency key,
// actionAttempts times in all. lookAgain reports a void refused outright
// (403: no longer voidable, e.g. captured meanwhile): the caller reads the
// payment's status again.
func (w *checkout) voidConfirmed(ctx workflow.Context) (voided, lookAgain bool) {
	pid := w.state.Payment.ProviderPaymentID
	for attempt := 1; attempt <= actionAttempts; attempt++ {
		if attempt > 1 {
			if err := workflow.Sleep(ctx, backoff(attempt-2, actionRetryFirst, actionRetryMax)); err != nil {
				return false, false
			}
		}
		var res RefundResult
		err := workflow.ExecuteActivity(short(ctx), ActVoidCard, CardPaymentInput{
			OrderID: w.in.OrderID, PaymentID: pid, Amount: w.state.Amount, Attempt: attempt,
		}).Get(ctx, &res)
		if err != nil {
			w.note(ctx, "void_failed", errDetail(err))
			return false, true
		}
		w.note(ctx, "void_requested", fmt.Sprintf("attempt %d, action %s", attempt, res.ID))
		out := w.confirmAction(ctx, "Void", res.ID)
		switch {
		case out.Found && out.Approved:
			w.state.Payment.Status = "Voided"
			w.note(ctx, "voided", pid+": confirmed by Checkout.com")
			return true, false
		case out.Found:
			w.note(ctx, "void_declined", fmt.Sprintf("attempt %d: %s %s", attempt, out.ResponseCode, out.ResponseSummary))
			w.save(ctx)
		default:
			w.note(ctx, "void_unconfirmed", fmt.Sprintf("void %s accepted but not confirmed within %s", res.ID, actionConfirmWindow))
			return false, false
		}
	}
	return false, false
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

// maxTimeline bounds the timeline however many events point at one order
// (duplicates, unsolicited payments): repeats of the last entry are counted
// on it, and past maxTimeline entries only the newest are kept, after a
// marker counting what was dropped. The timeline is workflow state, not
// commands, so bounding it changes no history.
const maxTimeline = 200

func (w *checkout) note(ctx workflow.Context, step, detail string) {
	now := workflow.Now(ctx).UTC()
	tl := w.state.Timeline
	if n := len(tl); n > 0 && tl[n-1].Step == step && tl[n-1].Detail == detail {
		tl[n-1].Repeats++
		tl[n-1].LastAt = &now
		return
	}
	tl = append(tl, TimelineEntry{At: now, Step: step, Detail: detail})
	if len(tl) > maxTimeline {
		// Keep the start of the story (created ... awaiting payment), a
		// marker, and the newest entries.
		const head = 10
		dropped := 2 // tl[head] and tl[head+1] make way for the marker
		if tl[head].Step == stepTruncated {
			dropped = tl[head].Repeats + 1 // the marker stays, one more goes
		}
		marker := TimelineEntry{At: tl[head+1].At, Step: stepTruncated, Detail: "older entries dropped to bound the timeline", Repeats: dropped}
		tl = append(append(tl[:head:head], marker), tl[head+2:]...)
	}
	w.state.Timeline = tl
}

// stepTruncated marks where the timeline dropped entries; Repeats counts them.
const stepTruncated = "timeline_truncated"

// save writes the read model. It is a local activity: cheap, retried, and a
// failure never blocks the payment flow (the next save catches up).
func (w *checkout) save(ctx workflow.Context) {
	if err := workflow.ExecuteLocalActivity(saveOptions(ctx), ActSaveOrder, w.state).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("read model not saved", "order_id", w.in.OrderID, "error", err)
	}
}

// onCancel adds the cancel sources to sel: the update, the operator's
// Cancel (versionOperatorCancel) or, in older runs, the cancel signal.
func (w *checkout) onCancel(ctx workflow.Context, sel workflow.Selector) {
	receive := func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(ctx, nil)
		w.cancelRequested = true
	}
	if w.cancels != nil {
		sel.AddReceive(w.cancels, receive)
	}
	sel.AddReceive(w.updateCancels, receive)
	if w.root != nil && !w.cancelRequested {
		sel.AddReceive(w.root.Done(), func(workflow.ReceiveChannel, bool) { w.operatorCancel(ctx) })
	}
}

// pollCancel picks up a cancel without blocking.
func (w *checkout) pollCancel() {
	if (w.cancels != nil && w.cancels.ReceiveAsync(nil)) || w.updateCancels.ReceiveAsync(nil) {
		w.cancelRequested = true
	}
	if w.operatorCancelled() {
		w.cancelRequested = true
	}
}

// operatorCancel records the operator's Cancel as a cancel request.
func (w *checkout) operatorCancel(ctx workflow.Context) {
	if !w.cancelRequested {
		w.note(ctx, "operator_cancel", "Cancel requested in Temporal; settling as a cancel")
	}
	w.cancelRequested = true
}

func (w *checkout) operatorCancelled() bool {
	return w.root != nil && w.root.Err() != nil
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
	for w.cancels != nil && w.cancels.ReceiveAsync(nil) {
		w.note(ctx, "late_cancel", "after "+w.state.Status)
	}
	w.cancelHandled = true
}
