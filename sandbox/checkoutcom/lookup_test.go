package checkoutcom

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/payflow/payflow/sandbox/faults"
)

func TestListPaymentsByReference(t *testing.T) {
	_, base := newTestSandbox(t, Config{})
	var ids []string
	for range 3 {
		_, _, out := call(t, "POST", base+"/payments", paymentBody(tokenFor(t, base, "4242424242424242")))
		ids = append(ids, out["id"].(string))
	}
	other := paymentBody(tokenFor(t, base, "4242424242424242"))
	other["reference"] = "ord_other"
	call(t, "POST", base+"/payments", other)

	st, _, out := call(t, "GET", base+"/payments?reference=ord_1&limit=2&skip=1", nil)
	data, _ := out["data"].([]any)
	if st != 200 || out["limit"] != 2.0 || out["skip"] != 1.0 || out["total_count"] != 3.0 || len(data) != 2 {
		t.Fatalf("page = %d %v", st, out)
	}
	// Newest first: skipping one leaves the second and the first.
	got := []string{data[0].(map[string]any)["id"].(string), data[1].(map[string]any)["id"].(string)}
	if !reflect.DeepEqual(got, []string{ids[1], ids[0]}) || data[0].(map[string]any)["status"] == nil {
		t.Errorf("page ids = %v, want %v", got, []string{ids[1], ids[0]})
	}
	for q, want := range map[string][]string{
		"?limit=10":                       {"reference_required"},
		"?reference=ord_1&limit=101":      {"paging_limit_invalid"},
		"?reference=ord_1&limit=0":        {"paging_limit_invalid"},
		"?reference=ord_1&skip=-1":        {"paging_skip_invalid"},
		"?reference=ord_1&limit=x&skip=y": {"paging_limit_invalid", "paging_skip_invalid"},
	} {
		if st, _, out := call(t, "GET", base+"/payments"+q, nil); st != 422 || !reflect.DeepEqual(codes(out), want) {
			t.Errorf("%s = %d %v", q, st, out)
		}
	}
	if st, _, out := call(t, "GET", base+"/payments?reference=ord_none", nil); st != 200 || out["total_count"] != 0.0 || out["limit"] != 10.0 {
		t.Errorf("no payments = %d %v", st, out)
	}

	// The control list: everything, or one reference, with actions and metadata.
	_, _, all := call(t, "GET", base+"/_control/payments", nil)
	if ps := all["payments"].([]any); len(ps) != 4 {
		t.Fatalf("control list = %v", all)
	}
	_, _, one := call(t, "GET", base+"/_control/payments?reference=ord_other", nil)
	ps := one["payments"].([]any)
	if len(ps) != 1 {
		t.Fatalf("control list by reference = %v", one)
	}
	p := ps[0].(map[string]any)
	acts := p["actions"].([]any)
	if p["amount"] != 1000.0 || p["status"] == "" || len(acts) == 0 || acts[0].(map[string]any)["type"] != actionAuthorization {
		t.Errorf("control payment = %v", p)
	}
}

func TestIdempotencyKeysExpire(t *testing.T) {
	clock := &fakeClock{t: time.Date(2030, 5, 1, 12, 0, 0, 0, time.UTC)}
	_, base := newTestSandbox(t, Config{Now: clock.now, IdempotencyTTL: time.Hour})
	_, _, first := call(t, "POST", base+"/payments", paymentBody(tokenFor(t, base, "4242424242424242")), "Cko-Idempotency-Key", "k")
	clock.advance(59 * time.Minute)
	_, _, again := call(t, "POST", base+"/payments", paymentBody(tokenFor(t, base, "4242424242424242")), "Cko-Idempotency-Key", "k")
	if again["id"] != first["id"] {
		t.Fatalf("within the TTL: %v / %v", first, again)
	}
	clock.advance(time.Minute)
	st, _, late := call(t, "POST", base+"/payments", paymentBody(tokenFor(t, base, "4242424242424242")), "Cko-Idempotency-Key", "k")
	if st != 201 || late["id"] == first["id"] {
		t.Errorf("after the TTL the key is new: %d %v", st, late)
	}
}

// TestLostAnswers: every lose_mode carries the payment out; what the key
// remembers differs.
func TestLostAnswers(t *testing.T) {
	sb, base := newTestSandbox(t, Config{})
	lose := func(mode faults.LoseMode) { sb.faults.Set(faults.Config{LoseAnswersNext: 1, LoseMode: mode}) }
	count := func(ref string) int {
		_, _, out := call(t, "GET", base+"/payments?reference="+ref, nil)
		return int(out["total_count"].(float64))
	}

	t.Run("5xx keeps no record", func(t *testing.T) {
		tok := tokenFor(t, base, "4242424242424242")
		body := paymentBody(tok)
		body["reference"] = "ord_5xx"
		lose(faults.Lose5xx)
		if st, _, _ := call(t, "POST", base+"/payments", body, "Cko-Idempotency-Key", "k5"); st != http.StatusBadGateway {
			t.Fatalf("lost answer = %d", st)
		}
		st, _, out := call(t, "POST", base+"/payments", body, "Cko-Idempotency-Key", "k5")
		if st != 422 || !reflect.DeepEqual(codes(out), []string{"token_used"}) || count("ord_5xx") != 1 {
			t.Errorf("retry = %d %v, payments %d", st, out, count("ord_5xx"))
		}
	})

	t.Run("reset keeps the record", func(t *testing.T) {
		body := paymentBody(tokenFor(t, base, "4242424242424242"))
		body["reference"] = "ord_reset"
		lose(faults.LoseReset)
		req, _ := http.NewRequest("POST", base+"/payments", strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+testSecret)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("reset answered %d", resp.StatusCode)
		}
		lose(faults.LoseReset)
		if _, err := post(base+"/payments", body, "kr"); err == nil {
			t.Fatal("reset: got an answer")
		}
		st, _, out := call(t, "POST", base+"/payments", body, "Cko-Idempotency-Key", "kr")
		if st != 201 || out["approved"] != true || count("ord_reset") != 1 {
			t.Errorf("retry = %d %v, payments %d", st, out, count("ord_reset"))
		}
	})

	t.Run("hang holds the key in flight", func(t *testing.T) {
		body := paymentBody(tokenFor(t, base, "4242424242424242"))
		body["reference"] = "ord_hang"
		lose(faults.LoseHang)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { _, err := postCtx(ctx, base+"/payments", body, "kh"); done <- err }()
		deadline := time.Now().Add(5 * time.Second)
		for count("ord_hang") == 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		st, _, out := call(t, "POST", base+"/payments", body, "Cko-Idempotency-Key", "kh")
		if st != http.StatusConflict || count("ord_hang") != 1 {
			t.Errorf("while held = %d %v", st, out)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("held request = %v", err)
		}
		// The server notices the client has gone a moment later: until then
		// the key is still in flight.
		for st = http.StatusConflict; st == http.StatusConflict && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			st, _, out = call(t, "POST", base+"/payments", body, "Cko-Idempotency-Key", "kh")
		}
		if st != 201 || out["approved"] != true || count("ord_hang") != 1 {
			t.Errorf("after = %d %v", st, out)
		}
	})

	_, stats := sb.faults.Snapshot()
	if stats.AnswersLost != 4 {
		t.Errorf("answers_lost = %d, want 4", stats.AnswersLost)
	}
}

func post(url string, body map[string]any, key string) (int, error) {
	return postCtx(context.Background(), url, body, key)
}

func postCtx(ctx context.Context, url string, body map[string]any, key string) (int, error) {
	b := mustJSON(body)
	req, err := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+testSecret)
	req.Header.Set("Cko-Idempotency-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	return resp.StatusCode, err
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
