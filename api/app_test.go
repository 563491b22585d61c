package api

import (
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/payflow/payflow/config"
)

// A handler that panics (here: the store is missing) answers the JSON error
// with a request id, never a stack trace, and the app keeps serving.
func TestPanicIsAJSONError(t *testing.T) {
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	app := New(Deps{Config: cfg})
	for i := 0; i < 2; i++ {
		req := httptest.NewRequest("GET", "/v1/products/ANY", nil)
		req.Header.Set("Authorization", "Bearer dev-key")
		resp, err := app.Test(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		var e struct {
			Error struct{ Code, Message string }
		}
		if resp.StatusCode != 500 || json.Unmarshal(body, &e) != nil || e.Error.Code != "internal" {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		if strings.Contains(string(body), "goroutine") || strings.Contains(string(body), "nil pointer") {
			t.Fatalf("internals leaked: %s", body)
		}
		if rid := resp.Header.Get("X-Request-Id"); rid == "" || !strings.Contains(e.Error.Message, rid) {
			t.Fatalf("request id %q not in %q", rid, e.Error.Message)
		}
	}
}
