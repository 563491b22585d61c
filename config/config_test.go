package config

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

func TestDefaultsWorkForDev(t *testing.T) {
	c, err := Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if c.APIAddr != "127.0.0.1:8080" || c.UIAddr != "127.0.0.1:8233" || c.SandboxAddr != "127.0.0.1:8090" || c.TemporalAddress != "127.0.0.1:7233" {
		t.Fatalf("addresses: %+v", c)
	}
	if c.PaymentTimeout != 15*time.Minute || c.StallTimeout != time.Hour {
		t.Fatalf("timeouts %v %v", c.PaymentTimeout, c.StallTimeout)
	}
	if !c.IsManaged("xlm") || c.IsManaged("USD") || c.APIKeys[0] != "dev-key" {
		t.Fatalf("managed %v keys %v", c.Managed, c.APIKeys)
	}
}

func TestInvalidValuesAreReported(t *testing.T) {
	env := map[string]string{"PAYFLOW_PAYMENT_TIMEOUT": "soon", "PAYFLOW_DB_MAX_OPEN_CONNS": "-1", "PAYFLOW_LOG_FORMAT": "xml", "PAYFLOW_API_KEYS": " , "}
	_, err := Load(func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("want an error")
	}
	for _, name := range []string{"PAYFLOW_PAYMENT_TIMEOUT", "PAYFLOW_DB_MAX_OPEN_CONNS", "PAYFLOW_LOG_FORMAT", "PAYFLOW_API_KEYS"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}

func TestHelpListsEveryVariableWithoutSecrets(t *testing.T) {
	var b bytes.Buffer
	PrintHelp(&b)
	for _, v := range Vars {
		if !strings.Contains(b.String(), v.Name) {
			t.Errorf("help misses %s", v.Name)
		}
		if v.Secret && v.Default != "" && strings.Contains(b.String(), v.Default) {
			t.Errorf("help prints the secret default of %s", v.Name)
		}
	}
}

func TestReadmeListsEveryVariable(t *testing.T) {
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	if !strings.HasPrefix(readme, "# payflow\n\n```sh\nmake run") || !strings.Contains(readme, "make test") {
		t.Error("README does not open with make run and make test")
	}
	for _, v := range Vars {
		if !strings.Contains(readme, "`"+v.Name+"`") {
			t.Errorf("README does not list %s", v.Name)
		}
	}
}

func TestPublicDevSecretsAreNamed(t *testing.T) {
	env := map[string]string{"PAYFLOW_API_KEYS": "k1", "CHECKOUTCOM_SECRET_KEY": "sk_live"}
	names := PublicDevSecrets(func(k string) string { return env[k] })
	joined := strings.Join(names, ",")
	for _, want := range []string{"REHIVE_WEBHOOK_SECRET", "CHECKOUTCOM_WEBHOOK_SIGNATURE_KEY", "LEDGER_API_KEY"} {
		if !strings.Contains(joined, want) {
			t.Errorf("%s not named in %v", want, names)
		}
	}
	for _, set := range []string{"PAYFLOW_API_KEYS", "CHECKOUTCOM_SECRET_KEY", "DATABASE_URL"} {
		if strings.Contains(joined, set) {
			t.Errorf("%s named though set or exempt", set)
		}
	}
}
