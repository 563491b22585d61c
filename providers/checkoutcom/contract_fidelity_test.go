package checkoutcom_test

import (
	"context"
	"net/http"
	"reflect"
	"slices"
	"testing"

	"github.com/payflow/payflow/providers/checkoutcom"
	"github.com/payflow/payflow/providers/httpx"
)

// eventsOf returns the types of a payment's events, in the order they
// happened.
func (e *env) eventsOf(paymentID string) []checkoutcom.EventType {
	e.t.Helper()
	var out []checkoutcom.EventType
	for _, ev := range byTime(e.events()) {
		if ev.Data.ID == paymentID {
			out = append(out, ev.Type)
		}
	}
	return out
}

func TestContractCaptureAfterApproval(t *testing.T) {
	e := newEnv(t, 0)
	p, err := e.pay(e.token(cardOK), "ord_cap", true, "k-cap")
	// The 201 is the authorization; the capture is its own later step.
	if err != nil || p.Status != checkoutcom.StatusAuthorized || !p.Approved {
		t.Fatalf("payment = %+v %v", p, err)
	}
	want := []checkoutcom.EventType{checkoutcom.EventPaymentApproved, checkoutcom.EventPaymentCaptured}
	if got := e.eventsOf(p.ID); !reflect.DeepEqual(got, want) {
		t.Errorf("events = %v", got)
	}
	assertStatus(t, e, p.ID, checkoutcom.StatusCaptured)
}

func TestContractDeclinedActions(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()

	t.Run("capture declined", func(t *testing.T) {
		p, err := e.pay(e.token("4000000000000259"), "ord_capdecl", true, "k-capdecl")
		if err != nil || !p.Approved {
			t.Fatalf("payment = %+v %v", p, err)
		}
		want := []checkoutcom.EventType{checkoutcom.EventPaymentApproved, checkoutcom.EventPaymentCapturePending, checkoutcom.EventPaymentCaptureDeclined}
		if got := e.eventsOf(p.ID); !reflect.DeepEqual(got, want) {
			t.Errorf("events = %v", got)
		}
		assertStatus(t, e, p.ID, checkoutcom.StatusAuthorized)
		acts, err := e.client.GetActions(ctx, p.ID)
		if err != nil || len(acts) != 2 || acts[0].Type != checkoutcom.ActionType("Capture") || acts[0].Approved {
			t.Errorf("actions = %+v %v", acts, err)
		}
	})
	t.Run("refund declined", func(t *testing.T) {
		p, err := e.pay(e.token("4000000000000267"), "ord_refdecl", true, "k-refdecl")
		if err != nil {
			t.Fatal(err)
		}
		e.sb.Flush()
		if _, err := e.client.Refund(ctx, p.ID, checkoutcom.ActionRequest{Reference: "ord_refdecl"}, "k-refdecl-1"); err != nil {
			t.Fatal(err)
		}
		got := e.eventsOf(p.ID)
		if !slices.Contains(got, checkoutcom.EventPaymentRefundPending) || got[len(got)-1] != checkoutcom.EventPaymentRefundDeclined {
			t.Errorf("events = %v", got)
		}
		assertStatus(t, e, p.ID, checkoutcom.StatusCaptured)
	})
	t.Run("void declined", func(t *testing.T) {
		p, err := e.pay(e.token("4000000000000275"), "ord_voiddecl", false, "k-voiddecl")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.client.Void(ctx, p.ID, checkoutcom.ActionRequest{}, "k-voiddecl-1"); err != nil {
			t.Fatal(err)
		}
		if got := e.eventsOf(p.ID); got[len(got)-1] != checkoutcom.EventPaymentVoidDeclined {
			t.Errorf("events = %v", got)
		}
		assertStatus(t, e, p.ID, checkoutcom.StatusAuthorized)
	})
}

func TestContractThreeDSRequestedByTheClient(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	plain := checkoutcom.New(checkoutcom.Config{BaseURL: e.url, SecretKey: secretKey, ProcessingChannelID: "pc_contract000000000000000000"})
	req := func(tok string) checkoutcom.PaymentRequest {
		return checkoutcom.PaymentRequest{Token: tok, Amount: 100, Currency: "EUR", Reference: "ord_sca", Capture: true}
	}
	// Not asked: the 3DS card is the soft decline 20154.
	p, err := plain.RequestPayment(ctx, req(e.token(card3DS)), "k-sca-1")
	if err != nil || !p.Declined() || p.ResponseCode != "20154" {
		t.Errorf("without 3DS = %+v %v", p, err)
	}
	// Asked (Config.ThreeDS): a challenge.
	p, err = e.client.RequestPayment(ctx, req(e.token(card3DS)), "k-sca-2")
	if err != nil || p.HTTPStatus != http.StatusAccepted || p.RedirectURL == "" {
		t.Errorf("with 3DS = %+v %v", p, err)
	}
	// Frictionless with 3DS asked: approved at once.
	if p, err = e.client.RequestPayment(ctx, req(e.token(cardOK)), "k-sca-3"); err != nil || p.HTTPStatus != http.StatusCreated || !p.Approved {
		t.Errorf("frictionless = %+v %v", p, err)
	}
	// The processing channel is required.
	none := checkoutcom.New(checkoutcom.Config{BaseURL: e.url, SecretKey: secretKey})
	_, err = none.RequestPayment(ctx, req(e.token(cardOK)), "k-sca-4")
	if pe := classOf(t, err); pe.Class != httpx.Invalid || !reflect.DeepEqual(pe.Codes, []string{"processing_channel_id_required"}) {
		t.Errorf("no channel: %v", err)
	}
}

func TestContractCheckoutTestCards(t *testing.T) {
	e := newEnv(t, 0)
	for number, code := range map[string]string{
		"4544249167673670": "20051", "4724117215951699": "20054", "4897453568485113": "20059", "4111111111111129": "20001",
	} {
		p, err := e.pay(e.token(number), "ord_card", true, "k-"+number)
		if err != nil || !p.Declined() || p.ResponseCode != code {
			t.Errorf("%s = %+v %v, want %s", number, p, err, code)
		}
	}
}
