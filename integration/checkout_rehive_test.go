package integration

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/payflow/payflow/workflows"
)

type rehiveUser struct {
	Email   string `json:"email"`
	Account string `json:"account"`
	Token   string `json:"token"`
}

func rehiveCustomer(t *testing.T, balances map[string]int64) rehiveUser {
	t.Helper()
	var u rehiveUser
	r := env.SandboxCall(t, http.MethodPost, "/sandbox/rehive/_control/users", map[string]any{
		"email": uid("cust") + "@example.com", "password": "secret-pass", "balances": balances,
	})
	if r.Status >= 300 {
		t.Fatalf("rehive user: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &u)
	return u
}

// The customer pays through payflow's API: accounts with balances, then the
// transfer to the merchant; Rehive's webhook fulfils the order.
func TestRehiveWalletPaymentThroughAPI(t *testing.T) {
	t.Parallel()
	sku := product(t, 1999, 3)
	order := uid("ord")
	createCheckout(t, checkoutBody(order, sku, 2, "rehive", ""))
	waitStatus(t, order, 20*time.Second, workflows.StatusAwaitingPayment)
	cust := rehiveCustomer(t, map[string]int64{"USD": 100000})

	r := env.API(t, http.MethodPost, "/v1/checkouts/"+order+"/rehive/accounts", map[string]string{"token": cust.Token})
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), cust.Account) || !strings.Contains(string(r.Body), "100000") {
		t.Fatalf("accounts: %d %s", r.Status, r.Body)
	}
	if r := env.API(t, http.MethodPost, "/v1/checkouts/"+order+"/rehive/accounts", map[string]string{"token": "not-a-token"}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad token: want 422, got %d %s", r.Status, r.Body)
	}
	r = env.API(t, http.MethodPost, "/v1/checkouts/"+order+"/rehive/pay", map[string]string{"token": cust.Token, "account": cust.Account})
	if r.Status != http.StatusAccepted {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	st := waitStatus(t, order, 20*time.Second, workflows.StatusFulfilled, workflows.StatusFailed, workflows.StatusExpired)
	if st.Status != workflows.StatusFulfilled || st.Payment.ProviderPaymentID == "" {
		t.Fatalf("want fulfilled, got %+v", st)
	}
	if stock, reserved := getProduct(t, sku); stock != 1 || reserved != 0 {
		t.Fatalf("stock %d reserved %d", stock, reserved)
	}
	// The customer's token never reaches the read model or the timeline.
	raw := env.API(t, http.MethodGet, "/v1/checkouts/"+order, nil).Body
	if strings.Contains(string(raw), cust.Token) {
		t.Fatal("customer token in checkout state")
	}
}

// A transfer posted from the browser straight to Rehive, with the wrong
// amount or currency, never fulfils; the reason is recorded and the order
// expires with its stock released.
func TestRehiveMismatchNeverFulfils(t *testing.T) {
	t.Parallel()
	merchant := merchantEmail(t)
	cases := []struct {
		name, currency string
		amount         int64
		reason         string
	}{
		{"amount", "USD", 1000, "amount_mismatch"},
		{"currency", "EUR", 2500, "currency_mismatch"},
	}
	for _, c := range cases {
		sku := product(t, 2500, 2)
		order := uid("ord")
		createCheckout(t, checkoutBody(order, sku, 1, "rehive", ""))
		waitStatus(t, order, 20*time.Second, workflows.StatusAwaitingPayment)
		cust := rehiveCustomer(t, map[string]int64{"USD": 100000, "EUR": 100000})
		r := env.SandboxCall(t, http.MethodPost, "/sandbox/rehive/_control/transactions", map[string]any{
			"user": cust.Email, "tx_type": "debit", "currency": c.currency, "amount": c.amount,
			"partner": merchant, "metadata": map[string]any{"order_id": order}, "status": "Pending",
		})
		if r.Status >= 300 {
			t.Fatalf("%s: transaction: %d %s", c.name, r.Status, r.Body)
		}
		st := waitStatus(t, order, 30*time.Second, workflows.StatusFulfilled, workflows.StatusExpired, workflows.StatusFailed)
		if st.Status != workflows.StatusExpired || !strings.Contains(st.FailureReason, c.reason) {
			t.Fatalf("%s: want expired with %s, got %s %q", c.name, c.reason, st.Status, st.FailureReason)
		}
		if stock, reserved := getProduct(t, sku); stock != 2 || reserved != 0 {
			t.Fatalf("%s: stock %d reserved %d", c.name, stock, reserved)
		}
	}
}

func TestRehiveNoPaymentExpires(t *testing.T) {
	t.Parallel()
	sku := product(t, 500, 4)
	order := uid("ord")
	createCheckout(t, checkoutBody(order, sku, 4, "rehive", ""))
	waitStatus(t, order, 20*time.Second, workflows.StatusAwaitingPayment)
	if _, reserved := getProduct(t, sku); reserved != 4 {
		t.Fatalf("reserved %d, want 4", reserved)
	}
	st := waitStatus(t, order, 30*time.Second, workflows.StatusExpired, workflows.StatusFulfilled, workflows.StatusFailed)
	if st.Status != workflows.StatusExpired {
		t.Fatalf("want expired, got %+v", st)
	}
	if stock, reserved := getProduct(t, sku); stock != 4 || reserved != 0 {
		t.Fatalf("stock %d reserved %d", stock, reserved)
	}
}

func merchantEmail(t *testing.T) string {
	t.Helper()
	var m struct{ Email string }
	env.SandboxCall(t, http.MethodGet, "/sandbox/rehive/_control/merchant", nil).JSON(t, &m)
	if m.Email == "" {
		t.Fatal("no merchant")
	}
	return m.Email
}
