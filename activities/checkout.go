package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/payflow/payflow/breakage"
	"github.com/payflow/payflow/money"
	"github.com/payflow/payflow/providers/checkoutcom"
	"github.com/payflow/payflow/providers/httpx"
	"github.com/payflow/payflow/providers/rehive"
	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/workflows"
)

// Merchant is who checkout payments on Rehive must reach.
type Merchant struct {
	Email   string
	Account string // account reference; when empty the credit's owner email is checked
}

// Checkout implements the checkout workflow's activities.
type Checkout struct {
	Store       *store.Store
	CheckoutCom *checkoutcom.Client
	Rehive      *rehive.Client
	Merchant    Merchant
}

var _ workflows.CheckoutActivities = (*Checkout)(nil)

// idempotencyKey derives a provider idempotency key from the order: a retry
// of the same step sends the same key, so nothing is charged twice.
func idempotencyKey(orderID, step string) string {
	return breakage.Key("payflow-" + orderID + "-" + step)
}

// attemptKey is the key of one attempt of a step that is tried again after
// the provider declined it: a new attempt is a new intended effect, so it has
// its own key (attempts 0 and 1 share the step's first key). Retries of one
// attempt after a lost answer keep its key.
func attemptKey(orderID, step string, attempt int) string {
	if attempt > 1 {
		step += "-" + strconv.Itoa(attempt)
	}
	return idempotencyKey(orderID, step)
}

// PriceCart verifies every SKU exists, is active and sells in the order's
// currency, and prices the cart from the catalog.
func (a *Checkout) PriceCart(ctx context.Context, in workflows.PriceCartInput) (workflows.PriceCartResult, error) {
	skus := make([]string, len(in.Lines))
	for i, l := range in.Lines {
		skus[i] = l.SKU
	}
	products, err := a.Store.GetProducts(ctx, skus)
	if err != nil {
		return workflows.PriceCartResult{}, err
	}
	var out workflows.PriceCartResult
	for _, l := range in.Lines {
		p, ok := products[l.SKU]
		switch {
		case !ok:
			return out, invalidCart("unknown sku %s", l.SKU)
		case !p.Active:
			return out, invalidCart("sku %s is not for sale", l.SKU)
		case p.Currency != in.Currency:
			return out, invalidCart("sku %s is priced in %s, the order is in %s", l.SKU, p.Currency, in.Currency)
		case l.Quantity <= 0:
			return out, invalidCart("sku %s: quantity must be positive", l.SKU)
		}
		total := p.Price * l.Quantity
		out.Lines = append(out.Lines, workflows.PricedLine{SKU: p.SKU, Name: p.Name, Quantity: l.Quantity, UnitPrice: p.Price, Total: total})
		out.Amount += total
	}
	return out, nil
}

func invalidCart(format string, args ...any) error {
	return businessOutcome(fmt.Sprintf(format, args...), workflows.ErrTypeInvalidCart)
}

// ReserveStock holds the order's stock, all lines or none.
func (a *Checkout) ReserveStock(ctx context.Context, in workflows.ReserveInput) error {
	lines := make([]store.Line, len(in.Lines))
	for i, l := range in.Lines {
		lines[i] = store.Line{SKU: l.SKU, Quantity: l.Quantity}
	}
	return classify(a.Store.Reserve(ctx, in.OrderID, lines)) // store.ErrOutOfStock
}

// CommitStock turns the order's reservation into a sale.
func (a *Checkout) CommitStock(ctx context.Context, orderID string) error {
	return a.Store.Commit(ctx, orderID)
}

// ReleaseStock returns the order's held stock.
func (a *Checkout) ReleaseStock(ctx context.Context, orderID string) error {
	return a.Store.Release(ctx, orderID)
}

// RestockOrder puts a refunded order's sold units back on the shelf.
func (a *Checkout) RestockOrder(ctx context.Context, orderID string) error {
	return a.Store.Restock(ctx, orderID)
}

// ChargeCard requests the payment with the card token the API stored for the
// order. The idempotency key comes from the order, so a retry returns the
// first answer instead of charging again; a lost answer is retried with the
// same key (the token is single use: a retry can never charge twice). A
// 422 token_used means an earlier attempt may have charged: the workflow
// then finds the payment by reference.
func (a *Checkout) ChargeCard(ctx context.Context, in workflows.ChargeInput) (workflows.ChargeResult, error) {
	token, err := a.Store.PaymentToken(ctx, in.OrderID)
	if errors.Is(err, store.ErrNotFound) {
		return workflows.ChargeResult{}, businessOutcome("no card token stored for the order", workflows.ErrTypeRejected)
	}
	if err != nil {
		return workflows.ChargeResult{}, err
	}
	p, err := a.CheckoutCom.RequestPayment(ctx, checkoutcom.PaymentRequest{
		Token:         token,
		Amount:        in.Amount,
		Currency:      in.Currency,
		Reference:     in.OrderID,
		Capture:       true,
		CustomerEmail: in.CustomerEmail,
		// The Accelerate handoff matches its own webhooks by this token.
		Metadata: map[string]string{"AccelerateToken": token, "order_id": in.OrderID},
	}, idempotencyKey(in.OrderID, "pay"))
	if err != nil {
		var pe *httpx.Error
		if errors.As(err, &pe) && slices.Contains(pe.Codes, "token_used") {
			return workflows.ChargeResult{}, failure{typ: workflows.ErrTypeChargeUnknown}.newError(pe.Error(), 0)
		}
		if httpx.ClassOf(err) == httpx.Invalid || httpx.ClassOf(err) == httpx.Declined {
			return workflows.ChargeResult{}, businessOutcome(err.Error(), workflows.ErrTypeRejected)
		}
		return workflows.ChargeResult{}, classify(err)
	}
	return chargeResult(p, p.HTTPStatus == http.StatusAccepted), nil
}

func chargeResult(p *checkoutcom.Payment, requiresAction bool) workflows.ChargeResult {
	return workflows.ChargeResult{
		PaymentID:       p.ID,
		Status:          string(p.Status),
		Approved:        p.Approved,
		RequiresAction:  requiresAction,
		RedirectURL:     p.RedirectURL,
		ResponseCode:    p.ResponseCode,
		ResponseSummary: p.ResponseSummary,
	}
}

// FindCardPayment looks the order's payment up by reference (GET
// /payments?reference=): the answer to a charge whose own answer was lost.
// Of several payments (there should be one) the newest that was not
// declined wins.
func (a *Checkout) FindCardPayment(ctx context.Context, in workflows.FindCardPaymentInput) (workflows.FindCardPaymentResult, error) {
	ps, err := a.CheckoutCom.FindPaymentsByReference(ctx, in.OrderID)
	if err != nil {
		return workflows.FindCardPaymentResult{}, classify(err)
	}
	var mine []checkoutcom.Payment
	for _, p := range ps {
		if p.Reference == in.OrderID {
			mine = append(mine, p)
		}
	}
	if len(mine) == 0 {
		return workflows.FindCardPaymentResult{}, nil
	}
	best := mine[0]
	for _, p := range mine {
		if p.Status != checkoutcom.StatusDeclined {
			best = p
			break
		}
	}
	res := chargeResult(&best, best.Status == checkoutcom.StatusPending)
	switch best.Status {
	case checkoutcom.StatusAuthorized, checkoutcom.StatusCardVerified, checkoutcom.StatusCaptured,
		checkoutcom.StatusPartiallyCaptured, checkoutcom.StatusPaid:
		res.Approved = true // a GET may leave approved out; the status says it
	case checkoutcom.StatusPending:
	default:
		res.Approved = false
		if res.ResponseSummary == "" {
			res.ResponseSummary = "payment " + string(best.Status)
		}
	}
	return workflows.FindCardPaymentResult{Found: true, Charge: res, Count: len(mine)}, nil
}

// GetCardPayment asks Checkout.com where a payment stands.
func (a *Checkout) GetCardPayment(ctx context.Context, in workflows.CardPaymentInput) (workflows.CardPaymentStatus, error) {
	p, err := a.CheckoutCom.GetPayment(ctx, in.PaymentID)
	if err != nil {
		return workflows.CardPaymentStatus{}, classify(err)
	}
	return workflows.CardPaymentStatus{Status: string(p.Status), State: workflows.CheckoutComState(string(p.Status))}, nil
}

// VoidCard asks for an authorized payment to be voided. Checkout.com's 202
// only accepts it: GetCardAction tells the outcome.
func (a *Checkout) VoidCard(ctx context.Context, in workflows.CardPaymentInput) (workflows.RefundResult, error) {
	res, err := a.CheckoutCom.Void(ctx, in.PaymentID, checkoutcom.ActionRequest{Reference: in.OrderID}, attemptKey(in.OrderID, "void", in.Attempt))
	if err != nil {
		return workflows.RefundResult{}, classify(err)
	}
	return workflows.RefundResult{ID: res.ActionID}, nil
}

// RefundCard asks for a captured payment to be refunded in full; like a
// void, it is done only when GetCardAction shows it approved.
func (a *Checkout) RefundCard(ctx context.Context, in workflows.CardPaymentInput) (workflows.RefundResult, error) {
	res, err := a.CheckoutCom.Refund(ctx, in.PaymentID, checkoutcom.ActionRequest{Amount: in.Amount, Reference: in.OrderID}, attemptKey(in.OrderID, "refund", in.Attempt))
	if err != nil {
		return workflows.RefundResult{}, classify(err)
	}
	return workflows.RefundResult{ID: res.ActionID}, nil
}

// GetCardAction reads the outcome of a void or refund from GET
// /payments/{id}/actions: the action by id, or else the newest of its kind.
// An action not listed yet is not processed yet (Found false).
func (a *Checkout) GetCardAction(ctx context.Context, in workflows.CardActionInput) (workflows.CardActionResult, error) {
	actions, err := a.CheckoutCom.GetActions(ctx, in.PaymentID)
	if err != nil {
		return workflows.CardActionResult{}, classify(err)
	}
	var match *checkoutcom.Action
	for i := range actions {
		act := &actions[i]
		if in.ActionID != "" && act.ID == in.ActionID {
			match = act
			break
		}
		if in.ActionID == "" && string(act.Type) == in.Kind && (match == nil || act.ProcessedOn.After(match.ProcessedOn)) {
			match = act
		}
	}
	if match == nil {
		return workflows.CardActionResult{}, nil
	}
	return workflows.CardActionResult{Found: true, Approved: match.Approved, ResponseCode: match.ResponseCode, ResponseSummary: match.ResponseSummary}, nil
}

// VerifyRehivePayment reads the transaction from Rehive (never trusting the
// webhook body) and checks it pays this order: the order id, a credit to the
// merchant, the currency, the amount at the currency's divisibility, and
// status Complete.
func (a *Checkout) VerifyRehivePayment(ctx context.Context, in workflows.RehivePaymentInput) (workflows.RehivePaymentResult, error) {
	tx, err := a.Rehive.GetTransaction(ctx, in.TxID)
	if err != nil {
		return workflows.RehivePaymentResult{}, classify(err)
	}
	res := workflows.RehivePaymentResult{TxID: in.TxID}
	if tx.Partner != nil {
		res.PayerAccount = tx.Partner.Account
		if tx.Partner.User != nil {
			res.PayerEmail = tx.Partner.User.Email
		}
	}
	mismatch := func(format string, args ...any) (workflows.RehivePaymentResult, error) {
		res.Outcome, res.Reason = workflows.RehiveMismatch, fmt.Sprintf(format, args...)
		return res, nil
	}
	if orderID, _ := tx.Metadata["order_id"].(string); orderID != in.OrderID {
		return mismatch("order_id_mismatch: transaction is for order %q", orderID)
	}
	if tx.TxType != rehive.Credit {
		res.Outcome, res.Reason = workflows.RehiveIgnored, "the payer's "+tx.TxType+" leg"
		return res, nil
	}
	if !a.isMerchant(tx) {
		return mismatch("wrong_recipient: credited to account %s, not the merchant's", tx.Account)
	}
	// Money that reached the merchant for this order but cannot pay it goes
	// back to the payer.
	res.Refundable = tx.Status == rehive.StatusComplete
	if tx.Currency.Code != in.Currency {
		return mismatch("currency_mismatch: paid in %s, order is in %s", tx.Currency.Code, in.Currency)
	}
	want, exact := money.ToDivisibility(in.Amount, in.Currency, tx.Currency.Divisibility)
	if !exact || tx.AbsAmount() != want {
		return mismatch("amount_mismatch: paid %s at divisibility %d, order needs %s", fmt.Sprintf("%d %s", tx.AbsAmount(), tx.Currency.Code), tx.Currency.Divisibility, fmt.Sprintf("%d %s", in.Amount, in.Currency))
	}
	res.Refundable = false
	switch tx.Status {
	case rehive.StatusComplete:
		res.Outcome = workflows.RehivePaid
	case rehive.StatusFailed:
		return mismatch("payment_failed: transaction %s failed on Rehive", in.TxID)
	default:
		res.Outcome, res.Reason = workflows.RehivePending, "status "+tx.Status
	}
	return res, nil
}

func (a *Checkout) isMerchant(tx *rehive.Transaction) bool {
	if a.Merchant.Account != "" {
		return tx.Account == a.Merchant.Account
	}
	return tx.User.Email != "" && tx.User.Email == a.Merchant.Email
}

// RefundRehive reverses a Rehive payment: one collection, with ids derived
// from the payment, debits the merchant and credits the payer. An order may
// have several payments to reverse (a second or a mismatched one).
func (a *Checkout) RefundRehive(ctx context.Context, in workflows.RehiveRefundInput) (workflows.RefundResult, error) {
	tx, err := a.Rehive.GetTransaction(ctx, in.TxID)
	if err != nil {
		return workflows.RefundResult{}, classify(err)
	}
	payer := rehive.CollectionTx{TxType: rehive.Credit, Amount: tx.AbsAmount(), Currency: tx.Currency.Code, Account: in.PayerAccount, User: in.PayerEmail, Status: rehive.StatusComplete}
	merchant := rehive.CollectionTx{TxType: rehive.Debit, Amount: tx.AbsAmount(), Currency: tx.Currency.Code, Account: tx.Account, User: a.Merchant.Email, Status: rehive.StatusComplete}
	// Not "order_id": the reversal must not look like a payment for the order.
	meta := map[string]any{"refund_for_order": in.OrderID, "refund_of": in.TxID}
	payer.Metadata, merchant.Metadata = meta, meta
	payer.ID = rehive.DeriveID("payflow-refund-credit-" + in.TxID)
	merchant.ID = rehive.DeriveID("payflow-refund-debit-" + in.TxID)
	id := rehive.DeriveID("payflow-refund-" + in.TxID)
	if _, err := a.Rehive.CreateCollection(ctx, rehive.CollectionRequest{ID: id, Transactions: []rehive.CollectionTx{merchant, payer}, Status: rehive.StatusComplete}, attemptKey(in.OrderID, "refund-"+in.TxID, in.Attempt)); err != nil {
		return workflows.RefundResult{}, classify(err)
	}
	return workflows.RefundResult{ID: id}, nil
}

// FindRehivePayments lists the merchant account's credits created since
// in.Since and names those whose metadata.order_id is the order: transfers
// the customer posted (from the browser) whose webhooks never came.
func (a *Checkout) FindRehivePayments(ctx context.Context, in workflows.FindRehivePaymentsInput) (workflows.FindRehivePaymentsResult, error) {
	f := rehive.TransactionFilter{Account: a.Merchant.Account, TxType: rehive.Credit, CreatedAfter: in.Since}
	if f.Account == "" {
		f.User = a.Merchant.Email
	}
	txs, err := a.Rehive.ListTransactions(ctx, f)
	if err != nil {
		return workflows.FindRehivePaymentsResult{}, classify(err)
	}
	out := workflows.FindRehivePaymentsResult{TxIDs: []string{}}
	for _, tx := range txs {
		if orderID, _ := tx.Metadata["order_id"].(string); orderID == in.OrderID && tx.TxType == rehive.Credit {
			out.TxIDs = append(out.TxIDs, string(tx.ID))
		}
	}
	return out, nil
}

// SaveOrder writes the read model (run as a local activity).
func (a *Checkout) SaveOrder(ctx context.Context, st workflows.CheckoutState) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	snap := store.OrderSnapshot{
		OrderID: st.OrderID, Status: st.Status, Amount: st.Amount, FailureReason: st.FailureReason,
		RunID: st.RunID, Currency: st.Currency, State: raw,
		PaymentID: st.Payment.ProviderPaymentID, PaymentStatus: st.Payment.Status,
		PaymentProvider: map[string]string{workflows.MethodCard: "checkoutcom", workflows.MethodRehive: "rehive"}[st.Payment.Method],
		TokenSpent:      st.Status != workflows.StatusPending && st.Status != workflows.StatusReserved,
	}
	if n := len(st.Timeline); n > 0 {
		snap.Detail = st.Timeline[n-1].Detail
	}
	for _, l := range st.Lines {
		if l.UnitPrice > 0 || l.Quantity > 0 {
			snap.Lines = append(snap.Lines, store.OrderLine{SKU: l.SKU, Quantity: l.Quantity, UnitPrice: l.UnitPrice})
		}
	}
	return a.Store.SaveOrderSnapshot(ctx, snap)
}
