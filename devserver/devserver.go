// Package devserver runs an embedded Temporal server on a SQLite file (or in
// memory) plus the Temporal Web UI, for `payflow dev` and for tests. It mirrors
// how the Temporal CLI's own dev server is put together.
package devserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiserveroptions "github.com/temporalio/ui-server/v2/server/server_options"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	tlog "go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

const clusterName = "active"

// SearchAttributes are the custom search attributes payflow registers so that
// operators can find workflows by business id and status in the Web UI.
var SearchAttributes = map[string]enumspb.IndexedValueType{
	"OrderId":       enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	"RehiveTxId":    enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	"PayflowStatus": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
}

// Options configure the embedded server.
type Options struct {
	// FrontendAddr is the gRPC host:port SDK clients connect to.
	FrontendAddr string
	// UIAddr serves the Web UI when not empty.
	UIAddr string
	// DatabaseFile keeps history across restarts; empty means in memory.
	DatabaseFile string
	Namespace    string
	// CodecEndpoint, when set, is the remote codec the Web UI decodes
	// payloads with (payflow's /codec, with PAYFLOW_CODEC_KEYS set).
	CodecEndpoint string
	Logger        *slog.Logger
}

// Server is a running embedded Temporal server.
type Server struct {
	server temporal.Server
	ui     *UI
}

// Start builds and starts the server (and UI); it returns once the frontend
// accepts connections.
func Start(opts Options) (*Server, error) {
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	host, portStr, err := net.SplitHostPort(opts.FrontendAddr)
	if err != nil {
		return nil, fmt.Errorf("frontend address: %w", err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("frontend port: %w", err)
	}
	// The server panics when its port is taken; say so plainly instead.
	for _, addr := range []string{opts.FrontendAddr, opts.UIAddr} {
		if addr == "" {
			continue
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("%s is in use (is another payflow dev or Temporal running?): %w", addr, err)
		}
		l.Close()
	}
	conf, err := buildConfig(host, port, opts)
	if err != nil {
		return nil, err
	}
	hosts := map[primitives.ServiceName]static.Hosts{}
	for _, svc := range []primitives.ServiceName{primitives.FrontendService, primitives.MatchingService, primitives.HistoryService, primitives.WorkerService} {
		hosts[svc] = static.SingleLocalHost(net.JoinHostPort(host, strconv.Itoa(conf.Services[string(svc)].RPC.GRPCPort)))
	}
	dyn := dynamicconfig.StaticClient{
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key():                 8096,
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 200,
		// Visibility queries in tests and the API list endpoint want fresh data.
		dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(): true,
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(slogAdapter{opts.Logger}),
		temporal.WithDynamicConfigClient(dyn),
	)
	if err != nil {
		return nil, fmt.Errorf("new temporal server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("start temporal server: %w", err)
	}
	s := &Server{server: srv}
	if opts.UIAddr != "" {
		if s.ui, err = StartUI(opts.FrontendAddr, opts.UIAddr, opts.Namespace, opts.CodecEndpoint); err != nil {
			srv.Stop()
			return nil, err
		}
	}
	return s, nil
}

// Stop shuts the UI and the server down.
func (s *Server) Stop() {
	if s.ui != nil {
		s.ui.Stop()
	}
	s.server.Stop()
}

// UI is a running Temporal Web UI.
type UI struct{ server *uiserver.Server }

// StartUI serves the Temporal Web UI on uiAddr against the frontend at
// frontendAddr (the embedded server here, a real one for the production
// shape) and returns once it answers. With a codecEndpoint the UI decodes
// payloads through it, sending the browser's cookies for that endpoint (the
// session /codec/login sets).
func StartUI(frontendAddr, uiAddr, namespace, codecEndpoint string) (*UI, error) {
	uiHost, uiPortStr, err := net.SplitHostPort(uiAddr)
	if err != nil {
		return nil, fmt.Errorf("ui address: %w", err)
	}
	uiPort, _ := strconv.Atoi(uiPortStr)
	ui := &UI{server: uiserver.NewServer(uiserveroptions.WithConfigProvider(&uiconfig.Config{
		Host:                uiHost,
		Port:                uiPort,
		TemporalGRPCAddress: frontendAddr,
		EnableUI:            true,
		CORS:                uiconfig.CORS{CookieInsecure: true},
		HideLogs:            true,
		DisableNewsFetch:    true, // no network beyond loopback here
		DefaultNamespace:    namespace,
		Codec:               uiconfig.Codec{Endpoint: codecEndpoint, IncludeCredentials: codecEndpoint != ""},
	}))}
	done := make(chan error, 1)
	go func() { done <- ui.server.Start() }()
	if err := waitHTTP("http://"+uiAddr+"/", 15*time.Second, done); err != nil {
		ui.Stop()
		return nil, fmt.Errorf("temporal web ui: %w", err)
	}
	return ui, nil
}

// Stop shuts the UI down.
func (u *UI) Stop() { u.server.Stop() }

func waitHTTP(url string, timeout time.Duration, failed <-chan error) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-failed:
			return err
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("did not answer in time")
}

func buildConfig(host string, port int, opts Options) (*config.Config, error) {
	var conf config.Config
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = host
	conf.Persistence.DefaultStore = "sqlite-default"
	conf.Persistence.VisibilityStore = "sqlite-default"
	conf.Persistence.NumHistoryShards = 1

	sqlConf := config.SQL{PluginName: sqliteplugin.PluginName}
	if opts.DatabaseFile == "" {
		sqlConf.ConnectAttributes = map[string]string{"mode": "memory", "cache": "shared"}
		sqlConf.DatabaseName = "payflow-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	} else {
		sqlConf.ConnectAttributes = map[string]string{"mode": "rwc", "_journal_mode": "WAL", "_synchronous": "NORMAL"}
		sqlConf.DatabaseName = opts.DatabaseFile
		if err := os.MkdirAll(filepath.Dir(opts.DatabaseFile), 0o755); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
		if _, err := os.Stat(opts.DatabaseFile); errors.Is(err, os.ErrNotExist) {
			if err := sqliteschema.SetupSchema(&sqlConf); err != nil {
				return nil, fmt.Errorf("sqlite schema: %w", err)
			}
		}
	}
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, opts.Namespace, false, SearchAttributes)
	if err != nil {
		return nil, fmt.Errorf("namespace config: %w", err)
	}
	if err := sqliteschema.CreateNamespaces(&sqlConf, ns); err != nil {
		return nil, fmt.Errorf("create namespace: %w", err)
	}
	conf.Persistence.DataStores = map[string]config.DataStore{"sqlite-default": {SQL: &sqlConf}}

	httpPort, err := freePort(host)
	if err != nil {
		return nil, err
	}
	conf.ClusterMetadata = &cluster.Config{
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             net.JoinHostPort(host, strconv.Itoa(port)),
				HTTPAddress:            net.JoinHostPort(host, strconv.Itoa(httpPort)),
				ClusterID:              "5d8a3a52-58a4-4f6e-9c1b-7d8a2f3f0c11", // fixed: the SQLite file outlives the process
			},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	conf.Services = map[string]config.Service{}
	for _, name := range []string{"frontend", "history", "matching", "worker"} {
		var svc config.Service
		svc.RPC.BindOnIP = host
		if name == "frontend" {
			svc.RPC.GRPCPort = port
			svc.RPC.HTTPPort = httpPort
		} else if svc.RPC.GRPCPort, err = freePort(host); err != nil {
			return nil, err
		}
		conf.Services[name] = svc
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = net.JoinHostPort(host, strconv.Itoa(port))
	return &conf, nil
}

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// slogAdapter sends the server's logs to slog; the server is chatty, so only
// warnings and errors are kept.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Debug(string, ...tag.Tag)           {}
func (a slogAdapter) Info(string, ...tag.Tag)            {}
func (a slogAdapter) Warn(msg string, tags ...tag.Tag)   { a.log(slog.LevelWarn, msg, tags) }
func (a slogAdapter) Error(msg string, tags ...tag.Tag)  { a.log(slog.LevelError, msg, tags) }
func (a slogAdapter) DPanic(msg string, tags ...tag.Tag) { a.log(slog.LevelError, msg, tags) }
func (a slogAdapter) Panic(msg string, tags ...tag.Tag)  { a.log(slog.LevelError, msg, tags) }
func (a slogAdapter) Fatal(msg string, tags ...tag.Tag)  { a.log(slog.LevelError, msg, tags) }
func (a slogAdapter) log(l slog.Level, msg string, tags []tag.Tag) {
	attrs := make([]slog.Attr, 0, len(tags)+1)
	attrs = append(attrs, slog.String("component", "temporal"))
	for _, t := range tags {
		attrs = append(attrs, slog.Any(t.Key(), t.Value()))
	}
	a.l.LogAttrs(context.Background(), l, msg, attrs...)
}

var _ tlog.Logger = slogAdapter{}
