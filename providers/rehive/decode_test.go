package rehive

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestTransactionTolerantDecoding(t *testing.T) {
	for name, tc := range map[string]struct {
		in   string
		want Transaction
	}{
		"documented shape": {
			in: `{"id":"t-1","collection":"c-1","partner":{"id":"t-2","account":"ACC2","user":{"id":"u-2","email":"b@x"}},
				"tx_type":"debit","status":"Pending","amount":-2500,"fee":0,"total_amount":-2500,"account":"ACC1",
				"currency":{"code":"USD","divisibility":2,"symbol":"$"},"user":{"id":"u-1","email":"a@x"},
				"metadata":{"order_id":"o-1"},"reference":null,"note":"","created":1700000000000,"executed":null}`,
			want: Transaction{ID: "t-1", Collection: "c-1", Partner: &Partner{ID: "t-2", Account: "ACC2", User: &User{ID: "u-2", Email: "b@x"}},
				TxType: "debit", Status: "Pending", Amount: -2500, TotalAmount: -2500, Account: "ACC1",
				Currency: Currency{Code: "USD", Divisibility: 2, Symbol: "$"}, User: User{ID: "u-1", Email: "a@x"},
				Metadata: map[string]any{"order_id": "o-1"}, Created: 1700000000000},
		},
		"numeric ids, partner_id, collection_id, currency code": {
			in: `{"id":12345,"collection_id":678,"partner_id":"t-9","tx_type":"credit","amount":"100","currency":"XLM","user":42,"account":{"reference":"ACC"}}`,
			want: Transaction{ID: "12345", Collection: "678", Partner: &Partner{ID: "t-9"}, TxType: "credit", Amount: 100,
				Currency: Currency{Code: "XLM"}, User: User{ID: "42"}, Account: "ACC"},
		},
		"collection object, partner null, float amount": {
			in:   `{"id":"t","collection":{"id":"c","status":"Pending"},"partner":null,"partner_id":null,"amount":1000.0,"fee":"0"}`,
			want: Transaction{ID: "t", Collection: "c", Amount: 1000},
		},
		"empty partner is no partner": {
			in:   `{"id":"t","partner":{}}`,
			want: Transaction{ID: "t"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			var got Transaction
			if err := json.Unmarshal([]byte(tc.in), &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestTransactionRejectsNonIntegers(t *testing.T) {
	for _, in := range []string{`{"amount":1.5}`, `{"amount":"ten"}`, `{"amount":true}`, `{"id":{"x":1}}`, `{"amount":1e300}`} {
		var tx Transaction
		if err := json.Unmarshal([]byte(in), &tx); err == nil {
			t.Errorf("%s decoded as %+v", in, tx)
		}
	}
}

func TestAbsAmount(t *testing.T) {
	for amount, want := range map[int64]int64{-2500: 2500, 2500: 2500, 0: 0} {
		tx := Transaction{Amount: amount}
		if got := tx.AbsAmount(); got != want {
			t.Errorf("AbsAmount(%d) = %d", amount, got)
		}
	}
}

// Workflows carry transactions through Temporal's JSON converter.
func TestTransactionRoundTrip(t *testing.T) {
	in := Transaction{ID: "t", Collection: "c", Partner: &Partner{ID: "p", Account: "A"}, TxType: Debit, Subtype: "send",
		Status: StatusComplete, Amount: -5, TotalAmount: -5, Account: "B", Currency: Currency{Code: "XLM", Divisibility: 7},
		User: User{ID: "u"}, Metadata: map[string]any{"k": "v"}, Reference: "r", Note: "n", Created: 1, Updated: 2, Executed: 3}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out Transaction
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip:\n%+v\n%+v", in, out)
	}
	tr := Transition{ID: "tr", Transaction: in, Status: TransitionPending, FromStatus: StatusPending, ToStatus: StatusComplete}
	if b, err = json.Marshal(tr); err != nil {
		t.Fatal(err)
	}
	var tr2 Transition
	if err := json.Unmarshal(b, &tr2); err != nil || !reflect.DeepEqual(tr, tr2) {
		t.Fatalf("transition round trip: %+v, %v", tr2, err)
	}
}

func TestTransitionTolerantDecoding(t *testing.T) {
	for in, wantTx := range map[string]ID{
		`{"id":7,"transaction":{"id":"t-1","status":"Pending"},"status":"pending"}`: "t-1",
		`{"id":7,"transaction":"t-2","status":"pending"}`:                           "t-2",
		`{"id":7,"transaction_id":99,"status":"pending"}`:                           "99",
	} {
		var tr Transition
		if err := json.Unmarshal([]byte(in), &tr); err != nil {
			t.Fatal(err)
		}
		if tr.ID != "7" || tr.Transaction.ID != wantTx || tr.Status != TransitionPending {
			t.Errorf("%s → %+v", in, tr)
		}
	}
}

func TestAccountsDecoding(t *testing.T) {
	page := `{"count":1,"next":null,"previous":null,"results":[{"reference":"A","name":"default","primary":true,
		"currencies":[{"balance":"1000","available_balance":900,"currency":{"code":"USD","divisibility":2}}]}]}`
	for _, in := range []string{page, `[{"reference":"A","name":"default","primary":true,"currencies":[{"balance":1000,"available_balance":"900","currency":"USD"}]}]`} {
		var l accountList
		if err := json.Unmarshal([]byte(in), &l); err != nil {
			t.Fatal(err)
		}
		if len(l) != 1 || l[0].Reference != "A" || !l[0].Primary {
			t.Fatalf("%+v", l)
		}
		c := l[0].Currency("USD")
		if c == nil || c.Balance != 1000 || c.AvailableBalance != 900 {
			t.Fatalf("USD = %+v", c)
		}
		if l[0].Currency("EUR") != nil {
			t.Fatal("EUR found")
		}
	}
}

func TestDeriveID(t *testing.T) {
	a, b := DeriveID("ledger-deposit/1"), DeriveID("ledger-deposit/2")
	if a != DeriveID("ledger-deposit/1") || a == b || len(a) != 36 || a[14] != '5' {
		t.Fatalf("DeriveID: %s %s", a, b)
	}
}
