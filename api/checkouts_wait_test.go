package api

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/payflow/payflow/workflows"
)

func TestPreferWait(t *testing.T) {
	for header, want := range map[string]time.Duration{
		"":                           0,
		"wait=5":                     5 * time.Second,
		"respond-async, wait=3":      3 * time.Second,
		"return=minimal; WAIT=\"2\"": 2 * time.Second,
		"wait=600":                   maxPreferWait,
		"wait=0":                     0,
		"wait=-4":                    0,
		"wait=soon":                  0,
		"handling=lenient":           0,
	} {
		if got := preferWait(header); got != want {
			t.Errorf("preferWait(%q) = %s, want %s", header, got, want)
		}
	}
}

// fakeStartOp is the start half of the fake's Update-with-Start.
type fakeStartOp struct {
	run     client.WorkflowRun
	started chan struct{}
}

func (o *fakeStartOp) Get(ctx context.Context) (client.WorkflowRun, error) {
	select {
	case <-o.started:
		return o.run, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (f *fakeTemporal) NewWithStartWorkflowOperation(o client.StartWorkflowOptions, _ any, _ ...any) client.WithStartWorkflowOperation {
	return &fakeStartOp{run: fakeRun{id: o.ID}, started: make(chan struct{})}
}

// UpdateWithStartWorkflow starts the run, then answers the update with
// Outcome, or never (no worker takes it) when Outcome is nil.
func (f *fakeTemporal) UpdateWithStartWorkflow(ctx context.Context, o client.UpdateWithStartWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	op := o.StartWorkflowOperation.(*fakeStartOp)
	f.starts.Add(1)
	close(op.started)
	if f.Outcome == nil {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return fakeUpdate{st: *f.Outcome}, nil
}

type fakeUpdate struct{ st workflows.CheckoutState }

func (u fakeUpdate) WorkflowID() string { return u.st.WorkflowID }
func (u fakeUpdate) RunID() string      { return u.st.RunID }
func (u fakeUpdate) UpdateID() string   { return workflows.UpdateFirstOutcome }
func (u fakeUpdate) Get(_ context.Context, v any) error {
	*v.(*workflows.CheckoutState) = u.st
	return nil
}

// Prefer: wait answers with the first outcome when it comes, and otherwise
// with the started run within the request's deadline, never a 503 for a
// checkout that runs.
func TestCreateCheckoutPreferWait(t *testing.T) {
	t.Run("outcome", func(t *testing.T) {
		e := newEdgeApp(t, "", nil)
		putTee(t, e)
		e.temporal.Outcome = &workflows.CheckoutState{OrderID: "ord_w1", RunID: "run-w1", Status: workflows.StatusRequiresAction,
			Payment: workflows.PaymentState{Method: "card", Status: "Pending", ProviderPaymentID: "pay_1", RedirectURL: "https://3ds.example/pay_1"}}
		r := e.do(t, request("POST", "/v1/checkouts", cardCheckout("ord_w1", "tok_wait_00000000"), map[string]string{"Prefer": "wait=5"}))
		var got checkoutCreated
		if err := json.Unmarshal(r.Body, &got); err != nil || r.Status != 201 || r.Header.Get("Preference-Applied") != "wait" ||
			got.Status != workflows.StatusRequiresAction || got.RunID != "run-w1" || got.Payment == nil || got.Payment.RedirectURL != "https://3ds.example/pay_1" {
			t.Fatalf("%d %v %s", r.Status, r.Header, r.Body)
		}
	})
	t.Run("no worker: the run, before the deadline", func(t *testing.T) {
		e := newEdgeApp(t, "", map[string]string{"PAYFLOW_REQUEST_TIMEOUT": "6s"})
		putTee(t, e)
		began := time.Now()
		r := e.do(t, request("POST", "/v1/checkouts", cardCheckout("ord_w2", "tok_wait_00000000"), map[string]string{"Prefer": "wait=10"}))
		var got checkoutCreated
		if err := json.Unmarshal(r.Body, &got); err != nil || r.Status != 201 || r.Header.Get("Preference-Applied") != "" ||
			got.Status != workflows.StatusPending || got.RunID != "run-checkout/ord_w2" || got.Payment != nil {
			t.Fatalf("%d %v %s", r.Status, r.Header, r.Body)
		}
		if d := time.Since(began); d > 3*time.Second {
			t.Fatalf("answered after %s: the wait must leave the start its budget within the 6 s deadline", d)
		}
		if n := e.temporal.starts.Load(); n != 1 {
			t.Fatalf("%d starts, want the one Update-with-Start", n)
		}
	})
}
