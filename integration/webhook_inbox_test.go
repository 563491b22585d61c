package integration

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/payflow/payflow/app"
	"github.com/payflow/payflow/testenv"
	"github.com/payflow/payflow/workflows"
)

// ckoWebhook signs a Checkout.com event the way Checkout.com does.
func ckoWebhook(t *testing.T, apiURL string, event map[string]any) testenv.Response {
	t.Helper()
	body, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, []byte(env.Config.CheckoutCom.WebhookSignatureKey))
	mac.Write(body)
	return testenv.Call(t, http.MethodPost, apiURL+"/webhooks/checkoutcom", body, map[string]string{
		"Authorization": env.Config.CheckoutCom.WebhookAuthKey, "Cko-Signature": hex.EncodeToString(mac.Sum(nil)),
	})
}

type inboxItem struct {
	EventID    string `json:"event_id"`
	Status     string `json:"status"`
	Note       string `json:"note"`
	WorkflowID string `json:"workflow_id"`
}

func inboxEvent(t *testing.T, provider, eventID string) inboxItem {
	t.Helper()
	var out struct{ Items []inboxItem }
	env.API(t, http.MethodGet, "/v1/webhooks/inbox?limit=500&provider="+provider, nil).JSON(t, &out)
	for _, it := range out.Items {
		if it.EventID == eventID {
			return it
		}
	}
	return inboxItem{}
}

// An event for an order we do not know is answered 200, recorded, and shown
// to operators as unroutable.
func TestWebhookForUnknownOrderIsRecorded(t *testing.T) {
	t.Parallel()
	id := uid("evt")
	r := ckoWebhook(t, env.APIURL, map[string]any{"id": id, "type": "payment_captured", "created_on": time.Now().Format(time.RFC3339),
		"data": map[string]any{"id": "pay_unknown", "reference": uid("ord_nobody"), "amount": 100, "currency": "USD"}})
	if r.Status != http.StatusOK {
		t.Fatalf("want 200, got %d %s", r.Status, r.Body)
	}
	// Delivered after the answer: the delivery finds no workflow.
	var it inboxItem
	testenv.Eventually(t, 10*time.Second, "the event's delivery", func() bool {
		it = inboxEvent(t, "checkoutcom", id)
		return it.Status != "" && it.Status != "pending"
	})
	if it.Status != "unroutable" || it.Note == "" {
		t.Fatalf("inbox: %+v", it)
	}
}

// With Temporal hung, a webhook is still answered at once (without waiting
// for its delivery's 2 s bound) and kept; the relay delivers it once Temporal
// answers, and the order completes.
func TestWebhookSurvivesTemporalOutage(t *testing.T) {
	t.Parallel()
	sku := product(t, 3300, 1)
	order := uid("ord")
	createCheckout(t, checkoutBody(order, sku, 1, "card", cardToken(t, card3DS)))
	st := waitStatus(t, order, 20*time.Second, workflows.StatusRequiresAction)

	// A second API process whose Temporal hangs: it takes connections and
	// answers nothing, so each call runs into its deadline.
	hung, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hung.Close()
	go func() {
		for {
			c, err := hung.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	cfg := env.Config
	cfg.TemporalAddress = hung.Addr().String()
	cut, err := app.New(cfg, env.Logger)
	if err != nil {
		t.Fatal(err)
	}
	defer cut.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = cut.ServeAPI(ctx, ln) }()
	defer func() { cancel(); <-done }()

	id := uid("evt")
	began := time.Now()
	r := ckoWebhook(t, "http://"+ln.Addr().String(), map[string]any{"id": id, "type": "payment_captured", "created_on": time.Now().Format(time.RFC3339),
		"data": map[string]any{"id": st.Payment.ProviderPaymentID, "reference": order, "amount": 3300, "currency": "USD"}})
	if r.Status != http.StatusOK {
		t.Fatalf("want 200 while Temporal is down, got %d %s", r.Status, r.Body)
	}
	if took := time.Since(began); took >= 2*time.Second {
		t.Fatalf("acknowledged after %s", took)
	}
	if it := inboxEvent(t, "checkoutcom", id); it.Status != "pending" {
		t.Fatalf("want pending in the inbox, got %+v", it)
	}
	// Temporal is back (the healthy process's relay runs every second).
	testenv.Eventually(t, 20*time.Second, "relay delivers the event", func() bool { return inboxEvent(t, "checkoutcom", id).Status == "delivered" })
	if st := waitStatus(t, order, 20*time.Second, workflows.StatusFulfilled, workflows.StatusFailed); st.Status != workflows.StatusFulfilled {
		t.Fatalf("want fulfilled, got %+v", st)
	}
}
