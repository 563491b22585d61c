package telemetry

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

// TracingInterceptor is the Temporal SDK's OpenTelemetry interceptor: set on
// a client, it traces the client's calls and, for workers built from that
// client, workflow and activity executions, and gives their loggers the
// TraceID and SpanID. It uses the global tracer provider, so it may be built
// before Setup runs.
func TracingInterceptor() (interceptor.Interceptor, error) {
	return temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{TextMapPropagator: Propagator})
}

// latencyBuckets suit the SDK's latencies, in seconds: from a fast poll
// answer to a long poll or a slow activity.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}

// Metrics are the Temporal SDK's client and worker metrics (temporal_…)
// registered into a Prometheus registry, so they are served on /metrics
// beside payflow's own.
type Metrics struct {
	Handler  client.MetricsHandler
	provider *sdkmetric.MeterProvider
}

// NewMetrics registers the SDK's metrics into reg. onError receives an
// instrument the SDK could not create (the contrib's default panics).
func NewMetrics(reg prometheus.Registerer, onError func(error)) (*Metrics, error) {
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		return nil, fmt.Errorf("temporal metrics: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithView(sdkmetric.NewView(
		sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram, Unit: "s"},
		sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: latencyBuckets}},
	)))
	// Monotonic counters: Prometheus counters (temporal_request_total…), so
	// rate() works on them.
	h := temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{Meter: mp.Meter("temporal-sdk-go"), OnError: onError, UseMonotonicCounters: true})
	return &Metrics{Handler: h, provider: mp}, nil
}

// Close stops collecting.
func (m *Metrics) Close() error { return m.provider.Shutdown(context.Background()) }
