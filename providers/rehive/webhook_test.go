package rehive

import (
	"errors"
	"testing"
)

func TestVerifyWebhook(t *testing.T) {
	const secret = "s3cret"
	for header, want := range map[string]error{
		"Secret s3cret":  nil,
		"Secret wrong":   ErrBadSecret,
		"s3cret":         ErrBadSecret, // missing "Secret " prefix
		"Token s3cret":   ErrBadSecret,
		"secret s3cret":  ErrBadSecret,
		"Secret s3cret ": ErrBadSecret,
		"":               ErrBadSecret,
	} {
		if err := VerifyWebhook(header, secret); !errors.Is(err, want) {
			t.Errorf("VerifyWebhook(%q) = %v, want %v", header, err, want)
		}
	}
	if err := VerifyWebhook("Secret ", ""); !errors.Is(err, ErrBadSecret) {
		t.Error("an empty configured secret must reject everything")
	}
}

func TestParseWebhook(t *testing.T) {
	ev, err := ParseWebhook([]byte(`{"id":123,"event":"transaction.create","company":"payflow","data":{"id":"t-1","tx_type":"credit","amount":100,"currency":"USD","partner_id":"t-2","collection_id":"c"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID != "123" || ev.Event != EventTransactionCreate || ev.Company != "payflow" || ev.IsTransition() {
		t.Fatalf("event = %+v", ev)
	}
	tx, err := ev.Transaction()
	if err != nil || tx.ID != "t-1" || tx.Currency.Code != "USD" || !tx.IsTransfer() || tx.Collection != "c" {
		t.Fatalf("tx = %+v, %v", tx, err)
	}
	if _, err := ev.TransitionID(); err == nil {
		t.Fatal("TransitionID on a transaction event")
	}
	ev, err = ParseWebhook([]byte(`{"id":"evt-1","event":"transaction.update","company":"payflow","data":{"id":"t-1"}}`))
	if err != nil || ev.ID != "evt-1" {
		t.Fatalf("string id: %+v, %v", ev, err)
	}

	for _, body := range []string{
		``, `null`, `[]`, `{}`, `{"event":"transaction.create"}`, `{"id":1}`, `{"id":"","event":"x"}`,
		`{"id":true,"event":"x"}`, `{"id":1,"event":2}`, `{"id":1,"event":"x"`,
	} {
		if _, err := ParseWebhook([]byte(body)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseWebhook(%s) = %v, want ErrMalformed", body, err)
		}
	}
	for _, body := range []string{
		`{"id":1,"event":"transaction.create","data":null}`,
		`{"id":1,"event":"transaction.create","data":{"tx_type":"credit"}}`,
		`{"id":1,"event":"transaction.create","data":"t-1"}`,
	} {
		ev, err := ParseWebhook([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ev.Transaction(); !errors.Is(err, ErrMalformed) {
			t.Errorf("Transaction(%s) = %v", body, err)
		}
	}
	ev, err = ParseWebhook([]byte(`{"id":1,"event":"user.create","data":{"id":"u"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ev.Transaction(); err == nil {
		t.Fatal("Transaction on a user event")
	}
}

func TestTransitionID(t *testing.T) {
	for data, want := range map[string]string{
		`{"id":"tr-1","transaction":{"id":"t-1"},"from_status":"Pending","to_status":"Complete","status":"pending"}`: "tr-1",
		`{"id":42,"status":"pending"}`:                              "42",
		`{"transition":{"id":"tr-2"},"transaction":{"id":"t"}}`:     "tr-2",
		`{"transition":"tr-3"}`:                                     "tr-3",
		`{"transition_id":77,"id":"t-1","tx_type":"debit"}`:         "77",
		`{"id":"t-1","tx_type":"debit","transition":{"id":"tr-4"}}`: "tr-4",
	} {
		ev, err := ParseWebhook([]byte(`{"id":1,"event":"transaction.transition.create","data":` + data + `}`))
		if err != nil {
			t.Fatal(err)
		}
		got, err := ev.TransitionID()
		if err != nil || got != want {
			t.Errorf("TransitionID(%s) = %q, %v; want %q", data, got, err, want)
		}
	}
	for _, data := range []string{`{"id":"t-1","tx_type":"debit"}`, `{}`, `null`, `"tr"`, `{"transition":[1]}`} {
		ev, err := ParseWebhook([]byte(`{"id":1,"event":"transaction.transition.update","data":` + data + `}`))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ev.TransitionID(); !errors.Is(err, ErrMalformed) {
			t.Errorf("TransitionID(%s) = %v", data, err)
		}
	}
	// The transaction embedded in a transition event is available directly.
	ev, err := ParseWebhook([]byte(`{"id":1,"event":"transaction.transition.create","data":{"id":"tr","transaction":{"id":"t-1","currency":"XLM"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if tx, err := ev.Transaction(); err != nil || tx.ID != "t-1" || tx.Currency.Code != "XLM" {
		t.Fatalf("embedded tx = %+v, %v", tx, err)
	}
}

func FuzzParseWebhook(f *testing.F) {
	for _, seed := range []string{
		`{"id":123,"event":"transaction.create","company":"payflow","data":{"id":"t-1","amount":-100,"currency":"USD","partner":{"id":"t-2"}}}`,
		`{"id":"7","event":"transaction.transition.create","company":"c","data":{"id":9,"transaction":{"id":"t"},"status":"pending"}}`,
		`{"id":1,"event":"transaction.transition.update","data":{"transition":{"id":"x"}}}`,
		`{"id":1,"event":"transaction.update","data":{"collection":{"id":5},"partner_id":3,"amount":"1.0"}}`,
		`{"id":1,"event":"x"}`, `{}`, `[]`, `null`, `{"id":1e999,"event":"transaction.create","data":{}}`, ``, `{"id":`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParseWebhook(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error not ErrMalformed: %v", err)
			}
			return
		}
		if ev.ID == "" || ev.Event == "" {
			t.Fatalf("accepted without id or event: %+v", ev)
		}
		_, _ = ev.Transaction()  // must not panic
		_, _ = ev.TransitionID() // must not panic
	})
}

func FuzzVerifyWebhook(f *testing.F) {
	f.Add("Secret s3cret", "s3cret")
	f.Add("Secret wrong", "s3cret")
	f.Add("s3cret", "s3cret")
	f.Add("", "")
	f.Add("Secret ", "")
	f.Add("Secret \x00", "\x00")
	f.Fuzz(func(t *testing.T, header, secret string) {
		err := VerifyWebhook(header, secret)
		if want := secret != "" && header == "Secret "+secret; (err == nil) != want {
			t.Fatalf("VerifyWebhook(%q, %q) = %v", header, secret, err)
		}
	})
}
