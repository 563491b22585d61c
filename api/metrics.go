package api

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
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

func (m *metrics) middleware(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	status := c.Response().StatusCode()
	if err != nil {
		if fe, ok := err.(*fiber.Error); ok {
			status = fe.Code
		} else if ae, ok := err.(*Error); ok {
			status = ae.Status
		}
	}
	// The route pattern, not the raw path, keeps label cardinality bounded.
	m.requests.WithLabelValues(c.Method(), c.Route().Path, strconv.Itoa(status)).Observe(time.Since(start).Seconds())
	return err
}

func (m *metrics) handler(reg *prometheus.Registry) fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
}
