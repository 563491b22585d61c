package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/workflows"
)

// refundTemporal answers the refund update with a scripted refusal and
// records the updates asked for.
type refundTemporal struct {
	*fakeTemporal
	mu      sync.Mutex
	refusal error
	updates []client.UpdateWorkflowOptions
}

func (f *refundTemporal) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.updates = append(f.updates, o)
	return nil, f.refusal
}

func TestRefundRequests(t *testing.T) {
	e := newEdgeApp(t, "", nil)
	tc := &refundTemporal{fakeTemporal: e.temporal}
	e.app = New(Deps{Config: e.cfg, Store: e.store, Temporal: tc, Logger: slog.New(slog.DiscardHandler)})
	ctx := context.Background()
	for id, status := range map[string]workflows.CheckoutStatus{"ord_paid": workflows.StatusFulfilled, "ord_unpaid": workflows.StatusAwaitingPayment, "ord_done": workflows.StatusRefunded} {
		if _, _, err := e.store.CreateOrder(ctx, store.Order{OrderID: id, Status: status, Amount: 3000, Currency: "USD", PaymentMethod: "card", RequestHash: "h", WorkflowID: workflows.CheckoutWorkflowID(id)}); err != nil {
			t.Fatal(err)
		}
	}
	post := func(order, body string, headers map[string]string) result {
		return e.do(t, request(http.MethodPost, "/v1/checkouts/"+order+"/refunds", body, headers))
	}

	for body, field := range map[string]string{
		`{"amount":100}`:                                    "reason",
		`{"amount":0,"reason":"r"}`:                         "amount",
		`{"lines":[],"reason":"r"}`:                         "lines",
		`{"lines":[{"sku":"A","quantity":0}],"reason":"r"}`: "lines[0].quantity",
		`{"lines":[{"sku":"A","quantity":1},{"sku":"A","quantity":1}],"reason":"r"}`: "lines[1].sku",
		`{"reason":"` + strings.Repeat("x", 501) + `"}`:                              "reason",
	} {
		if r := post("ord_paid", body, nil); r.Status != http.StatusBadRequest || r.Error.Fields[field] == "" {
			t.Errorf("%s: %d %+v, want 400 on %s", body, r.Status, r.Error, field)
		}
	}
	if r := post("ord_paid", `{"amount":1,"reason":"r","extra":1}`, nil); r.Status != http.StatusBadRequest {
		t.Errorf("unknown field: %d", r.Status)
	}
	if r := post("ord_nope", `{"reason":"r"}`, nil); r.Status != http.StatusNotFound {
		t.Errorf("unknown order: %d", r.Status)
	}
	if r := post("ord_unpaid", `{"reason":"r"}`, nil); r.Status != http.StatusConflict || r.Error.Code != "checkout_not_refundable" {
		t.Errorf("unpaid order: %d %+v", r.Status, r.Error)
	}
	if r := post("ord_done", `{"reason":"r"}`, nil); r.Status != http.StatusConflict || r.Error.Code != "nothing_refundable" {
		t.Errorf("refunded order: %d %+v", r.Status, r.Error)
	}
	if len(tc.updates) != 0 {
		t.Fatalf("orders that cannot be refunded reached the workflow: %+v", tc.updates)
	}

	// The workflow's refusals are the API's 409s and 422s.
	for typ, want := range map[workflows.ErrType]struct {
		status int
		code   string
	}{
		workflows.ErrTypeRefundTooLarge:    {http.StatusUnprocessableEntity, "amount_exceeds_refundable"},
		workflows.ErrTypeRefundBadLines:    {http.StatusUnprocessableEntity, "invalid_refund_lines"},
		workflows.ErrTypeNothingRefundable: {http.StatusConflict, "nothing_refundable"},
		workflows.ErrTypeRefundNotAllowed:  {http.StatusConflict, "checkout_not_refundable"},
	} {
		tc.refusal = temporal.NewNonRetryableApplicationError("refused", string(typ), nil)
		if r := post("ord_paid", `{"amount":5000,"reason":"r"}`, nil); r.Status != want.status || r.Error.Code != want.code {
			t.Errorf("refusal %s: %d %+v, want %d %s", typ, r.Status, r.Error, want.status, want.code)
		}
	}
	tc.refusal = serviceerror.NewNotFound("workflow closed")
	if r := post("ord_paid", `{"reason":"r"}`, nil); r.Status != http.StatusConflict {
		t.Errorf("closed workflow: %d", r.Status)
	}

	// The refund id is the update id: from the Idempotency-Key when there is
	// one (a retry joins the same refund), else new each time.
	tc.updates = nil
	key := map[string]string{"Idempotency-Key": "refund-key-1"}
	post("ord_paid", `{"amount":100,"reason":"r"}`, key)
	post("ord_paid", `{"amount":100,"reason":"r"}`, key)
	post("ord_paid", `{"amount":100,"reason":"r"}`, nil)
	post("ord_paid", `{"amount":100,"reason":"r"}`, nil)
	ids := []string{}
	for _, u := range tc.updates {
		if u.UpdateName != workflows.UpdateRefund || u.WorkflowID != workflows.CheckoutWorkflowID("ord_paid") {
			t.Fatalf("update %+v", u)
		}
		req := u.Args[0].(workflows.RefundRequest)
		if req.RefundID != u.UpdateID || req.Amount != 100 || req.Reason != "r" {
			t.Fatalf("update %+v carries %+v", u, req)
		}
		ids = append(ids, u.UpdateID)
	}
	if len(ids) != 4 || ids[0] != ids[1] || ids[2] == ids[3] || ids[2] == ids[0] || !strings.HasPrefix(ids[0], "rf_") {
		t.Errorf("refund ids %v: want the keyed two equal, the others new", ids)
	}
}
