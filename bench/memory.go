package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/payflow/payflow/stack"
	"github.com/payflow/payflow/workflows"
)

// MemoryOptions set a memory measurement.
type MemoryOptions struct {
	Open        int    // checkouts left open, waiting for their webhook
	StickyCache int    // the worker's PAYFLOW_WORKER_STICKY_CACHE
	Concurrency int    // POSTs in flight while opening them
	Binary      string // the payflow binary, run as `payflow worker`
	Out         io.Writer
}

// MemoryReport is the worker's resident memory with Open checkouts open.
type MemoryReport struct {
	Open        int     `json:"open_checkouts"`
	StickyCache int     `json:"sticky_cache"`
	RSSIdle     int64   `json:"worker_rss_idle_bytes"`
	RSSOpen     int64   `json:"worker_rss_open_bytes"`
	PerCheckout float64 `json:"bytes_per_open_checkout"`
	// Samples are the worker's RSS as the checkouts opened, every 30 s.
	Samples []MemorySample `json:"samples"`
	Seconds float64        `json:"seconds"`
}

// MemorySample is the worker's RSS with Open of the checkouts open.
type MemorySample struct {
	Open int   `json:"open"`
	RSS  int64 `json:"rss_bytes"`
}

// memoryWarmup checkouts are opened before the idle reading, so that it
// holds the worker's caches and pools, not only its code.
const memoryWarmup = 50

// memoryBatch checkouts are opened at a time.
const memoryBatch = 500

// Memory runs `payflow worker` as its own process on an in-process stack
// (whose own worker is stopped), opens checkouts whose webhooks never come
// (the sandbox's webhooks go to a sink), so each one waits for its payment
// in the worker's cache, and reads the worker's RSS before and after.
func Memory(ctx context.Context, o MemoryOptions) (*MemoryReport, error) {
	began := time.Now()
	if o.Out == nil {
		o.Out = io.Discard
	}
	st, err := stack.Start(stack.Options{PaymentTimeout: 2 * time.Hour})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	st.StopWorker()
	sink, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	sinkSrv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }), ReadHeaderTimeout: 5 * time.Second}
	go sinkSrv.Serve(sink)
	defer sinkSrv.Close()
	st.Sandbox.CheckoutCom.SetWebhookURL("http://" + sink.Addr().String())

	cmd := exec.Command(o.Binary, "worker")
	cmd.Env = append(append(os.Environ(), st.Environ()...), "PAYFLOW_ENV=dev", "PAYFLOW_LOG_LEVEL=warn",
		"PAYFLOW_WORKER_STICKY_CACHE="+strconv.Itoa(o.StickyCache))
	cmd.Stdout, cmd.Stderr = o.Out, o.Out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()

	p := newPayflowClient(st, o.Concurrency)
	sku, err := p.product(o.Open + memoryWarmup + 10)
	if err != nil {
		return nil, err
	}
	rep := &MemoryReport{Open: o.Open, StickyCache: o.StickyCache}
	var last time.Time
	sample := func(got int) {
		if time.Since(last) < 30*time.Second {
			return
		}
		last = time.Now()
		if rss, err := readRSS(cmd.Process.Pid); err == nil {
			rep.Samples = append(rep.Samples, MemorySample{Open: got, RSS: rss})
		}
	}
	// open opens checkouts prefix_from ... prefix_(from+n-1) and waits until
	// all from+n of prefix are charged and wait for their webhook.
	open := func(prefix string, from, n int, progress func(int)) error {
		toks, err := p.tokens(n, o.Concurrency)
		if err != nil {
			return err
		}
		if _, err := closedLoop(n, o.Concurrency, func(i int) error {
			// A 503 asks for the same request again (the order is recorded);
			// this measures memory, not availability, so it does.
			// Sent again, it is answered 200: the order exists.
			err := p.startCheckout(fmt.Sprintf("%s_%d", prefix, from+i), sku, toks[i], nil)
			for try := 0; try < 5 && err != nil && strings.Contains(err.Error(), ": 503 "); try++ {
				time.Sleep(time.Second)
				err = p.startCheckout(fmt.Sprintf("%s_%d", prefix, from+i), sku, toks[i], nil, http.StatusOK)
			}
			return err
		}); err != nil {
			return err
		}
		return waitAwaiting(ctx, st, prefix, from+n, progress)
	}
	if err := open("memwarm", 0, memoryWarmup, func(int) {}); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	if rep.RSSIdle, err = settledRSS(cmd.Process.Pid); err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Out, "bench memory: worker RSS %.1f MiB with %d checkouts open; opening %d more\n", mib(rep.RSSIdle), memoryWarmup, o.Open)
	// In batches, each with fresh card tokens: a token lives 15 minutes,
	// and a POST far ahead of the worker would be charged after that.
	for from := 0; from < o.Open; from += memoryBatch {
		if err := open("mem", from, min(memoryBatch, o.Open-from), sample); err != nil {
			return nil, err
		}
	}
	if rep.RSSOpen, err = settledRSS(cmd.Process.Pid); err != nil {
		return nil, err
	}
	rep.PerCheckout = float64(rep.RSSOpen-rep.RSSIdle) / float64(o.Open)
	rep.Seconds = time.Since(began).Seconds()
	fmt.Fprintf(o.Out, "bench memory: worker RSS %.1f MiB with %d more checkouts waiting for a webhook (sticky cache %d): %.0f bytes per open checkout (%.0f s)\n",
		mib(rep.RSSOpen), o.Open, o.StickyCache, rep.PerCheckout, rep.Seconds)
	return rep, nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// waitAwaiting waits until the n checkouts named prefix_* have been charged
// and wait for their webhook.
// progress is told the count at every look.
func waitAwaiting(ctx context.Context, st *stack.Stack, prefix string, n int, progress func(int)) error {
	deadline := time.Now().Add(time.Duration(n)*200*time.Millisecond + time.Minute)
	for {
		var got int
		if err := st.App.Store.DB().GetContext(ctx, &got, `SELECT count(*) FROM orders WHERE order_id LIKE $1 AND status = $2`,
			prefix+`\_%`, string(workflows.StatusAwaitingPayment)); err != nil {
			return err
		}
		progress(got)
		if got >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d checkouts %s_* await their payment", got, n, prefix)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// settledRSS reads pid's resident set once it stopped moving (within 1%
// over two seconds): the worker has finished the tasks in flight.
func settledRSS(pid int) (int64, error) {
	prev := int64(-1)
	for range 30 {
		time.Sleep(2 * time.Second)
		rss, err := readRSS(pid)
		if err != nil {
			return 0, err
		}
		if prev > 0 && abs(rss-prev) <= prev/100 {
			return rss, nil
		}
		prev = rss
	}
	return prev, nil
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// readRSS is VmRSS from /proc/pid/status, in bytes.
func readRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// WriteJSON writes the report to path.
func (r *MemoryReport) WriteJSON(path string) error { return writeJSON(path, r) }
