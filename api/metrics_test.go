package api

import (
	"io"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/payflow/payflow/config"
)

// Label values must not alias request buffers that fiber reuses: after
// requests with methods of different lengths, every recorded method is one
// that was sent and the scrape succeeds.
func TestMetricLabelsSurviveBufferReuse(t *testing.T) {
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	app := New(Deps{Config: cfg, Registry: prometheus.NewRegistry()})
	sent := map[string]bool{}
	for i := 0; i < 20; i++ {
		for _, m := range []string{"GET", "POST", "DELETE", "PUT", "OPTIONS", "PATCH"} {
			sent[m] = true
			resp, err := app.Test(httptest.NewRequest(m, "/healthz", nil))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
	}
	resp, err := app.Test(httptest.NewRequest("GET", "/metrics", nil))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("scrape: %d %s", resp.StatusCode, body)
	}
	labels := regexp.MustCompile(`payflow_http_request_duration_seconds_count\{method="([^"]*)"`).FindAllStringSubmatch(string(body), -1)
	if len(labels) == 0 {
		t.Fatalf("no request metrics in %s", body)
	}
	for _, l := range labels {
		if !sent[l[1]] {
			t.Fatalf("method label %q was never sent (a reused buffer)", l[1])
		}
	}
}
