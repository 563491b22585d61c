// Package testenv gives integration tests a whole payflow (package stack)
// and the helpers they share: calls that fail the test on a transport error,
// JSON decoding and polling.
package testenv

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/payflow/payflow/stack"
)

// Options tune an environment.
type Options = stack.Options

// Env is a running payflow with test helpers.
type Env struct{ *stack.Stack }

// Start brings an environment up; Close tears it down.
func Start(opts Options) (*Env, error) {
	s, err := stack.Start(opts)
	if err != nil {
		return nil, err
	}
	return &Env{s}, nil
}

// RandomID returns n random bytes in hex, for unique test ids.
func RandomID(n int) string { return stack.RandomID(n) }

// Response is an HTTP answer, with decoding that fails the test.
type Response struct{ stack.Response }

// JSON decodes the body into v.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Map decodes the body as an object.
func (r Response) Map(t testing.TB) map[string]any {
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// Call is stack.Do for tests: a transport error fails the test.
func Call(t testing.TB, method, url string, body any, headers map[string]string) Response {
	t.Helper()
	r, err := stack.Do(method, url, body, headers)
	if err != nil {
		t.Fatal(err)
	}
	return Response{r}
}

// API calls payflow's API with the dev bearer key.
func (e *Env) API(t testing.TB, method, path string, body any) Response {
	t.Helper()
	return Call(t, method, e.APIURL+path, body, map[string]string{"Authorization": "Bearer " + e.Config.APIKeys[0]})
}

// SandboxCall calls a sandbox path such as /sandbox/checkoutcom/tokens.
func (e *Env) SandboxCall(t testing.TB, method, path string, body any) Response {
	t.Helper()
	return Call(t, method, e.SandboxURL+path, body, nil)
}

// Eventually polls cond until it holds or the timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", timeout, what)
}
