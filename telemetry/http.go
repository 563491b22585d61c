package telemetry

import (
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
)

// instrumentation names payflow's own spans.
const instrumentation = "github.com/payflow/payflow"

// Tracer is the tracer of payflow's own spans (the API's server spans).
// It is the global provider's, so it follows Setup even when taken before.
func Tracer() trace.Tracer { return otel.GetTracerProvider().Tracer(instrumentation) }

// Transport traces outgoing HTTP calls (the providers' APIs): a client span
// per request, and the trace context in its headers.
func Transport(rt http.RoundTripper) http.RoundTripper {
	return otelhttp.NewTransport(rt, otelhttp.WithPropagators(Propagator))
}
