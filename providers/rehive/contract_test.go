package rehive_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/payflow/payflow/providers/httpx"
	"github.com/payflow/payflow/providers/rehive"
)

// Rehive Checkout: login, pick an account, transfer to the merchant in an
// unmanaged currency; the merchant's credit completes by itself and the
// webhooks say so.
func TestContractCheckoutTransfer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ada := e.user("ada@example.com", map[string]int64{"USD": 100000})
	merchantEmail, merchantAccount := e.merchant()

	login, err := e.client.Login(ctx(t), "ada@example.com", company, password)
	if err != nil {
		t.Fatal(err)
	}
	if login.Token != ada.Token || string(login.User.ID) != ada.ID {
		t.Fatalf("login = %+v", login)
	}
	if strings.Contains(login.String(), ada.Token) {
		t.Fatal("LoginResult.String leaks the token")
	}
	accounts, err := e.client.Accounts(ctx(t), login.Token)
	if err != nil {
		t.Fatal(err)
	}
	if len(accounts) != 1 || accounts[0].Reference != ada.Account || !accounts[0].Primary {
		t.Fatalf("accounts = %+v", accounts)
	}
	usd := accounts[0].Currency("USD")
	if usd == nil || usd.Balance != 100000 || usd.AvailableBalance != 100000 || usd.Currency.Divisibility != 2 {
		t.Fatalf("USD balance = %+v", usd)
	}

	meta := map[string]any{"order_id": "ord_1001"}
	debit, err := e.client.Transfer(ctx(t), login.Token, rehive.TransferRequest{
		Amount: 2500, Currency: "USD", Recipient: merchantEmail, DebitAccount: ada.Account,
		DebitMetadata: meta, CreditMetadata: meta,
	}, "checkout/ord_1001/pay")
	if err != nil {
		t.Fatal(err)
	}
	if debit.TxType != rehive.Debit || debit.Status != rehive.StatusPending || debit.Amount != -2500 || debit.AbsAmount() != 2500 || !debit.IsTransfer() || debit.Account != ada.Account {
		t.Fatalf("transfer = %+v", debit)
	}
	creditID := string(debit.Partner.ID)

	created := e.hooks.wait(t, txEvent(rehive.EventTransactionCreate, creditID, ""))
	updated := e.hooks.wait(t, txEvent(rehive.EventTransactionUpdate, creditID, rehive.StatusComplete))
	if created.ID == updated.ID || created.Company != company {
		t.Fatalf("events %+v / %+v", created, updated)
	}
	credit, err := updated.Transaction()
	if err != nil {
		t.Fatal(err)
	}
	if credit.Metadata["order_id"] != "ord_1001" || credit.Account != merchantAccount || credit.Amount != 2500 ||
		credit.Currency.Code != "USD" || credit.Currency.Divisibility != 2 || credit.TxType != rehive.Credit ||
		credit.Partner == nil || string(credit.Partner.ID) != string(debit.ID) || credit.Collection != debit.Collection {
		t.Fatalf("credit = %+v", credit)
	}
	e.hooks.wait(t, txEvent(rehive.EventTransactionUpdate, string(debit.ID), rehive.StatusComplete))
	if bal, avail := e.balance(ada.Token, "USD"); bal != 97500 || avail != 97500 {
		t.Fatalf("ada USD = %d/%d", bal, avail)
	}
	got, err := e.client.GetTransaction(ctx(t), creditID)
	if err != nil || got.Status != rehive.StatusComplete || got.Executed == 0 {
		t.Fatalf("GetTransaction = %+v, %v", got, err)
	}
	col, err := e.client.GetCollection(ctx(t), string(debit.Collection))
	if err != nil || len(col.Transactions) != 2 || col.Status != rehive.StatusComplete {
		t.Fatalf("collection = %+v, %v", col, err)
	}
	e.hooks.mu.Lock()
	defer e.hooks.mu.Unlock()
	if e.hooks.rejected != 0 {
		t.Fatalf("%d webhooks failed verification", e.hooks.rejected)
	}
}

// A withdrawal in a managed currency waits for the manager: the transition
// webhook names a transition, which the manager reads and approves.
func TestContractManagedDebitApproved(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bob := e.user("bob@example.com", map[string]int64{"XLM": 50_000_0000})
	tx := e.controlTx(map[string]any{"user": bob.Email, "tx_type": "debit", "currency": "XLM", "amount": 10_000_0000,
		"metadata": map[string]any{"destination": "GDEST"}})
	if tx.Status != rehive.StatusPending || tx.Amount != -10_000_0000 || tx.IsTransfer() {
		t.Fatalf("tx = %+v", tx)
	}
	if bal, avail := e.balance(bob.Token, "XLM"); bal != 50_000_0000 || avail != 40_000_0000 {
		t.Fatalf("held: %d/%d", bal, avail)
	}

	ev := e.hooks.wait(t, transitionEvent(rehive.EventTransactionTransitionCreate, string(tx.ID)))
	trID, err := ev.TransitionID()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := e.client.GetTransition(ctx(t), trID)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Status != rehive.TransitionPending || tr.FromStatus != rehive.StatusPending || tr.ToStatus != rehive.StatusComplete ||
		tr.Transaction.ID != tx.ID || tr.Transaction.Metadata["destination"] != "GDEST" || tr.Transaction.Currency.Divisibility != 7 {
		t.Fatalf("transition = %+v", tr)
	}
	// Nothing moves until the manager acts.
	if got, _ := e.client.GetTransaction(ctx(t), string(tx.ID)); got.Status != rehive.StatusPending {
		t.Fatalf("moved without approval: %s", got.Status)
	}
	approved, err := e.client.ApproveTransition(ctx(t), trID, "rehive-tx/"+string(tx.ID)+"/approve")
	if err != nil {
		t.Fatal(err)
	}
	if approved.Status != rehive.TransitionApproved || approved.Transaction.Status != rehive.StatusComplete {
		t.Fatalf("approved = %+v", approved)
	}
	e.hooks.wait(t, txEvent(rehive.EventTransactionUpdate, string(tx.ID), rehive.StatusComplete))
	e.hooks.wait(t, func(ev *rehive.WebhookEvent) bool {
		id, err := ev.TransitionID()
		return ev.Event == rehive.EventTransactionTransitionUpdate && err == nil && id == trID
	})
	if bal, avail := e.balance(bob.Token, "XLM"); bal != 40_000_0000 || avail != 40_000_0000 {
		t.Fatalf("after approval: %d/%d", bal, avail)
	}
	// A resolved transition cannot be resolved again.
	_, err = e.client.DeclineTransition(ctx(t), trID, "")
	if httpx.ClassOf(err) != httpx.Invalid {
		t.Fatalf("decline after approve: %v", err)
	}
}

func TestContractManagedDebitDeclined(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bob := e.user("bob@example.com", map[string]int64{"XLM": 5_0000000})
	tx := e.controlTx(map[string]any{"user": bob.Email, "tx_type": "debit", "currency": "XLM", "amount": 2_0000000})
	ev := e.hooks.wait(t, transitionEvent(rehive.EventTransactionTransitionCreate, string(tx.ID)))
	trID, err := ev.TransitionID()
	if err != nil {
		t.Fatal(err)
	}
	declined, err := e.client.DeclineTransition(ctx(t), trID, "decline-"+trID)
	if err != nil {
		t.Fatal(err)
	}
	if declined.Status != rehive.TransitionDeclined || declined.Transaction.Status != rehive.StatusFailed {
		t.Fatalf("declined = %+v", declined)
	}
	e.hooks.wait(t, txEvent(rehive.EventTransactionUpdate, string(tx.ID), rehive.StatusFailed))
	if bal, avail := e.balance(bob.Token, "XLM"); bal != 5_0000000 || avail != 5_0000000 {
		t.Fatalf("hold not released: %d/%d", bal, avail)
	}
	// Final statuses do not change.
	_, err = e.client.PatchTransaction(ctx(t), string(tx.ID), rehive.TransactionPatch{Status: rehive.StatusComplete}, "")
	if httpx.ClassOf(err) != httpx.Invalid {
		t.Fatalf("patch of a failed transaction: %v", err)
	}
}

// Initiating → Pending → Complete: each step is a transition of its own.
func TestContractInitiatingChain(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bob := e.user("bob@example.com", map[string]int64{"XLM": 5_0000000})
	tx := e.controlTx(map[string]any{"user": bob.Email, "tx_type": "debit", "currency": "XLM", "amount": 1_0000000, "status": "Initiating"})
	if tx.Status != rehive.StatusInitiating {
		t.Fatalf("status = %s", tx.Status)
	}
	for _, step := range []struct{ from, to string }{
		{rehive.StatusInitiating, rehive.StatusPending},
		{rehive.StatusPending, rehive.StatusComplete},
	} {
		ev := e.hooks.wait(t, func(ev *rehive.WebhookEvent) bool {
			if ev.Event != rehive.EventTransactionTransitionCreate {
				return false
			}
			tx2, err := ev.Transaction()
			return err == nil && tx2.ID == tx.ID && tx2.Status == step.from
		})
		trID, err := ev.TransitionID()
		if err != nil {
			t.Fatal(err)
		}
		tr, err := e.client.GetTransition(ctx(t), trID)
		if err != nil || tr.FromStatus != step.from || tr.ToStatus != step.to {
			t.Fatalf("transition = %+v, %v", tr, err)
		}
		if _, err := e.client.ApproveTransition(ctx(t), trID, "approve-"+trID); err != nil {
			t.Fatal(err)
		}
		e.hooks.wait(t, txEvent(rehive.EventTransactionUpdate, string(tx.ID), step.to))
	}
	if bal, _ := e.balance(bob.Token, "XLM"); bal != 4_0000000 {
		t.Fatalf("balance = %d", bal)
	}
}

// The manager may set the status itself; that resolves the transition.
func TestContractPatchResolvesTransition(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bob := e.user("bob@example.com", map[string]int64{"XLM": 5_0000000})
	ada := e.user("ada@example.com", nil)
	tx := e.controlTx(map[string]any{"user": bob.Email, "tx_type": "debit", "currency": "XLM", "amount": 1_0000000, "partner": ada.Email})
	if !tx.IsTransfer() {
		t.Fatalf("not a transfer: %+v", tx)
	}
	ev := e.hooks.wait(t, transitionEvent(rehive.EventTransactionTransitionCreate, string(tx.ID)))
	trID, err := ev.TransitionID()
	if err != nil {
		t.Fatal(err)
	}
	patched, err := e.client.PatchTransaction(ctx(t), string(tx.ID), rehive.TransactionPatch{
		Status: rehive.StatusComplete, Note: "transfer", Metadata: map[string]any{"ledger_tx": "l-1"},
	}, "complete-"+string(tx.ID))
	if err != nil {
		t.Fatal(err)
	}
	if patched.Status != rehive.StatusComplete || patched.Note != "transfer" || patched.Metadata["ledger_tx"] != "l-1" {
		t.Fatalf("patched = %+v", patched)
	}
	if tr, err := e.client.GetTransition(ctx(t), trID); err != nil || tr.Status != rehive.TransitionApproved {
		t.Fatalf("transition = %+v, %v", tr, err)
	}
	// The partner side moved with its collection.
	e.hooks.wait(t, txEvent(rehive.EventTransactionUpdate, string(tx.Partner.ID), rehive.StatusComplete))
	if bal, _ := e.balance(ada.Token, "XLM"); bal != 1_0000000 {
		t.Fatalf("partner balance = %d", bal)
	}
	if _, err := e.client.AddMessage(ctx(t), string(tx.ID), rehive.Message{Message: "sent", Level: rehive.LevelInfo, Section: rehive.SectionUser}, "msg-1"); err != nil {
		t.Fatal(err)
	}
	var state struct {
		Messages    []rehive.Message `json:"messages"`
		Transitions []struct {
			Status string `json:"status"`
		} `json:"transitions"`
	}
	e.control("GET", "transactions/"+string(tx.ID), nil, &state)
	if len(state.Messages) != 1 || state.Messages[0].Message != "sent" || len(state.Transitions) != 1 {
		t.Fatalf("control state = %+v", state)
	}
}

// Deposits: the manager creates credits through collections with ids of its
// own, so a repeat creates nothing new.
func TestContractCollectionIdempotent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bob := e.user("bob@example.com", nil)
	colID, txID := rehive.DeriveID("ledger-deposit/l-1"), rehive.DeriveID("ledger-deposit/l-1/tx")
	req := rehive.CollectionRequest{ID: colID, Transactions: []rehive.CollectionTx{{
		ID: txID, TxType: rehive.Credit, Amount: 3_0000000, Currency: "XLM", User: bob.Email,
		Subtype: "deposit", Metadata: map[string]any{"ledger_tx_id": "l-1"}, Status: rehive.StatusPending,
	}}}
	for i := 0; i < 2; i++ {
		col, err := e.client.CreateCollection(ctx(t), req, "")
		if err != nil {
			t.Fatal(err)
		}
		if string(col.ID) != colID || len(col.Transactions) != 1 || string(col.Transactions[0].ID) != txID || col.Status != rehive.StatusPending {
			t.Fatalf("collection = %+v", col)
		}
	}
	// Explicit status: no transition even in a managed currency.
	e.hooks.wait(t, txEvent(rehive.EventTransactionCreate, txID, rehive.StatusPending))
	if s := e.state(); s.Counts.Collections != 1 || s.Counts.PendingTransitions != 0 {
		t.Fatalf("state = %+v", s.Counts)
	}
	// Same id, different body: refused.
	other := req
	other.Transactions = []rehive.CollectionTx{req.Transactions[0]}
	other.Transactions[0].Amount++
	if _, err := e.client.CreateCollection(ctx(t), other, ""); httpx.ClassOf(err) != httpx.Invalid {
		t.Fatalf("different body: %v", err)
	}
	// Confirmed on the ledger: complete it.
	done, err := e.client.PatchTransaction(ctx(t), txID, rehive.TransactionPatch{Status: rehive.StatusComplete}, "deposit-complete-l-1")
	if err != nil || done.Status != rehive.StatusComplete {
		t.Fatalf("complete = %+v, %v", done, err)
	}
	e.hooks.wait(t, txEvent(rehive.EventTransactionUpdate, txID, rehive.StatusComplete))
	if bal, _ := e.balance(bob.Token, "XLM"); bal != 3_0000000 {
		t.Fatalf("balance = %d", bal)
	}
	// A collection created Complete credits at once.
	direct, err := e.client.CreateCollection(ctx(t), rehive.CollectionRequest{Status: rehive.StatusComplete, Transactions: []rehive.CollectionTx{{
		TxType: rehive.Credit, Amount: 100, Currency: "USD", User: bob.ID,
	}}}, "direct-1")
	if err != nil || direct.Status != rehive.StatusComplete {
		t.Fatalf("direct = %+v, %v", direct, err)
	}
	patched, err := e.client.PatchCollection(ctx(t), colID, rehive.StatusFailed, "")
	if httpx.ClassOf(err) != httpx.Invalid {
		t.Fatalf("patch of a complete collection = %+v, %v", patched, err)
	}
}

func TestContractAuthAndNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ada := e.user("ada@example.com", map[string]int64{"USD": 100})
	tx := e.controlTx(map[string]any{"user": ada.Email, "tx_type": "credit", "currency": "USD", "amount": 100})

	for name, c := range map[string]*rehive.Client{
		"wrong admin token": e.newClient("wrong", 0),
		"customer token":    e.newClient(ada.Token, 0),
		"no token":          e.newClient("", 0),
	} {
		_, err := c.GetTransaction(ctx(t), string(tx.ID))
		var he *httpx.Error
		if !errors.As(err, &he) || he.Class != httpx.Auth {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.Contains(err.Error(), ada.Token) || strings.Contains(err.Error(), "wrong") {
			t.Fatalf("%s: error leaks the token: %v", name, err)
		}
	}
	if _, err := e.client.Accounts(ctx(t), "not-a-token"); httpx.ClassOf(err) != httpx.Auth {
		t.Fatalf("accounts with a bad token: %v", err)
	}
	for name, call := range map[string]func() error{
		"transaction": func() error { _, err := e.client.GetTransaction(ctx(t), rehive.DeriveID("nope")); return err },
		"transition":  func() error { _, err := e.client.GetTransition(ctx(t), "nope"); return err },
		"collection":  func() error { _, err := e.client.GetCollection(ctx(t), "nope"); return err },
		"message": func() error {
			_, err := e.client.AddMessage(ctx(t), "nope", rehive.Message{Message: "x", Level: "info", Section: "admin"}, "")
			return err
		},
	} {
		if err := call(); httpx.ClassOf(err) != httpx.NotFound {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if _, err := e.client.GetTransaction(ctx(t), ""); httpx.ClassOf(err) != httpx.Invalid {
		t.Fatalf("empty id: %v", err)
	}
}

func TestContractInvalid(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ada := e.user("ada@example.com", map[string]int64{"USD": 1000})
	merchantEmail, _ := e.merchant()

	_, err := e.client.Login(ctx(t), ada.Email, company, "wrong password")
	var he *httpx.Error
	if !errors.As(err, &he) || he.Class != httpx.Invalid || strings.Contains(err.Error(), "wrong password") {
		t.Fatalf("bad login: %v", err)
	}
	_, err = e.client.Transfer(ctx(t), ada.Token, rehive.TransferRequest{Amount: 5000, Currency: "USD", Recipient: merchantEmail}, "too-much")
	if !errors.As(err, &he) || he.Class != httpx.Invalid || he.Status != 400 || !strings.Contains(he.Message, "Insufficient") {
		t.Fatalf("insufficient balance: %v", err)
	}
	_, err = e.client.Transfer(ctx(t), ada.Token, rehive.TransferRequest{Amount: 10, Currency: "USD", Recipient: "nobody@example.com"}, "")
	if !errors.As(err, &he) || he.Class != httpx.Invalid || !strings.Contains(he.Message, "recipient") {
		t.Fatalf("unknown recipient: %v", err)
	}
	_, err = e.client.AddMessage(ctx(t), rehive.DeriveID("x"), rehive.Message{Message: "x", Level: "loud", Section: "admin"}, "")
	if httpx.ClassOf(err) != httpx.Invalid {
		t.Fatalf("bad level: %v", err)
	}
}

// An Idempotency-Key replays the first answer; reused with another body it
// is a conflict.
func asError(t *testing.T, err error) *httpx.Error {
	t.Helper()
	var pe *httpx.Error
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want *httpx.Error", err)
	}
	return pe
}

func TestContractIdempotencyKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ada := e.user("ada@example.com", map[string]int64{"USD": 1000})
	merchantEmail, _ := e.merchant()
	req := rehive.TransferRequest{Amount: 100, Currency: "USD", Recipient: merchantEmail}
	first, err := e.client.Transfer(ctx(t), ada.Token, req, "pay-1")
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.client.Transfer(ctx(t), ada.Token, req, "pay-1")
	if err != nil || again.ID != first.ID {
		t.Fatalf("replay = %+v, %v", again, err)
	}
	// Rehive does not compare bodies: a reused key silently replays.
	req.Amount = 200
	if tx, err := e.client.Transfer(ctx(t), ada.Token, req, "pay-1"); err != nil || tx.ID != first.ID {
		t.Fatalf("reused key: %+v %v", tx, err)
	}
	// A refusal is replayed too, marked so: the retry needs a new key.
	req.Amount = 10_000
	_, err = e.client.Transfer(ctx(t), ada.Token, req, "pay-big")
	if pe := asError(t, err); pe.Class != httpx.Invalid || slices.Contains(pe.Codes, rehive.CodeReplayed) {
		t.Fatalf("refusal: %v", err)
	}
	_, err = e.client.Transfer(ctx(t), ada.Token, req, "pay-big")
	if pe := asError(t, err); pe.Class != httpx.Invalid || !slices.Contains(pe.Codes, rehive.CodeReplayed) {
		t.Fatalf("replayed refusal: %v", err)
	}
	req.Amount = 200
	// Keys of 100 characters or more are hashed to fit.
	long := strings.Repeat("k", 150)
	a, err := e.client.Transfer(ctx(t), ada.Token, req, long)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.client.Transfer(ctx(t), ada.Token, req, long)
	if err != nil || a.ID != b.ID {
		t.Fatalf("long key replay = %+v, %v", b, err)
	}
	if bal, _ := e.balance(ada.Token, "USD"); bal != 700 {
		t.Fatalf("balance = %d", bal)
	}
}
