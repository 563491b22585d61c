package ledger_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/payflow/payflow/providers/httpx"
	"github.com/payflow/payflow/providers/ledger"
	"github.com/payflow/payflow/sandbox/faults"
)

func TestIdempotentCallsAreRetried(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusTooManyRequests} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ctx := context.Background()
			// 503 and 429 carry Retry-After: 1, which the client honours, so
			// one failure keeps those cases to a second.
			failures := 1
			if status == http.StatusInternalServerError {
				failures = 2
			}
			e.setFaults(t, faults.Config{FailNext: failures, Status: status})
			if _, err := e.client.CreateTransaction(ctx, withdrawal("wd-retry", "stall-x")); err != nil {
				t.Fatalf("create after %d× %d: %v", failures, status, err)
			}
			e.setFaults(t, faults.Config{FailNext: failures, Status: status})
			if _, err := e.client.CancelTransaction(ctx, "wd-retry"); err != nil {
				t.Fatalf("cancel after %d× %d: %v", failures, status, err)
			}
			st := e.state(t)
			if st.Stats.FailedCalls != 2*failures || len(st.Transactions) != 1 || st.Counts["cancelled"] != 1 {
				t.Fatalf("state: %+v", st)
			}
		})
	}
}

func TestExhaustedRetriesAreRetryable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.setFaults(t, faults.Config{FailNext: 5, Status: http.StatusServiceUnavailable})
	_, err := e.client.GetTransaction(context.Background(), "anything")
	pe := mustClass(t, err, httpx.Retryable)
	if pe.Status != http.StatusServiceUnavailable || pe.RetryAfter != time.Second || pe.Codes[0] != "injected_fault" {
		t.Fatalf("error: %+v", pe)
	}
	if n := e.state(t).Stats.FailedCalls; n != 3 {
		t.Fatalf("%d attempts, want 3", n)
	}
}

func TestLatencyBeyondTimeoutIsRetryable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.setFaults(t, faults.Config{LatencyMS: 500})
	client := newClient(e.url, testKey, 50*time.Millisecond)
	_, err := client.GetTransaction(context.Background(), "anything")
	pe := mustClass(t, err, httpx.Retryable)
	if pe.Status != 0 || strings.Contains(pe.Error(), testKey) {
		t.Fatalf("error: %v", pe)
	}

	// The caller's deadline counts too.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err = e.client.GetAccount(ctx, "acct")
	if pe := mustClass(t, err, httpx.Retryable); !strings.Contains(pe.Message, "deadline") {
		t.Fatalf("error: %v", pe)
	}
}

func TestWrongKeyIsAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const wrong = "wrong-key-secret-value"
	_, err := newClient(e.url, wrong, time.Second).CreateTransaction(context.Background(), withdrawal("wd-auth", "addr"))
	pe := mustClass(t, err, httpx.Auth)
	if pe.Status != http.StatusUnauthorized || strings.Contains(pe.Error(), wrong) || strings.Contains(pe.Error(), testKey) {
		t.Fatalf("error: %v", pe)
	}
	if n := len(e.state(t).Transactions); n != 0 {
		t.Fatalf("%d transactions created without a valid key", n)
	}
}

func TestUnknownTransactionIsNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	calls := map[string]func(context.Context, string) (*ledger.Transaction, error){
		"get": e.client.GetTransaction, "complete": e.client.CompleteTransaction, "cancel": e.client.CancelTransaction,
	}
	for name, call := range calls {
		_, err := call(ctx, "no-such-tx")
		if pe := mustClass(t, err, httpx.NotFound); pe.Status != http.StatusNotFound {
			t.Fatalf("%s: %v", name, pe)
		}
	}
}

func TestInvalidRequestIsInvalid(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	cases := map[string]func(*ledger.CreateRequest){
		"amount_invalid":    func(r *ledger.CreateRequest) { r.Amount = 0 },
		"type_invalid":      func(r *ledger.CreateRequest) { r.Type = "transfer" },
		"account_required":  func(r *ledger.CreateRequest) { r.Account = "" },
		"currency_required": func(r *ledger.CreateRequest) { r.Currency = "" },
		"status_invalid":    func(r *ledger.CreateRequest) { r.Status = ledger.StatusFailed },
		"id_too_long":       func(r *ledger.CreateRequest) { r.ID = strings.Repeat("x", 101) },
	}
	for code, mutate := range cases {
		req := withdrawal("wd-invalid", "addr")
		mutate(&req)
		_, err := e.client.CreateTransaction(ctx, req)
		if pe := mustClass(t, err, httpx.Invalid); pe.Status != http.StatusUnprocessableEntity || pe.Codes[0] != code {
			t.Fatalf("%s: %v", code, pe)
		}
	}
	// An empty id is caught before any request.
	_, err := e.client.CreateTransaction(ctx, withdrawal("", "addr"))
	mustClass(t, err, httpx.Invalid)
	_, err = e.client.GetTransaction(ctx, "")
	mustClass(t, err, httpx.Invalid)
	if n := len(e.state(t).Transactions); n != 0 {
		t.Fatalf("%d transactions created from invalid requests", n)
	}
}

func TestInvalidStateChangeIsConflict(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	dep := ledger.CreateRequest{ID: "dep-1", Type: ledger.Deposit, Account: "a", Amount: 1, Currency: "USD"}
	tx, err := e.client.CreateTransaction(ctx, dep)
	if err != nil || tx.Status != ledger.StatusComplete {
		t.Fatalf("deposit: %+v %v", tx, err)
	}
	_, err = e.client.CancelTransaction(ctx, "dep-1")
	if pe := mustClass(t, err, httpx.Conflict); pe.Status != http.StatusConflict || pe.Codes[0] != "invalid_state" {
		t.Fatalf("cancel complete: %v", pe)
	}
}
