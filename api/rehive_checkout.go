package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/payflow/payflow/money"
	"github.com/payflow/payflow/providers/httpx"
	"github.com/payflow/payflow/providers/rehive"
	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/workflows"
)

// The customer's Rehive token is used inside these two requests only: it is
// never stored, logged, or passed to a workflow.

// maxRehiveToken bounds the customer's token (Rehive's are far shorter).
const maxRehiveToken = 1024

type rehiveTokenBody struct {
	Token   string `json:"token"`
	Account string `json:"account,omitempty"`
}

// rehiveOrder loads an order paid from a Rehive wallet that still awaits payment.
func (s *server) rehiveOrder(c *fiber.Ctx, body *rehiveTokenBody) (store.Order, error) {
	if err := decodeJSON(c, body); err != nil {
		return store.Order{}, err
	}
	if body.Token == "" || len(body.Token) > maxRehiveToken {
		return store.Order{}, invalidFields(map[string]string{"token": "the customer's Rehive token"})
	}
	if body.Account != "" && !providerIDPattern.MatchString(body.Account) {
		return store.Order{}, invalidFields(map[string]string{"account": "a Rehive account reference"})
	}
	order, err := s.loadOrder(c)
	if err != nil {
		return order, err
	}
	if order.PaymentMethod != workflows.MethodRehive {
		return order, errorf(http.StatusConflict, "wrong_payment_method", "this checkout is paid by "+order.PaymentMethod)
	}
	switch order.Status {
	case workflows.StatusAwaitingPayment:
		return order, nil
	case workflows.StatusPending, workflows.StatusReserved:
		// Paying before stock is reserved could leave money with no order to
		// fulfil; the client retries in a moment.
		c.Set(fiber.HeaderRetryAfter, "1")
		return order, errorf(http.StatusConflict, "checkout_not_ready", "the checkout is not awaiting payment yet; retry shortly")
	}
	return order, errorf(http.StatusConflict, "checkout_final", "the checkout is already "+string(order.Status))
}

// rehiveAccounts lists the customer's accounts with balances per currency.
func (s *server) rehiveAccounts(c *fiber.Ctx) error {
	var body rehiveTokenBody
	if _, err := s.rehiveOrder(c, &body); err != nil {
		return err
	}
	accounts, err := s.customerAccounts(c.UserContext(), body.Token)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"accounts": accounts})
}

func (s *server) customerAccounts(ctx context.Context, token string) ([]rehive.Account, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	accounts, err := s.Rehive.Accounts(ctx, token)
	if err != nil {
		return nil, rehiveError(err)
	}
	return accounts, nil
}

// rehivePay posts the transfer from the customer's account to the merchant,
// tagged with metadata.order_id; Rehive's webhook then moves the workflow.
func (s *server) rehivePay(c *fiber.Ctx) error {
	var body rehiveTokenBody
	order, err := s.rehiveOrder(c, &body)
	if err != nil {
		return err
	}
	if body.Account == "" {
		return invalidFields(map[string]string{"account": "the Rehive account reference to pay from"})
	}
	accounts, err := s.customerAccounts(c.UserContext(), body.Token)
	if err != nil {
		return err
	}
	var bal *rehive.AccountCurrency
	for i := range accounts {
		if accounts[i].Reference == body.Account {
			bal = accounts[i].Currency(order.Currency)
		}
	}
	if bal == nil {
		return errorf(http.StatusUnprocessableEntity, "account_unusable", "the account does not exist or holds no "+order.Currency)
	}
	amount, ok := money.ToDivisibility(order.Amount, order.Currency, bal.Currency.Divisibility)
	if !ok {
		return errorf(http.StatusUnprocessableEntity, "amount_unrepresentable", "the amount cannot be paid at this currency's divisibility")
	}
	if bal.AvailableBalance < amount {
		return errorf(http.StatusUnprocessableEntity, "insufficient_funds", "the account's available balance is too low")
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), 15*time.Second)
	defer cancel()
	// Rehive replays every answer under an idempotency key, refusals too, so
	// a fixed key per order would make a refused payment (say, a balance
	// topped up since) fail forever. Each attempt has its own key; what keeps
	// a retry — after a lost answer, or a double click — from paying twice is
	// the per-order lock and the look for a transfer already made.
	var tx *rehive.Transaction
	merchantLeg := func() string { // the credit the workflow verifies
		if tx.Partner != nil && tx.Partner.ID != "" {
			return string(tx.Partner.ID)
		}
		return string(tx.ID)
	}
	err = s.Store.WithLock(ctx, "rehive-pay:"+order.OrderID, func() error {
		prior, err := s.transferFor(ctx, order)
		if err != nil || prior != nil {
			tx = prior
			merchantLeg = func() string { return string(prior.ID) }
			return err
		}
		meta := map[string]any{"order_id": order.OrderID}
		tx, err = s.Rehive.Transfer(ctx, body.Token, rehive.TransferRequest{
			Amount: amount, Currency: order.Currency, Recipient: s.Config.Rehive.MerchantEmail,
			DebitAccount: body.Account, DebitMetadata: meta, CreditMetadata: meta, Reference: order.OrderID,
		}, "payflow-"+order.OrderID+"-rehive-pay-"+attemptID())
		return err
	})
	switch {
	case errors.Is(err, store.ErrBusy):
		return errorf(http.StatusConflict, "request_in_progress", "a payment for this order is being posted; retry shortly")
	case err != nil && store.IsUnavailable(err):
		return s.storeError(err)
	case err != nil:
		return rehiveError(err)
	}
	s.handTransferToWorkflow(c.UserContext(), order, merchantLeg())
	return c.Status(http.StatusAccepted).JSON(fiber.Map{"order_id": order.OrderID, "status": order.Status, "rehive_tx_id": string(tx.ID)})
}

// transferFor finds a transfer already posted for the order that has not
// failed: the merchant's credit leg carries metadata.order_id.
func (s *server) transferFor(ctx context.Context, order store.Order) (*rehive.Transaction, error) {
	f := rehive.TransactionFilter{Account: s.Config.Rehive.MerchantAccount, TxType: rehive.Credit, CreatedAfter: order.CreatedAt.Add(-time.Minute)}
	if f.Account == "" {
		f.User = s.Config.Rehive.MerchantEmail
	}
	txs, err := s.Rehive.ListTransactions(ctx, f)
	if err != nil {
		return nil, err
	}
	for i := range txs {
		if id, _ := txs[i].Metadata["order_id"].(string); id == order.OrderID && txs[i].Status != rehive.StatusFailed {
			return &txs[i], nil
		}
	}
	return nil, nil
}

// attemptID makes one payment attempt's idempotency key unique.
func attemptID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// handTransferToWorkflow tells the checkout about the transfer at once: the
// merchant's side (the credit leg, the debit's partner) is what pays the
// order, and the workflow verifies it with Rehive, so it needs no webhook and
// its timeout asks about this transaction. A failed signal is only logged:
// the webhook, and the timeout's listing of the merchant's credits, still
// find the transfer.
func (s *server) handTransferToWorkflow(ctx context.Context, order store.Order, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := s.Temporal.SignalWorkflow(ctx, order.WorkflowID, "", workflows.SignalPaymentEvent, workflows.PaymentEvent{
		Provider: "rehive", EventID: "api:" + id, Type: workflows.EventAPITransfer, PaymentID: id,
		Amount: order.Amount, Currency: order.Currency,
	})
	if err != nil {
		s.log.Warn("transfer not handed to the workflow; the webhook or the timeout will find it", "order_id", order.OrderID, "rehive_tx_id", id, "error", err)
	}
}

// rehiveError maps a Rehive failure for the caller without echoing anything
// that could hold the customer's token.
func rehiveError(err error) error {
	switch httpx.ClassOf(err) {
	case httpx.Auth:
		return errorf(http.StatusUnprocessableEntity, "rehive_token_rejected", "Rehive rejected the customer's token")
	case httpx.Invalid, httpx.Declined, httpx.Conflict, httpx.NotFound:
		var pe *httpx.Error
		msg := "Rehive refused the request"
		if errors.As(err, &pe) && pe.Message != "" {
			msg += ": " + pe.Message
		}
		return errorf(http.StatusUnprocessableEntity, "rehive_rejected", msg)
	}
	return errorf(http.StatusServiceUnavailable, "rehive_unavailable", "Rehive is unavailable; retry")
}
