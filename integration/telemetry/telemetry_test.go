// Package telemetry checks payflow's tracing and metrics end to end: an
// in-process OTLP/HTTP collector receives one trace per checkout, from the
// API request through the workflow and its activities to the provider HTTP
// calls, and /metrics serves the Temporal SDK's metrics.
package telemetry

import (
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/payflow/payflow/telemetry"
	"github.com/payflow/payflow/testenv"
	"github.com/payflow/payflow/workflows"
)

// collector is an OTLP/HTTP (protobuf) trace receiver.
type collector struct {
	mu       sync.Mutex
	spans    []*tracepb.Span
	services map[string]bool
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want OTLP/HTTP protobuf on /v1/traces", http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(r.Body)
	var req collectortrace.ExportTraceServiceRequest
	if err == nil {
		err = proto.Unmarshal(body, &req)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	for _, rs := range req.ResourceSpans {
		for _, a := range rs.GetResource().GetAttributes() {
			if a.Key == "service.name" {
				c.services[a.GetValue().GetStringValue()] = true
			}
		}
		for _, ss := range rs.ScopeSpans {
			c.spans = append(c.spans, ss.Spans...)
		}
	}
	c.mu.Unlock()
	out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func id(b []byte) string { return hex.EncodeToString(b) }

func TestCheckoutIsOneTraceFromAPIToProviderHTTP(t *testing.T) {
	col := &collector{services: map[string]bool{}}
	srv := httptest.NewServer(col)
	defer srv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "200")
	t.Setenv("OTEL_SERVICE_NAME", "payflow-telemetry-test")
	shutdown, err := telemetry.Setup(context.Background(), "test")
	if err != nil {
		t.Fatal(err)
	}
	env, err := testenv.Start(testenv.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()

	sku := env.Product(t, 1500, 5)
	order := "ord_otel_" + testenv.RandomID(4)
	r := env.API(t, http.MethodPost, "/v1/checkouts", map[string]any{"order_id": order, "currency": "USD",
		"lines": []map[string]any{{"sku": sku, "quantity": 1}}, "payment": map[string]any{"method": "card", "processor_token": env.CardToken(t, "4242424242424242")}})
	if r.Status != http.StatusCreated {
		t.Fatalf("checkout: %d %s", r.Status, r.Body)
	}
	testenv.Eventually(t, 30*time.Second, "fulfilled", func() bool {
		var st workflows.CheckoutState
		env.API(t, http.MethodGet, "/v1/checkouts/"+order, nil).JSON(t, &st)
		return st.Status == workflows.StatusFulfilled
	})

	// The SDK's client and worker metrics are on the API's /metrics.
	metrics := testenv.Call(t, http.MethodGet, env.APIURL+"/metrics", nil, nil)
	for _, want := range []string{"temporal_request_total", "temporal_workflow_task_execution_latency_seconds_bucket", "temporal_activity_execution_latency_seconds_bucket"} {
		if !strings.Contains(string(metrics.Body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// Flush what the batcher holds, then read the trace of the POST.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	if !col.services["payflow-telemetry-test"] {
		t.Errorf("OTEL_SERVICE_NAME not honoured: services %v", col.services)
	}
	var root *tracepb.Span
	for _, s := range col.spans {
		if s.Name == "POST /v1/checkouts" && s.Kind == tracepb.Span_SPAN_KIND_SERVER {
			root = s
		}
	}
	if root == nil {
		t.Fatalf("no server span for POST /v1/checkouts among %d spans", len(col.spans))
	}
	byID := map[string]*tracepb.Span{}
	for _, s := range col.spans {
		if id(s.TraceId) == id(root.TraceId) {
			byID[id(s.SpanId)] = s
		}
	}
	// descends reports whether s has ancestor among the trace's spans.
	descends := func(s, ancestor *tracepb.Span) bool {
		for p := byID[id(s.ParentSpanId)]; p != nil; p = byID[id(p.ParentSpanId)] {
			if p == ancestor {
				return true
			}
		}
		return false
	}
	find := func(what string, match func(*tracepb.Span) bool, ancestor *tracepb.Span) *tracepb.Span {
		t.Helper()
		for _, s := range byID {
			if match(s) && descends(s, ancestor) {
				return s
			}
		}
		var names []string
		for _, s := range byID {
			names = append(names, s.Name)
		}
		t.Fatalf("trace %s has no %s under %q; it holds %v", id(root.TraceId), what, ancestor.Name, names)
		return nil
	}
	find("StartWorkflow span", func(s *tracepb.Span) bool { return s.Name == "StartWorkflow:"+workflows.CheckoutWorkflowName }, root)
	// The workflow's own span (RunWorkflow) ends with the workflow, which
	// still waits out its refund window: its children are in the trace, with
	// it as their parent, but it is not exported yet.
	var schedule *tracepb.Span
	for _, s := range byID {
		if s.Name == "StartActivity:ChargeCard" {
			schedule = s
		}
	}
	if schedule == nil {
		t.Fatalf("the workflow's StartActivity:ChargeCard span is not in trace %s", id(root.TraceId))
	}
	act := find("RunActivity:ChargeCard span", func(s *tracepb.Span) bool { return s.Name == "RunActivity:ChargeCard" }, schedule)
	find("provider HTTP client span", func(s *tracepb.Span) bool {
		if s.Kind != tracepb.Span_SPAN_KIND_CLIENT {
			return false
		}
		for _, a := range s.Attributes {
			if (a.Key == "url.full" || a.Key == "http.url") && strings.Contains(a.GetValue().GetStringValue(), "/sandbox/checkoutcom/payments") {
				return true
			}
		}
		return false
	}, act)
}
