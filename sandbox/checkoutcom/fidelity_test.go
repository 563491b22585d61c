package checkoutcom

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestTestCards(t *testing.T) {
	_, base := newTestSandbox(t, Config{})
	for number, want := range map[string]string{
		"4242424242424242": "10000", "4544249167673670": "20051", "4724117215951699": "20054",
		"4897453568485113": "20059", "4111111111111129": "20001", "4000000000000002": "20005",
		"4000000000009995": "20051", "4000000000003220": "20154",
	} {
		st, _, out := call(t, "POST", base+"/payments", paymentBody(tokenFor(t, base, number)))
		if st != 201 || out["response_code"] != want || out["approved"] != (want == "10000") {
			t.Errorf("%s = %d %v, want %s", number, st, out["response_code"], want)
		}
	}
}

func TestThreeDSOnlyWhenAsked(t *testing.T) {
	_, base := newTestSandbox(t, Config{})
	with3DS := func(number string) map[string]any {
		p := paymentBody(tokenFor(t, base, number))
		p["3ds"] = map[string]any{"enabled": true}
		return p
	}
	if st, _, out := call(t, "POST", base+"/payments", with3DS("4000000000003220")); st != 202 || out["status"] != "Pending" {
		t.Errorf("3DS card, 3DS asked = %d %v", st, out)
	}
	// Without 3DS the card that needs it is the soft decline 20154.
	if st, _, out := call(t, "POST", base+"/payments", paymentBody(tokenFor(t, base, "4000000000003220"))); st != 201 ||
		out["approved"] != false || out["response_code"] != "20154" || out["status"] != "Declined" {
		t.Errorf("3DS card, not asked = %d %v", st, out)
	}
	// Frictionless: 3DS asked, approved at once.
	st, _, out := call(t, "POST", base+"/payments", with3DS("4242424242424242"))
	if st != 201 || out["approved"] != true {
		t.Errorf("frictionless = %d %v", st, out)
	}
	if _, _, got := call(t, "GET", base+"/payments/"+out["id"].(string), nil); got["3ds"] == nil {
		t.Errorf("frictionless payment shows no 3ds: %v", got)
	}
	// The dev return pages.
	for _, o := range []string{"success", "failure"} {
		resp, err := http.Get(base + "/return/" + o + "?cko-session-id=sid_x")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), "sid_x") {
			t.Errorf("return page %s = %d %s", o, resp.StatusCode, b)
		}
	}
}

// status waits for the scheduled work and reads the payment.
func status(t *testing.T, sb *Sandbox, base, id string) map[string]any {
	t.Helper()
	sb.Flush()
	_, _, p := call(t, "GET", base+"/payments/"+id, nil)
	return p
}

func actionsOf(t *testing.T, base, id string) []string {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/payments/"+id+"/actions", nil)
	req.Header.Set("Authorization", "Bearer "+testSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var acts []struct {
		Type     string
		Approved bool
	}
	if err := json.NewDecoder(resp.Body).Decode(&acts); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range acts {
		if a.Approved {
			out = append(out, a.Type)
		} else {
			out = append(out, a.Type+" declined")
		}
	}
	return out
}

func TestActionsAreAsynchronous(t *testing.T) {
	sb, base := newTestSandbox(t, Config{})
	manual := func(number string) string {
		p := paymentBody(tokenFor(t, base, number))
		p["capture"] = false
		_, _, out := call(t, "POST", base+"/payments", p)
		return out["id"].(string)
	}
	id := manual("4242424242424242")
	st, _, acc := call(t, "POST", base+"/payments/"+id+"/captures", map[string]any{})
	if st != 202 || !strings.HasPrefix(acc["action_id"].(string), "act_") {
		t.Fatalf("capture = %d %v", st, acc)
	}
	// Accepted, not done: the payment has not moved yet, and allows no
	// other action meanwhile.
	if _, _, p := call(t, "GET", base+"/payments/"+id, nil); p["status"] != "Authorized" {
		t.Errorf("right after the 202: %v", p["status"])
	}
	if st, _, _ := call(t, "POST", base+"/payments/"+id+"/voids", map[string]any{}); st != http.StatusForbidden {
		t.Errorf("void while the capture is processed = %d", st)
	}
	if p := status(t, sb, base, id); p["status"] != "Captured" {
		t.Errorf("after processing: %v", p["status"])
	}
	if got := actionsOf(t, base, id); !reflect.DeepEqual(got, []string{"Capture", "Authorization"}) {
		t.Errorf("actions = %v", got)
	}
	if st, _, _ := call(t, "POST", base+"/payments/"+id+"/captures", map[string]any{}); st != http.StatusForbidden {
		t.Errorf("second capture = %d, want 403", st)
	}

	// The capture-declined card: approved, then the automatic capture is
	// declined and the payment stays Authorized.
	_, _, out := call(t, "POST", base+"/payments", paymentBody(tokenFor(t, base, "4000000000000259")))
	if out["status"] != "Authorized" || out["approved"] != true {
		t.Fatalf("0259 = %v", out)
	}
	if p := status(t, sb, base, out["id"].(string)); p["status"] != "Authorized" {
		t.Errorf("0259 after capture: %v", p["status"])
	}
	if got := actionsOf(t, base, out["id"].(string)); !reflect.DeepEqual(got, []string{"Capture declined", "Authorization"}) {
		t.Errorf("0259 actions = %v", got)
	}

	// Refunds declined: captured, the refund accepted then declined.
	_, _, out = call(t, "POST", base+"/payments", paymentBody(tokenFor(t, base, "4000000000000267")))
	rid := out["id"].(string)
	if p := status(t, sb, base, rid); p["status"] != "Captured" {
		t.Fatalf("0267: %v", p["status"])
	}
	if st, _, _ := call(t, "POST", base+"/payments/"+rid+"/refunds", map[string]any{}); st != 202 {
		t.Fatalf("refund = %d", st)
	}
	if p := status(t, sb, base, rid); p["status"] != "Captured" {
		t.Errorf("0267 after the refund: %v", p["status"])
	}

	// Voids declined.
	vid := manual("4000000000000275")
	if st, _, _ := call(t, "POST", base+"/payments/"+vid+"/voids", map[string]any{}); st != 202 {
		t.Fatalf("void = %d", st)
	}
	if p := status(t, sb, base, vid); p["status"] != "Authorized" {
		t.Errorf("0275 after the void: %v", p["status"])
	}
	if got := actionsOf(t, base, vid); !reflect.DeepEqual(got, []string{"Void declined", "Authorization"}) {
		t.Errorf("0275 actions = %v", got)
	}
}

func TestWebhookRetrySchedule(t *testing.T) {
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 600 * time.Millisecond,
		1200 * time.Millisecond, 4800 * time.Millisecond, 14400 * time.Millisecond, 14400 * time.Millisecond}
	sb := New(Config{})
	if !reflect.DeepEqual(sb.sender.Backoff, want) {
		t.Errorf("default schedule = %v", sb.sender.Backoff)
	}
	if real := New(Config{WebhookRetryScale: 1}); real.sender.Backoff[0] != 5*time.Minute || real.sender.Backoff[7] != 12*time.Hour {
		t.Errorf("real schedule = %v", real.sender.Backoff)
	}
}
