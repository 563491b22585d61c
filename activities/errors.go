// Package activities holds the activity implementations: structs that carry
// the provider clients and the store, and turn provider failures into
// retryable or non-retryable Temporal errors.
package activities

import (
	"errors"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/payflow/payflow/providers/httpx"
	"github.com/payflow/payflow/store"
)

// classify turns a provider or store error into a Temporal error: declines
// and invalid requests never retry; 5xx, 429 and timeouts do, after the
// provider's Retry-After when it gave one.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var pe *httpx.Error
	if errors.As(err, &pe) {
		if pe.Class.Retryable() { // InFlight too: ask again with the same key
			return temporal.NewApplicationErrorWithOptions(pe.Error(), string(pe.Class), temporal.ApplicationErrorOptions{NextRetryDelay: pe.RetryAfter})
		}
		return temporal.NewNonRetryableApplicationError(pe.Error(), string(pe.Class), nil, strings.Join(pe.Codes, ","))
	}
	if errors.Is(err, store.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError(err.Error(), "not_found", nil)
	}
	return err // database and transport trouble: retry
}

// businessOutcome is a non-retryable failure that is a normal result of the
// business (a cart that cannot be sold, a card or withdrawal the provider
// refuses). It is marked benign, so the SDK does not log it as an error.
func businessOutcome(msg, typ string, details ...any) error {
	return temporal.NewApplicationErrorWithOptions(msg, typ, temporal.ApplicationErrorOptions{
		NonRetryable: true, Category: temporal.ApplicationErrorCategoryBenign, Details: details,
	})
}

// refused returns the provider error when the provider refused the call as
// invalid or conflicting: the caller then reads the current state, which may
// already be the answer (an earlier attempt went through).
func refused(err error) (*httpx.Error, bool) {
	var pe *httpx.Error
	if errors.As(err, &pe) && (pe.Class == httpx.Invalid || pe.Class == httpx.Conflict) {
		return pe, true
	}
	return nil, false
}

// stillInFlight retries a call whose idempotency key is still being
// processed (an earlier attempt timed out).
func stillInFlight(pe *httpx.Error) error {
	return temporal.NewApplicationError(pe.Error(), string(httpx.Retryable))
}
