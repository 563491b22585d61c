package checkoutcom_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/payflow/payflow/providers/checkoutcom"
	"github.com/payflow/payflow/providers/httpx"
	cksandbox "github.com/payflow/payflow/sandbox/checkoutcom"
)

func TestContractFindPaymentsByReference(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	// More than one page of 100, plus a payment of another reference.
	var want []string
	for i := range 103 {
		p, err := e.pay(e.token(cardOK), "ord_many", false, fmt.Sprintf("k-many-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		want = append([]string{p.ID}, want...) // newest first
	}
	if _, err := e.pay(e.token(cardOK), "ord_else", false, "k-else"); err != nil {
		t.Fatal(err)
	}
	got, err := e.client.FindPaymentsByReference(ctx, "ord_many")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range got {
		ids = append(ids, p.ID)
		if p.Reference != "ord_many" || p.Status != checkoutcom.StatusAuthorized || p.Amount != 2500 {
			t.Fatalf("payment = %+v", p)
		}
	}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("ids (%d) not the %d payments newest first", len(ids), len(want))
	}
	if none, err := e.client.FindPaymentsByReference(ctx, "ord_none"); err != nil || len(none) != 0 {
		t.Errorf("unknown reference = %v %v", none, err)
	}
}

// TestContractLostAnswers: a charge carried out whose answer is lost, in each
// lose_mode, and what the client sees when it retries with the same key.
// Each ends with exactly one payment, found by reference.
func TestContractLostAnswers(t *testing.T) {
	e := newEnv(t, 300*time.Millisecond)
	ctx := context.Background()
	one := func(t *testing.T, ref string) checkoutcom.Payment {
		t.Helper()
		ps, err := e.client.FindPaymentsByReference(ctx, ref)
		if err != nil || len(ps) != 1 || !ps[0].Approved {
			t.Fatalf("payments of %s = %+v %v", ref, ps, err)
		}
		return ps[0]
	}

	t.Run("5xx: the retry meets token_used", func(t *testing.T) {
		e.faults(map[string]any{"lose_answers_next": 1, "lose_mode": "5xx"})
		_, err := e.pay(e.token(cardOK), "ord_lost_5xx", true, "k-lost-5xx")
		if pe := classOf(t, err); pe.Class != httpx.Invalid || !reflect.DeepEqual(pe.Codes, []string{"token_used"}) {
			t.Fatalf("err = %v", err)
		}
		one(t, "ord_lost_5xx")
	})
	t.Run("reset: the retry gets the replay", func(t *testing.T) {
		e.faults(map[string]any{"lose_answers_next": 1, "lose_mode": "reset"})
		p, err := e.pay(e.token(cardOK), "ord_lost_reset", true, "k-lost-reset")
		if err != nil || p.ID != one(t, "ord_lost_reset").ID {
			t.Fatalf("payment = %+v %v", p, err)
		}
	})
	t.Run("hang: in flight while held, then the replay", func(t *testing.T) {
		e.faults(map[string]any{"lose_answers_next": 1, "lose_mode": "hang"})
		tok := e.token(cardOK)
		held, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		patient := checkoutcom.New(checkoutcom.Config{BaseURL: e.url, SecretKey: secretKey, ProcessingChannelID: "pc_contract000000000000000000", Timeout: time.Minute})
		go func() {
			_, err := patient.RequestPayment(held, checkoutcom.PaymentRequest{Token: tok, Amount: 2500, Currency: "USD", Reference: "ord_lost_hang", Capture: true}, "k-lost-hang")
			done <- err
		}()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if ps, _ := e.client.FindPaymentsByReference(ctx, "ord_lost_hang"); len(ps) == 1 {
				break
			}
		}
		_, err := e.pay(tok, "ord_lost_hang", true, "k-lost-hang")
		if pe := classOf(t, err); pe.Class != httpx.InFlight || pe.Status != http.StatusConflict {
			t.Errorf("while held: %v", err)
		}
		cancel()
		<-done
		// The client with a short timeout: held past its deadline (a
		// timeout), then the retries meet 409 until the hold ends.
		e.faults(map[string]any{"lose_answers_next": 1, "lose_mode": "hang"})
		_, err = e.pay(e.token(cardOK), "ord_lost_hang2", true, "k-lost-hang2")
		if c := httpx.ClassOf(err); err != nil && !c.Retryable() {
			t.Errorf("short timeout: %v", err)
		}
		one(t, "ord_lost_hang2")
		var p *checkoutcom.Payment
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if p, err = e.pay(tok, "ord_lost_hang", true, "k-lost-hang"); err == nil {
				break
			}
		}
		if err != nil || p.ID != one(t, "ord_lost_hang").ID {
			t.Errorf("after the hold: %+v %v", p, err)
		}
	})
	if n := e.lost(); n != 4 {
		t.Errorf("answers_lost = %d, want 4", n)
	}
}

// TestContractIdempotencyKeysExpire: within the key's lifetime a repeat is
// the first payment; after it, the same key is a new request (here a new
// charge), so keys must come from our own ids, never be reused across days.
func TestContractIdempotencyKeysExpire(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	sb := cksandbox.New(cksandbox.Config{SecretKey: secretKey, Now: clock, IdempotencyTTL: time.Hour})
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(func() { sb.Close(); srv.Close() })
	e := &env{t: t, sb: sb, url: srv.URL + cksandbox.Prefix}
	e.client = checkoutcom.New(checkoutcom.Config{BaseURL: e.url, SecretKey: secretKey, ProcessingChannelID: "pc_contract000000000000000000"})
	first, err := e.pay(e.token(cardOK), "ord_ttl", false, "k-ttl")
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(30 * time.Minute)
	mu.Unlock()
	if again, err := e.pay(e.token(cardOK), "ord_ttl", false, "k-ttl"); err != nil || again.ID != first.ID {
		t.Fatalf("within the TTL = %+v %v", again, err)
	}
	mu.Lock()
	now = now.Add(31 * time.Minute)
	mu.Unlock()
	late, err := e.pay(e.token(cardOK), "ord_ttl", false, "k-ttl")
	if err != nil || late.ID == first.ID {
		t.Fatalf("after the TTL = %+v %v", late, err)
	}
}
