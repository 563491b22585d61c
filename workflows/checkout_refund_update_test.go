package workflows

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

// The refund update: partial and full refunds of a fulfilled checkout.

// refundFakes records the refund activities of one test (guarded by
// checkoutFakes.mu).
type refundFakes struct {
	card     []RefundCardPartInput
	rehive   []ReverseRehivePartInput
	restocks []RestockLinesInput
}

func (f *checkoutFakes) RefundCardPart(_ context.Context, in RefundCardPartInput) (RefundResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refunds.card = append(f.refunds.card, in)
	return RefundResult{ID: fmt.Sprintf("act_refund_%d_%d", in.Seq, in.Attempt)}, nil
}

func (f *checkoutFakes) ReverseRehivePart(_ context.Context, in ReverseRehivePartInput) (RefundResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refunds.rehive = append(f.refunds.rehive, in)
	return RefundResult{ID: fmt.Sprintf("col_%d", in.Seq)}, nil
}

func (f *checkoutFakes) RestockLines(_ context.Context, in RestockLinesInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refunds.restocks = append(f.refunds.restocks, in)
	return nil
}

// refundResult records what became of one refund update.
type refundResult struct {
	mu       sync.Mutex
	rejected error
	done     bool
	refund   Refund
	err      error
}

func (r *refundResult) get() (rejected error, done bool, refund Refund, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rejected, r.done, r.refund, r.err
}

func (h *checkoutHarness) sendRefund(req RefundRequest) *refundResult {
	res := &refundResult{}
	h.env.UpdateWorkflow(UpdateRefund, req.RefundID, &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) { res.mu.Lock(); res.rejected = err; res.mu.Unlock() },
		OnComplete: func(v any, err error) {
			res.mu.Lock()
			defer res.mu.Unlock()
			res.done, res.err = true, err
			if r, ok := v.(Refund); ok {
				res.refund = r
			}
		},
	}, req)
	return res
}

// refundsAt sends the requests together at d, in order.
func (h *checkoutHarness) refundsAt(d time.Duration, reqs ...RefundRequest) []*refundResult {
	out := make([]*refundResult, len(reqs))
	for i := range out {
		out[i] = &refundResult{}
	}
	h.env.RegisterDelayedCallback(func() {
		for i, req := range reqs {
			r := h.sendRefund(req)
			out[i] = r
		}
	}, d)
	return out
}

func requireRefusedAs(t *testing.T, err error, typ ErrType) {
	t.Helper()
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "want a refusal of type %s, got %v", typ, err)
	require.Equal(t, string(typ), appErr.Type())
}

// fulfilledCard scripts a card checkout that is captured a minute in.
func fulfilledCard(t *testing.T) (*checkoutHarness, *refundFakes) {
	h := newCheckoutHarness(t)
	rf := &h.f.refunds
	h.f.statuses = []string{"Captured"}
	h.signalAt(time.Minute, ckoEvent("payment_captured", "evt_1", ckPaymentID))
	return h, rf
}

func TestRefundPartialThenRestRefundsInFull(t *testing.T) {
	h, rf := fulfilledCard(t)
	first := h.refundsAt(time.Hour, RefundRequest{RefundID: "rf_1", Amount: 1000, Reason: "damaged"})
	mid := h.queryAt(90 * time.Minute)
	tooMuch := h.refundsAt(2*time.Hour, RefundRequest{RefundID: "rf_2", Amount: 1501, Reason: "too much"})
	rest := h.refundsAt(3*time.Hour, RefundRequest{RefundID: "rf_3", Reason: "the rest"})
	st := h.runOK(cardCheckoutInput())

	_, done, r1, err := first[0].get()
	require.True(t, done)
	require.NoError(t, err)
	require.Equal(t, RefundSucceeded, r1.Status)
	require.Equal(t, int64(1000), r1.Amount)
	require.Equal(t, "act_refund_1_1", r1.ProviderRefundID)
	require.Equal(t, StatusPartiallyRefunded, mid.Status)

	rejected, _, _, _ := tooMuch[0].get()
	requireRefusedAs(t, rejected, ErrTypeRefundTooLarge)

	_, done, r3, err := rest[0].get()
	require.True(t, done)
	require.NoError(t, err)
	require.Equal(t, int64(ckAmount-1000), r3.Amount)
	require.Equal(t, 2, r3.Seq, "a refused request takes no sequence number")

	require.Equal(t, StatusRefunded, st.Status)
	require.Equal(t, "Refunded", st.Payment.Status)
	require.Len(t, st.Refunds, 2)
	require.Equal(t, []RefundCardPartInput{
		{OrderID: ckOrderID, PaymentID: ckPaymentID, Amount: 1000, Seq: 1, Attempt: 1},
		{OrderID: ckOrderID, PaymentID: ckPaymentID, Amount: ckAmount - 1000, Seq: 2, Attempt: 1},
	}, rf.card)
	requireSubsequence(t, timelineSteps(st), []string{string(StatusFulfilled), "refund_requested", "refund_succeeded", string(StatusPartiallyRefunded), "refund_requested", "refund_succeeded", string(StatusRefunded)})
	// No full refund, no restock: the refunds named no lines.
	h.requireCalls(map[string]int{ActRefundCard: 0, ActRestockOrder: 0})
	require.Empty(t, rf.restocks)
	// The order closed with the last refund, not at the end of the window.
	require.Less(t, h.env.Now().Sub(st.Timeline[0].At), 4*time.Hour)
}

// Two requests at once that together ask for more than was paid: the first
// admitted reserves its amount, the second is refused.
func TestRefundConcurrentRequestsCannotOverRefund(t *testing.T) {
	h, rf := fulfilledCard(t)
	res := h.refundsAt(time.Hour,
		RefundRequest{RefundID: "rf_a", Amount: 1500, Reason: "a"},
		RefundRequest{RefundID: "rf_b", Amount: 1500, Reason: "b"})
	h.cancelAt(2 * time.Hour)
	st := h.runOK(cardCheckoutInput())

	_, done, ra, err := res[0].get()
	require.True(t, done)
	require.NoError(t, err)
	require.Equal(t, RefundSucceeded, ra.Status)
	rejected, doneB, _, errB := res[1].get()
	if rejected == nil {
		// Admitted by the validator before the first reserved: the handler
		// refuses it.
		require.True(t, doneB)
		rejected = errB
	}
	requireRefusedAs(t, rejected, ErrTypeRefundTooLarge)

	// The cancel refunds the rest, once, and restocks the order.
	require.Equal(t, StatusRefunded, st.Status)
	require.Len(t, rf.card, 2)
	require.Equal(t, int64(1500), rf.card[0].Amount)
	require.Equal(t, int64(ckAmount-1500), rf.card[1].Amount)
	h.requireCalls(map[string]int{ActRefundCard: 0, ActRestockOrder: 1})
}

func TestRefundByLinesRestocksThem(t *testing.T) {
	h, rf := fulfilledCard(t)
	bad := h.refundsAt(time.Hour,
		RefundRequest{RefundID: "rf_x", Lines: []LineInput{{SKU: "NOPE", Quantity: 1}}, Reason: "x"},
		RefundRequest{RefundID: "rf_y", Lines: []LineInput{{SKU: "TSHIRT-M", Quantity: 3}}, Reason: "y"})
	ok := h.refundsAt(2*time.Hour, RefundRequest{RefundID: "rf_1", Lines: []LineInput{{SKU: "TSHIRT-M", Quantity: 1}}, Reason: "returned"})
	again := h.refundsAt(3*time.Hour, RefundRequest{RefundID: "rf_2", Lines: []LineInput{{SKU: "TSHIRT-M", Quantity: 2}}, Reason: "two more"})
	h.env.RegisterDelayedCallback(func() {}, 4*time.Hour)
	st := h.runOK(cardCheckoutInput())

	for _, r := range bad {
		rejected, _, _, _ := r.get()
		requireRefusedAs(t, rejected, ErrTypeRefundBadLines)
	}
	_, _, r1, err := ok[0].get()
	require.NoError(t, err)
	require.Equal(t, int64(1250), r1.Amount, "the value of the line")
	rejected, _, _, _ := again[0].get()
	requireRefusedAs(t, rejected, ErrTypeRefundBadLines) // one of two units is left
	require.Equal(t, []RestockLinesInput{{OrderID: ckOrderID, RefundID: "rf_1", Lines: []LineInput{{SKU: "TSHIRT-M", Quantity: 1}}}}, rf.restocks)
	// The window ran out with part of the payment kept.
	require.Equal(t, StatusPartiallyRefunded, st.Status)
	require.Equal(t, ckRefundWindow, h.env.Now().Sub(st.Timeline[0].At)-time.Minute)
}

func TestRefundDeclinedFailsAndLeavesTheOrder(t *testing.T) {
	h, rf := fulfilledCard(t)
	h.f.outcomes = map[string][]CardActionResult{"Refund": {{Found: true, Approved: false, ResponseCode: "20005"}}}
	res := h.refundsAt(time.Hour, RefundRequest{RefundID: "rf_1", Amount: 500, Reason: "r"})
	mid := h.queryAt(3 * time.Hour)
	h.cancelAt(4 * time.Hour)
	st := h.runOK(cardCheckoutInput())

	_, done, r, err := res[0].get()
	require.True(t, done)
	require.NoError(t, err)
	require.Equal(t, RefundFailed, r.Status)
	require.Len(t, rf.card, actionAttempts)
	require.Equal(t, StatusFulfilled, mid.Status)
	// Nothing was refunded, so the cancel refunds the whole payment the
	// old way (and Checkout.com declines it too).
	h.requireCalls(map[string]int{ActRefundCard: actionAttempts})
	require.Equal(t, StatusNeedsAttention, st.Status)
}

func TestRefundWalletPartialReversal(t *testing.T) {
	h := newCheckoutHarness(t)
	rf := &h.f.refunds
	h.f.verdicts["tx_1"] = []RehivePaymentResult{{Outcome: RehivePaid, TxID: "tx_1", PayerAccount: "acc_p", PayerEmail: "p@example.com"}}
	h.signalAt(time.Minute, rehiveTxEvent("tx_1"))
	res := h.refundsAt(time.Hour, RefundRequest{RefundID: "rf_1", Amount: 700, Reason: "r"})
	h.cancelAt(2 * time.Hour)
	st := h.runOK(rehiveCheckoutInput())

	_, _, r, err := res[0].get()
	require.NoError(t, err)
	require.Equal(t, RefundSucceeded, r.Status)
	require.Equal(t, "col_1", r.ProviderRefundID)
	require.Equal(t, []ReverseRehivePartInput{
		{OrderID: ckOrderID, TxID: "tx_1", PayerAccount: "acc_p", PayerEmail: "p@example.com", Amount: 700, Currency: "EUR", Seq: 1},
		{OrderID: ckOrderID, TxID: "tx_1", PayerAccount: "acc_p", PayerEmail: "p@example.com", Amount: ckAmount - 700, Currency: "EUR", Seq: 2},
	}, rf.rehive)
	require.Equal(t, StatusRefunded, st.Status)
	h.requireCalls(map[string]int{ActRefundRehive: 0})
}

// A run that reached its refund window before refunds by amount existed
// refuses them; its cancel still refunds in full.
func TestRefundRefusedInOlderRuns(t *testing.T) {
	h, _ := fulfilledCard(t)
	h.legacy(versionAPIRefunds)
	res := h.refundsAt(time.Hour, RefundRequest{RefundID: "rf_1", Amount: 500, Reason: "r"})
	h.cancelAt(2 * time.Hour)
	st := h.runOK(cardCheckoutInput())
	rejected, _, _, _ := res[0].get()
	requireRefusedAs(t, rejected, ErrTypeRefundNotAllowed)
	require.Equal(t, StatusRefunded, st.Status)
	h.requireCalls(map[string]int{ActRefundCard: 1})
}

func TestRefundRefusedBeforePayment(t *testing.T) {
	h := newCheckoutHarness(t)
	res := h.refundsAt(time.Minute, RefundRequest{RefundID: "rf_1", Amount: 500, Reason: "r"})
	st := h.runOK(cardCheckoutInput())
	rejected, _, _, _ := res[0].get()
	requireRefusedAs(t, rejected, ErrTypeRefundNotAllowed)
	require.Equal(t, StatusExpired, st.Status)
}
