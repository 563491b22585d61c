package config

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
)

// TemporalTLS are the files and name of a TLS connection to Temporal.
type TemporalTLS struct {
	CAFile, CertFile, KeyFile, ServerName string
}

// TLSConfig is the client TLS configuration for Temporal, or nil for a
// plaintext connection (the embedded dev server, a local Temporal). TLS is on
// when any TLS setting or an API key is set: Temporal Cloud takes API keys
// over TLS only. The files are read now, so a bad path or PEM fails at start.
func (c Config) TLSConfig() (*tls.Config, error) {
	t := c.TemporalTLS
	if t == (TemporalTLS{}) && c.TemporalAPIKey == "" {
		return nil, nil
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if conf.ServerName == "" {
		if host, _, err := net.SplitHostPort(c.TemporalAddress); err == nil {
			conf.ServerName = host
		}
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("PAYFLOW_TEMPORAL_TLS_CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("PAYFLOW_TEMPORAL_TLS_CA: %s holds no PEM certificate", t.CAFile)
		}
		conf.RootCAs = pool
	}
	if t.CertFile != "" || t.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("PAYFLOW_TEMPORAL_TLS_CERT/KEY: %w", err)
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	return conf, nil
}
