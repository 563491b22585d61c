// Package activities holds the activity implementations: structs that carry
// the provider clients and the store, and turn provider failures into
// retryable or non-retryable Temporal errors.
package activities

import (
	"errors"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/payflow/payflow/providers/httpx"
	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/workflows"
)

// failure is how one kind of failure reaches the workflows: its type in
// payflow's vocabulary (workflows.ErrType) and whether Temporal's retry
// policy, the one retry layer, tries the activity again.
type failure struct {
	typ   workflows.ErrType
	retry bool
	// benign marks a business outcome (a cart that cannot be sold, a
	// withdrawal the ledger refuses): the SDK does not log it as an error.
	benign bool
	// userMessage makes the provider's own words the failure's message (the
	// workflow shows them to the user); the whole error goes in the details.
	userMessage bool
}

// The one table of failures: every provider error class and every store
// sentinel, and where one provider's class means more.
var (
	providerFailures = map[httpx.Class]failure{
		httpx.Declined:  {typ: workflows.ErrTypeDeclined},
		httpx.Invalid:   {typ: workflows.ErrTypeInvalidRequest},
		httpx.Auth:      {typ: workflows.ErrTypeAuth},
		httpx.NotFound:  {typ: workflows.ErrTypeNotFound},
		httpx.Conflict:  {typ: workflows.ErrTypeConflict},
		httpx.Retryable: {typ: workflows.ErrTypeRetryable, retry: true},
		// Asked again with the same idempotency key, never a new one.
		httpx.InFlight: {typ: workflows.ErrTypeInFlight, retry: true},
	}
	// ledgerFailures: a request the ledger will never accept is final, and
	// its words are for the user.
	ledgerFailures = map[httpx.Class]failure{
		httpx.Invalid:  {typ: workflows.ErrTypeLedgerRejected, benign: true, userMessage: true},
		httpx.Declined: {typ: workflows.ErrTypeLedgerRejected, benign: true, userMessage: true},
	}
	storeFailures = []struct {
		sentinel error
		failure
	}{
		{store.ErrNotFound, failure{typ: workflows.ErrTypeNotFound}},
		{store.ErrOutOfStock, failure{typ: workflows.ErrTypeOutOfStock, benign: true}},
		{store.ErrRestockExceeds, failure{typ: workflows.ErrTypeRefundBadLines, benign: true}},
		{store.ErrConflict, failure{typ: workflows.ErrTypeConflict}},
		{store.ErrBusy, failure{typ: workflows.ErrTypeRetryable, retry: true}},
	}
	// rehiveRefusal: Rehive refused for good what the activity asked, after
	// it read the current state (which was not already the answer).
	rehiveRefusal = failure{typ: workflows.ErrTypeRehiveRejected, userMessage: true}
	// unknownStatus: a provider's status word outside payflow's vocabulary.
	unknownStatus = failure{typ: workflows.ErrTypeUnknownStatus}
)

// newError is the Temporal error of a failure.
func (f failure) newError(msg string, retryAfter time.Duration, details ...any) error {
	opts := temporal.ApplicationErrorOptions{NonRetryable: !f.retry, Details: details, NextRetryDelay: retryAfter}
	if f.benign {
		opts.Category = temporal.ApplicationErrorCategoryBenign
	}
	return temporal.NewApplicationErrorWithOptions(msg, string(f.typ), opts)
}

// classify turns a provider or store error into a Temporal error through
// the table: declines and invalid requests never retry; 5xx, 429 and
// timeouts do, after the provider's Retry-After when it gave one. Other
// errors (database and transport trouble) are returned as they are, and
// retried.
func classify(err error) error { return classifyWith(err, nil) }

// ledgerErr classifies a ledger call's error.
func ledgerErr(err error) error { return classifyWith(err, ledgerFailures) }

func classifyWith(err error, refined map[httpx.Class]failure) error {
	if err == nil {
		return nil
	}
	var pe *httpx.Error
	if errors.As(err, &pe) {
		f, ok := refined[pe.Class]
		if !ok {
			f = providerFailures[pe.Class]
		}
		if f.userMessage {
			return f.newError(pe.Message, pe.RetryAfter, pe.Error())
		}
		return f.newError(pe.Error(), pe.RetryAfter, strings.Join(pe.Codes, ","))
	}
	for _, s := range storeFailures {
		if errors.Is(err, s.sentinel) {
			return s.newError(err.Error(), 0)
		}
	}
	return err
}

// businessOutcome is a non-retryable failure that is a normal result of the
// business (a card the provider refuses, a cart that cannot be sold), of a
// type the workflows branch on.
func businessOutcome(msg string, typ workflows.ErrType, details ...any) error {
	return failure{typ: typ, benign: true}.newError(msg, 0, details...)
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
	return providerFailures[httpx.InFlight].newError(pe.Error(), 0)
}

// rehiveRejected is Rehive's final refusal, in its own words.
func rehiveRejected(pe *httpx.Error) error {
	return rehiveRefusal.newError(pe.Message, 0, pe.Error())
}

// notFound is an unknown transaction, transition or collection.
func notFound(msg string) error {
	return providerFailures[httpx.NotFound].newError(msg, 0)
}
