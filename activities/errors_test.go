package activities

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/payflow/payflow/providers/httpx"
	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/workflows"
)

// The table covers every provider class, in the closed vocabulary, and
// retries exactly the classes httpx calls retryable.
func TestFailureTableCoversEveryClass(t *testing.T) {
	for _, c := range httpx.Classes {
		f, ok := providerFailures[c]
		if !ok {
			t.Errorf("class %s is not in the table", c)
			continue
		}
		if f.retry != c.Retryable() {
			t.Errorf("class %s: retry %v, httpx says %v", c, f.retry, c.Retryable())
		}
	}
	all := []failure{rehiveRefusal, unknownStatus}
	for _, f := range providerFailures {
		all = append(all, f)
	}
	for _, f := range ledgerFailures {
		all = append(all, f)
	}
	for _, s := range storeFailures {
		all = append(all, s.failure)
	}
	for _, f := range all {
		if !slices.Contains(workflows.ErrTypes, f.typ) {
			t.Errorf("type %q is not in workflows.ErrTypes", f.typ)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		classify  func(error) error
		typ       workflows.ErrType
		retryable bool
		msg       string
		delay     time.Duration
	}{
		{"503 with Retry-After", &httpx.Error{Provider: "checkoutcom", Class: httpx.Retryable, Status: 503, RetryAfter: 7 * time.Second}, classify,
			workflows.ErrTypeRetryable, true, "checkoutcom: retryable (HTTP 503)", 7 * time.Second},
		{"declined", &httpx.Error{Provider: "checkoutcom", Class: httpx.Declined, Status: 402}, classify,
			workflows.ErrTypeDeclined, false, "checkoutcom: declined (HTTP 402)", 0},
		{"in flight", &httpx.Error{Provider: "rehive", Class: httpx.InFlight, Status: 409}, classify,
			workflows.ErrTypeInFlight, true, "rehive: in_flight (HTTP 409)", 0},
		{"ledger refusal in its words", &httpx.Error{Provider: "ledger", Class: httpx.Invalid, Status: 422, Message: "insufficient funds"}, ledgerErr,
			workflows.ErrTypeLedgerRejected, false, "insufficient funds", 0},
		{"ledger unknown id", &httpx.Error{Provider: "ledger", Class: httpx.NotFound, Status: 404}, ledgerErr,
			workflows.ErrTypeNotFound, false, "ledger: not_found (HTTP 404)", 0},
		{"wrapped store sentinel", fmt.Errorf("%w: SKU-1", store.ErrOutOfStock), classify,
			workflows.ErrTypeOutOfStock, false, "out of stock: SKU-1", 0},
		{"busy", store.ErrBusy, classify, workflows.ErrTypeRetryable, true, "store: busy", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var appErr *temporal.ApplicationError
			if !errors.As(tc.classify(tc.err), &appErr) {
				t.Fatalf("not an application error")
			}
			if appErr.Type() != string(tc.typ) || appErr.NonRetryable() == tc.retryable || appErr.Message() != tc.msg || appErr.NextRetryDelay() != tc.delay {
				t.Fatalf("got type %q non-retryable %v message %q delay %s", appErr.Type(), appErr.NonRetryable(), appErr.Message(), appErr.NextRetryDelay())
			}
		})
	}
	plain := errors.New("connection reset")
	if got := classify(plain); got != plain {
		t.Fatalf("an unclassified error is returned as it is (retried), got %v", got)
	}
}
