// Package checkoutcom is a small typed client for the parts of the
// Checkout.com API that payflow uses (payments, payment actions) plus webhook
// verification and parsing.
//
// We do not use the official SDK (github.com/checkout/checkout-sdk-go/v2):
//   - its payment request sends "capture": false unless the field is set, so a
//     forgotten field quietly turns a sale into an authorization only; here
//     Capture is always sent as given;
//   - it has no webhook verification, which we need anyway;
//   - we need our own error classes (httpx.Class) with Retry-After, and per-call
//     control of Cko-Idempotency-Key and of which calls are retried.
//
// We call six endpoints, so the price — adding new API fields by hand — is small.
package checkoutcom
