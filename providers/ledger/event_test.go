package ledger

import (
	"errors"
	"testing"
)

func TestParseWebhook(t *testing.T) {
	ev, err := ParseWebhook([]byte(`{"id":"evt_1","type":"transaction.incoming","created":"2024-05-01T10:00:00Z",
		"data":{"id":"ltx_1","type":"deposit","account":"a","amount":4200,"currency":"USD","status":"pending",
		"confirmations":0,"required_confirmations":3,"created":"2024-05-01T10:00:00Z","updated":"2024-05-01T10:00:00Z","extra":true}}`))
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID != "evt_1" || ev.Type != EventTransactionIncoming || ev.Created.IsZero() ||
		ev.Data.ID != "ltx_1" || ev.Data.Type != Deposit || ev.Data.Amount != 4200 || ev.Data.RequiredConfirmations != 3 {
		t.Fatalf("event: %+v", ev)
	}
	unknown, err := ParseWebhook([]byte(`{"id":"evt_2","type":"account.updated","data":{}}`))
	if err != nil || unknown.Type != "account.updated" {
		t.Fatalf("unknown type should parse for the caller to ignore: %+v %v", unknown, err)
	}

	for name, body := range map[string]string{
		"not json":          `nope`,
		"array":             `[]`,
		"missing id":        `{"type":"transaction.updated","data":{"id":"tx"}}`,
		"missing type":      `{"id":"evt_1","data":{"id":"tx"}}`,
		"missing data id":   `{"id":"evt_1","type":"transaction.updated","data":{}}`,
		"fractional amount": `{"id":"evt_1","type":"transaction.updated","data":{"id":"tx","amount":1.5}}`,
		"bad time":          `{"id":"evt_1","type":"transaction.updated","created":"yesterday","data":{"id":"tx"}}`,
	} {
		if _, err := ParseWebhook([]byte(body)); !errors.Is(err, ErrMalformedEvent) {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

func FuzzParseWebhook(f *testing.F) {
	f.Add([]byte(`{"id":"evt_1","type":"transaction.updated","created":"2024-05-01T10:00:00Z","data":{"id":"tx","amount":5,"metadata":{"k":"v"}}}`))
	f.Add([]byte(`{"id":"evt_1","type":"transaction.incoming","data":{"id":"tx","confirmations":-1}}`))
	f.Add([]byte(`{"id":"","type":""}`))
	f.Add([]byte(`{"id":1,"type":null,"data":[]}`))
	f.Add([]byte(`null`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParseWebhook(body)
		if err != nil {
			if ev != nil || !errors.Is(err, ErrMalformedEvent) {
				t.Fatalf("error %v with event %+v", err, ev)
			}
			return
		}
		if ev.ID == "" || ev.Type == "" {
			t.Fatalf("accepted event without id or type: %+v", ev)
		}
	})
}
