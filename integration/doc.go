// Package integration holds end-to-end tests: payflow in-process against a
// real PostgreSQL, the embedded Temporal server and the provider sandboxes
// over real HTTP on 127.0.0.1.
package integration
