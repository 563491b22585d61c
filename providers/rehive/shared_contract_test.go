package rehive_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/payflow/payflow/providers/httpx"
	"github.com/payflow/payflow/providers/rehive"
)

// target is what the shared contract cases need of a Rehive company: an
// admin client, a customer with a balance in currency who can log in, and a
// recipient. The cases run against payflow's sandbox in every build
// (TestSharedContract) and against a real Rehive company under
// -tags contract when credentials are given (TestRealSandbox).
type target struct {
	client                  *rehive.Client
	user, company, password string
	recipient, currency     string
	run                     string // unique per run: the real company keeps what we make
}

var sharedCases = []struct {
	name string
	run  func(t *testing.T, tg target)
}{
	{"login, transfer, replay, list, merge patch", func(t *testing.T, tg target) {
		login, err := tg.client.Login(ctx(t), tg.user, tg.company, tg.password)
		if err != nil || login.Token == "" {
			t.Fatalf("login: %v", err)
		}
		meta := map[string]any{"order_id": "ct-" + tg.run}
		req := rehive.TransferRequest{Amount: 1, Currency: tg.currency, Recipient: tg.recipient,
			DebitMetadata: meta, CreditMetadata: meta, Reference: "ct-" + tg.run}
		tx, err := tg.client.Transfer(ctx(t), login.Token, req, "ct-pay-"+tg.run)
		if err != nil || tx.TxType != rehive.Debit || tx.AbsAmount() != 1 {
			t.Fatalf("transfer = %+v %v", tx, err)
		}
		again, err := tg.client.Transfer(ctx(t), login.Token, req, "ct-pay-"+tg.run)
		if err != nil || again.ID != tx.ID {
			t.Fatalf("replay = %+v %v", again, err)
		}
		got, err := tg.client.GetTransaction(ctx(t), string(tx.ID))
		if err != nil || got.Metadata["order_id"] != meta["order_id"] {
			t.Fatalf("get = %+v %v", got, err)
		}
		listed, err := tg.client.ListTransactions(ctx(t), rehive.TransactionFilter{User: tg.user, TxType: rehive.Debit,
			CreatedAfter: time.UnixMilli(got.Created - 1), PageSize: 10})
		if err != nil || !slices.ContainsFunc(listed, func(l rehive.Transaction) bool { return l.ID == tx.ID }) {
			t.Errorf("list = %d %v", len(listed), err)
		}
		patched, err := tg.client.PatchTransaction(ctx(t), string(tx.ID), rehive.TransactionPatch{Metadata: map[string]any{"checked": "yes"}}, "ct-patch-"+tg.run)
		if err != nil || patched.Metadata["order_id"] != meta["order_id"] || patched.Metadata["checked"] != "yes" {
			t.Errorf("merge patch = %+v %v", patched, err)
		}
	}},
	{"a refusal is replayed under its key", func(t *testing.T, tg target) {
		login, err := tg.client.Login(ctx(t), tg.user, tg.company, tg.password)
		if err != nil {
			t.Fatal(err)
		}
		req := rehive.TransferRequest{Amount: 1 << 50, Currency: tg.currency, Recipient: tg.recipient}
		_, err = tg.client.Transfer(ctx(t), login.Token, req, "ct-big-"+tg.run)
		if pe := asError(t, err); pe.Class != httpx.Invalid || slices.Contains(pe.Codes, rehive.CodeReplayed) {
			t.Fatalf("refusal: %v", err)
		}
		_, err = tg.client.Transfer(ctx(t), login.Token, req, "ct-big-"+tg.run)
		if pe := asError(t, err); pe.Class != httpx.Invalid || !slices.Contains(pe.Codes, rehive.CodeReplayed) {
			t.Errorf("again: %v", err)
		}
	}},
	{"unknown transaction", func(t *testing.T, tg target) {
		if _, err := tg.client.GetTransaction(ctx(t), "00000000-0000-4000-8000-000000000000"); httpx.ClassOf(err) != httpx.NotFound {
			t.Errorf("err = %v", err)
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
	e := newEnv(t)
	u := e.user("shared@example.com", map[string]int64{"USD": 1000})
	merchant, _ := e.merchant()
	runShared(t, target{client: e.client, user: u.Email, company: company, password: password,
		recipient: merchant, currency: "USD", run: fmt.Sprint(time.Now().UnixNano())})
}
