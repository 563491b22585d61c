package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/payflow/payflow/config"
	"github.com/payflow/payflow/stack"
	"github.com/payflow/payflow/workflows"
)

// runBench measures payflow against the raw engine in the same run, on an
// in-process stack (embedded Temporal, a throwaway database, the sandboxes):
// the baseline is a workflow of 3 no-op activities and 1 signal raced against
// 1 timer;
// payflow's figure is card checkouts through the API, from POST to
// fulfilled. It also measures how fast webhooks are acknowledged.
func runBench(ctx context.Context, _ config.Config, logger *slog.Logger) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	n := fs.Int("n", 200, "workflows per measurement")
	conc := fs.Int("c", 16, "concurrency")
	hooks := fs.Int("webhooks", 500, "webhooks for the acknowledgement measurement")
	if err := fs.Parse(os.Args[2:]); err != nil {
		return err
	}
	env, err := stack.Start(stack.Options{})
	if err != nil {
		return err
	}
	defer env.Close()
	base, err := baseline(ctx, env.App.Temporal, *n, *conc)
	if err != nil {
		return err
	}
	pay, err := checkoutThroughput(env, *n, *conc)
	if err != nil {
		return err
	}
	p50, p99, err := webhookAck(env, *hooks, *conc)
	if err != nil {
		return err
	}
	fmt.Printf("baseline engine (3 activities, signal vs timer):  %6.1f workflows/s\n", base)
	fmt.Printf("payflow card checkout, POST to fulfilled:        %6.1f checkouts/s\n", pay)
	fmt.Printf("ratio payflow / baseline:                        %6.2f\n", pay/base)
	fmt.Printf("webhook acknowledgement: p50 %s, p99 %s (%d signed Checkout.com events)\n", p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond), *hooks)
	return nil
}

func baselineWorkflow(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	for i := 0; i < 3; i++ {
		if err := workflow.ExecuteActivity(ctx, "Noop").Get(ctx, nil); err != nil {
			return err
		}
	}
	// The signal raced against a timer, as a checkout awaits its payment.
	timerCtx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(workflow.GetSignalChannel(ctx, "go"), func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
	sel.AddFuture(workflow.NewTimer(timerCtx, time.Minute), func(workflow.Future) {})
	sel.Select(ctx)
	return nil
}

func baseline(ctx context.Context, c client.Client, n, conc int) (float64, error) {
	w := sdkworker.New(c, "bench-baseline", sdkworker.Options{})
	w.RegisterWorkflowWithOptions(baselineWorkflow, workflow.RegisterOptions{Name: "Baseline"})
	w.RegisterActivityWithOptions(func(context.Context) error { return nil }, activity.RegisterOptions{Name: "Noop"})
	if err := w.Start(); err != nil {
		return 0, err
	}
	defer w.Stop()
	return measure(n, conc, func(i int) error {
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i), TaskQueue: "bench-baseline"}, "Baseline")
		if err != nil {
			return err
		}
		if err := c.SignalWorkflow(ctx, run.GetID(), run.GetRunID(), "go", nil); err != nil {
			return err
		}
		return run.Get(ctx, nil)
	})
}

func checkoutThroughput(env *stack.Stack, n, conc int) (float64, error) {
	auth := map[string]string{"Authorization": "Bearer " + env.Config.APIKeys[0]}
	sku := "BENCH-" + stack.RandomID(3)
	if status, body, err := send(http.MethodPut, env.APIURL+"/v1/products/"+sku, map[string]any{"name": "bench", "price": 100, "currency": "USD", "stock": n * 2}, auth); err != nil || status != http.StatusOK {
		return 0, fmt.Errorf("product: %d %s %v", status, body, err)
	}
	return measure(n, conc, func(i int) error {
		var tok struct{ Token string }
		status, body, err := send(http.MethodPost, env.SandboxURL+"/sandbox/checkoutcom/tokens", map[string]any{"type": "card", "number": "4242424242424242", "expiry_month": 1, "expiry_year": 2032, "cvv": "123"}, nil)
		if err != nil || status >= 300 || json.Unmarshal(body, &tok) != nil {
			return fmt.Errorf("token: %d %s %v", status, body, err)
		}
		order := fmt.Sprintf("bench_%s_%d", stack.RandomID(3), i)
		status, body, err = send(http.MethodPost, env.APIURL+"/v1/checkouts", map[string]any{"order_id": order, "currency": "USD",
			"lines": []map[string]any{{"sku": sku, "quantity": 1}}, "payment": map[string]any{"method": "card", "processor_token": tok.Token}}, auth)
		if err != nil || status != http.StatusCreated {
			return fmt.Errorf("checkout: %d %s %v", status, body, err)
		}
		for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			o, err := env.App.Store.GetOrder(context.Background(), order)
			if err == nil && workflows.IsTerminal(o.Status) {
				if o.Status != workflows.StatusFulfilled {
					return fmt.Errorf("%s ended %s", order, o.Status)
				}
				return nil
			}
		}
		return fmt.Errorf("%s not fulfilled in time", order)
	})
}

func webhookAck(env *stack.Stack, n, conc int) (p50, p99 time.Duration, err error) {
	key := []byte(env.Config.CheckoutCom.WebhookSignatureKey)
	var mu sync.Mutex
	lat := make([]time.Duration, 0, n)
	_, err = measure(n, conc, func(i int) error {
		body := fmt.Sprintf(`{"id":"evt_bench_%s_%d","type":"payment_captured","created_on":"%s","data":{"id":"pay_bench","reference":"bench_unknown","amount":1,"currency":"USD"}}`,
			stack.RandomID(3), i, time.Now().UTC().Format(time.RFC3339))
		began := time.Now()
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(body))
		status, resp, err := send(http.MethodPost, env.APIURL+"/webhooks/checkoutcom", json.RawMessage(body), map[string]string{
			"Authorization": env.Config.CheckoutCom.WebhookAuthKey, "Cko-Signature": hex.EncodeToString(mac.Sum(nil))})
		took := time.Since(began)
		if err != nil || status != http.StatusOK {
			return fmt.Errorf("webhook: %d %s %v", status, resp, err)
		}
		mu.Lock()
		lat = append(lat, took)
		mu.Unlock()
		return nil
	})
	if err != nil || len(lat) == 0 {
		return 0, 0, err
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat[len(lat)/2], lat[len(lat)*99/100], nil
}

// send makes one JSON request.
func send(method, url string, body any, headers map[string]string) (int, []byte, error) {
	r, err := stack.Do(method, url, body, headers)
	return r.Status, r.Body, err
}

// measure runs f n times with conc workers and returns completions per second.
func measure(n, conc int, f func(i int) error) (float64, error) {
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	began := time.Now()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	return float64(n) / time.Since(began).Seconds(), nil
}
