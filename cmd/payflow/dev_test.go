package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/payflow/payflow/store/storetest"
)

// TestDevStack runs the real binary as `make run` does: `payflow dev` comes
// up with the API ready, the Temporal Web UI served and the gRPC frontend
// answering an SDK client; it shuts down cleanly on SIGTERM, and a workflow
// started before a restart is still there after it.
func TestDevStack(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "payflow")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dbURL := storetest.Database(t)
	addrs := map[string]string{}
	for _, k := range []string{"PAYFLOW_API_ADDR", "PAYFLOW_UI_ADDR", "PAYFLOW_SANDBOX_ADDR", "TEMPORAL_ADDRESS"} {
		addrs[k] = freeAddr(t)
	}
	dataDir := t.TempDir()
	environ := append(os.Environ(), "PAYFLOW_ENV=dev", "DATABASE_URL="+dbURL, "PAYFLOW_DATA_DIR="+dataDir, "PAYFLOW_PUBLIC_URL=http://"+addrs["PAYFLOW_API_ADDR"])
	for k, v := range addrs {
		environ = append(environ, k+"="+v)
	}
	for _, k := range []string{"CHECKOUTCOM_BASE_URL", "REHIVE_BASE_URL", "LEDGER_BASE_URL"} {
		environ = append(environ, k+"=http://"+addrs["PAYFLOW_SANDBOX_ADDR"]+map[string]string{
			"CHECKOUTCOM_BASE_URL": "/sandbox/checkoutcom", "REHIVE_BASE_URL": "/sandbox/rehive/3", "LEDGER_BASE_URL": "/sandbox/ledger"}[k])
	}

	start := func() (*exec.Cmd, *strings.Builder) {
		cmd := exec.Command(bin, "dev")
		cmd.Env = environ
		out := &strings.Builder{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitHTTP(t, "http://"+addrs["PAYFLOW_API_ADDR"]+"/readyz", http.StatusOK, out)
		return cmd, out
	}
	stop := func(cmd *exec.Cmd, out *strings.Builder) {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("payflow dev exited with %v after SIGTERM\n%s", err, out)
			}
		case <-time.After(45 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("payflow dev did not stop on SIGTERM\n%s", out)
		}
	}

	cmd, out := start()
	for _, want := range []string{"http://" + addrs["PAYFLOW_API_ADDR"], "http://" + addrs["PAYFLOW_UI_ADDR"], addrs["TEMPORAL_ADDRESS"], "dev-key"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("startup output does not show %s", want)
		}
	}
	waitHTTP(t, "http://"+addrs["PAYFLOW_UI_ADDR"]+"/", http.StatusOK, out)
	waitHTTP(t, "http://"+addrs["PAYFLOW_SANDBOX_ADDR"]+"/sandbox/checkoutcom/_control/state", http.StatusOK, out)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := client.Dial(client.Options{HostPort: addrs["TEMPORAL_ADDRESS"]})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "restart-probe", TaskQueue: "nobody-polls"}, "Probe")
	if err != nil {
		t.Fatal(err)
	}
	listed := false
	for deadline := time.Now().Add(10 * time.Second); !listed && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		list, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{})
		if err != nil {
			t.Fatalf("list workflows: %v", err)
		}
		for _, e := range list.Executions {
			listed = listed || e.Execution.WorkflowId == "restart-probe"
		}
	}
	if !listed {
		t.Fatal("an SDK client cannot list the workflow it started")
	}
	c.Close()
	stop(cmd, out)

	cmd, out = start()
	defer stop(cmd, out)
	c, err = client.Dial(client.Options{HostPort: addrs["TEMPORAL_ADDRESS"]})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.DescribeWorkflowExecution(ctx, "restart-probe", run.GetRunID()); err != nil {
		t.Fatalf("workflow lost across a restart of payflow dev: %v", err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitHTTP(t *testing.T, url string, want int, out fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == want {
				return
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, b)
		} else {
			last = err.Error()
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s never answered %d (last: %s)\n%s", url, want, last, out)
}
