// Package operations tests payflow's operational surface end to end:
// readiness through a database outage, authentication, limits and errors.
package operations

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/payflow/payflow/config"
	"github.com/payflow/payflow/testenv"
)

var (
	env   *testenv.Env
	proxy *testenv.Proxy
)

func TestMain(m *testing.M) {
	dbURL := os.Getenv("DATABASE_URL")
	if dbURL == "" {
		dbURL = config.Default("DATABASE_URL")
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		panic(err)
	}
	if proxy, err = testenv.NewProxy(u.Host); err != nil {
		panic(err)
	}
	env, err = testenv.Start(testenv.Options{DatabaseURL: proxy.Rewrite, TemporalFile: true})
	if err != nil {
		panic(err)
	}
	code := m.Run()
	env.Close()
	proxy.Close()
	os.Exit(code)
}

func TestReadyzFollowsPostgres(t *testing.T) {
	ready := func() int { return testenv.Call(t, http.MethodGet, env.APIURL+"/readyz", nil, nil).Status }
	if s := ready(); s != http.StatusOK {
		t.Fatalf("readyz %d before the outage", s)
	}
	proxy.Down()
	testenv.Eventually(t, 10*time.Second, "readyz 503 while PostgreSQL is down", func() bool { return ready() == http.StatusServiceUnavailable })
	// A request that needs the database is a clean 503, not a 500.
	if r := env.API(t, http.MethodGet, "/v1/products/ANY", nil); r.Status != http.StatusServiceUnavailable || !strings.Contains(string(r.Body), `"code"`) {
		t.Fatalf("during outage: %d %s", r.Status, r.Body)
	}
	if err := proxy.Up(); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 15*time.Second, "readyz 200 once PostgreSQL is back", func() bool { return ready() == http.StatusOK })
}

func TestHealthzAndMetrics(t *testing.T) {
	if r := testenv.Call(t, http.MethodGet, env.APIURL+"/healthz", nil, nil); r.Status != http.StatusOK {
		t.Fatalf("healthz %d", r.Status)
	}
	env.API(t, http.MethodGet, "/v1/products/NOPE", nil)
	r := testenv.Call(t, http.MethodGet, env.APIURL+"/metrics", nil, nil)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "payflow_http_request_duration_seconds") {
		t.Fatalf("metrics %d", r.Status)
	}
	if r := testenv.Call(t, http.MethodGet, env.APIURL+"/openapi.json", nil, nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"openapi"`) {
		t.Fatalf("openapi %d", r.Status)
	}
}

func TestV1NeedsAValidKey(t *testing.T) {
	for _, h := range []map[string]string{nil, {"Authorization": "Bearer wrong"}, {"Authorization": "dev-key"}} {
		r := testenv.Call(t, http.MethodGet, env.APIURL+"/v1/products/X", nil, h)
		var body struct {
			Error struct{ Code, Message string }
		}
		r.JSON(t, &body)
		if r.Status != http.StatusUnauthorized || body.Error.Code != "unauthorized" || body.Error.Message == "" {
			t.Fatalf("headers %v: %d %s", h, r.Status, r.Body)
		}
	}
}

func TestErrorsAreJSON(t *testing.T) {
	cases := []struct {
		method, path string
		body         any
		ctype        string
		status       int
		code         string
	}{
		{http.MethodPut, "/v1/products/BAD", `{"name":`, "application/json", http.StatusBadRequest, "malformed_json"},
		{http.MethodPut, "/v1/products/BAD", `{"name":"x"}`, "text/plain", http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{http.MethodPut, "/v1/products/BAD", `{"name":"","price":-1}`, "application/json", http.StatusBadRequest, "invalid_request"},
		{http.MethodGet, "/v1/nothing-here", nil, "", http.StatusNotFound, "not_found"},
		{http.MethodGet, "/v1/checkouts/unknown-order", nil, "", http.StatusNotFound, "checkout_not_found"},
	}
	for _, c := range cases {
		h := map[string]string{"Authorization": "Bearer dev-key"}
		if c.ctype != "" {
			h["Content-Type"] = c.ctype
		}
		r := testenv.Call(t, c.method, env.APIURL+c.path, c.body, h)
		var body struct {
			Error struct{ Code, Message string }
		}
		r.JSON(t, &body)
		if r.Status != c.status || body.Error.Code != c.code {
			t.Errorf("%s %s: %d %s, want %d %s", c.method, c.path, r.Status, r.Body, c.status, c.code)
		}
		if strings.Contains(string(r.Body), "goroutine") {
			t.Errorf("%s %s leaks a stack trace", c.method, c.path)
		}
	}
}

// A body over the limit is refused from its Content-Length, before it is
// read: the answer is a JSON 413.
func TestBodyOverLimitIs413(t *testing.T) {
	conn, err := net.Dial("tcp", strings.TrimPrefix(env.APIURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "PUT /v1/products/BIG HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer dev-key\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"name\":\"", env.Config.BodyLimit+100)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), `"body_too_large"`) {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
}

func TestCheckoutIdempotency(t *testing.T) {
	sku := "IDEM-" + testenv.RandomID(3)
	env.API(t, http.MethodPut, "/v1/products/"+sku, map[string]any{"name": "x", "price": 100, "currency": "USD", "stock": 5})
	order := "ord_" + testenv.RandomID(4)
	body := map[string]any{"order_id": order, "currency": "USD", "lines": []map[string]any{{"sku": sku, "quantity": 1}}, "payment": map[string]any{"method": "rehive"}}
	first := env.API(t, http.MethodPost, "/v1/checkouts", body)
	if first.Status != http.StatusCreated {
		t.Fatalf("first: %d %s", first.Status, first.Body)
	}
	again := env.API(t, http.MethodPost, "/v1/checkouts", body)
	if again.Status != http.StatusOK || again.Map(t)["run_id"] != first.Map(t)["run_id"] {
		t.Fatalf("repeat: %d %s", again.Status, again.Body)
	}
	body["lines"] = []map[string]any{{"sku": sku, "quantity": 2}}
	if r := env.API(t, http.MethodPost, "/v1/checkouts", body); r.Status != http.StatusConflict {
		t.Fatalf("different body: %d %s", r.Status, r.Body)
	}
	// Idempotency-Key: same key and body replays; a different body is 409.
	key := map[string]string{"Authorization": "Bearer dev-key", "Idempotency-Key": "k-" + testenv.RandomID(4)}
	b2 := map[string]any{"order_id": order + "b", "currency": "USD", "lines": []map[string]any{{"sku": sku, "quantity": 1}}, "payment": map[string]any{"method": "rehive"}}
	r1 := testenv.Call(t, http.MethodPost, env.APIURL+"/v1/checkouts", b2, key)
	r2 := testenv.Call(t, http.MethodPost, env.APIURL+"/v1/checkouts", b2, key)
	if r1.Status != http.StatusCreated || r2.Status != http.StatusCreated || string(r1.Body) != string(r2.Body) || r2.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s / %d %s", r1.Status, r1.Body, r2.Status, r2.Body)
	}
	b2["order_id"] = order + "c"
	if r := testenv.Call(t, http.MethodPost, env.APIURL+"/v1/checkouts", b2, key); r.Status != http.StatusConflict {
		t.Fatalf("key reuse: %d %s", r.Status, r.Body)
	}
	// Unknown SKUs are refused before anything starts.
	body["order_id"], body["lines"] = order+"d", []map[string]any{{"sku": "NO-SUCH-SKU", "quantity": 1}}
	if r := env.API(t, http.MethodPost, "/v1/checkouts", body); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("unknown sku: %d %s", r.Status, r.Body)
	}
}
