package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/payflow/payflow/config"
)

// strongEnv is a configuration a production process accepts.
var strongEnv = map[string]string{
	"PAYFLOW_ENV":                       "production",
	"DATABASE_URL":                      "postgres://payflow:Zq0s8LxV3nT7wA1r@127.0.0.1:1/payflow?sslmode=disable",
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

// TestProductionGuards runs the real binary: outside PAYFLOW_ENV=dev,
// `payflow api` and `payflow worker` exit non-zero naming any dev secret set
// explicitly to its public value (or a weak key, or a sandbox URL), and
// `payflow dev` and `payflow sandbox` do not run at all.
func TestProductionGuards(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "payflow")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	run := func(cmd string, env map[string]string) (int, string) {
		c := exec.Command(bin, cmd)
		c.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
		for k, v := range env {
			c.Env = append(c.Env, k+"="+v)
		}
		out, err := c.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		}
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		return 0, string(out)
	}
	with := func(k, v string) map[string]string {
		env := map[string]string{}
		for name, val := range strongEnv {
			env[name] = val
		}
		env[k] = v
		return env
	}
	cases := 0
	for _, v := range config.Vars {
		if !v.Secret || v.Default == "" { // optional secrets have no public value
			continue
		}
		for _, cmd := range []string{"api", "worker"} {
			code, out := run(cmd, with(v.Name, v.Default))
			cases++
			if code == 0 || !strings.Contains(out, "refusing to run payflow "+cmd) || !strings.Contains(out, v.Name) {
				t.Errorf("%s with %s at its public value: exit %d\n%s", cmd, v.Name, code, out)
			}
			if v.Default != "" && v.Name != "DATABASE_URL" && strings.Contains(out, v.Default) {
				t.Errorf("%s: the message echoes the secret value of %s", cmd, v.Name)
			}
		}
	}
	for _, c := range []struct{ cmd, name, value string }{
		{"api", "REHIVE_WEBHOOK_SECRET", "short"},
		{"worker", "PAYFLOW_CODEC_KEYS", config.DevCodecKeys},
		{"api", "LEDGER_BASE_URL", config.Default("LEDGER_BASE_URL")},
		{"dev", "PAYFLOW_ENV", "production"},
		{"sandbox", "PAYFLOW_ENV", "staging"},
		{"dev", "PAYFLOW_ENV", ""}, // unset is production
	} {
		code, out := run(c.cmd, with(c.name, c.value))
		cases++
		if code == 0 || !strings.Contains(out, "refusing to run payflow "+c.cmd) {
			t.Errorf("%s with %s=%q: exit %d\n%s", c.cmd, c.name, c.value, code, out)
		}
	}
	t.Logf("%d refusals checked", cases)
}
