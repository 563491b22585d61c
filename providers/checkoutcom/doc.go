// Package checkoutcom is a small typed client for the parts of the
// Checkout.com API that payflow uses (payments, payment actions, payments by
// reference) plus webhook verification and parsing.
//
// We do not use the official SDK (github.com/checkout/checkout-sdk-go/v2).
// The decision was revisited against the December 2026 facts in PROVIDERS.md
// and still holds, for more reasons than before:
//   - its payment request sends "capture": false unless the field is set, so a
//     forgotten field quietly turns a sale into an authorization only; here
//     Capture is always sent as given;
//   - it has no webhook verification, which we need anyway;
//   - idempotency is where payments go wrong, and we need per-call control of
//     Cko-Idempotency-Key and of which calls are retried, plus our own error
//     classes: 409 (and the older 429 duplicate_request) on an in-flight key
//     is httpx.InFlight — ask again with the same key, never a new one — while
//     a plain 429 is rate limiting (Retryable, with Retry-After), and 403 on a
//     capture/refund/void is Conflict (not allowed in the payment's state),
//     not bad credentials. The SDK folds these into generic errors;
//   - 3-D Secure is requested explicitly (3ds.enabled with success_url and
//     failure_url from Config) on every payment, and processing_channel_id is
//     always sent; both are two fields here, not a reason for a dependency.
//
// We call eight endpoints, so the price — adding new API fields by hand — is
// small, and the contract tests (including against Checkout.com's own
// sandbox under -tags contract) catch drift.
package checkoutcom
