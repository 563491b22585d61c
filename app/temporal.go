package app

import (
	"fmt"
	"log/slog"
	"net"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	tlog "go.temporal.io/sdk/log"

	"github.com/payflow/payflow/codec"
	"github.com/payflow/payflow/config"
	"github.com/payflow/payflow/telemetry"
)

// TemporalOptions are the options of every Temporal client payflow makes
// (api, worker, dev, the reconciliation, and the soak and bench clients,
// which build the app): TLS and the API key for Temporal Cloud, the payload
// codec, tracing, and the SDK's metrics into reg. Close the returned metrics
// with the client.
func TemporalOptions(cfg config.Config, logger *slog.Logger, reg prometheus.Registerer) (client.Options, *telemetry.Metrics, error) {
	cdc, err := codec.Parse(cfg.CodecKeys)
	if err != nil {
		return client.Options{}, nil, fmt.Errorf("PAYFLOW_CODEC_KEYS: %w", err)
	}
	tlsConf, err := cfg.TLSConfig()
	if err != nil {
		return client.Options{}, nil, err
	}
	tracing, err := telemetry.TracingInterceptor()
	if err != nil {
		return client.Options{}, nil, fmt.Errorf("temporal tracing: %w", err)
	}
	sdkLog := slog.New(levelFilter{logger.Handler(), slog.LevelWarn}).With("component", "temporal-sdk")
	metrics, err := telemetry.NewMetrics(reg, func(err error) { sdkLog.Warn("temporal metric not recorded", "error", err) })
	if err != nil {
		return client.Options{}, nil, err
	}
	opts := client.Options{
		HostPort:  cfg.TemporalAddress,
		Namespace: cfg.Namespace,
		// The SDK logs every poll at info; keep warnings and errors.
		Logger:            tlog.NewStructuredLogger(sdkLog),
		DataConverter:     codec.DataConverter(cdc),
		FailureConverter:  codec.FailureConverter(cdc),
		MetricsHandler:    metrics.Handler,
		Interceptors:      []interceptor.ClientInterceptor{tracing},
		ConnectionOptions: client.ConnectionOptions{TLS: tlsConf},
	}
	if loopback(cfg.TemporalAddress) {
		// gzip costs CPU on both ends and saves no bandwidth on loopback (3.6 %
		// of the process under the bench, docs/performance.md); a remote
		// frontend such as Temporal Cloud keeps the SDK's default.
		opts.ConnectionOptions.GrpcCompression = &client.GrpcCompressionNone{}
	}
	if cfg.TemporalAPIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(cfg.TemporalAPIKey)
	}
	return opts, metrics, nil
}

// loopback says whether a host:port names this machine.
func loopback(hostPort string) bool {
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
