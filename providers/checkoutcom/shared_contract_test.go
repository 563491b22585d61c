package checkoutcom_test

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/payflow/payflow/providers/checkoutcom"
	"github.com/payflow/payflow/providers/httpx"
)

// target is what the shared contract cases need of a Checkout.com: a client
// and card tokens. The cases run against payflow's sandbox in every build
// (TestSharedContract) and against Checkout.com's own sandbox under
// -tags contract when credentials are given (TestRealSandbox).
type target struct {
	client *checkoutcom.Client
	token  func(t *testing.T, number string) string
	run    string // makes references unique per run: the real sandbox keeps them
}

// eventually polls f until it holds, for outcomes that arrive later.
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !f(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30 s", what)
		}
	}
}

var sharedCases = []struct {
	name string
	run  func(t *testing.T, tg target)
}{
	{"approved, then captured; replayed; found by reference", func(t *testing.T, tg target) {
		ctx := context.Background()
		ref := "ord-ct-" + tg.run
		tok := tg.token(t, cardOK)
		req := checkoutcom.PaymentRequest{Token: tok, Amount: 1234, Currency: "EUR", Reference: ref, Capture: true}
		p, err := tg.client.RequestPayment(ctx, req, "ct-"+tg.run)
		if err != nil || p.HTTPStatus != http.StatusCreated || !p.Approved || p.ResponseCode != "10000" {
			t.Fatalf("payment = %+v %v", p, err)
		}
		again, err := tg.client.RequestPayment(ctx, req, "ct-"+tg.run)
		if err != nil || again.ID != p.ID {
			t.Fatalf("replay = %+v %v", again, err)
		}
		_, err = tg.client.RequestPayment(ctx, req, "ct-other-"+tg.run)
		if pe := classOf(t, err); pe.Class != httpx.Invalid {
			t.Errorf("token reused: %v", err)
		}
		eventually(t, "captured", func() bool {
			got, err := tg.client.GetPayment(ctx, p.ID)
			return err == nil && got.Status == checkoutcom.StatusCaptured
		})
		found, err := tg.client.FindPaymentsByReference(ctx, ref)
		if err != nil || len(found) != 1 || found[0].ID != p.ID {
			t.Errorf("by reference = %+v %v", found, err)
		}
	}},
	{"declined card", func(t *testing.T, tg target) {
		p, err := tg.client.RequestPayment(context.Background(), checkoutcom.PaymentRequest{
			Token: tg.token(t, "4544249167673670"), Amount: 1000, Currency: "EUR", Reference: "ord-ct-decl-" + tg.run, Capture: true,
		}, "ct-decl-"+tg.run)
		if err != nil || !p.Declined() || p.ResponseCode != "20051" {
			t.Errorf("payment = %+v %v", p, err)
		}
	}},
	{"void, then 403 for a capture", func(t *testing.T, tg target) {
		ctx := context.Background()
		p, err := tg.client.RequestPayment(ctx, checkoutcom.PaymentRequest{
			Token: tg.token(t, cardOK), Amount: 500, Currency: "EUR", Reference: "ord-ct-void-" + tg.run, Capture: false,
		}, "ct-void-"+tg.run)
		if err != nil || p.Status != checkoutcom.StatusAuthorized {
			t.Fatalf("payment = %+v %v", p, err)
		}
		if _, err := tg.client.Void(ctx, p.ID, checkoutcom.ActionRequest{Reference: "void-" + tg.run}, "ct-void-a-"+tg.run); err != nil {
			t.Fatal(err)
		}
		eventually(t, "voided", func() bool {
			got, err := tg.client.GetPayment(ctx, p.ID)
			return err == nil && got.Status == checkoutcom.StatusVoided
		})
		_, err = tg.client.Capture(ctx, p.ID, checkoutcom.ActionRequest{}, "ct-void-c-"+tg.run)
		if pe := classOf(t, err); pe.Class != httpx.Conflict || pe.Status != http.StatusForbidden {
			t.Errorf("capture after void: %v", err)
		}
		acts, err := tg.client.GetActions(ctx, p.ID)
		var kinds []checkoutcom.ActionType
		for _, a := range acts {
			kinds = append(kinds, a.Type)
		}
		if err != nil || !reflect.DeepEqual(kinds, []checkoutcom.ActionType{"Void", "Authorization"}) {
			t.Errorf("actions = %v %v", kinds, err)
		}
	}},
}

func runShared(t *testing.T, tg target) {
	for _, c := range sharedCases {
		t.Run(c.name, func(t *testing.T) { c.run(t, tg) })
	}
}

// TestSharedContract runs the shared cases against payflow's sandbox.
func TestSharedContract(t *testing.T) {
	e := newEnv(t, 0)
	runShared(t, target{client: e.client, token: func(t *testing.T, n string) string { return e.token(n) },
		run: fmt.Sprint(time.Now().UnixNano())})
}
