package config

import (
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// docker-compose.yml cannot run here (no Docker engine), so this checks that
// it matches the binary: services, ports, commands and environment names.
func TestDockerComposeMatchesConfiguration(t *testing.T) {
	raw, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Services map[string]struct {
			Image       string         `yaml:"image"`
			Build       any            `yaml:"build"`
			Command     []string       `yaml:"command"`
			Ports       []string       `yaml:"ports"`
			Environment map[string]any `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, v := range Vars {
		known[v.Name] = true
	}
	wantPorts := map[string]string{"postgres": "5432:5432", "temporal": "7233:7233", "temporal-ui": "8233:8080", "api": "8080:8080", "sandbox": "8090:8090"}
	for name, port := range wantPorts {
		svc, ok := doc.Services[name]
		if !ok {
			t.Fatalf("service %s missing", name)
		}
		if !contains(svc.Ports, port) {
			t.Errorf("service %s: ports %v, want %s", name, svc.Ports, port)
		}
	}
	for name, cmd := range map[string]string{"api": "api", "worker": "worker", "migrate": "migrate", "sandbox": "sandbox"} {
		svc := doc.Services[name]
		if svc.Build == nil || len(svc.Command) != 1 || svc.Command[0] != cmd {
			t.Errorf("service %s: want built from the repo with command [%s], got build=%v command=%v", name, cmd, svc.Build, svc.Command)
		}
		for k := range svc.Environment {
			if !known[k] {
				t.Errorf("service %s sets %s, which payflow does not read", name, k)
			}
		}
		env := func(k string) string {
			if v, ok := svc.Environment[k]; ok {
				s, _ := v.(string)
				return s
			}
			return ""
		}
		cfg, err := Load(env)
		if err != nil {
			t.Fatalf("service %s: %v", name, err)
		}
		if !strings.Contains(cfg.DatabaseURL, "@postgres:5432/") || cfg.TemporalAddress != "temporal:7233" {
			t.Errorf("service %s: database %s, temporal %s", name, cfg.DatabaseURL, cfg.TemporalAddress)
		}
	}
	if got := doc.Services["api"].Environment["PAYFLOW_API_ADDR"]; got != "0.0.0.0:8080" {
		t.Errorf("api listens on %v, want 0.0.0.0:8080 to match its port mapping", got)
	}
	if img := doc.Services["temporal"].Image; !strings.HasPrefix(img, "temporalio/auto-setup") {
		t.Errorf("temporal image %s", img)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// The demo shapes encrypt payloads with the public demo key, which
// ProductionProblems refuses: docker-compose reads it from the example env
// file, and the Web UI there decodes through the API's /codec.
func TestComposeEncryptsPayloadsWithTheDemoKey(t *testing.T) {
	example, err := os.ReadFile("../deploy/payflow.env.example")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(example), "\nPAYFLOW_CODEC_KEYS="+DevCodecKeys+"\n") {
		t.Error("deploy/payflow.env.example does not set PAYFLOW_CODEC_KEYS to config.DevCodecKeys")
	}
	compose, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"TEMPORAL_CODEC_ENDPOINT: http://localhost:8080/codec", "PAYFLOW_UI_URL: http://localhost:8233"} {
		if !strings.Contains(string(compose), want) {
			t.Errorf("docker-compose.yml lacks %q", want)
		}
	}
}
