package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Refunds asked for through the API (POST /v1/checkouts/{id}/refunds): the
// checkout's "refund" update. A fulfilled order takes several refunds, full
// or partial, up to what was captured, each run to the provider's
// confirmation before the next; what a refund names is restocked once it is
// confirmed. The order reads partially_refunded while money is left, and
// refunded when all of it went back.

// StatusPartiallyRefunded is a fulfilled order part of whose payment went
// back. Like fulfilled it is final for the order's lifecycle, and like
// fulfilled it can still be refunded further, or cancelled (the rest is
// refunded), while the refund window lasts.
const StatusPartiallyRefunded CheckoutStatus = "partially_refunded"

// UpdateRefund is the checkout's refund update.
const UpdateRefund = "refund"

// Refund statuses.
const (
	RefundPending   = "pending"   // admitted; its amount is reserved
	RefundSucceeded = "succeeded" // confirmed by the provider
	RefundFailed    = "failed"    // refused or declined: nothing went back
	// RefundUnconfirmed: accepted by the provider, outcome never shown. Its
	// amount stays reserved (another refund could pay twice) and the order
	// needs attention.
	RefundUnconfirmed = "unconfirmed"
)

// maxRefunds bounds an order's refunds, and so its state.
const maxRefunds = 50

// RefundRequest is the refund update's argument.
type RefundRequest struct {
	// RefundID names the refund: a repeat of the update with the same id
	// answers the same refund.
	RefundID string `json:"refund_id"`
	// Amount in the order's minor units; 0 means the value of Lines, or,
	// without lines, everything left to refund.
	Amount int64 `json:"amount,omitempty"`
	// Lines are the units that come back: restocked once the refund is done.
	Lines  []LineInput `json:"lines,omitempty"`
	Reason string      `json:"reason"`
}

// Refund is one refund of an order, as the state and the API show it.
type Refund struct {
	RefundID string      `json:"refund_id"`
	Amount   int64       `json:"amount"`
	Status   string      `json:"status"`
	Reason   string      `json:"reason"`
	Lines    []LineInput `json:"lines,omitempty"`
	// Seq numbers the order's refunds from 1; the provider idempotency key
	// is derived from it.
	Seq int `json:"seq"`
	// ProviderRefundID is Checkout.com's action id or the Rehive reversal.
	ProviderRefundID string     `json:"provider_refund_id,omitempty"`
	FailureReason    string     `json:"failure_reason,omitempty"`
	RequestedAt      time.Time  `json:"requested_at"`
	SettledAt        *time.Time `json:"settled_at,omitempty"`
}

// Activities of API refunds.
const (
	ActRefundCardPart    = "RefundCardPart"
	ActReverseRehivePart = "ReverseRehivePart"
	ActRestockLines      = "RestockLines"
)

// RefundCardPartInput refunds Amount of a captured card payment.
type RefundCardPartInput struct {
	OrderID   string `json:"order_id"`
	PaymentID string `json:"payment_id"`
	Amount    int64  `json:"amount"`
	Seq       int    `json:"seq"`
	// Attempt numbers a try after Checkout.com declined the refund: each
	// has its own idempotency key.
	Attempt int `json:"attempt"`
}

// ReverseRehivePartInput sends Amount (in the order's currency and minor
// units) of a wallet payment back to its payer.
type ReverseRehivePartInput struct {
	OrderID      string `json:"order_id"`
	TxID         string `json:"tx_id"`
	PayerAccount string `json:"payer_account"`
	PayerEmail   string `json:"payer_email"`
	Amount       int64  `json:"amount"`
	Currency     string `json:"currency"`
	Seq          int    `json:"seq"`
}

// RestockLinesInput puts a refund's units back on the shelf.
type RestockLinesInput struct {
	OrderID  string      `json:"order_id"`
	RefundID string      `json:"refund_id"`
	Lines    []LineInput `json:"lines"`
}

// RefundableStatus reports whether an order in status can take a refund (or
// a cancel that refunds it) while its refund window lasts.
func RefundableStatus(status CheckoutStatus) bool {
	return status == StatusFulfilled || status == StatusPartiallyRefunded
}

// apiRefunds is the checkout's side of the refund update.
type apiRefunds struct {
	// open is set while refunds are taken: in the refund window of a run
	// that started on versionAPIRefunds.
	open bool
	// queue hands admitted refund ids to the main loop, which runs them one
	// at a time.
	queue workflow.Channel
}

func (w *checkout) setupRefunds(ctx workflow.Context) error {
	w.refunds = &apiRefunds{queue: workflow.NewBufferedChannel(ctx, maxRefunds)}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateRefund,
		func(ctx workflow.Context, req RefundRequest) (Refund, error) {
			if w.refundByID(req.RefundID) == nil {
				// Checked again: another refund admitted since the validator
				// ran may have taken what was left.
				r, err := w.checkRefund(req)
				if err != nil {
					return Refund{}, err
				}
				r.Seq = len(w.state.Refunds) + 1
				r.RequestedAt = workflow.Now(ctx).UTC()
				w.state.Refunds = append(w.state.Refunds, r)
				w.refunds.queue.SendAsync(r.RefundID)
			}
			if err := workflow.Await(ctx, func() bool { return w.refundByID(req.RefundID).Status != RefundPending }); err != nil {
				return Refund{}, err
			}
			return *w.refundByID(req.RefundID), nil
		},
		workflow.UpdateHandlerOptions{Validator: func(req RefundRequest) error {
			if w.refundByID(req.RefundID) != nil {
				return nil // a repeat: answered with the refund
			}
			_, err := w.checkRefund(req)
			return err
		}},
	)
}

// checkRefund admits a refund or says why not; it returns the refund to
// record, its amount resolved.
func (w *checkout) checkRefund(req RefundRequest) (Refund, error) {
	refuse := func(typ ErrType, format string, args ...any) (Refund, error) {
		return Refund{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), string(typ), nil)
	}
	switch {
	case req.RefundID == "":
		return refuse(ErrTypeRefundNotAllowed, "a refund needs an id")
	case w.state.Status == StatusRefunded:
		return refuse(ErrTypeNothingRefundable, "the order is refunded in full")
	case !RefundableStatus(w.state.Status):
		return refuse(ErrTypeRefundNotAllowed, "the order is %s: only a fulfilled order can be refunded", w.state.Status)
	case !w.refunds.open:
		return refuse(ErrTypeRefundNotAllowed, "the order takes no refunds now (its refund window is over, or it started before refunds by amount); a cancel refunds it in full")
	case w.cancelRequested:
		return refuse(ErrTypeRefundNotAllowed, "a cancel is being settled")
	case len(w.state.Refunds) >= maxRefunds:
		return refuse(ErrTypeRefundNotAllowed, "the order has %d refunds, the most it takes", maxRefunds)
	}
	left := w.state.Amount - w.refundReserved()
	if left <= 0 {
		return refuse(ErrTypeNothingRefundable, "nothing is left to refund: %d %s refunded or being refunded", w.refundReserved(), w.in.Currency)
	}
	r := Refund{RefundID: req.RefundID, Amount: req.Amount, Reason: req.Reason, Status: RefundPending}
	var linesValue int64
	seen := map[string]bool{}
	for _, l := range req.Lines {
		line, ok := w.pricedLine(l.SKU)
		switch {
		case !ok:
			return refuse(ErrTypeRefundBadLines, "sku %s is not in the order", l.SKU)
		case seen[l.SKU]:
			return refuse(ErrTypeRefundBadLines, "sku %s is named twice", l.SKU)
		case l.Quantity < 1:
			return refuse(ErrTypeRefundBadLines, "sku %s: quantity must be positive", l.SKU)
		case l.Quantity > line.Quantity-w.restockReserved(l.SKU):
			return refuse(ErrTypeRefundBadLines, "sku %s: %d units asked back, %d sold and not refunded", l.SKU, l.Quantity, line.Quantity-w.restockReserved(l.SKU))
		}
		seen[l.SKU] = true
		linesValue += l.Quantity * line.UnitPrice
		r.Lines = append(r.Lines, l)
	}
	switch {
	case r.Amount < 0:
		return refuse(ErrTypeRefundTooLarge, "the amount must be positive")
	case r.Amount == 0 && len(r.Lines) > 0:
		r.Amount = min(linesValue, left)
	case r.Amount == 0:
		r.Amount = left
	case r.Amount > left:
		return refuse(ErrTypeRefundTooLarge, "%d %s asked, %d %s left to refund", r.Amount, w.in.Currency, left, w.in.Currency)
	}
	return r, nil
}

func (w *checkout) pricedLine(sku string) (PricedLine, bool) {
	for _, l := range w.state.Lines {
		if l.SKU == sku {
			return l, true
		}
	}
	return PricedLine{}, false
}

func (w *checkout) refundByID(id string) *Refund {
	for i := range w.state.Refunds {
		if w.state.Refunds[i].RefundID == id {
			return &w.state.Refunds[i]
		}
	}
	return nil
}

// refundReserved is what refunds took or hold: every refund but the
// failed ones.
func (w *checkout) refundReserved() int64 {
	var n int64
	for _, r := range w.state.Refunds {
		if r.Status != RefundFailed {
			n += r.Amount
		}
	}
	return n
}

// refundSucceeded is what the provider confirmed went back.
func (w *checkout) refundSucceeded() int64 {
	var n int64
	for _, r := range w.state.Refunds {
		if r.Status == RefundSucceeded {
			n += r.Amount
		}
	}
	return n
}

// restockReserved is how many units of sku refunds restocked or will.
func (w *checkout) restockReserved(sku string) int64 {
	var n int64
	for _, r := range w.state.Refunds {
		if r.Status == RefundFailed {
			continue
		}
		for _, l := range r.Lines {
			if l.SKU == sku {
				n += l.Quantity
			}
		}
	}
	return n
}

// openRefunds starts taking refunds at the start of the refund window, in
// runs on versionAPIRefunds; older runs refund only through a cancel.
func (w *checkout) openRefunds(ctx workflow.Context) {
	w.refunds.open = w.version(ctx, versionAPIRefunds) == 1
}

// onRefund adds the refund queue to the refund window's selector; closed
// is set when a refund ended the order (refunded in full, or needs
// attention).
func (w *checkout) onRefund(ctx workflow.Context, sel workflow.Selector, closed *bool) {
	sel.AddReceive(w.refunds.queue, func(c workflow.ReceiveChannel, _ bool) {
		var id string
		c.Receive(ctx, &id)
		*closed = w.runRefund(ctx, id)
	})
}

// drainRefunds runs the refunds admitted but not run when the window loop
// ended (its timer fired, or a cancel came); none is admitted after. It
// reports whether one ended the order.
func (w *checkout) drainRefunds(ctx workflow.Context) bool {
	w.refunds.open = false
	closed := false
	var id string
	for w.refunds.queue.ReceiveAsync(&id) {
		closed = w.runRefund(ctx, id) || closed
	}
	return closed
}

// runRefund carries out one admitted refund and reports whether it ended
// the order.
func (w *checkout) runRefund(ctx workflow.Context, id string) bool {
	r := w.refundByID(id)
	if !RefundableStatus(w.state.Status) {
		// The order closed meanwhile (e.g. a capture declined after
		// fulfilment voided the payment): nothing of it is left to refund.
		w.settleRefund(ctx, r, RefundFailed, "the order is "+string(w.state.Status))
		return false
	}
	w.note(ctx, "refund_requested", fmt.Sprintf("%s: %d %s (%s)", r.RefundID, r.Amount, w.in.Currency, r.Reason))
	w.save(ctx)
	out := w.method.refundPart(ctx, *r)
	r = w.refundByID(id)
	r.ProviderRefundID = out.ProviderRefundID
	switch out.Status {
	case RefundFailed:
		w.settleRefund(ctx, r, RefundFailed, out.Detail)
		return false
	case RefundUnconfirmed:
		w.settleRefund(ctx, r, RefundUnconfirmed, out.Detail)
		_ = w.needsAttention(ctx, ReasonRefundDeclined, fmt.Sprintf("refund %s: %s", r.RefundID, out.Detail))
		return true
	}
	if len(r.Lines) > 0 {
		if err := ckActs.RestockLines.Run(ctx, RestockLinesInput{OrderID: w.in.OrderID, RefundID: r.RefundID, Lines: r.Lines}); err != nil {
			w.note(ctx, "restock_failed", r.RefundID+": "+errDetail(err))
		}
	}
	w.settleRefund(ctx, r, RefundSucceeded, "")
	refunded := w.refundSucceeded()
	if refunded < w.state.Amount {
		w.setStatus(ctx, StatusPartiallyRefunded, fmt.Sprintf("%d of %d %s refunded", refunded, w.state.Amount, w.in.Currency))
		return false
	}
	w.state.Payment.Status = "Refunded"
	w.state.Payment.RefundID = r.ProviderRefundID
	w.finish(ctx, StatusRefunded, fmt.Sprintf("%d %s refunded in full", refunded, w.in.Currency))
	return true
}

func (w *checkout) settleRefund(ctx workflow.Context, r *Refund, status, detail string) {
	now := workflow.Now(ctx).UTC()
	r.Status, r.FailureReason, r.SettledAt = status, detail, &now
	step := "refund_" + status
	if detail != "" {
		w.note(ctx, step, r.RefundID+": "+detail)
	} else {
		w.note(ctx, step, fmt.Sprintf("%s: %d %s", r.RefundID, r.Amount, w.in.Currency))
	}
	w.save(ctx)
}

// refundRemaining settles a cancel of a fulfilled order: the whole payment
// goes back as before when no refund took part of it; otherwise the rest is
// refunded as one more refund, and a refund that does not go through leaves
// the order for an operator (part of its money is back, part is not).
func (w *checkout) refundRemaining(ctx workflow.Context, why string) error {
	if w.refundSucceeded() == 0 {
		return w.refund(ctx, why)
	}
	w.note(ctx, "refund", why)
	r := Refund{
		RefundID: fmt.Sprintf("cancel-%d", len(w.state.Refunds)+1), Amount: w.state.Amount - w.refundReserved(),
		Reason: why, Status: RefundPending, Seq: len(w.state.Refunds) + 1, RequestedAt: workflow.Now(ctx).UTC(),
	}
	w.state.Refunds = append(w.state.Refunds, r)
	out := w.method.refundPart(ctx, r)
	rp := w.refundByID(r.RefundID)
	rp.ProviderRefundID = out.ProviderRefundID
	if out.Status != RefundSucceeded {
		w.settleRefund(ctx, rp, out.Status, out.Detail)
		return w.needsAttention(ctx, ReasonRefundDeclined, fmt.Sprintf("%s; the rest (%d %s) was not refunded: %s", why, r.Amount, w.in.Currency, out.Detail))
	}
	w.settleRefund(ctx, rp, RefundSucceeded, "")
	w.state.Payment.Status = "Refunded"
	w.state.Payment.RefundID = out.ProviderRefundID
	w.release(ctx)
	w.finish(ctx, StatusRefunded, why+"; the rest refunded")
	return nil
}

// partOutcome is how a payment method's refundPart ended.
type partOutcome struct {
	Status           string // RefundSucceeded, RefundFailed or RefundUnconfirmed
	ProviderRefundID string
	Detail           string
}

// refundPart refunds r.Amount of the captured card payment and waits for
// Checkout.com to confirm it; a declined refund is tried again with a new
// idempotency key, actionAttempts times in all.
func (w *cardPayment) refundPart(ctx workflow.Context, r Refund) partOutcome {
	pid := w.state.Payment.ProviderPaymentID
	outcome := partOutcome{Status: RefundFailed, Detail: fmt.Sprintf("Checkout.com declined the refund %d times", actionAttempts)}
	accepted := "" // the last refund action Checkout.com accepted
	if _, err := actionRetries.until(ctx, func(i int) bool {
		attempt := i + 1
		res, err := ckActs.RefundCardPart.Run(ctx, RefundCardPartInput{
			OrderID: w.in.OrderID, PaymentID: pid, Amount: r.Amount, Seq: r.Seq, Attempt: attempt,
		})
		if err != nil {
			// Refused outright (403, 422): nothing was refunded.
			outcome = partOutcome{Status: RefundFailed, Detail: "Checkout.com refused the refund: " + errDetail(err)}
			return true
		}
		accepted = res.ID
		w.note(ctx, "refund_pending", fmt.Sprintf("%s: attempt %d, action %s", r.RefundID, attempt, res.ID))
		w.save(ctx)
		out := w.confirmAction(ctx, "Refund", res.ID)
		switch {
		case out.Found && out.Approved:
			outcome = partOutcome{Status: RefundSucceeded, ProviderRefundID: res.ID}
		case out.Found:
			w.note(ctx, "refund_declined", fmt.Sprintf("%s: attempt %d: %s %s", r.RefundID, attempt, out.ResponseCode, out.ResponseSummary))
			return false
		default:
			outcome = partOutcome{Status: RefundUnconfirmed, ProviderRefundID: res.ID,
				Detail: fmt.Sprintf("action %s accepted but not confirmed within %s", res.ID, actionConfirmWindow)}
		}
		return true
	}); err != nil {
		if accepted != "" {
			// An accepted action may still be carried out: not failed, which
			// would free its amount for another refund.
			return partOutcome{Status: RefundUnconfirmed, ProviderRefundID: accepted, Detail: err.Error()}
		}
		return partOutcome{Status: RefundFailed, Detail: err.Error()}
	}
	return outcome
}

// refundPart sends r.Amount of the wallet payment back to its payer (a
// Rehive collection with ids derived from the payment and r.Seq).
func (w *walletPayment) refundPart(ctx workflow.Context, r Refund) partOutcome {
	res, err := ckActs.ReverseRehivePart.Run(ctx, ReverseRehivePartInput{
		OrderID: w.in.OrderID, TxID: w.paid.TxID, PayerAccount: w.paid.PayerAccount, PayerEmail: w.paid.PayerEmail,
		Amount: r.Amount, Currency: w.in.Currency, Seq: r.Seq,
	})
	if err != nil {
		return partOutcome{Status: RefundFailed, Detail: "Rehive refused the reversal: " + errDetail(err)}
	}
	return partOutcome{Status: RefundSucceeded, ProviderRefundID: res.ID}
}
