// Package webui checks the operators' view: headless Chromium opens the
// Temporal Web UI served by payflow, finds a checkout by its order id and
// reads its history.
package webui

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/payflow/payflow/testenv"
	"github.com/payflow/payflow/workflows"
)

func chromium(t *testing.T) string {
	for _, name := range []string{os.Getenv("CHROME_BIN"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium on this machine (make test installs it with apt-get where it can)")
	return ""
}

func TestOperatorFindsCheckoutHistoryInWebUI(t *testing.T) {
	browser := chromium(t)
	env, err := testenv.Start(testenv.Options{UI: true})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()

	sku := "UI-" + testenv.RandomID(3)
	if r := env.API(t, http.MethodPut, "/v1/products/"+sku, map[string]any{"name": "Mug", "price": 1200, "currency": "USD", "stock": 3}); r.Status != http.StatusOK {
		t.Fatalf("product: %d %s", r.Status, r.Body)
	}
	tok := env.SandboxCall(t, http.MethodPost, "/sandbox/checkoutcom/tokens", map[string]any{"type": "card", "number": "4242424242424242", "expiry_month": 1, "expiry_year": 2032, "cvv": "123"}).Map(t)["token"]
	order := "ord_ui_" + testenv.RandomID(4)
	r := env.API(t, http.MethodPost, "/v1/checkouts", map[string]any{"order_id": order, "currency": "USD",
		"lines": []map[string]any{{"sku": sku, "quantity": 1}}, "payment": map[string]any{"method": "card", "processor_token": tok}})
	if r.Status != http.StatusCreated {
		t.Fatalf("checkout: %d %s", r.Status, r.Body)
	}
	runID := r.Map(t)["run_id"].(string)
	testenv.Eventually(t, 30*time.Second, "fulfilled", func() bool {
		var st workflows.CheckoutState
		env.API(t, http.MethodGet, "/v1/checkouts/"+order, nil).JSON(t, &st)
		return st.Status == workflows.StatusFulfilled
	})

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(browser), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.WindowSize(1400, 1000),
	)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()

	wfID := workflows.CheckoutWorkflowID(order)
	// The list, filtered the way an operator searches: by order id.
	list := env.UIURL + "/namespaces/default/workflows?query=" + url.QueryEscape(`OrderId="`+order+`"`)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(list),
		chromedp.Poll[chromedp.Void](`document.body.innerText.includes(`+jsString(wfID)+`)`, chromedp.WithPollingTimeout(60*time.Second)),
	); err != nil {
		t.Fatalf("the workflow list does not show %s: %v", wfID, err)
	}
	// The checkout's history: its activities are there for the operator.
	history := env.UIURL + "/namespaces/default/workflows/" + url.PathEscape(wfID) + "/" + runID + "/history"
	if err := chromedp.Do(ctx,
		chromedp.Navigate(history),
		chromedp.Poll[chromedp.Void](`document.body.innerText.includes("ChargeCard")`, chromedp.WithPollingTimeout(60*time.Second)),
	); err != nil {
		t.Fatalf("workflow history: %v", err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("PAYFLOW_SCREENSHOT_DIR"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "webui-history.png"), shot, 0o644)
	}
}

func jsString(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }
