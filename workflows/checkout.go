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
	v := workflow.GetVersion(ctx, versionOperatorCancel, workflow.DefaultVersion, versionLean)
	w.lean = v >= versionLean
	if v >= 1 {
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
	// tracker records the timeline, status and read model (tracker.go).
	tracker[CheckoutStatus]

	payments workflow.ReceiveChannel
	// cancels is the legacy cancel signal; nil in runs that do not listen.
	cancels workflow.ReceiveChannel
	// root is the workflow's own context when operator cancels are settled
	// (versionOperatorCancel): its Done channel is the operator's Cancel.
	root workflow.Context
	// updateCancels wakes the main loop when the cancel update arrives.
	updateCancels workflow.Channel

	// lean: the run is a lean checkout (versionLean).
	lean bool

	cancelRequested bool
	cancelHandled   bool
	// holdsStock: the order may hold reserved stock, from its reservation
	// (one whose outcome is unknown included) until the stock is committed
	// or released. A failure releases it.
	holdsStock bool

	// method is the part of the story that depends on how the order is
	// paid: checkout_card.go or checkout_wallet.go.
	method paymentMethod
	// refunds takes the API's refunds (checkout_refund_update.go).
	refunds *apiRefunds
}

// paymentMethod is what a checkout does differently for a card payment
// (Checkout.com) and a wallet payment (Rehive). The order's own steps
// (price, reserve, fulfil, the refund and late windows) are the checkout's.
type paymentMethod interface {
	// pay takes the payment of the reserved order. It reports true once the
	// order is paid; otherwise the order is already final.
	pay(ctx workflow.Context) (bool, error)
	// cancelUnpaid settles with the provider a cancel that came before the
	// order was paid. It reports whether it ended the order itself (the
	// payment moved after all); otherwise the order is cancelled.
	cancelUnpaid(ctx workflow.Context) (bool, error)
	// refundPaid sends the payment back and ends the order.
	refundPaid(ctx workflow.Context, why string) error
	// settleLeftovers settles payments left unsettled while the order
	// waited for payment, before it waits again (refund or late window).
	settleLeftovers(ctx workflow.Context)
	// afterFulfilment handles a payment event in the refund window and
	// reports whether it closed the order.
	afterFulfilment(ctx workflow.Context, ev PaymentEvent) bool
	// latePayment handles a payment event for an order that closed unpaid
	// and reports whether the order has nothing more to wait for.
	latePayment(ctx workflow.Context, ev PaymentEvent) bool
	// refundPart sends part (or the rest) of the payment back for an API
	// refund and says how it ended; the order's status is the caller's.
	refundPart(ctx workflow.Context, r Refund) partOutcome
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
		Refunds:       []Refund{},
	}
	for _, l := range w.in.Lines {
		w.state.Lines = append(w.state.Lines, PricedLine{SKU: l.SKU, Quantity: l.Quantity})
	}
	w.tracker = w.newTracker()
	if w.in.Method == MethodCard {
		w.method = &cardPayment{checkout: w}
	} else {
		w.method = &walletPayment{checkout: w, seen: map[string]RehivePaymentResult{}}
	}
	w.payments = workflow.GetSignalChannel(ctx, SignalPaymentEvent)
	if w.root == nil {
		w.cancels = workflow.GetSignalChannel(ctx, SignalCancel)
	}
	w.updateCancels = workflow.NewBufferedChannel(ctx, 1)
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (CheckoutState, error) { return w.state, nil }); err != nil {
		return err
	}
	if err := w.setupRefunds(ctx); err != nil {
		return err
	}
	if err := w.setupFirstOutcome(ctx); err != nil {
		return err
	}
	return w.setupCancel(ctx)
}

// version is workflow.GetVersion for one of the checkout changes a lean run
// has all of (see versionLean): a lean run asks none of them.
func (w *checkout) version(ctx workflow.Context, changeID string) workflow.Version {
	if w.lean {
		return 1
	}
	return workflow.GetVersion(ctx, changeID, workflow.DefaultVersion, 1)
}

func (w *checkout) run(ctx workflow.Context) error {
	w.note(ctx, "created", fmt.Sprintf("payment by %s", w.in.Method))
	price, reserve, commit := ckActs.PriceCart, ckActs.ReserveStock, ckActs.CommitStock
	if w.lean {
		// Milliseconds of PostgreSQL each: local activities, in the workflow
		// task that starts the run (and the one that fulfils it). The first
		// save waits for the reservation's, a moment later.
		price, reserve, commit = price.Local(localShort), reserve.Local(localShort), commit.Local(localShort)
	} else {
		w.save(ctx)
	}

	priced, err := price.Run(ctx, PriceCartInput{OrderID: w.in.OrderID, Currency: w.in.Currency, Lines: w.in.Lines})
	if err != nil {
		reason := ReasonInvalidCart
		if !isType(err, ErrTypeInvalidCart) {
			reason = ReasonInternalError
		}
		// A lean run's first task may have run before (a worker died
		// before completing it) and reserved: released, which is a no-op
		// when nothing is held.
		w.holdsStock = w.lean
		return w.fail(ctx, reason, errDetail(err))
	}
	w.state.Lines, w.state.Amount = priced.Lines, priced.Amount
	w.note(ctx, "priced", fmt.Sprintf("%d %s", priced.Amount, w.in.Currency))

	if err := reserve.Run(ctx, ReserveInput{OrderID: w.in.OrderID, Lines: w.in.Lines}); err != nil {
		switch {
		case isType(err, ErrTypeOutOfStock):
			return w.fail(ctx, ReasonOutOfStock, errDetail(err))
		case isType(err, ErrTypeInvalidCart):
			return w.fail(ctx, ReasonInvalidCart, errDetail(err))
		}
		// Unknown outcome (the retries ran out): released in case the last
		// attempt held stock after all.
		w.holdsStock = true
		return w.fail(ctx, ReasonInternalError, errDetail(err))
	}
	w.holdsStock = true
	w.setStatus(ctx, StatusReserved, "stock reserved")
	w.pollCancel()
	if w.cancelRequested {
		return w.cancelBeforePayment(ctx)
	}

	if paid, err := w.method.pay(ctx); err != nil || !paid {
		return err
	}

	if w.lean {
		w.passStatus(ctx, StatusPaid, "payment "+w.state.Payment.ProviderPaymentID)
	} else {
		w.setStatus(ctx, StatusPaid, "payment "+w.state.Payment.ProviderPaymentID)
	}
	if err := commit.Run(ctx, w.in.OrderID); err != nil {
		// Stock commit retries until its deadline; failing it is an outage, and the
		// payment must not be left unfulfilled and unrefunded.
		return w.refund(ctx, "stock commit failed: "+errDetail(err))
	}
	w.holdsStock = false
	w.setStatus(ctx, StatusFulfilled, "stock committed")
	return w.refundWindow(ctx)
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

// drain consumes the signals left when the run closes, so that each is
// recorded on the timeline rather than silently dropped.
func (w *checkout) drain(ctx workflow.Context) {
	drainSignals(w.payments, func(ev PaymentEvent) {
		w.note(ctx, "late_event", fmt.Sprintf("%s %s after %s", ev.Provider, ev.Type, w.state.Status))
	})
	for w.cancels != nil && w.cancels.ReceiveAsync(nil) {
		w.note(ctx, "late_cancel", "after "+string(w.state.Status))
	}
	w.cancelHandled = true
}

// fail ends the order failed, and releases the stock it holds.
func (w *checkout) fail(ctx workflow.Context, reason, detail string) error {
	if w.holdsStock {
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
// reservation outlives its order. Releasing is idempotent (the store releases
// what is still reserved), so every way an order ends may call it.
func (w *checkout) release(ctx workflow.Context) {
	w.holdsStock = false
	if err := ckActs.ReleaseStock.Run(ctx, w.in.OrderID); err != nil {
		w.note(ctx, "release_failed", errDetail(err))
	}
}

// needsAttention ends the order for an operator: its stock is not kept, and
// the timeline says what was tried.
func (w *checkout) needsAttention(ctx workflow.Context, reason, detail string) error {
	w.release(ctx)
	w.state.FailureReason = reason
	w.finish(ctx, StatusNeedsAttention, detail)
	return nil
}

func (w *checkout) finish(ctx workflow.Context, status CheckoutStatus, detail string) {
	w.cancelHandled = w.cancelRequested
	w.setStatus(ctx, status, detail)
}

// newTracker records the order's progress: a bounded timeline (an order
// can be pointed at by any number of events), OrderId and PayflowStatus.
func (w *checkout) newTracker() tracker[CheckoutStatus] {
	return tracker[CheckoutStatus]{
		status: &w.state.Status, timeline: &w.state.Timeline, bounded: true,
		search: func() []temporal.SearchAttributeUpdate {
			return []temporal.SearchAttributeUpdate{SAOrderID.ValueSet(w.in.OrderID), SAStatus.ValueSet(string(w.state.Status))}
		},
		upsertUnchanged: true,
		details: func(status CheckoutStatus, detail string) string {
			return currentDetails(string(status), w.waitingFor(status), detail)
		},
		saveState: func(ctx workflow.Context) error { return ckActs.SaveOrder.Run(ctx, w.state) },
		logKey:    "order_id", logID: w.in.OrderID,
	}
}

// waitingFor says, for the Web UI, what an order in status waits for.
func (w *checkout) waitingFor(status CheckoutStatus) string {
	switch status {
	case StatusPending:
		return "the cart priced and the stock reserved"
	case StatusReserved:
		return "the payment to start"
	case StatusAwaitingPayment:
		return fmt.Sprintf("the %s payment, for at most %s", w.in.Method, w.in.PaymentTimeout)
	case StatusRequiresAction:
		return fmt.Sprintf("the customer's 3-D Secure challenge, for at most %s", w.in.PaymentTimeout)
	case StatusPaid:
		return "the stock commit"
	case StatusFulfilled, StatusPartiallyRefunded:
		return fmt.Sprintf("a refund or cancel, for the refund window (%s)", w.in.RefundWindow)
	case StatusExpired, StatusCancelled:
		return fmt.Sprintf("a payment that still arrives, to send back, for the late window (%s)", w.in.LateWindow)
	case StatusNeedsAttention:
		return "an operator (the timeline says what was tried)"
	}
	return ""
}
