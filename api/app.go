// Package api is payflow's HTTP surface: the fiber app with the REST API of
// API.md, provider webhook endpoints, health, readiness and metrics.
package api

import (
	"context"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"

	"github.com/payflow/payflow/config"
	"github.com/payflow/payflow/inbox"
	"github.com/payflow/payflow/providers/rehive"
	"github.com/payflow/payflow/store"
)

// Deps are what the API needs.
type Deps struct {
	Config   config.Config
	Store    *store.Store
	Temporal client.Client
	Rehive   *rehive.Client
	Inbox    *inbox.Deliverer
	Logger   *slog.Logger
	// Registry receives the API's metrics and is served on /metrics.
	Registry *prometheus.Registry
}

type server struct {
	Deps
	log     *slog.Logger
	metrics *metrics
	// deliveries signals recorded webhooks to their workflows after the ack.
	deliveries *deliveries
}

// New builds the fiber app. Its shutdown waits, for a few seconds at most,
// for the webhook deliveries still in flight; what it cuts off stays pending
// in the inbox for the relay.
func New(d Deps) *fiber.App {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	s := &server{Deps: d, log: d.Logger, metrics: newMetrics(d.Registry), deliveries: newDeliveries(maxDeliveries)}
	if d.Store != nil {
		d.Registry.MustRegister(newInboxCollector(d.Store))
	}
	app := fiber.New(fiber.Config{
		AppName: "payflow",
		// Strings from the request (method, params, query, headers) are copies:
		// by default they alias buffers fiber reuses for the next request, and
		// some outlive it (metric label values, log attributes, workflow inputs).
		Immutable:             true,
		BodyLimit:             d.Config.BodyLimit,
		ErrorHandler:          s.errorHandler,
		DisableStartupMessage: true,
		ReadTimeout:           15 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           90 * time.Second,
	})
	app.Use(requestIDMiddleware, securityHeaders)
	// Metrics wrap recovery, so that a panic is counted as the 500 it becomes.
	app.Use(s.metrics.middleware(s.errorHandler))
	app.Use(recover.New(recover.Config{
		EnableStackTrace: true,
		StackTraceHandler: func(c *fiber.Ctx, e any) {
			s.log.Error("panic in handler", "path", c.Path(), "request_id", requestID(c), "panic", fmt.Sprint(e), "stack", string(debug.Stack()))
		},
	}))
	// The edge checks run before any route, webhook authentication included.
	app.Use(refuseEncodedBodies, validateRequest, deadline(d.Config.RequestTimeout))

	app.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
	app.Get("/readyz", s.readyz)
	if d.Config.OpsAddr == "" {
		app.Get("/metrics", s.metrics.handler(d.Registry))
	}
	app.Get("/openapi.json", serveOpenAPI)
	app.Get("/docs", serveDocs)
	app.Get("/docs/assets/:name", serveDocsAsset)

	v1 := app.Group("/v1", s.auth)
	s.routes(v1)
	s.webhookRoutes(app.Group("/webhooks"))
	s.codecRoutes(app.Group("/codec")) // the Web UI's codec (api/codec.go)
	app.Use(func(c *fiber.Ctx) error { return errorf(http.StatusNotFound, "not_found", "no such route") })
	// fiber runs this once the server has stopped, so the requests in flight
	// have handed over their deliveries; one still running past the shutdown
	// timeout finds the dispatcher closed and leaves its event pending.
	app.Hooks().OnShutdown(func() error {
		if !s.deliveries.close(deliveriesGrace) {
			s.log.Warn("shutdown: webhook deliveries cut off, left to the relay", "after", deliveriesGrace)
		}
		return nil
	})
	return app
}

// Ops builds the operations app served on PAYFLOW_OPS_ADDR when it is set:
// /metrics (and liveness) away from the public API address.
func Ops(reg *prometheus.Registry) *fiber.App {
	app := fiber.New(fiber.Config{AppName: "payflow-ops", DisableStartupMessage: true, ReadTimeout: 15 * time.Second, WriteTimeout: 30 * time.Second})
	app.Use(securityHeaders)
	app.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
	app.Get("/metrics", metricsHandler(reg))
	return app
}

// auth accepts `Authorization: Bearer <key>` for any configured key.
func (s *server) auth(c *fiber.Ctx) error {
	h := c.Get(fiber.HeaderAuthorization)
	token, ok := strings.CutPrefix(h, "Bearer ")
	if ok && token != "" {
		for _, k := range s.Config.APIKeys {
			if subtle.ConstantTimeCompare([]byte(token), []byte(k)) == 1 {
				return c.Next()
			}
		}
	}
	c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="payflow"`)
	return errorf(http.StatusUnauthorized, "unauthorized", "a valid bearer key is required")
}

// readyz is 200 only when PostgreSQL and Temporal both answer.
func (s *server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	checks := fiber.Map{}
	ready := true
	if err := s.Store.Ping(ctx); err != nil {
		checks["postgres"] = "down"
		ready = false
	} else {
		checks["postgres"] = "ok"
	}
	if _, err := s.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		checks["temporal"] = "down"
		ready = false
	} else {
		checks["temporal"] = "ok"
	}
	status := http.StatusOK
	if !ready {
		status = http.StatusServiceUnavailable
	}
	return c.Status(status).JSON(fiber.Map{"ready": ready, "checks": checks})
}
