package workflows

import (
	"errors"

	"go.temporal.io/sdk/temporal"
)

// ErrType is the type of an application error an activity raises: the one
// vocabulary of failures the workflows branch on and operators read in a
// history. activities/errors.go maps every provider error class and store
// sentinel onto it; Temporal's retry policy retries only the retryable ones.
// The values are recorded in histories: never change one.
type ErrType string

// Failures that are business outcomes (non-retryable).
const (
	ErrTypeOutOfStock  ErrType = "out_of_stock"
	ErrTypeInvalidCart ErrType = "invalid_cart"
	// ErrTypeRejected: Checkout.com refused the charge (or no card token was
	// stored for the order).
	ErrTypeRejected ErrType = "payment_rejected"
	// ErrTypeChargeUnknown: the charge may have been carried out but its
	// answer was lost (422 token_used after a lost answer); the workflow
	// looks the payment up by reference.
	ErrTypeChargeUnknown ErrType = "charge_outcome_unknown"
	// ErrTypeNotFound: the provider or the database does not know the
	// payment, transaction, transition or row.
	ErrTypeNotFound ErrType = "not_found"
	// ErrTypeLedgerRejected: the ledger refused the request (4xx: invalid
	// destination, insufficient funds, ...). The message is shown to the user.
	ErrTypeLedgerRejected ErrType = "ledger_rejected"
	// ErrTypeRehiveRejected: Rehive refused the request (4xx), e.g. a status
	// change of a transaction that is already final.
	ErrTypeRehiveRejected ErrType = "rehive_rejected"
)

// Refunds the checkout's refund update refuses (the API's 409 and 422), or
// that a provider cannot carry out.
const (
	ErrTypeRefundNotAllowed  ErrType = "refund_not_allowed"        // not paid, closed, or a cancel is settling
	ErrTypeNothingRefundable ErrType = "nothing_refundable"        // all was refunded or is being refunded
	ErrTypeRefundTooLarge    ErrType = "refund_exceeds_refundable" // more than is left to refund
	ErrTypeRefundBadLines    ErrType = "refund_invalid_lines"      // lines the order does not hold
)

// Provider failures no workflow branches on, by class (providers/httpx):
// the history says which it was.
const (
	ErrTypeDeclined       ErrType = "declined"        // the provider refused; not retried
	ErrTypeInvalidRequest ErrType = "invalid_request" // our request is wrong; not retried
	ErrTypeAuth           ErrType = "auth"            // credentials rejected; not retried
	ErrTypeConflict       ErrType = "conflict"        // refused in the resource's state; not retried
	ErrTypeRetryable      ErrType = "retryable"       // 5xx, 429, timeouts: retried
	// ErrTypeInFlight: the provider still processes an earlier request with
	// the same idempotency key; retried with the same key.
	ErrTypeInFlight ErrType = "in_flight"
	// ErrTypeUnknownStatus: the provider answered with a status word payflow
	// does not know (ParseRehiveStatus); not retried, asking again brings
	// the same word.
	ErrTypeUnknownStatus ErrType = "unknown_provider_status"
)

// ErrTypes is the closed set, for the table's test.
var ErrTypes = []ErrType{
	ErrTypeOutOfStock, ErrTypeInvalidCart, ErrTypeRejected, ErrTypeChargeUnknown, ErrTypeNotFound,
	ErrTypeLedgerRejected, ErrTypeRehiveRejected,
	ErrTypeRefundNotAllowed, ErrTypeNothingRefundable, ErrTypeRefundTooLarge, ErrTypeRefundBadLines,
	ErrTypeDeclined, ErrTypeInvalidRequest, ErrTypeAuth, ErrTypeConflict, ErrTypeRetryable, ErrTypeInFlight,
	ErrTypeUnknownStatus,
}

// isType reports whether an activity failed with the application error type typ.
func isType(err error, typ ErrType) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == string(typ)
}

// errDetail is the innermost message of an activity failure.
func errDetail(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return err.Error()
}
