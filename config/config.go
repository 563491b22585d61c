// Package config reads payflow's configuration from the environment. Every
// variable has a default that works for `payflow dev`, so the dev stack needs
// no setup; production deployments override the secrets and URLs.
package config

import (
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/payflow/payflow/codec"
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
	{"PAYFLOW_DB_MAX_IDLE_CONNS", "20", "PostgreSQL pool: idle connections (as many as open: a pool that closes connections at load reopens them, each a backend start and an authentication)", false},
	{"TEMPORAL_ADDRESS", "127.0.0.1:7233", "Temporal frontend (dev: the embedded server listens here)", false},
	{"TEMPORAL_NAMESPACE", "default", "Temporal namespace", false},
	{"PAYFLOW_TASK_QUEUE", "payflow", "Temporal task queue of the worker", false},
	{"PAYFLOW_WORKFLOW_VERSION_PINS", "", "worker: change ids and the version new runs record for them instead of the newest, e.g. operator-cancel=1 (the lean checkout's rollout: ship with the pin so the previous build can still run every workflow, remove it once none of that build is left)", false},
	{"PAYFLOW_WORKER_STICKY_CACHE", "10000", "worker: workflows kept in memory between their tasks (the SDK's sticky cache; 10000 is its default). A smaller cache bounds the worker's memory; an evicted workflow replays its history at its next task", false},
	{"PAYFLOW_TEMPORAL_TLS_CA", "", "PEM file of the CA that signs the Temporal frontend's certificate (TLS to Temporal is on when any PAYFLOW_TEMPORAL_TLS_* or PAYFLOW_TEMPORAL_API_KEY is set; without a CA the system roots are used)", false},
	{"PAYFLOW_TEMPORAL_TLS_CERT", "", "PEM client certificate for mTLS to Temporal (with PAYFLOW_TEMPORAL_TLS_KEY; Temporal Cloud mTLS namespaces)", false},
	{"PAYFLOW_TEMPORAL_TLS_KEY", "", "PEM private key of PAYFLOW_TEMPORAL_TLS_CERT", false},
	{"PAYFLOW_TEMPORAL_TLS_SERVER_NAME", "", "server name checked against the Temporal frontend's certificate (default: the host of TEMPORAL_ADDRESS)", false},
	{"PAYFLOW_TEMPORAL_API_KEY", "", "Temporal Cloud API key, sent as a bearer token on every call (turns TLS on)", true},
	{"PAYFLOW_CODEC_KEYS", "", "comma-separated keyid:base64-of-32-bytes AES-256 keys encrypting every Temporal payload; the first encrypts, all decrypt (rotation). Unset: payloads are stored in the clear", true},
	{"PAYFLOW_CODEC_AUTH", "", "comma-separated bearer tokens accepted by the Web UI codec endpoint /codec (default: the PAYFLOW_API_KEYS)", true},
	{"PAYFLOW_UI_URL", "", "the Temporal Web UI's URL: the only origin allowed to call /codec, and where /codec/login returns (default: http:// + PAYFLOW_UI_ADDR)", false},
	{"OTEL_EXPORTER_OTLP_ENDPOINT", "", "OTLP collector for traces (e.g. http://127.0.0.1:4318); unset: no tracing. The other standard OTEL_* variables (headers, timeout, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER, OTEL_SDK_DISABLED) apply", false},
	{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf", "OTLP transport: http/protobuf or grpc (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL overrides it for traces)", false},
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
	{"PAYFLOW_REQUEST_TIMEOUT", "10s", "deadline of every API request (its database and Temporal calls); past it the answer is 503", false},
	{"PAYFLOW_DB_CONNECT_TIMEOUT", "5s", "PostgreSQL: deadline to open a connection (lib/pq connect_timeout)", false},
	{"PAYFLOW_DB_STATEMENT_TIMEOUT", "5s", "PostgreSQL: statement_timeout of every session; a connection that stays silent past it (plus 2 s) is closed", false},
	{"PAYFLOW_IDEMPOTENCY_TTL", "24h", "how long an Idempotency-Key is remembered; older keys are pruned", false},
	{"PAYFLOW_INBOX_RETENTION", "168h", "how long handled webhook inbox rows are kept (at least 96h: it must outlast the Checkout.com freshness window)", false},
	{"PAYFLOW_PRUNE_INTERVAL", "1h", "how often expired idempotency keys and old inbox rows are pruned", false},
	{"PAYFLOW_OPS_ADDR", "", "serve /metrics (and /healthz) on this separate operations address instead of the API address; `payflow worker` serves its own there (the Temporal SDK's worker metrics)", false},
	{"PAYFLOW_ENV", "production", "dev: the demo environment. Anything else is production: `payflow dev` and `payflow sandbox` refuse to run, and `payflow api` and `payflow worker` refuse public dev secrets, keys shorter than 16 characters, the dev database password and sandbox provider URLs", false},
	{"PAYFLOW_LOG_FORMAT", "", "text or json (default: text for dev, json otherwise)", false},
	{"PAYFLOW_LOG_LEVEL", "info", "debug, info, warn or error", false},
	{"PAYFLOW_PUBLIC_URL", "http://127.0.0.1:8080", "dev/sandbox: where the sandboxes post webhooks", false},
	{"CHECKOUTCOM_BASE_URL", "http://127.0.0.1:8090/sandbox/checkoutcom", "Checkout.com API (https://api.checkout.com in production)", false},
	{"CHECKOUTCOM_SECRET_KEY", "sk_sbox_payflow_dev", "Checkout.com secret key", true},
	{"CHECKOUTCOM_PROCESSING_CHANNEL_ID", "pc_payflowdev0000000000000000", "Checkout.com processing channel (pc_ + 26 characters; required)", false},
	{"CHECKOUTCOM_3DS_SUCCESS_URL", "http://127.0.0.1:8090/sandbox/checkoutcom/return/success", "where the customer's browser goes after a passed 3-D Secure challenge (payflow requests 3-D Secure on every card payment)", false},
	{"CHECKOUTCOM_3DS_FAILURE_URL", "http://127.0.0.1:8090/sandbox/checkoutcom/return/failure", "where the customer's browser goes after a failed 3-D Secure challenge", false},
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
	DatabaseURL    string
	DBMaxOpenConns int
	DBMaxIdleConns int
	// VersionPins are GetVersion change ids and the version new runs record
	// (PAYFLOW_WORKFLOW_VERSION_PINS).
	VersionPins     map[string]int
	TemporalAddress string
	Namespace       string
	TaskQueue       string
	// WorkerStickyCache is the worker process's sticky workflow cache size.
	WorkerStickyCache int
	// TemporalTLS and TemporalAPIKey reach a Temporal server over TLS, such
	// as Temporal Cloud.
	TemporalTLS    TemporalTLS
	TemporalAPIKey string
	// CodecKeys is PAYFLOW_CODEC_KEYS, already validated (codec.Parse).
	CodecKeys string
	// CodecAuth are the bearer tokens of the codec endpoint.
	CodecAuth []string
	// UIURL is the Temporal Web UI's URL, without a trailing slash.
	UIURL          string
	APIAddr        string
	UIAddr         string
	SandboxAddr    string
	DataDir        string
	APIKeys        []string
	Managed        []string
	PaymentTimeout time.Duration
	StallTimeout   time.Duration
	BodyLimit      int
	// ReconcileInterval is the reconciliation schedule's period.
	ReconcileInterval time.Duration
	// LateWindow is workflows.CheckoutInput.LateWindow.
	LateWindow time.Duration
	// RequestTimeout is every API request's deadline.
	RequestTimeout     time.Duration
	DBConnectTimeout   time.Duration
	DBStatementTimeout time.Duration
	// IdempotencyTTL is how long an Idempotency-Key holds.
	IdempotencyTTL time.Duration
	// InboxRetention is how long handled inbox rows are kept.
	InboxRetention time.Duration
	PruneInterval  time.Duration
	// OpsAddr, when set, serves /metrics apart from the API.
	OpsAddr   string
	Env       string
	LogFormat string
	LogLevel  string
	PublicURL string

	CheckoutCom CheckoutCom
	Rehive      Rehive
	Ledger      Ledger
}

// CheckoutCom holds the Checkout.com settings.
type CheckoutCom struct {
	BaseURL, SecretKey, ProcessingChannelID, WebhookAuthKey, WebhookSignatureKey string
	// SuccessURL and FailureURL end a 3-D Secure challenge.
	SuccessURL, FailureURL string
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
		WorkerStickyCache: num("PAYFLOW_WORKER_STICKY_CACHE"),
		TemporalTLS: TemporalTLS{
			CAFile: get("PAYFLOW_TEMPORAL_TLS_CA"), CertFile: get("PAYFLOW_TEMPORAL_TLS_CERT"),
			KeyFile: get("PAYFLOW_TEMPORAL_TLS_KEY"), ServerName: get("PAYFLOW_TEMPORAL_TLS_SERVER_NAME"),
		},
		TemporalAPIKey:     get("PAYFLOW_TEMPORAL_API_KEY"),
		CodecKeys:          get("PAYFLOW_CODEC_KEYS"),
		CodecAuth:          list(get("PAYFLOW_CODEC_AUTH"), false),
		UIURL:              strings.TrimRight(get("PAYFLOW_UI_URL"), "/"),
		APIAddr:            get("PAYFLOW_API_ADDR"),
		UIAddr:             get("PAYFLOW_UI_ADDR"),
		SandboxAddr:        get("PAYFLOW_SANDBOX_ADDR"),
		DataDir:            get("PAYFLOW_DATA_DIR"),
		APIKeys:            list(get("PAYFLOW_API_KEYS"), false),
		Managed:            list(get("PAYFLOW_MANAGED_CURRENCIES"), true),
		PaymentTimeout:     dur("PAYFLOW_PAYMENT_TIMEOUT"),
		StallTimeout:       dur("PAYFLOW_STALL_TIMEOUT"),
		BodyLimit:          num("PAYFLOW_BODY_LIMIT"),
		ReconcileInterval:  dur("PAYFLOW_RECONCILE_INTERVAL"),
		LateWindow:         dur("PAYFLOW_LATE_WINDOW"),
		RequestTimeout:     dur("PAYFLOW_REQUEST_TIMEOUT"),
		DBConnectTimeout:   dur("PAYFLOW_DB_CONNECT_TIMEOUT"),
		DBStatementTimeout: dur("PAYFLOW_DB_STATEMENT_TIMEOUT"),
		IdempotencyTTL:     dur("PAYFLOW_IDEMPOTENCY_TTL"),
		InboxRetention:     dur("PAYFLOW_INBOX_RETENTION"),
		PruneInterval:      dur("PAYFLOW_PRUNE_INTERVAL"),
		OpsAddr:            get("PAYFLOW_OPS_ADDR"),
		Env:                get("PAYFLOW_ENV"),
		LogFormat:          get("PAYFLOW_LOG_FORMAT"),
		LogLevel:           get("PAYFLOW_LOG_LEVEL"),
		PublicURL:          strings.TrimRight(get("PAYFLOW_PUBLIC_URL"), "/"),
		CheckoutCom: CheckoutCom{
			BaseURL:             strings.TrimRight(get("CHECKOUTCOM_BASE_URL"), "/"),
			SecretKey:           get("CHECKOUTCOM_SECRET_KEY"),
			ProcessingChannelID: get("CHECKOUTCOM_PROCESSING_CHANNEL_ID"),
			WebhookAuthKey:      get("CHECKOUTCOM_WEBHOOK_AUTH_KEY"),
			WebhookSignatureKey: get("CHECKOUTCOM_WEBHOOK_SIGNATURE_KEY"),
			SuccessURL:          get("CHECKOUTCOM_3DS_SUCCESS_URL"),
			FailureURL:          get("CHECKOUTCOM_3DS_FAILURE_URL"),
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
	var err error
	if c.VersionPins, err = versionPins(get("PAYFLOW_WORKFLOW_VERSION_PINS")); err != nil {
		errs = append(errs, "PAYFLOW_WORKFLOW_VERSION_PINS: "+err.Error())
	}
	if len(c.CodecAuth) == 0 {
		c.CodecAuth = c.APIKeys
	}
	if c.UIURL == "" {
		c.UIURL = "http://" + c.UIAddr
	}
	if u, err := url.Parse(c.UIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, "PAYFLOW_UI_URL: want an http(s) URL such as https://temporal-ui.example.com")
	}
	if _, err := codec.Parse(c.CodecKeys); err != nil {
		errs = append(errs, "PAYFLOW_CODEC_KEYS: "+err.Error())
	}
	if (c.TemporalTLS.CertFile == "") != (c.TemporalTLS.KeyFile == "") {
		errs = append(errs, "PAYFLOW_TEMPORAL_TLS_CERT and PAYFLOW_TEMPORAL_TLS_KEY: set both or neither")
	}
	if p := get("OTEL_EXPORTER_OTLP_PROTOCOL"); p != "grpc" && p != "http/protobuf" {
		errs = append(errs, "OTEL_EXPORTER_OTLP_PROTOCOL: want http/protobuf or grpc")
	}
	if c.InboxRetention > 0 && c.InboxRetention < CheckoutComEventMaxAge+24*time.Hour {
		errs = append(errs, fmt.Sprintf("PAYFLOW_INBOX_RETENTION: at least %s, so a redelivered Checkout.com event is still known as a duplicate", CheckoutComEventMaxAge+24*time.Hour))
	}
	if f := c.LogFormat; f != "" && f != "text" && f != "json" {
		errs = append(errs, "PAYFLOW_LOG_FORMAT: want text or json")
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// CheckoutComEventMaxAge is the freshness window of Checkout.com webhooks:
// an event whose created_on is older is refused. Checkout.com retries a
// delivery for about 2 days, keeping the event's created_on, so 72 h accepts
// every legitimate retry; the inbox keeps rows longer than this
// (PAYFLOW_INBOX_RETENTION), so a replay inside the window is a duplicate and
// one outside it is refused, whatever has been pruned. (Their signature has
// no timestamp of its own, unlike the ledger's.)
const CheckoutComEventMaxAge = 72 * time.Hour

// DevCodecKeys is the public codec key of the demo shapes (docker-compose.yml,
// make run-prod): it shows encryption working, and protects nothing, so a
// production process refuses it.
const DevCodecKeys = "dev-2026:KAQYBCabLyge8xLmx/+/85xwGmF+rWRLvrdZdwfeS40="

// MinSecretLength is the shortest key or secret a production process takes.
const MinSecretLength = 16

// providerURLs are the provider base URLs, whose defaults are the sandboxes.
var providerURLs = []string{"CHECKOUTCOM_BASE_URL", "REHIVE_BASE_URL", "LEDGER_BASE_URL"}

// ProductionProblems lists why this environment must not run outside dev:
// a credential at its public dev value (set explicitly or defaulted — the
// defaults are in this repository, so anyone could call the API or forge a
// provider's webhook with them), one shorter than MinSecretLength, the dev
// database password, or a provider URL that points at the dev sandboxes.
func ProductionProblems(getenv func(string) string) []string {
	var out []string
	value := func(name string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return Default(name)
	}
	for _, v := range Vars {
		if !v.Secret {
			continue
		}
		val := value(v.Name)
		switch {
		case v.Default == "" && val == "":
			// An optional secret (Temporal API key, codec keys) left unset.
		case v.Name == "PAYFLOW_CODEC_KEYS":
			if strings.Contains(val, strings.SplitN(DevCodecKeys, ":", 2)[1]) {
				out = append(out, "PAYFLOW_CODEC_KEYS holds the public dev key")
			}
		case v.Name == "PAYFLOW_CODEC_AUTH":
			for _, k := range list(val, false) {
				if len(k) < MinSecretLength {
					out = append(out, fmt.Sprintf("PAYFLOW_CODEC_AUTH holds a token shorter than %d characters", MinSecretLength))
				}
			}
		case v.Name == "DATABASE_URL":
			if devPassword(val) {
				out = append(out, "DATABASE_URL uses the public dev password")
			}
		case v.Name == "PAYFLOW_API_KEYS":
			for _, k := range list(val, false) {
				if k == v.Default {
					out = append(out, "PAYFLOW_API_KEYS holds the public dev key")
				} else if len(k) < MinSecretLength {
					out = append(out, fmt.Sprintf("PAYFLOW_API_KEYS holds a key shorter than %d characters", MinSecretLength))
				}
			}
		case val == v.Default:
			out = append(out, v.Name+" is its public dev value")
		case len(val) < MinSecretLength:
			out = append(out, fmt.Sprintf("%s is shorter than %d characters", v.Name, MinSecretLength))
		}
	}
	for _, name := range providerURLs {
		val := strings.TrimRight(value(name), "/")
		if val == strings.TrimRight(Default(name), "/") || strings.Contains(val, "/sandbox/") {
			out = append(out, name+" points at the dev sandbox")
		}
	}
	return out
}

// devPassword reports whether a database URL carries the dev default's password.
func devPassword(dsn string) bool {
	dev, err1 := url.Parse(Default("DATABASE_URL"))
	u, err2 := url.Parse(dsn)
	if err1 != nil || err2 != nil || u.User == nil {
		return false
	}
	want, _ := dev.User.Password()
	got, ok := u.User.Password()
	return ok && got == want
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

// versionPins parses "change-id=version,..." (version -1 is
// workflow.DefaultVersion, the code before the change).
func versionPins(s string) (map[string]int, error) {
	pins := map[string]int{}
	for _, item := range list(s, false) {
		id, v, ok := strings.Cut(item, "=")
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if id = strings.TrimSpace(id); !ok || id == "" || err != nil || n < -1 {
			return nil, fmt.Errorf("want change-id=version pairs such as operator-cancel=1, got %q", item)
		}
		pins[id] = n
	}
	return pins, nil
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
