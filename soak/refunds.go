package soak

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/payflow/payflow/workflows"
)

// refundOnceMax bounds each partial refund of card_partial_refund to a fifth
// of the order, so that its two refunds made twice still fit in the capture:
// Checkout.com's own bound (never more back than captured) cannot hide a
// refund paid twice, only the books can.
const refundOnceMax = 5

// partialRefunds refunds part of a fulfilled order through the API, once or
// twice, each under its own Idempotency-Key that every retry of it keeps (the
// client retries 5xx and lost connections), and waits for each refund to end
// before the next.
func (r *run) partialRefunds(ctx context.Context, j *job) {
	for i := range 1 + j.rng.IntN(2) {
		amount := 1 + j.rng.Int64N(max(j.amount/refundOnceMax, 1))
		var rf workflows.Refund
		if err := r.c.apiJSON(http.MethodPost, "/v1/checkouts/"+j.orderID+"/refunds", map[string]any{"amount": amount, "reason": "soak partial refund"},
			fmt.Sprintf("soak-%s-refund-%d", j.orderID, i+1), &rf, http.StatusAccepted); err != nil {
			j.note = "refund: " + err.Error()
			return
		}
		j.refundsAsked += amount
		if st := r.refundEnd(ctx, j.orderID, rf.RefundID); st != workflows.RefundSucceeded {
			j.note = fmt.Sprintf("refund %s of %d ended %q", rf.RefundID, amount, st)
			return
		}
	}
}

// refundEnd waits for the order's refund id to leave pending and returns its
// status ("" when the order never showed it).
func (r *run) refundEnd(ctx context.Context, orderID, refundID string) string {
	var status string
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline) && ctx.Err() == nil; time.Sleep(200 * time.Millisecond) {
		for _, rf := range r.checkoutState(orderID).Refunds {
			if rf.RefundID == refundID {
				status = rf.Status
			}
		}
		if status != "" && status != workflows.RefundPending {
			break
		}
	}
	return status
}

// checkRefunds reads, for every card checkout that can still hold money
// (fulfilled or partially refunded), the refunds its order confirms
// (succeeded ones), for checkCards to hold Checkout.com's books to; and a
// refund scenario's order must confirm exactly what the soak asked.
func (r *run) checkRefunds(final map[*job]string) []string {
	var v []string
	for _, j := range r.jobs {
		if j.flow != "checkout" || j.amount == 0 || !paidByCard(j) || !workflows.RefundableStatus(workflows.CheckoutStatus(final[j])) {
			continue
		}
		j.confirmed = 0
		for _, rf := range r.checkoutState(j.orderID).Refunds {
			if rf.Status == workflows.RefundSucceeded {
				j.confirmed += rf.Amount
			}
		}
		if j.scenario == "card_partial_refund" && j.confirmed != j.refundsAsked {
			v = append(v, fmt.Sprintf("%s: the order confirms %d refunded, the soak asked for %d", j, j.confirmed, j.refundsAsked))
		}
	}
	return v
}

// paidByCard: the scenarios that pay by card.
func paidByCard(j *job) bool {
	return j.scenario == "cancel_after_payment" || strings.HasPrefix(j.scenario, "card")
}
