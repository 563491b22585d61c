package soak

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/payflow/payflow/workflows"
)

// Checkout scenarios (PRODUCT.md flow 1) and their weights.
var checkoutScenarios = []weighted{
	{"card_approved", 20}, {"card_declined", 6}, {"card_capture_declined", 3}, {"card_3ds_approved", 6}, {"card_3ds_declined", 4},
	{"card_3ds_abandoned", 3}, {"wallet_api", 10}, {"wallet_browser", 8}, {"wallet_wrong_amount", 4},
	{"wallet_duplicate", 4}, {"wallet_abandoned", 3}, {"cancel_before_payment", 6}, {"cancel_after_payment", 6},
	{"card_partial_refund", 5},
}

// checkoutExpected is where each scenario must end. A checkout of the
// scarce product may also fail out of stock, whatever its scenario.
var checkoutExpected = map[string][]string{
	"card_approved": {string(workflows.StatusFulfilled)},
	"card_declined": {string(workflows.StatusFailed)},
	// Authorised, then the capture is declined: an authorisation is not a
	// payment, so never fulfilled. Failed on the decline's webhook; expired
	// at the payment timeout when that webhook was lost.
	"card_capture_declined": {string(workflows.StatusFailed), string(workflows.StatusExpired)},
	"card_3ds_approved":     {string(workflows.StatusFulfilled)},
	"card_3ds_declined":     {string(workflows.StatusFailed)},
	// Never completed by the customer: the payment timeout expires it.
	"card_3ds_abandoned": {string(workflows.StatusExpired)},
	"wallet_api":         {string(workflows.StatusFulfilled)},
	"wallet_browser":     {string(workflows.StatusFulfilled)},
	// A mismatched amount never fulfils; the order ends unpaid (the payment
	// is reversed, which the books check).
	"wallet_wrong_amount":   {string(workflows.StatusExpired), string(workflows.StatusFailed)},
	"wallet_duplicate":      {string(workflows.StatusFulfilled)},
	"wallet_abandoned":      {string(workflows.StatusExpired)},
	"cancel_before_payment": {string(workflows.StatusCancelled)},
	"cancel_after_payment":  {string(workflows.StatusRefunded)},
	// Fulfilled, then part of it refunded through the API: money is kept.
	"card_partial_refund": {string(workflows.StatusPartiallyRefunded)},
}

const (
	cardApproved = "4242424242424242"
	cardDeclined = "4000000000000002"
	// cardCaptureDeclined is approved, then its capture is declined.
	cardCaptureDeclined = "4000000000000259"
	card3DS             = "4000000000003220"
)

func (r *run) setup(ctx context.Context) error {
	if err := r.c.sandbox(http.MethodGet, "/sandbox/rehive/_control/merchant", nil, &r.merchant); err != nil {
		return err
	}
	// One scarce product makes checkouts race for the last units; the others
	// rarely run out.
	for i, stock := range []int64{6, 5000, 5000, 5000} {
		sku := fmt.Sprintf("SOAK-%s-%d", r.tag, i)
		if err := r.c.apiJSON(http.MethodPut, "/v1/products/"+sku, map[string]any{"name": sku, "price": 500 + 100*i, "currency": "USD", "stock": stock}, "", nil, http.StatusOK); err != nil {
			return err
		}
		var p struct{ Stock int64 }
		if err := r.c.apiJSON(http.MethodGet, "/v1/products/"+sku, nil, "", &p, http.StatusOK); err != nil {
			return err
		}
		r.skus[sku] = p.Stock
		r.skuList = append(r.skuList, sku)
	}
	return ctx.Err()
}

func (r *run) checkout(ctx context.Context, j *job) {
	j.orderID = fmt.Sprintf("soak_%s_%s", r.tag, randID(j.rng))
	j.sku = r.skuList[j.rng.IntN(len(r.skuList))]
	j.qty = int64(1 + j.rng.IntN(2))
	j.expected = checkoutExpected[j.scenario]
	payment := map[string]any{"method": "rehive"}
	if strings.HasPrefix(j.scenario, "card") || j.scenario == "cancel_after_payment" {
		card := cardApproved
		switch j.scenario {
		case "card_declined":
			card = cardDeclined
		case "card_capture_declined":
			card = cardCaptureDeclined
		case "card_3ds_approved", "card_3ds_declined", "card_3ds_abandoned":
			card = card3DS
		}
		var tok struct{ Token string }
		var err error
		for attempt := 0; attempt < 10; attempt++ { // the faults strike the token call too
			if err = r.c.sandbox(http.MethodPost, "/sandbox/checkoutcom/tokens", map[string]any{"type": "card", "number": card, "expiry_month": 1, "expiry_year": 2032, "cvv": "123"}, &tok); err == nil {
				break
			}
			time.Sleep(300 * time.Millisecond)
		}
		if err != nil {
			j.note = "token: " + err.Error()
			return
		}
		payment = map[string]any{"method": "card", "processor_token": tok.Token}
	}
	var created struct{ Amount int64 }
	if err := r.c.apiJSON(http.MethodPost, "/v1/checkouts", map[string]any{"order_id": j.orderID, "currency": "USD",
		"lines": []map[string]any{{"sku": j.sku, "quantity": j.qty}}, "payment": payment}, "soak-"+j.orderID, &created, http.StatusCreated, http.StatusOK); err != nil {
		j.note = "create: " + err.Error()
		return
	}
	j.amount = created.Amount
	r.followUp(ctx, j)
}

// followUp does what the customer does after the checkout started.
func (r *run) followUp(ctx context.Context, j *job) {
	wait := func(statuses ...string) workflows.CheckoutState {
		var st workflows.CheckoutState
		for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline) && ctx.Err() == nil; time.Sleep(200 * time.Millisecond) {
			st = r.checkoutState(j.orderID)
			if workflows.IsTerminal(st.Status) {
				return st
			}
			for _, s := range statuses {
				if string(st.Status) == s {
					return st
				}
			}
		}
		return st
	}
	switch j.scenario {
	case "card_3ds_approved", "card_3ds_declined":
		if st := wait(string(workflows.StatusRequiresAction)); st.Status == workflows.StatusRequiresAction {
			outcome := strings.TrimPrefix(j.scenario, "card_3ds_")
			if err := r.c.sandbox(http.MethodPost, "/sandbox/checkoutcom/_control/3ds/"+st.Payment.ProviderPaymentID, map[string]string{"outcome": outcome}, nil); err != nil {
				j.note = "3ds: " + err.Error()
			}
		}
	case "wallet_api":
		if st := wait(string(workflows.StatusAwaitingPayment)); st.Status == workflows.StatusAwaitingPayment {
			u, err := r.customer(j, "USD", 100000)
			if err != nil {
				j.note = err.Error()
				return
			}
			if _, _, err := r.c.api(http.MethodPost, "/v1/checkouts/"+j.orderID+"/rehive/pay", map[string]string{"token": u.Token, "account": u.Account}, "", http.StatusAccepted, http.StatusConflict); err != nil {
				j.note = "pay: " + err.Error()
			}
		}
	case "wallet_browser", "wallet_wrong_amount", "wallet_duplicate":
		if st := wait(string(workflows.StatusAwaitingPayment)); st.Status == workflows.StatusAwaitingPayment {
			u, err := r.customer(j, "USD", 100000)
			if err != nil {
				j.note = err.Error()
				return
			}
			amount := j.amount
			if j.scenario == "wallet_wrong_amount" {
				amount--
			}
			pays := 1
			if j.scenario == "wallet_duplicate" {
				pays = 2
			}
			// The browser posts the transfer to the merchant on Rehive
			// directly; only Rehive's webhook tells payflow.
			for range pays {
				if err := r.c.sandbox(http.MethodPost, "/sandbox/rehive/_control/transactions", map[string]any{"user": u.Email, "tx_type": "debit",
					"currency": "USD", "amount": amount, "partner": r.merchant.Email, "metadata": map[string]any{"order_id": j.orderID}, "status": "Pending"}, nil); err != nil {
					j.note = "browser payment: " + err.Error()
				}
			}
		}
	case "cancel_before_payment":
		if st := wait(string(workflows.StatusAwaitingPayment)); st.Status == workflows.StatusAwaitingPayment {
			_, _, _ = r.c.api(http.MethodPost, "/v1/checkouts/"+j.orderID+"/cancel", nil, "", http.StatusAccepted, http.StatusConflict)
		}
	case "cancel_after_payment":
		if st := wait(string(workflows.StatusFulfilled)); st.Status == workflows.StatusFulfilled {
			_, _, _ = r.c.api(http.MethodPost, "/v1/checkouts/"+j.orderID+"/cancel", nil, "", http.StatusAccepted, http.StatusConflict)
		}
	case "card_partial_refund":
		if st := wait(string(workflows.StatusFulfilled)); st.Status == workflows.StatusFulfilled {
			r.partialRefunds(ctx, j)
		}
	}
}

type rehiveUser struct{ Email, Account, Token string }

func (r *run) customer(j *job, currency string, balance int64) (rehiveUser, error) {
	var u rehiveUser
	email := fmt.Sprintf("soak-%s-%s@soak.test", r.tag, randID(j.rng))
	err := r.c.sandbox(http.MethodPost, "/sandbox/rehive/_control/users", map[string]any{"email": email, "password": "soak-password", "balances": map[string]int64{currency: balance}}, &u)
	if err != nil {
		return u, fmt.Errorf("rehive user: %w", err)
	}
	u.Email = email
	return u, nil
}

func (r *run) checkoutState(orderID string) workflows.CheckoutState {
	var st workflows.CheckoutState
	if raw, _, err := r.c.api(http.MethodGet, "/v1/checkouts/"+orderID, nil, "", http.StatusOK); err == nil {
		_ = json.Unmarshal(raw, &st)
	}
	return st
}

func randID(rng interface{ Uint64() uint64 }) string {
	return fmt.Sprintf("%012x", rng.Uint64()&0xffffffffffff)
}
