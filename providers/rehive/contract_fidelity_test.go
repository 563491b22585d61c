package rehive_test

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/payflow/payflow/providers/httpx"
	"github.com/payflow/payflow/providers/rehive"
	sandbox "github.com/payflow/payflow/sandbox/rehive"
)

func TestContractMetadataMergePatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ada := e.user("ada@example.com", map[string]int64{"USD": 1000})
	tx := e.controlTx(map[string]any{"user": ada.Email, "tx_type": "credit", "currency": "USD", "amount": 5,
		"metadata": map[string]any{"order_id": "ord_1", "keep": "yes", "nested": map[string]any{"a": 1.0, "b": 2.0}}})
	got, err := e.client.PatchTransaction(ctx(t), string(tx.ID), rehive.TransactionPatch{Metadata: map[string]any{
		"order_id": nil, "added": "new", "nested": map[string]any{"b": nil, "c": 3.0},
	}}, "patch-1")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"keep": "yes", "added": "new", "nested": map[string]any{"a": 1.0, "c": 3.0}}
	if !reflect.DeepEqual(got.Metadata, want) {
		t.Errorf("metadata = %v, want %v", got.Metadata, want)
	}
}

func TestContractTransferReferences(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ada := e.user("ada@example.com", map[string]int64{"USD": 1000})
	merchantEmail, merchantAccount := e.merchant()
	tx, err := e.client.Transfer(ctx(t), ada.Token, rehive.TransferRequest{Amount: 10, Currency: "USD", Recipient: merchantEmail,
		DebitReference: "pay ord_1", CreditReference: "ord_1"}, "ref-1")
	if err != nil || tx.Reference != "pay ord_1" {
		t.Fatalf("debit = %+v %v", tx, err)
	}
	credits, err := e.client.ListTransactions(ctx(t), rehive.TransactionFilter{Account: merchantAccount})
	if err != nil || len(credits) != 1 || credits[0].Reference != "ord_1" {
		t.Fatalf("credit = %+v %v", credits, err)
	}
	// Reference alone is sent as both sides' reference.
	tx, err = e.client.Transfer(ctx(t), ada.Token, rehive.TransferRequest{Amount: 10, Currency: "USD", Recipient: merchantEmail, Reference: "ord_2"}, "ref-2")
	if err != nil || tx.Reference != "ord_2" {
		t.Fatalf("debit = %+v %v", tx, err)
	}
}

func TestContractLoginRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ada := e.user("ada@example.com", map[string]int64{"USD": 1000})
	for i := range 6 {
		if _, err := e.client.Login(ctx(t), ada.Email, company, password); err != nil {
			t.Fatalf("login %d: %v", i+1, err)
		}
	}
	_, err := e.client.Login(ctx(t), ada.Email, company, password)
	if pe := asError(t, err); pe.Class != httpx.Retryable || pe.Status != http.StatusTooManyRequests || pe.RetryAfter < 50*time.Second {
		t.Fatalf("7th login in a minute: %+v", pe)
	}
	// Other calls are not throttled by the login limit.
	if _, err := e.client.Accounts(ctx(t), ada.Token); err != nil {
		t.Errorf("accounts: %v", err)
	}

	// Limits are configurable; off for a load test.
	free := newEnv(t, func(c *sandbox.Config) { c.RateLimits = sandbox.RateLimits{LoginPerMinute: -1, LoginPerHour: -1} })
	bob := free.user("bob@example.com", nil)
	for i := range 10 {
		if _, err := free.client.Login(ctx(t), bob.Email, company, password); err != nil {
			t.Fatalf("unlimited login %d: %v", i+1, err)
		}
	}
}

func TestContractInitiatingPruned(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *sandbox.Config) { c.InitiatingTTL = 200 * time.Millisecond })
	// A managed currency: the Initiating step waits for the manager.
	ada := e.user("ada@example.com", map[string]int64{"XLM": 1000})
	tx := e.controlTx(map[string]any{"user": ada.Email, "tx_type": "debit", "currency": "XLM", "amount": 300, "status": "Initiating"})
	if _, avail := e.balance(ada.Token, "XLM"); avail != 700 {
		t.Fatalf("held: %d", avail)
	}
	if got, err := e.client.GetTransaction(ctx(t), string(tx.ID)); err != nil || got.Status != rehive.StatusInitiating {
		t.Fatalf("before = %+v %v", got, err)
	}
	time.Sleep(250 * time.Millisecond)
	if _, err := e.client.GetTransaction(ctx(t), string(tx.ID)); httpx.ClassOf(err) != httpx.NotFound {
		t.Errorf("after the TTL: %v", err)
	}
	if _, avail := e.balance(ada.Token, "XLM"); avail != 1000 {
		t.Errorf("hold not released: %d", avail)
	}
}

// TestContractQuotedStepAndTransitionList: a managed debit created Quoted
// goes through two transitions (Quoted→Pending, Pending→Complete), each
// waiting for the manager; the list form names the transaction by bare id.
func TestContractQuotedStepAndTransitionList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bob := e.user("bob@example.com", map[string]int64{"XLM": 10_0000000})
	tx := e.controlTx(map[string]any{"user": bob.Email, "tx_type": "debit", "currency": "XLM", "amount": 1_0000000, "status": "Quoted"})
	if tx.Status != rehive.StatusQuoted {
		t.Fatalf("tx = %+v", tx)
	}
	var steps [][2]string
	for range 2 {
		var tr *rehive.Transition
		eventually(t, func() bool {
			trs, err := e.client.ListTransitions(ctx(t), string(tx.ID))
			if err != nil || len(trs) == 0 || trs[0].Status != rehive.TransitionPending {
				return false
			}
			if trs[0].Transaction.ID != tx.ID {
				t.Fatalf("list form = %+v", trs[0])
			}
			tr = &trs[0]
			return true
		})
		steps = append(steps, [2]string{tr.FromStatus, tr.ToStatus})
		if _, err := e.client.ApproveTransition(ctx(t), string(tr.ID), "approve/"+string(tr.ID)); err != nil {
			t.Fatal(err)
		}
	}
	want := [][2]string{{rehive.StatusQuoted, rehive.StatusPending}, {rehive.StatusPending, rehive.StatusComplete}}
	if !reflect.DeepEqual(steps, want) {
		t.Errorf("steps = %v", steps)
	}
	if got, err := e.client.GetTransaction(ctx(t), string(tx.ID)); err != nil || got.Status != rehive.StatusComplete {
		t.Errorf("final = %+v %v", got, err)
	}
}
