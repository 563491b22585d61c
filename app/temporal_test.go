package app

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"

	"github.com/payflow/payflow/codec"
	"github.com/payflow/payflow/config"
)

func TestTemporalOptionsCarryCodecTLSAndAPIKey(t *testing.T) {
	env := map[string]string{
		"TEMPORAL_ADDRESS":         "payflow.a1b2c.tmprl.cloud:7233",
		"PAYFLOW_TEMPORAL_API_KEY": "tc-api-key",
		"PAYFLOW_CODEC_KEYS":       config.DevCodecKeys,
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	opts, metrics, err := TemporalOptions(cfg, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	defer metrics.Close()
	p, err := opts.DataConverter.ToPayload(map[string]string{"customer_email": "ada@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if string(p.Metadata["encoding"]) != codec.Encoding || strings.Contains(string(p.Data), "ada@example.com") {
		t.Fatalf("payload not encrypted: %v", p)
	}
	if opts.ConnectionOptions.TLS == nil || opts.ConnectionOptions.TLS.ServerName != "payflow.a1b2c.tmprl.cloud" {
		t.Fatalf("TLS: %+v", opts.ConnectionOptions.TLS)
	}
	if opts.Credentials == nil || len(opts.Interceptors) != 1 || opts.MetricsHandler == nil || opts.HostPort != env["TEMPORAL_ADDRESS"] {
		t.Fatalf("options: credentials %v, %d interceptors, metrics %v, host %s", opts.Credentials, len(opts.Interceptors), opts.MetricsHandler, opts.HostPort)
	}
	if opts.ConnectionOptions.GrpcCompression != nil {
		t.Fatal("a remote frontend lost the SDK's default gzip")
	}
}

func TestLoopbackFrontendIsNotCompressed(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:7233": true, "localhost:7233": true, "[::1]:7233": true,
		"10.0.0.5:7233": false, "temporal:7233": false, "no-port": false,
	} {
		if got := loopback(addr); got != want {
			t.Errorf("loopback(%q) = %v, want %v", addr, got, want)
		}
	}
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"TEMPORAL_ADDRESS": "127.0.0.1:7233"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	opts, metrics, err := TemporalOptions(cfg, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	defer metrics.Close()
	if _, ok := opts.ConnectionOptions.GrpcCompression.(*client.GrpcCompressionNone); !ok {
		t.Fatalf("loopback compression: %T", opts.ConnectionOptions.GrpcCompression)
	}
}

func TestTemporalOptionsArePlainByDefault(t *testing.T) {
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	opts, metrics, err := TemporalOptions(cfg, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	defer metrics.Close()
	if opts.ConnectionOptions.TLS != nil || opts.Credentials != nil {
		t.Fatal("TLS or credentials without settings")
	}
	p, _ := opts.DataConverter.ToPayload("x")
	if string(p.Metadata["encoding"]) != "json/plain" {
		t.Fatalf("payloads encrypted without keys: %s", p.Metadata["encoding"])
	}
}
