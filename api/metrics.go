package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/payflow/payflow/telemetry"
)

type metrics struct {
	requests *prometheus.HistogramVec
	webhooks *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "payflow_http_request_duration_seconds",
			Help:    "HTTP requests by route and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route", "status"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payflow_webhooks_total",
			Help: "Provider webhooks by provider and outcome.",
		}, []string{"provider", "outcome"}),
	}
	reg.MustRegister(m.requests, m.webhooks)
	// Process and Go metrics once per registry; a shared registry may have them.
	_ = reg.Register(collectors.NewGoCollector())
	_ = reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// middleware times and traces every request. An error is turned into its
// response here (by onError), so the status recorded is the one the client
// gets. The request's server span continues a caller's trace (traceparent)
// and is the parent of everything the handler does: its context is the
// request's user context, which the Temporal client and the store receive.
func (m *metrics) middleware(onError fiber.ErrorHandler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		span := trace.SpanFromContext(c.UserContext()) // not recording
		if !untraced[c.Path()] {
			ctx := telemetry.Propagator.Extract(c.UserContext(), headerCarrier{&c.Request().Header})
			ctx, span = telemetry.Tracer().Start(ctx, c.Method(), trace.WithSpanKind(trace.SpanKindServer))
			defer span.End()
			c.SetUserContext(ctx)
		}
		if err := c.Next(); err != nil {
			if herr := onError(c, err); herr != nil {
				span.SetStatus(codes.Error, herr.Error())
				return herr
			}
		}
		// The route pattern, not the raw path, keeps label cardinality bounded.
		route, status := c.Route().Path, c.Response().StatusCode()
		m.requests.WithLabelValues(c.Method(), route, strconv.Itoa(status)).Observe(time.Since(start).Seconds())
		span.SetName(c.Method() + " " + route)
		span.SetAttributes(attribute.String("http.request.method", c.Method()), attribute.String("http.route", route),
			attribute.Int("http.response.status_code", status), attribute.String("payflow.request_id", requestID(c)))
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
		return nil
	}
}

// untraced are the probes and scrapes, which would drown the traces.
var untraced = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// headerCarrier reads and writes trace context in fasthttp request headers.
type headerCarrier struct{ h *fasthttp.RequestHeader }

func (c headerCarrier) Get(key string) string { return string(c.h.Peek(key)) }
func (c headerCarrier) Set(key, value string) { c.h.Set(key, value) }
func (c headerCarrier) Keys() []string {
	var keys []string
	c.h.VisitAll(func(k, _ []byte) { keys = append(keys, string(k)) })
	return keys
}

func (m *metrics) handler(reg *prometheus.Registry) fiber.Handler {
	return metricsHandler(reg)
}

func metricsHandler(reg *prometheus.Registry) fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
}
