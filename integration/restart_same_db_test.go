package integration

import (
	"net/http"
	"testing"
	"time"

	"github.com/payflow/payflow/testenv"
	"github.com/payflow/payflow/workflows"
)

// TestRestartOnTheSameDatabase is issue 8 item 7, tried as a new user would
// with `make run`: the stack (sandboxes, API, worker) stops and starts again
// on the same PostgreSQL database. The new Rehive sandbox is a new process:
// if its webhook event ids started again where the first one's did, payflow's
// inbox — which keeps the ids it saw — would take every webhook after the
// restart for a duplicate, and a wallet checkout paid from the browser and a
// currency-manager withdrawal would silently never move. Both run before and
// after the restart and must complete, through webhooks.
func TestRestartOnTheSameDatabase(t *testing.T) {
	// Its own stack: restarting the shared one would cut the other tests off.
	// The payment timeout is long, so that a wallet payment can only be
	// noticed through its webhooks within the wait below, not by the
	// timeout's own look at Rehive.
	e, err := testenv.Start(testenv.Options{PaymentTimeout: 60 * time.Second, StallTimeout: 60 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()

	round := func(label string) {
		t.Helper()
		// A wallet checkout paid with a transfer posted from the browser
		// straight to Rehive: payflow learns of it only from Rehive.
		sku := uid("SKU")
		if r := e.API(t, http.MethodPut, "/v1/products/"+sku, map[string]any{"name": "Thing", "price": 1250, "currency": "USD", "stock": 2, "active": true}); r.Status != http.StatusOK {
			t.Fatalf("%s: product: %d %s", label, r.Status, r.Body)
		}
		order := uid("ord")
		if r := e.API(t, http.MethodPost, "/v1/checkouts", checkoutBody(order, sku, 2, "rehive", "")); r.Status != http.StatusCreated {
			t.Fatalf("%s: checkout: %d %s", label, r.Status, r.Body)
		}
		state := func() workflows.CheckoutState {
			var st workflows.CheckoutState
			e.API(t, http.MethodGet, "/v1/checkouts/"+order, nil).JSON(t, &st)
			return st
		}
		testenv.Eventually(t, 20*time.Second, label+": awaiting payment", func() bool { return state().Status == workflows.StatusAwaitingPayment })
		var merchant struct{ Email string }
		e.SandboxCall(t, http.MethodGet, "/sandbox/rehive/_control/merchant", nil).JSON(t, &merchant)
		var cust rehiveUser
		e.SandboxCall(t, http.MethodPost, "/sandbox/rehive/_control/users", map[string]any{
			"email": uid("cust") + "@example.com", "password": "secret-pass", "balances": map[string]int64{"USD": 10000, xlm: 10 * xlmAmount},
		}).JSON(t, &cust)
		if r := e.SandboxCall(t, http.MethodPost, "/sandbox/rehive/_control/transactions", map[string]any{
			"user": cust.Email, "tx_type": "debit", "currency": "USD", "amount": 2500,
			"partner": merchant.Email, "metadata": map[string]any{"order_id": order},
		}); r.Status != http.StatusCreated {
			t.Fatalf("%s: transfer: %d %s", label, r.Status, r.Body)
		}
		testenv.Eventually(t, 30*time.Second, label+": wallet checkout fulfilled", func() bool { return state().Status == workflows.StatusFulfilled })

		// A withdrawal in the managed currency: the currency manager hears
		// of it by webhook, pays it out on the ledger and approves it.
		dest := "G" + testenv.RandomID(8)
		if r := e.API(t, http.MethodPut, "/v1/account-links/"+cust.Account, map[string]string{"ledger_account": dest, "currency": xlm}); r.Status != http.StatusOK {
			t.Fatalf("%s: link: %d %s", label, r.Status, r.Body)
		}
		var tx sandboxRehiveTx
		e.SandboxCall(t, http.MethodPost, "/sandbox/rehive/_control/transactions", map[string]any{
			"user": cust.Email, "tx_type": "debit", "currency": xlm, "amount": xlmAmount,
			"metadata": map[string]any{workflows.MetaLedgerAccount: dest},
		}).JSON(t, &tx)
		testenv.Eventually(t, cmWait, label+": withdrawal complete on Rehive", func() bool {
			var got sandboxRehiveTx
			e.SandboxCall(t, http.MethodGet, "/sandbox/rehive/_control/transactions/"+tx.ID, nil).JSON(t, &got)
			return got.Status == string(workflows.RehiveTxComplete)
		})
		var ltx sandboxLedgerTx
		if r := e.SandboxCall(t, http.MethodGet, "/sandbox/ledger/_control/transactions/"+workflows.LedgerTxIDFor(tx.ID), nil); r.Status != http.StatusOK {
			t.Fatalf("%s: ledger payout: %d %s", label, r.Status, r.Body)
		} else if r.JSON(t, &ltx); ltx.Status != workflows.LedgerComplete || ltx.Amount != xlmAmount {
			t.Fatalf("%s: ledger payout = %+v", label, ltx)
		}
	}

	round("before the restart")
	if err := e.RestartStack(nil); err != nil {
		t.Fatal(err)
	}
	round("after the restart")
}
