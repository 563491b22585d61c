// Package telemetry wires OpenTelemetry into payflow: a tracer provider that
// exports over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, the Temporal
// SDK's tracing interceptor and metrics handler, and a slog handler that puts
// the current trace and span ids into log lines.
//
// One trace follows a payment: the API request's server span, the SDK's
// StartWorkflow / RunWorkflow / StartActivity / RunActivity spans (the
// context travels in Temporal headers, so it survives worker restarts), and
// the provider HTTP calls made by the activities (httpx wraps its transport
// with otelhttp).
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Propagator carries trace context (W3C traceparent) and baggage in HTTP
// headers; it is installed globally by Setup, tracing on or off, so a caller's
// trace id still reaches the SDK's spans and the providers.
var Propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// Setup installs the global tracer provider for one payflow process (role
// names it: api, worker, dev…). Without an OTLP endpoint, or with
// OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none, spans are not
// recorded and shutdown does nothing. The exporters read the standard
// OTEL_EXPORTER_OTLP_* variables themselves (endpoint, headers, timeout,
// certificates, compression); the provider honours OTEL_TRACES_SAMPLER and
// OTEL_BSP_*; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the
// resource. shutdown flushes the spans not yet sent.
func Setup(ctx context.Context, role string) (shutdown func(context.Context) error, err error) {
	otel.SetTextMapPropagator(Propagator)
	noop := func(context.Context) error { return nil }
	if !Enabled() {
		return noop, nil
	}
	exp, err := newExporter(ctx, protocol())
	if err != nil {
		return noop, err
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "payflow"), attribute.String("payflow.role", role)),
		resource.WithTelemetrySDK(), resource.WithHost(), resource.WithProcessPID(),
		// Last, so the operator's OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES win.
		resource.WithFromEnv(),
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return noop, fmt.Errorf("telemetry resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	return tp.Shutdown, nil
}

// Enabled reports whether the environment asks for trace export.
func Enabled() bool {
	if strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") || strings.EqualFold(os.Getenv("OTEL_TRACES_EXPORTER"), "none") {
		return false
	}
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// protocol is the OTLP transport for traces, as the specification orders
// the variables; http/protobuf is its default.
func protocol() string {
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if p := strings.TrimSpace(os.Getenv(name)); p != "" {
			return p
		}
	}
	return "http/protobuf"
}

func newExporter(ctx context.Context, proto string) (sdktrace.SpanExporter, error) {
	switch proto {
	case "http/protobuf":
		return otlptracehttp.New(ctx)
	case "grpc":
		return otlptracegrpc.New(ctx)
	default:
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q: payflow exports traces over http/protobuf or grpc", proto)
	}
}
