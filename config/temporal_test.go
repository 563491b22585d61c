package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writePEM writes a self-signed certificate and its key into dir.
func writePEM(t *testing.T, dir, name string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func load(t *testing.T, env map[string]string) Config {
	t.Helper()
	c, err := Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTemporalIsPlaintextByDefault(t *testing.T) {
	conf, err := load(t, nil).TLSConfig()
	if err != nil || conf != nil {
		t.Fatalf("default: %v %v", conf, err)
	}
}

func TestTemporalTLSLoadsCAAndClientCertificate(t *testing.T) {
	dir := t.TempDir()
	ca, _ := writePEM(t, dir, "ca")
	cert, key := writePEM(t, dir, "client")
	c := load(t, map[string]string{
		"TEMPORAL_ADDRESS":          "payflow.a1b2c.tmprl.cloud:7233",
		"PAYFLOW_TEMPORAL_TLS_CA":   ca,
		"PAYFLOW_TEMPORAL_TLS_CERT": cert,
		"PAYFLOW_TEMPORAL_TLS_KEY":  key,
	})
	conf, err := c.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	if conf.ServerName != "payflow.a1b2c.tmprl.cloud" || conf.RootCAs == nil || len(conf.Certificates) != 1 {
		t.Fatalf("tls config: server name %q, roots %v, %d certificates", conf.ServerName, conf.RootCAs != nil, len(conf.Certificates))
	}
	c.TemporalTLS.ServerName = "frontend.internal"
	if conf, _ = c.TLSConfig(); conf.ServerName != "frontend.internal" {
		t.Fatalf("server name override: %q", conf.ServerName)
	}
}

func TestTemporalAPIKeyTurnsTLSOnWithSystemRoots(t *testing.T) {
	c := load(t, map[string]string{"TEMPORAL_ADDRESS": "eu-west-1.aws.api.temporal.io:7233", "PAYFLOW_TEMPORAL_API_KEY": "tc-key"})
	conf, err := c.TLSConfig()
	if err != nil || conf == nil || conf.RootCAs != nil || conf.ServerName != "eu-west-1.aws.api.temporal.io" {
		t.Fatalf("api key: %+v %v", conf, err)
	}
}

func TestTemporalTLSErrorsNameTheVariable(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, key := writePEM(t, dir, "a")
	cert, _ := writePEM(t, dir, "b") // a certificate with another's key
	for name, env := range map[string]map[string]string{
		"PAYFLOW_TEMPORAL_TLS_CA":      {"PAYFLOW_TEMPORAL_TLS_CA": notPEM},
		"PAYFLOW_TEMPORAL_TLS_CA:file": {"PAYFLOW_TEMPORAL_TLS_CA": filepath.Join(dir, "missing.pem")},
		"PAYFLOW_TEMPORAL_TLS_CERT":    {"PAYFLOW_TEMPORAL_TLS_CERT": cert, "PAYFLOW_TEMPORAL_TLS_KEY": key},
	} {
		_, err := load(t, env).TLSConfig()
		if want, _, _ := strings.Cut(name, ":"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: want an error naming %s, got %v", name, want, err)
		}
	}
	if _, err := Load(func(k string) string {
		return map[string]string{"PAYFLOW_TEMPORAL_TLS_CERT": cert}[k]
	}); err == nil || !strings.Contains(err.Error(), "set both or neither") {
		t.Fatalf("a certificate without its key: %v", err)
	}
}

func TestCodecAndTelemetrySettingsAreValidated(t *testing.T) {
	c := load(t, map[string]string{"PAYFLOW_CODEC_KEYS": DevCodecKeys})
	if c.CodecKeys != DevCodecKeys || strings.Join(c.CodecAuth, ",") != "dev-key" || c.UIURL != "http://127.0.0.1:8233" {
		t.Fatalf("codec settings: keys %q auth %v ui %q", c.CodecKeys, c.CodecAuth, c.UIURL)
	}
	env := map[string]string{
		"PAYFLOW_CODEC_KEYS":          "k1:c2hvcnQ=",
		"PAYFLOW_UI_URL":              "temporal-ui",
		"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
	}
	_, err := Load(func(k string) string { return env[k] })
	for _, name := range []string{"PAYFLOW_CODEC_KEYS", "PAYFLOW_UI_URL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("want an error naming %s, got %v", name, err)
		}
	}
	if strings.Contains(err.Error(), "c2hvcnQ") {
		t.Errorf("the error echoes key material: %v", err)
	}
}
