package activities

import (
	"context"
	"fmt"
	"strconv"

	"github.com/payflow/payflow/money"
	"github.com/payflow/payflow/providers/checkoutcom"
	"github.com/payflow/payflow/providers/rehive"
	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/workflows"
)

// Activities of the API's refunds (workflows/checkout_refund_update.go).
// Each refund of an order has its sequence number; the provider keys and
// ids derive from it, so a retried call never refunds twice and two refunds
// never share a key. The step names differ from the full refund's
// ("refund", "refund-<tx>"), whose keys a cancel of an older run still uses.

// refundPartStep is the idempotency step of refund seq of an order.
func refundPartStep(seq int) string { return "refund-part-" + strconv.Itoa(seq) }

// refundKeyMeta is the refund action's metadata field holding its
// idempotency key, by which a retry finds the refund an earlier try made.
const refundKeyMeta = "payflow_key"

// RefundCardPart asks Checkout.com to refund in.Amount of a captured
// payment. Its 202 only accepts the refund: GetCardAction tells the outcome.
// Checkout.com keeps no 5xx under an idempotency key, so a retry after an
// answer lost in a 5xx would refund again under the same key: the payment's
// actions are read first, and a refund carrying this key is the answer.
func (a *Checkout) RefundCardPart(ctx context.Context, in workflows.RefundCardPartInput) (workflows.RefundResult, error) {
	if in.Amount <= 0 || in.Seq < 1 {
		return workflows.RefundResult{}, businessOutcome(fmt.Sprintf("refund %d of %d: nothing to refund", in.Seq, in.Amount), workflows.ErrTypeRefundTooLarge)
	}
	key := attemptKey(in.OrderID, refundPartStep(in.Seq), in.Attempt)
	actions, err := a.CheckoutCom.GetActions(ctx, in.PaymentID)
	if err != nil {
		return workflows.RefundResult{}, classify(err)
	}
	for _, act := range actions {
		if act.Type == checkoutcom.ActionRefund && act.Metadata[refundKeyMeta] == key {
			return workflows.RefundResult{ID: act.ID}, nil
		}
	}
	res, err := a.CheckoutCom.Refund(ctx, in.PaymentID, checkoutcom.ActionRequest{Amount: in.Amount, Reference: in.OrderID,
		Metadata: map[string]string{refundKeyMeta: key}}, key)
	if err != nil {
		return workflows.RefundResult{}, classify(err)
	}
	return workflows.RefundResult{ID: res.ActionID}, nil
}

// ReverseRehivePart sends in.Amount of a wallet payment back to its payer:
// one collection debiting the merchant and crediting the payer, its ids
// derived from the payment and the refund's sequence number. The amount is
// converted to the transaction's divisibility and may not exceed it.
func (a *Checkout) ReverseRehivePart(ctx context.Context, in workflows.ReverseRehivePartInput) (workflows.RefundResult, error) {
	tx, err := a.Rehive.GetTransaction(ctx, in.TxID)
	if err != nil {
		return workflows.RefundResult{}, classify(err)
	}
	amount, exact := money.ToDivisibility(in.Amount, in.Currency, tx.Currency.Divisibility)
	switch {
	case tx.Currency.Code != in.Currency:
		return workflows.RefundResult{}, businessOutcome(fmt.Sprintf("payment %s is in %s, the refund in %s", in.TxID, tx.Currency.Code, in.Currency), workflows.ErrTypeRefundTooLarge)
	case !exact || amount <= 0 || amount > tx.AbsAmount():
		return workflows.RefundResult{}, businessOutcome(fmt.Sprintf("%d %s cannot be sent back from payment %s of %d at divisibility %d", in.Amount, in.Currency, in.TxID, tx.AbsAmount(), tx.Currency.Divisibility), workflows.ErrTypeRefundTooLarge)
	}
	step := "refund-" + in.TxID + "-" + refundPartStep(in.Seq)
	// Not "order_id": the reversal must not look like a payment for the order.
	meta := map[string]any{"refund_for_order": in.OrderID, "refund_of": in.TxID, "refund_seq": in.Seq}
	payer := rehive.CollectionTx{
		ID: rehive.DeriveID("payflow-" + step + "-credit"), TxType: rehive.Credit, Amount: amount, Currency: tx.Currency.Code,
		Account: in.PayerAccount, User: in.PayerEmail, Status: rehive.StatusComplete, Metadata: meta,
	}
	merchant := rehive.CollectionTx{
		ID: rehive.DeriveID("payflow-" + step + "-debit"), TxType: rehive.Debit, Amount: amount, Currency: tx.Currency.Code,
		Account: tx.Account, User: a.Merchant.Email, Status: rehive.StatusComplete, Metadata: meta,
	}
	id := rehive.DeriveID("payflow-" + step)
	// One attempt per refund: a refusal fails the refund (Rehive replays a
	// refusal under its key), and a new refund has a new key.
	_, err = a.Rehive.CreateCollection(ctx, rehive.CollectionRequest{ID: id, Transactions: []rehive.CollectionTx{merchant, payer}, Status: rehive.StatusComplete},
		idempotencyKey(in.OrderID, step))
	if _, isRefusal := refused(err); isRefusal {
		// The derived id already taken means an earlier attempt made it
		// (its key expired since): the collection says.
		if col, gerr := a.Rehive.GetCollection(ctx, id); gerr == nil && col.Status == rehive.StatusComplete {
			return workflows.RefundResult{ID: id}, nil
		}
	}
	if err != nil {
		return workflows.RefundResult{}, classify(err)
	}
	return workflows.RefundResult{ID: id}, nil
}

// RestockLines puts the units a refund names back on the shelf, once.
func (a *Checkout) RestockLines(ctx context.Context, in workflows.RestockLinesInput) error {
	lines := make([]store.Line, len(in.Lines))
	for i, l := range in.Lines {
		lines[i] = store.Line{SKU: l.SKU, Quantity: l.Quantity}
	}
	return classify(a.Store.RestockLines(ctx, in.OrderID, in.RefundID, lines)) // store.ErrRestockExceeds
}
