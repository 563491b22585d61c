package integration

import (
	"net/http"
	"testing"
	"time"

	"github.com/payflow/payflow/testenv"
	"github.com/payflow/payflow/workflows"
)

// createWaiting posts a checkout with Prefer: wait=5 and decodes the answer.
func createWaiting(t *testing.T, body map[string]any) (int, http.Header, map[string]any) {
	t.Helper()
	r := testenv.Call(t, http.MethodPost, env.APIURL+"/v1/checkouts", body, map[string]string{
		"Authorization": "Bearer " + env.Config.APIKeys[0], "Prefer": "wait=5",
	})
	return r.Status, r.Header, r.Map(t)
}

// POST /v1/checkouts with Prefer: wait answers with the charge's first
// outcome in its one round trip (Update-with-Start).
func TestCreateCheckoutWaitsForFirstOutcome(t *testing.T) {
	t.Parallel()
	t.Run("approved", func(t *testing.T) {
		t.Parallel()
		order := uid("ord")
		body := checkoutBody(order, product(t, 1500, 3), 1, "card", cardToken(t, cardApproved))
		status, h, res := createWaiting(t, body)
		if status != http.StatusCreated || h.Get("Preference-Applied") != "wait" {
			t.Fatalf("create: %d %v %v", status, h, res)
		}
		// The charge is answered Authorized; the capture's webhook follows.
		pay, _ := res["payment"].(map[string]any)
		if res["status"] != string(workflows.StatusAwaitingPayment) && res["status"] != string(workflows.StatusFulfilled) || pay["provider_payment_id"] == nil || pay["provider_payment_id"] == "" || res["run_id"] == nil || res["run_id"] == "" {
			t.Fatalf("first outcome: %v", res)
		}
		waitStatus(t, order, 20*time.Second, workflows.StatusFulfilled)
		// A repeat answers as the order stands, without an update.
		if status, h, res := createWaiting(t, body); status != http.StatusOK || h.Get("Preference-Applied") != "" || res["payment"] != nil {
			t.Fatalf("repeat: %d %v %v", status, h, res)
		}
		recordHistory(t, "card_first_outcome_lean", order)
	})
	t.Run("3-D Secure", func(t *testing.T) {
		t.Parallel()
		order := uid("ord")
		status, _, res := createWaiting(t, checkoutBody(order, product(t, 1500, 3), 1, "card", cardToken(t, card3DS)))
		pay, _ := res["payment"].(map[string]any)
		if status != http.StatusCreated || res["status"] != string(workflows.StatusRequiresAction) || pay["redirect_url"] == "" || pay["redirect_url"] == nil {
			t.Fatalf("create: %d %v", status, res)
		}
	})
	t.Run("declined", func(t *testing.T) {
		t.Parallel()
		order := uid("ord")
		status, _, res := createWaiting(t, checkoutBody(order, product(t, 1500, 3), 1, "card", cardToken(t, cardDeclined)))
		if status != http.StatusCreated || res["status"] != string(workflows.StatusFailed) || res["failure_reason"] != workflows.ReasonPaymentDeclined {
			t.Fatalf("create: %d %v", status, res)
		}
	})
	t.Run("without the preference, as before", func(t *testing.T) {
		t.Parallel()
		order := uid("ord")
		r := env.API(t, http.MethodPost, "/v1/checkouts", checkoutBody(order, product(t, 1500, 3), 1, "card", cardToken(t, cardApproved)))
		res := r.Map(t)
		if r.Status != http.StatusCreated || res["status"] != string(workflows.StatusPending) || res["payment"] != nil || r.Header.Get("Preference-Applied") != "" {
			t.Fatalf("create: %d %v", r.Status, res)
		}
	})
}
