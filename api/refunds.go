package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/payflow/payflow/workflows"
)

type refundBody struct {
	Amount *int64     `json:"amount"`
	Lines  []lineBody `json:"lines"`
	Reason string     `json:"reason"`
}

func (b *refundBody) validate() *Error {
	f := map[string]string{}
	if b.Amount != nil && *b.Amount < 1 {
		f["amount"] = "a positive amount in minor units"
	}
	if b.Lines != nil && (len(b.Lines) == 0 || len(b.Lines) > 100) {
		f["lines"] = "between 1 and 100 lines, or left out"
	}
	seen := map[string]bool{}
	for i, l := range b.Lines {
		if !skuPattern.MatchString(l.SKU) || seen[l.SKU] {
			f[fmt.Sprintf("lines[%d].sku", i)] = "a valid sku, once per refund"
		}
		seen[l.SKU] = true
		if l.Quantity < 1 || l.Quantity > 10000 {
			f[fmt.Sprintf("lines[%d].quantity", i)] = "between 1 and 10000"
		}
	}
	if n := utf8.RuneCountInString(b.Reason); n < 1 || n > 500 {
		f["reason"] = "1-500 characters: why the money goes back"
	}
	if len(f) > 0 {
		return invalidFields(f)
	}
	return nil
}

// refundView is a refund as the API answers it.
type refundView struct {
	OrderID  string `json:"order_id"`
	Currency string `json:"currency"`
	workflows.Refund
}

// refundWait bounds how long the request waits for the refund to be done
// (confirmed by the provider), within the request's deadline; past it the
// answer is the refund pending.
const refundWait = 20 * time.Second

// createRefund refunds a fulfilled order in full or in part through the
// workflow's refund update: 202 with the refund (succeeded, failed, or
// still pending when the provider takes longer than refundWait). The
// workflow admits it: 409 when the order is not paid, closed or has nothing
// left to refund, 422 for more than is left or lines the order does not
// hold. Each refund has its id: derived from the Idempotency-Key when there
// is one (a retry joins the same refund), else new.
func (s *server) createRefund(c *fiber.Ctx) error {
	ctx := c.UserContext()
	var b refundBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	if err := b.validate(); err != nil {
		return err
	}
	order, err := s.loadOrder(c)
	if err != nil {
		return err
	}
	switch {
	case order.Status == workflows.StatusRefunded:
		return errorf(http.StatusConflict, "nothing_refundable", "the checkout is refunded in full")
	case !workflows.RefundableStatus(order.Status):
		return errorf(http.StatusConflict, "checkout_not_refundable", "the checkout is "+string(order.Status)+": only a fulfilled checkout can be refunded")
	}
	req := workflows.RefundRequest{RefundID: refundID(c), Reason: b.Reason}
	if b.Amount != nil {
		req.Amount = *b.Amount
	}
	for _, l := range b.Lines {
		req.Lines = append(req.Lines, workflows.LineInput{SKU: l.SKU, Quantity: l.Quantity})
	}
	uctx, cancel := context.WithTimeout(ctx, waitWithin(ctx, refundWait))
	defer cancel()
	h, err := s.Temporal.UpdateWorkflow(uctx, client.UpdateWorkflowOptions{
		WorkflowID: order.WorkflowID, UpdateID: req.RefundID, UpdateName: workflows.UpdateRefund,
		Args: []any{req}, WaitForStage: client.WorkflowUpdateStageAccepted,
	})
	var r workflows.Refund
	if err == nil {
		err = h.Get(uctx, &r)
	}
	var notFound *serviceerror.NotFound
	var refused *temporal.ApplicationError
	switch {
	case err == nil:
		return c.Status(http.StatusAccepted).JSON(refundView{OrderID: order.OrderID, Currency: order.Currency, Refund: r})
	case errors.As(err, &notFound):
		return errorf(http.StatusConflict, "checkout_not_refundable", "the checkout's refund window is over")
	case errors.As(err, &refused):
		return refundRefused(refused)
	case h != nil && uctx.Err() != nil:
		// Admitted, still with the provider: the workflow finishes it, and
		// GET /v1/checkouts/{id} shows the outcome.
		var st workflows.CheckoutState
		if s.queryState(ctx, order.WorkflowID, &st) == nil {
			for _, r := range st.Refunds {
				if r.RefundID == req.RefundID {
					return c.Status(http.StatusAccepted).JSON(refundView{OrderID: order.OrderID, Currency: order.Currency, Refund: r})
				}
			}
		}
		return c.Status(http.StatusAccepted).JSON(refundView{OrderID: order.OrderID, Currency: order.Currency,
			Refund: workflows.Refund{RefundID: req.RefundID, Status: workflows.RefundPending, Reason: req.Reason, Amount: req.Amount, Lines: req.Lines}})
	}
	s.log.Warn("refund update failed", "order_id", order.OrderID, "refund_id", req.RefundID, "error", err)
	return errorf(http.StatusServiceUnavailable, "temporal_unavailable", "could not reach the workflow; retry (with the same Idempotency-Key)")
}

// answerMargin is what a request keeps of its deadline to answer after a
// wait for the workflow ran out.
const answerMargin = 2 * time.Second

// waitWithin is how long to wait for the workflow: at most d, and no
// longer than leaves answerMargin before the request's own deadline.
func waitWithin(ctx context.Context, d time.Duration) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(dl)-answerMargin)
	}
	return max(d, time.Second)
}

// refundRefused turns the workflow's refusal into the API's answer.
func refundRefused(e *temporal.ApplicationError) error {
	switch workflows.ErrType(e.Type()) {
	case workflows.ErrTypeNothingRefundable:
		return errorf(http.StatusConflict, "nothing_refundable", e.Message())
	case workflows.ErrTypeRefundTooLarge:
		return &Error{Status: http.StatusUnprocessableEntity, Code: "amount_exceeds_refundable", Message: e.Message(), Fields: map[string]string{"amount": "at most what is left to refund"}}
	case workflows.ErrTypeRefundBadLines:
		return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_refund_lines", Message: e.Message(), Fields: map[string]string{"lines": "units the order sold and has not refunded"}}
	}
	return errorf(http.StatusConflict, "checkout_not_refundable", e.Message())
}

// refundID names a refund: from the Idempotency-Key, scoped like the key
// itself (route, order, caller), so a retry of a request whose answer was
// lost joins the refund it started; otherwise new.
func refundID(c *fiber.Ctx) string {
	if key := c.Get("Idempotency-Key"); key != "" {
		return "rf_" + hashBytes([]byte(idempotencyScope(c) + "\x00" + key))[:24]
	}
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail
	return "rf_" + hex.EncodeToString(b)
}
