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

func TestProductionProblemsAreNamed(t *testing.T) {
	strong := map[string]string{
		"DATABASE_URL":                      "postgres://payflow:Zq0s8LxV3nT7wA1r@db:5432/payflow",
		"PAYFLOW_API_KEYS":                  "k-4f9a2c7e1b8d3a6f5e0c",
		"CHECKOUTCOM_BASE_URL":              "https://api.checkout.com",
		"CHECKOUTCOM_SECRET_KEY":            "sk_4f9a2c7e1b8d3a6f5e0c",
		"CHECKOUTCOM_WEBHOOK_AUTH_KEY":      "a-4f9a2c7e1b8d3a6f5e0c",
		"CHECKOUTCOM_WEBHOOK_SIGNATURE_KEY": "s-4f9a2c7e1b8d3a6f5e0c",
		"REHIVE_BASE_URL":                   "https://api.rehive.com/3",
		"REHIVE_ADMIN_TOKEN":                "t-4f9a2c7e1b8d3a6f5e0c",
		"REHIVE_WEBHOOK_SECRET":             "w-4f9a2c7e1b8d3a6f5e0c",
		"LEDGER_BASE_URL":                   "https://ledger.example.com",
		"LEDGER_API_KEY":                    "l-4f9a2c7e1b8d3a6f5e0c",
		"LEDGER_WEBHOOK_SECRET":             "h-4f9a2c7e1b8d3a6f5e0c",
	}
	with := func(k, v string) func(string) string {
		return func(name string) string {
			if name == k {
				return v
			}
			return strong[name]
		}
	}
	if p := ProductionProblems(func(k string) string { return strong[k] }); len(p) != 0 {
		t.Fatalf("a strong configuration is refused: %v", p)
	}
	cases := []struct{ name, value, want string }{
		{"LEDGER_WEBHOOK_SECRET", "", "LEDGER_WEBHOOK_SECRET is its public dev value"}, // defaulted
		{"PAYFLOW_API_KEYS", "k-4f9a2c7e1b8d3a6f5e0c,short", "shorter than 16"},
		{"PAYFLOW_API_KEYS", "dev-key", "public dev key"},
		{"CHECKOUTCOM_SECRET_KEY", "sk_test_1234", "CHECKOUTCOM_SECRET_KEY is shorter than 16"},
		{"REHIVE_BASE_URL", "", "REHIVE_BASE_URL points at the dev sandbox"},
		{"CHECKOUTCOM_BASE_URL", "http://10.0.0.5:8090/sandbox/checkoutcom/", "CHECKOUTCOM_BASE_URL points at the dev sandbox"},
		{"DATABASE_URL", "postgres://payflow:payflow@db.internal:5432/prod", "DATABASE_URL uses the public dev password"},
		{"PAYFLOW_CODEC_KEYS", "prod-1:" + strings.Repeat("A", 43) + "=," + DevCodecKeys, "PAYFLOW_CODEC_KEYS holds the public dev key"},
		{"PAYFLOW_CODEC_AUTH", "short", "PAYFLOW_CODEC_AUTH holds a token shorter than 16"},
	}
	for _, v := range Vars { // every secret with a public value, set explicitly to it
		if v.Secret && v.Default != "" {
			cases = append(cases, struct{ name, value, want string }{v.Name, v.Default, v.Name})
		}
	}
	for _, c := range cases {
		got := strings.Join(ProductionProblems(with(c.name, c.value)), "; ")
		if !strings.Contains(got, c.want) {
			t.Errorf("%s=%q: problems %q do not say %q", c.name, c.value, got, c.want)
		}
	}
}

func TestWorkflowVersionPins(t *testing.T) {
	c, err := Load(func(k string) string {
		return map[string]string{"PAYFLOW_WORKFLOW_VERSION_PINS": " operator-cancel=1, late-payments=-1 "}[k]
	})
	if err != nil || len(c.VersionPins) != 2 || c.VersionPins["operator-cancel"] != 1 || c.VersionPins["late-payments"] != -1 {
		t.Fatalf("pins %v, %v", c.VersionPins, err)
	}
	for _, bad := range []string{"operator-cancel", "=1", "operator-cancel=two", "operator-cancel=-2"} {
		if _, err := Load(func(k string) string { return map[string]string{"PAYFLOW_WORKFLOW_VERSION_PINS": bad}[k] }); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
