package ledger_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/payflow/payflow/providers/httpx"
	"github.com/payflow/payflow/providers/ledger"
	"github.com/payflow/payflow/sandbox/faults"
)

// TestContractLostAnswers: create, complete and cancel are carried out and
// their answers lost in each mode; the client's retries (the id makes them
// idempotent) end with the one transaction, and the control list shows it.
func TestContractLostAnswers(t *testing.T) {
	e := newEnv(t)
	c := newClient(e.url, testKey, 300*time.Millisecond)
	ctx := context.Background()
	for _, mode := range []faults.LoseMode{faults.Lose5xx, faults.LoseReset, faults.LoseHang} {
		t.Run(string(mode), func(t *testing.T) {
			id := "wd-lost-" + string(mode)
			e.setFaults(t, faults.Config{LoseAnswersNext: 1, LoseMode: mode})
			tx, err := c.CreateTransaction(ctx, ledger.CreateRequest{ID: id, Type: ledger.Withdrawal,
				Account: "acct-1", Amount: 100, Currency: "XLM", Status: ledger.StatusPending, Destination: "GDEST"})
			if err != nil || tx.ID != id {
				t.Fatalf("create = %+v %v", tx, err)
			}
			e.setFaults(t, faults.Config{LoseAnswersNext: 1, LoseMode: mode})
			if tx, err = c.CancelTransaction(ctx, id); err != nil || tx.Status != ledger.StatusCancelled {
				t.Fatalf("cancel = %+v %v", tx, err)
			}
			// Completing a cancelled transaction is a 409 (Conflict), lost
			// answer or not.
			e.setFaults(t, faults.Config{LoseAnswersNext: 1, LoseMode: mode})
			if _, err := c.CompleteTransaction(ctx, id); httpx.ClassOf(err) != httpx.Conflict {
				t.Errorf("complete after cancel: %v", err)
			}
		})
	}
	e.setFaults(t, faults.Config{})
	if n := e.state(t).Stats.AnswersLost; n != 9 {
		t.Errorf("answers_lost = %d, want 9", n)
	}
	var list struct{ Transactions []ledger.Transaction }
	if st := e.control(t, http.MethodGet, "/transactions", nil, &list); st != http.StatusOK || len(list.Transactions) != 3 {
		t.Fatalf("control list = %d %+v", st, list)
	}
	for _, tx := range list.Transactions {
		if tx.Status != ledger.StatusCancelled || tx.Amount != 100 {
			t.Errorf("listed %+v", tx)
		}
	}
}
