// Package config reads payflow's configuration from the environment. Every
// variable has a default that works for `payflow dev`, so the dev stack needs
// no setup; production deployments override the secrets and URLs.
package config

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Var documents one environment variable; `payflow help` prints them all.
type Var struct {
	Name    string
	Default string
	Help    string
	Secret  bool
}

// Vars is every variable payflow reads, in the order the README lists them.
var Vars = []Var{
	{"DATABASE_URL", "postgres://payflow:payflow@127.0.0.1:5432/payflow?sslmode=disable", "PostgreSQL connection string", true},
	{"PAYFLOW_DB_MAX_OPEN_CONNS", "20", "PostgreSQL pool: open connections", false},
	{"PAYFLOW_DB_MAX_IDLE_CONNS", "10", "PostgreSQL pool: idle connections", false},
	{"TEMPORAL_ADDRESS", "127.0.0.1:7233", "Temporal frontend (dev: the embedded server listens here)", false},
	{"TEMPORAL_NAMESPACE", "default", "Temporal namespace", false},
	{"PAYFLOW_TASK_QUEUE", "payflow", "Temporal task queue of the worker", false},
	{"PAYFLOW_API_ADDR", "127.0.0.1:8080", "REST API and webhook listener", false},
	{"PAYFLOW_UI_ADDR", "127.0.0.1:8233", "dev: Temporal Web UI", false},
	{"PAYFLOW_SANDBOX_ADDR", "127.0.0.1:8090", "dev/sandbox: provider sandboxes", false},
	{"PAYFLOW_DATA_DIR", "./.data", "dev: Temporal SQLite file and other local state", false},
	{"PAYFLOW_API_KEYS", "dev-key", "comma-separated bearer keys accepted on /v1", true},
	{"PAYFLOW_MANAGED_CURRENCIES", "XLM", "comma-separated Rehive currency codes this service manages", false},
	{"PAYFLOW_PAYMENT_TIMEOUT", "15m", "how long a checkout waits for payment", false},
	{"PAYFLOW_STALL_TIMEOUT", "1h", "how long a managed Rehive transaction or deposit may stall", false},
	{"PAYFLOW_BODY_LIMIT", "1048576", "largest accepted request body, bytes", false},
	{"PAYFLOW_RECONCILE_INTERVAL", "5m", "how often the reconciliation schedule runs (settles what webhooks and closed workflows left behind)", false},
	{"PAYFLOW_LATE_WINDOW", "1h", "how long a checkout that closed unpaid still refunds a payment that arrives; the reconciliation settles what comes later", false},
	{"PAYFLOW_ENV", "production", "dev lets `payflow api` and `payflow worker` run with the public dev secrets; anything else makes them refuse to", false},
	{"PAYFLOW_LOG_FORMAT", "", "text or json (default: text for dev, json otherwise)", false},
	{"PAYFLOW_LOG_LEVEL", "info", "debug, info, warn or error", false},
	{"PAYFLOW_PUBLIC_URL", "http://127.0.0.1:8080", "dev/sandbox: where the sandboxes post webhooks", false},
	{"CHECKOUTCOM_BASE_URL", "http://127.0.0.1:8090/sandbox/checkoutcom", "Checkout.com API (https://api.checkout.com in production)", false},
	{"CHECKOUTCOM_SECRET_KEY", "sk_sbox_payflow_dev", "Checkout.com secret key", true},
	{"CHECKOUTCOM_PROCESSING_CHANNEL_ID", "pc_payflowdev000000000000000", "Checkout.com processing channel", false},
	{"CHECKOUTCOM_WEBHOOK_AUTH_KEY", "cko-dev-authorization-key", "Checkout.com webhook authorization header key", true},
	{"CHECKOUTCOM_WEBHOOK_SIGNATURE_KEY", "cko-dev-signature-key", "Checkout.com webhook signature key", true},
	{"REHIVE_BASE_URL", "http://127.0.0.1:8090/sandbox/rehive/3", "Rehive platform API v3 (https://api.rehive.com/3 in production)", false},
	{"REHIVE_ADMIN_TOKEN", "rehive-dev-admin-token", "Rehive token of the currency manager's service user", true},
	{"REHIVE_COMPANY", "payflow", "Rehive company id", false},
	{"REHIVE_WEBHOOK_SECRET", "rehive-dev-webhook-secret", "Rehive webhook secret (Authorization: Secret ...)", true},
	{"REHIVE_MERCHANT_EMAIL", "merchant@payflow.test", "Rehive user that receives checkout payments", false},
	{"REHIVE_MERCHANT_ACCOUNT", "", "the merchant's Rehive account reference (dev: read from the sandbox)", false},
	{"LEDGER_BASE_URL", "http://127.0.0.1:8090/sandbox/ledger", "third-party ledger API", false},
	{"LEDGER_API_KEY", "ledger-dev-api-key", "ledger API key", true},
	{"LEDGER_WEBHOOK_SECRET", "ledger-dev-webhook-secret", "ledger webhook signing secret", true},
	{"LEDGER_WITHDRAWAL_ACCOUNT", "payflow-hot-wallet", "ledger account that Rehive withdrawals are paid from", false},
}

// Config is the parsed configuration.
type Config struct {
	DatabaseURL     string
	DBMaxOpenConns  int
	DBMaxIdleConns  int
	TemporalAddress string
	Namespace       string
	TaskQueue       string
	APIAddr         string
	UIAddr          string
	SandboxAddr     string
	DataDir         string
	APIKeys         []string
	Managed         []string
	PaymentTimeout  time.Duration
	StallTimeout    time.Duration
	BodyLimit       int
	// ReconcileInterval is the reconciliation schedule's period.
	ReconcileInterval time.Duration
	// LateWindow is workflows.CheckoutInput.LateWindow.
	LateWindow time.Duration
	Env        string
	LogFormat  string
	LogLevel   string
	PublicURL  string

	CheckoutCom CheckoutCom
	Rehive      Rehive
	Ledger      Ledger
}

// CheckoutCom holds the Checkout.com settings.
type CheckoutCom struct {
	BaseURL, SecretKey, ProcessingChannelID, WebhookAuthKey, WebhookSignatureKey string
}

// Rehive holds the Rehive settings.
type Rehive struct {
	BaseURL, AdminToken, Company, WebhookSecret, MerchantEmail, MerchantAccount string
}

// Ledger holds the ledger settings.
type Ledger struct {
	BaseURL, APIKey, WebhookSecret string
	// WithdrawalAccount is the ledger account withdrawals are paid from.
	WithdrawalAccount string
}

// Default is a variable's default value.
func Default(name string) string {
	for _, v := range Vars {
		if v.Name == name {
			return v.Default
		}
	}
	panic("config: undeclared variable " + name)
}

// Load reads the environment through getenv (os.Getenv in production).
func Load(getenv func(string) string) (Config, error) {
	get := func(name string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return Default(name)
	}
	var errs []string
	num := func(name string) int {
		n, err := strconv.Atoi(get(name))
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Sprintf("%s: want a positive integer", name))
		}
		return n
	}
	dur := func(name string) time.Duration {
		d, err := time.ParseDuration(get(name))
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Sprintf("%s: want a positive duration such as 15m", name))
		}
		return d
	}
	c := Config{
		DatabaseURL:       get("DATABASE_URL"),
		DBMaxOpenConns:    num("PAYFLOW_DB_MAX_OPEN_CONNS"),
		DBMaxIdleConns:    num("PAYFLOW_DB_MAX_IDLE_CONNS"),
		TemporalAddress:   get("TEMPORAL_ADDRESS"),
		Namespace:         get("TEMPORAL_NAMESPACE"),
		TaskQueue:         get("PAYFLOW_TASK_QUEUE"),
		APIAddr:           get("PAYFLOW_API_ADDR"),
		UIAddr:            get("PAYFLOW_UI_ADDR"),
		SandboxAddr:       get("PAYFLOW_SANDBOX_ADDR"),
		DataDir:           get("PAYFLOW_DATA_DIR"),
		APIKeys:           list(get("PAYFLOW_API_KEYS"), false),
		Managed:           list(get("PAYFLOW_MANAGED_CURRENCIES"), true),
		PaymentTimeout:    dur("PAYFLOW_PAYMENT_TIMEOUT"),
		StallTimeout:      dur("PAYFLOW_STALL_TIMEOUT"),
		BodyLimit:         num("PAYFLOW_BODY_LIMIT"),
		ReconcileInterval: dur("PAYFLOW_RECONCILE_INTERVAL"),
		LateWindow:        dur("PAYFLOW_LATE_WINDOW"),
		Env:               get("PAYFLOW_ENV"),
		LogFormat:         get("PAYFLOW_LOG_FORMAT"),
		LogLevel:          get("PAYFLOW_LOG_LEVEL"),
		PublicURL:         strings.TrimRight(get("PAYFLOW_PUBLIC_URL"), "/"),
		CheckoutCom: CheckoutCom{
			BaseURL:             strings.TrimRight(get("CHECKOUTCOM_BASE_URL"), "/"),
			SecretKey:           get("CHECKOUTCOM_SECRET_KEY"),
			ProcessingChannelID: get("CHECKOUTCOM_PROCESSING_CHANNEL_ID"),
			WebhookAuthKey:      get("CHECKOUTCOM_WEBHOOK_AUTH_KEY"),
			WebhookSignatureKey: get("CHECKOUTCOM_WEBHOOK_SIGNATURE_KEY"),
		},
		Rehive: Rehive{
			BaseURL:         strings.TrimRight(get("REHIVE_BASE_URL"), "/"),
			AdminToken:      get("REHIVE_ADMIN_TOKEN"),
			Company:         get("REHIVE_COMPANY"),
			WebhookSecret:   get("REHIVE_WEBHOOK_SECRET"),
			MerchantEmail:   get("REHIVE_MERCHANT_EMAIL"),
			MerchantAccount: get("REHIVE_MERCHANT_ACCOUNT"),
		},
		Ledger: Ledger{
			BaseURL:           strings.TrimRight(get("LEDGER_BASE_URL"), "/"),
			APIKey:            get("LEDGER_API_KEY"),
			WebhookSecret:     get("LEDGER_WEBHOOK_SECRET"),
			WithdrawalAccount: get("LEDGER_WITHDRAWAL_ACCOUNT"),
		},
	}
	if len(c.APIKeys) == 0 {
		errs = append(errs, "PAYFLOW_API_KEYS: at least one key is required")
	}
	if f := c.LogFormat; f != "" && f != "text" && f != "json" {
		errs = append(errs, "PAYFLOW_LOG_FORMAT: want text or json")
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// PublicDevSecrets names the credentials still at their dev defaults, which
// are public: a production process must not run with them, or anyone could
// call the API or forge a provider's webhook. (The database URL is left out:
// its default is a local one.)
func PublicDevSecrets(getenv func(string) string) []string {
	var names []string
	for _, v := range Vars {
		if v.Secret && v.Name != "DATABASE_URL" && strings.TrimSpace(getenv(v.Name)) == "" {
			names = append(names, v.Name)
		}
	}
	return names
}

// IsManaged reports whether payflow manages the Rehive currency code.
func (c Config) IsManaged(code string) bool {
	for _, m := range c.Managed {
		if strings.EqualFold(m, code) {
			return true
		}
	}
	return false
}

// PrintHelp writes every variable with its default; secrets are masked.
func PrintHelp(w io.Writer) {
	for _, v := range Vars {
		def := v.Default
		if v.Secret && def != "" {
			def = "(dev value)"
		}
		if def == "" {
			def = "(unset)"
		}
		fmt.Fprintf(w, "  %-34s %s\n  %-34s default: %s\n", v.Name, v.Help, "", def)
	}
}

func list(s string, upper bool) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			if upper {
				p = strings.ToUpper(p)
			}
			out = append(out, p)
		}
	}
	return out
}
