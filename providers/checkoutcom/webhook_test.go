package checkoutcom

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

const (
	testAuthKey = "f3a1b6c2-9d4e-4c1a-8b7f-webhook-auth"
	testSigKey  = "whsig_0b7c5e2f9a"
)

// A payment_captured event in the documented shape.
const capturedEvent = `{
  "id": "evt_az5sblvku4ge3dwpztvyizgcau",
  "type": "payment_captured",
  "version": "1.0.33",
  "created_on": "2024-01-17T10:00:01.231Z",
  "data": {
    "id": "pay_mbabizu24mvu3mela5njyhpit4",
    "action_id": "act_y3oqhf46pyzuxjbcn2giaqnb44",
    "amount": 2500,
    "currency": "USD",
    "reference": "ord_1001",
    "metadata": {"AccelerateToken": "tok_ubfj2q76miwundwlk72vxt2i7q", "order_id": "ord_1001", "attempt": 2, "test": true},
    "response_code": "10000",
    "response_summary": "Approved",
    "processed_on": "2024-01-17T10:00:01Z"
  },
  "_links": {"self": {"href": "https://api.sandbox.checkout.com/workflows/events/evt_az5sblvku4ge3dwpztvyizgcau"}}
}`

func sign(body []byte, key string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func TestVerifyWebhook(t *testing.T) {
	body := []byte(capturedEvent)
	good := sign(body, testSigKey)
	cases := []struct {
		name            string
		auth, sig       string
		body            []byte
		authKey, sigKey string
		want            error
	}{
		{"valid", testAuthKey, good, body, testAuthKey, testSigKey, nil},
		{"valid upper-case hex", testAuthKey, strings.ToUpper(good), body, testAuthKey, testSigKey, nil},
		{"wrong authorization", "Bearer " + testAuthKey, good, body, testAuthKey, testSigKey, ErrBadAuthorization},
		{"missing authorization", "", good, body, testAuthKey, testSigKey, ErrBadAuthorization},
		{"unconfigured auth key", "", good, body, "", testSigKey, ErrBadAuthorization},
		{"signature with other key", testAuthKey, sign(body, "other"), body, testAuthKey, testSigKey, ErrBadSignature},
		{"tampered body", testAuthKey, good, []byte(strings.Replace(capturedEvent, "2500", "25", 1)), testAuthKey, testSigKey, ErrBadSignature},
		{"not hex", testAuthKey, "zz" + good[2:], body, testAuthKey, testSigKey, ErrBadSignature},
		{"truncated", testAuthKey, good[:32], body, testAuthKey, testSigKey, ErrBadSignature},
		{"missing signature", testAuthKey, "", body, testAuthKey, testSigKey, ErrBadSignature},
		{"unconfigured signature key", testAuthKey, sign(body, ""), body, testAuthKey, "", ErrBadSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := VerifyWebhook(tc.auth, tc.sig, tc.body, tc.authKey, tc.sigKey); !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestParseWebhook(t *testing.T) {
	e, err := ParseWebhook([]byte(capturedEvent))
	if err != nil {
		t.Fatal(err)
	}
	if e.ID != "evt_az5sblvku4ge3dwpztvyizgcau" || e.Type != EventPaymentCaptured || e.Version != "1.0.33" {
		t.Errorf("event = %+v", e)
	}
	if !e.CreatedOn.Equal(time.Date(2024, 1, 17, 10, 0, 1, 231e6, time.UTC)) {
		t.Errorf("created_on = %v", e.CreatedOn)
	}
	d := e.Data
	if d.ID != "pay_mbabizu24mvu3mela5njyhpit4" || d.ActionID == "" || d.Amount != 2500 || d.Currency != "USD" ||
		d.ResponseCode != "10000" || d.ResponseSummary != "Approved" {
		t.Errorf("data = %+v", d)
	}
	if d.Metadata["AccelerateToken"] != "tok_ubfj2q76miwundwlk72vxt2i7q" || d.Metadata["attempt"] != "2" || d.Metadata["test"] != "true" {
		t.Errorf("metadata = %v", d.Metadata)
	}
	if e.OrderID() != "ord_1001" {
		t.Errorf("OrderID = %q", e.OrderID())
	}
}

func TestParseWebhookTimestampAndOrderFallback(t *testing.T) {
	e, err := ParseWebhook([]byte(`{"id":"evt_1","type":"payment_declined","timestamp":"2024-01-17T10:00:00Z",
		"data":{"id":"pay_1","metadata":{"order_id":1001}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if e.CreatedOn.IsZero() || e.OrderID() != "1001" {
		t.Errorf("event = %+v, order %q", e, e.OrderID())
	}
}

func TestParseWebhookRejectsMalformed(t *testing.T) {
	for _, body := range []string{``, `[]`, `{}`, `{"id":"evt_1"}`, `{"type":"payment_approved"}`,
		`{"id":"evt_1","type":"payment_approved","data":{"amount":"12"}}`, `{"id":1,"type":"x"}`} {
		if _, err := ParseWebhook([]byte(body)); !errors.Is(err, ErrMalformedWebhook) {
			t.Errorf("ParseWebhook(%q) err = %v", body, err)
		}
	}
}

func FuzzParseWebhook(f *testing.F) {
	for _, s := range []string{
		capturedEvent, ``, `{}`, `null`, `{"id":"evt_1","type":"payment_approved"}`,
		`{"id":"evt_1","type":"x","timestamp":"nonsense","data":{"metadata":{"a":{"b":[1]},"c":null}}}`,
		`{"id":"evt_1","type":"x","data":{"metadata":[]}}`, `{"id":"e","type":"t","data":{"amount":1e99}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := ParseWebhook(body)
		if err != nil {
			if e != nil {
				t.Fatal("event returned with an error")
			}
			return
		}
		if e.ID == "" || e.Type == "" {
			t.Fatalf("accepted event without id or type: %q", body)
		}
		_ = e.OrderID()
	})
}

func FuzzVerifyWebhook(f *testing.F) {
	body := []byte(capturedEvent)
	f.Add(testAuthKey, sign(body, testSigKey), body)
	f.Add(testAuthKey, sign(body, "other"), body)
	f.Add("", "", []byte{})
	f.Add(testAuthKey, "zz", body)
	f.Add("Bearer x", strings.ToUpper(sign(body, testSigKey)), body)
	f.Fuzz(func(t *testing.T, auth, sig string, body []byte) {
		err := VerifyWebhook(auth, sig, body, testAuthKey, testSigKey)
		want := auth == testAuthKey && strings.EqualFold(sig, sign(body, testSigKey))
		if (err == nil) != want {
			t.Fatalf("VerifyWebhook(%q, %q, %q) = %v, want ok=%v", auth, sig, body, err, want)
		}
	})
}
