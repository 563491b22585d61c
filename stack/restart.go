package stack

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/payflow/payflow/app"
	"github.com/payflow/payflow/sandbox"
)

// RestartStack stops the worker, the API and the sandboxes and starts them
// again on the same addresses and the same PostgreSQL database, as stopping
// and starting `make run` does: the sandboxes come back empty (their state is
// in memory, like a new process), payflow keeps everything in its database.
// Temporal keeps running. whileDown runs while nothing is serving.
func (e *Stack) RestartStack(whileDown func()) error {
	e.StopWorker()
	// e.stop holds the sandbox's and the API's stops (Start appends them).
	for i := len(e.stop) - 1; i >= 0; i-- {
		e.stop[i]()
	}
	e.stop = nil
	e.App.Close()
	e.App = nil
	if whileDown != nil {
		whileDown()
	}

	sbLn, err := listenAgain(e.SandboxURL)
	if err != nil {
		return err
	}
	e.Sandbox = sandbox.New(e.Config, e.SandboxURL, sandbox.Options{Logger: e.Logger, LedgerConfirmDelay: 100 * time.Millisecond})
	sbSrv := &http.Server{Handler: e.Sandbox.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go sbSrv.Serve(sbLn)
	e.stop = append(e.stop, func() { sbSrv.Close(); e.Sandbox.Close() })

	apiLn, err := listenAgain(e.APIURL)
	if err != nil {
		return err
	}
	if e.App, err = app.New(e.Config, e.Logger); err != nil {
		apiLn.Close()
		return err
	}
	if err := e.App.Migrate(context.Background()); err != nil {
		apiLn.Close()
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.App.ServeAPI(ctx, apiLn) }()
	e.stop = append(e.stop, func() { cancel(); <-done })
	return e.StartWorker()
}

// listenAgain listens on the address of base (http://host:port) again,
// retrying briefly while the old listener's port is released.
func listenAgain(base string) (net.Listener, error) {
	addr := strings.TrimPrefix(base, "http://")
	var err error
	for range 50 {
		var ln net.Listener
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, err
}
