package inbox

import (
	"strings"
	"testing"
	"time"

	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/workflows"
)

var policy = Policy{IsManaged: func(c string) bool { return c == "XLM" }, Stall: time.Hour}

func TestRouteCheckoutCom(t *testing.T) {
	r, err := RouteEvent(CheckoutCom, []byte(`{"id":"evt_1","type":"payment_captured","data":{"id":"pay_1","reference":"ord_1","amount":500,"currency":"USD"}}`), policy)
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := r.Arg.(workflows.PaymentEvent)
	if r.WorkflowID != "checkout/ord_1" || r.Signal != workflows.SignalPaymentEvent || r.Start != nil || ev.PaymentID != "pay_1" || ev.Amount != 500 {
		t.Fatalf("%+v", r)
	}
	// The provider's event type is translated at the edge.
	if ev.Card != workflows.CardCaptured {
		t.Fatalf("card event %q, want %q", ev.Card, workflows.CardCaptured)
	}
	// metadata.order_id when there is no reference
	r, _ = RouteEvent(CheckoutCom, []byte(`{"id":"evt_2","type":"payment_approved","data":{"id":"pay_2","metadata":{"order_id":"ord_2"}}}`), policy)
	if r.WorkflowID != "checkout/ord_2" {
		t.Fatalf("%+v", r)
	}
	r, _ = RouteEvent(CheckoutCom, []byte(`{"id":"evt_3","type":"payment_approved","data":{"id":"pay_3"}}`), policy)
	if r.Status != store.InboxUnroutable || r.WorkflowID != "" {
		t.Fatalf("no order: %+v", r)
	}
	if _, err := RouteEvent(CheckoutCom, []byte(`{"type":"x"}`), policy); err == nil {
		t.Fatal("an event without id must not route")
	}
}

func TestRouteRehive(t *testing.T) {
	tx := func(currency string, meta string) string {
		return `{"id":"tx1","tx_type":"credit","status":"Complete","amount":500,"currency":{"code":"` + currency + `","divisibility":2},"metadata":` + meta + `}`
	}
	cases := []struct {
		name, body, workflowID, status string
		start                          bool
	}{
		{"checkout payment", `{"id":7,"company":"acme","event":"transaction.update","data":` + tx("USD", `{"order_id":"ord_9"}`) + `}`, "checkout/ord_9", "", false},
		{"unmanaged without order", `{"id":8,"company":"acme","event":"transaction.create","data":` + tx("USD", `{}`) + `}`, "", store.InboxIgnored, false},
		{"managed status change signals only", `{"id":9,"company":"acme","event":"transaction.update","data":` + tx("XLM", `{}`) + `}`, "rehive-tx/tx1", "", false},
		{"managed transition starts", `{"id":10,"company":"acme","event":"transaction.transition.create","data":{"id":"tr1","transaction":` + tx("XLM", `{}`) + `}}`, "rehive-tx/tx1", "", true},
		{"unmanaged transition ignored", `{"id":11,"company":"acme","event":"transaction.transition.create","data":{"id":"tr2","transaction":` + tx("USD", `{}`) + `}}`, "", store.InboxIgnored, false},
		{"not a transaction event", `{"id":12,"company":"acme","event":"user.create","data":{}}`, "", store.InboxIgnored, false},
	}
	for _, c := range cases {
		r, err := RouteEvent(Rehive, []byte(c.body), policy)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if r.WorkflowID != c.workflowID || r.Status != c.status || (r.Start != nil) != c.start {
			t.Errorf("%s: %+v", c.name, r)
		}
		if r.Optional != (c.name == "managed status change signals only") {
			t.Errorf("%s: optional %v", c.name, r.Optional)
		}
		if r.EventID[:5] != "acme:" {
			t.Errorf("%s: event id %q is not scoped by company", c.name, r.EventID)
		}
	}
	// A transition event that names only the transition is resolved later.
	r, err := RouteEvent(Rehive, []byte(`{"id":13,"company":"acme","event":"transaction.transition.create","data":{"transition_id":"tr3"}}`), policy)
	if err != nil || r.TransitionID != "tr3" || r.WorkflowID != "" || r.Status != "" {
		t.Fatalf("unresolved transition: %+v %v", r, err)
	}
}

func TestRouteLedger(t *testing.T) {
	r, _ := RouteEvent(Ledger, []byte(`{"id":"evt_1","type":"transaction.updated","data":{"id":"rehive-abc","type":"withdrawal","status":"failed","failure_reason":"rejected by the ledger"}}`), policy)
	if r.WorkflowID != "rehive-tx/abc" || r.Start != nil {
		t.Fatalf("ours: %+v", r)
	}
	if ev := r.Arg.(workflows.LedgerEvent); ev.Status != "failed" || ev.FailureReason != "rejected by the ledger" {
		t.Fatalf("the ledger's reason is carried to the workflow: %+v", ev)
	}
	r, _ = RouteEvent(Ledger, []byte(`{"id":"evt_2","type":"transaction.incoming","data":{"id":"ltx_9","type":"deposit","account":"acc","amount":5,"currency":"XLM","required_confirmations":3}}`), policy)
	if r.WorkflowID != "ledger-deposit/ltx_9" || r.Start == nil {
		t.Fatalf("incoming: %+v", r)
	}
	if in := r.Start.Input.(workflows.DepositInput); in.LedgerTxID != "ltx_9" || in.StallTimeout != time.Hour {
		t.Fatalf("input %+v", in)
	}
	r, _ = RouteEvent(Ledger, []byte(`{"id":"evt_3","type":"transaction.updated","data":{"id":"someone-elses","type":"withdrawal"}}`), policy)
	if r.Status != store.InboxIgnored {
		t.Fatalf("foreign withdrawal: %+v", r)
	}
}

func TestRedactDropsTheCardToken(t *testing.T) {
	body := []byte(`{"id":"evt_1","type":"payment_captured","data":{"id":"pay_1","reference":"ord_1","metadata":{"AccelerateToken":"tok_secret","order_id":"ord_1"}}}`)
	out := Redact(CheckoutCom, body)
	if strings.Contains(string(out), "tok_secret") {
		t.Fatalf("token kept: %s", out)
	}
	r, err := RouteEvent(CheckoutCom, out, policy)
	if err != nil || r.WorkflowID != "checkout/ord_1" {
		t.Fatalf("redacted event no longer routes: %+v %v", r, err)
	}
	if got := Redact(Rehive, body); string(got) != string(body) {
		t.Fatal("other providers' events must be kept as they are")
	}
}
