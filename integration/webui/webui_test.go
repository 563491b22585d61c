// Package webui checks the operators' view: headless Chromium opens the
// Temporal Web UI served by payflow, finds a checkout by its order id, reads
// its history and, with payloads encrypted, the decoded input through
// payflow's codec endpoint.
package webui

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/payflow/payflow/testenv"
	"github.com/payflow/payflow/workflows"
)

// chromium finds the browser. Under CI a missing browser fails the run: the
// test would otherwise pass by skipping, and the UI path would go untested.
func chromium(t *testing.T) string {
	for _, name := range []string{os.Getenv("CHROME_BIN"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium on this CI machine (scripts/test-deps.sh installs the Debian package chromium; CHROME_BIN names another)")
	}
	t.Skip("no Chromium on this machine (make test installs it with apt-get where it can)")
	return ""
}

// artifactsDir is where the screenshot goes: $PAYFLOW_ARTIFACTS_DIR, or the
// test's temporary directory.
func artifactsDir(t *testing.T) string {
	if dir := os.Getenv("PAYFLOW_ARTIFACTS_DIR"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

type placed struct{ order, runID, email string }

func cardCheckout(t *testing.T, env *testenv.Env, sku string) placed {
	t.Helper()
	p := placed{order: "ord_ui_" + testenv.RandomID(4), email: "grace.hopper." + testenv.RandomID(3) + "@example.com"}
	r := env.API(t, http.MethodPost, "/v1/checkouts", map[string]any{"order_id": p.order, "currency": "USD",
		"customer": map[string]any{"email": p.email}, "lines": []map[string]any{{"sku": sku, "quantity": 1}},
		"payment": map[string]any{"method": "card", "processor_token": env.CardToken(t, "4242424242424242")}})
	if r.Status != http.StatusCreated {
		t.Fatalf("checkout: %d %s", r.Status, r.Body)
	}
	p.runID = r.Map(t)["run_id"].(string)
	return p
}

func TestOperatorFindsCheckoutHistoryInWebUI(t *testing.T) {
	browser := chromium(t)
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	env, err := testenv.Start(testenv.Options{UI: true, Env: map[string]string{
		"PAYFLOW_CODEC_KEYS": "ui-test:" + base64.StdEncoding.EncodeToString(key),
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()

	sku := env.Product(t, 1200, 5)
	wanted, other := cardCheckout(t, env, sku), cardCheckout(t, env, sku)
	for _, p := range []placed{wanted, other} {
		testenv.Eventually(t, 30*time.Second, p.order+" fulfilled", func() bool {
			var st workflows.CheckoutState
			env.API(t, http.MethodGet, "/v1/checkouts/"+p.order, nil).JSON(t, &st)
			return st.Status == workflows.StatusFulfilled
		})
	}

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(browser), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.WindowSize(1400, 1000),
	)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 120*time.Second)
	defer cancelTimeout()
	shot := func(name string) {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Logf("screenshot %s: %v", name, err)
			return
		}
		path := filepath.Join(artifactsDir(t), name)
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}

	// shows polls the page's text for want. The UI routes and re-renders on
	// the client, which may replace the page's JavaScript context under an
	// evaluation: such a look fails and is tried again.
	shows := func(want string) bool {
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.body.innerText.includes(`+strconv.Quote(want)+`)`))
			if err == nil && ok {
				return true
			}
			time.Sleep(200 * time.Millisecond)
		}
		return false
	}

	// The operator signs in to the codec once, as with a real deployment:
	// the page sets the session cookie the UI's codec calls carry.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(env.APIURL+"/codec/login"),
		chromedp.WaitVisible(`input[name="token"]`),
		chromedp.SendKeys(`input[name="token"]`, env.Config.CodecAuth[0]),
		chromedp.Submit(`input[name="token"]`),
	); err != nil {
		t.Fatalf("codec sign-in: %v", err)
	}
	// The answer sets the cookie and moves on to the UI; the page navigates
	// (twice) meanwhile, so a look may fail and is tried again.
	testenv.Eventually(t, 30*time.Second, "the sign-in to lead to the Web UI", func() bool {
		at, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`))
		return err == nil && strings.HasPrefix(at, env.UIURL)
	})

	// The list, filtered the way an operator searches: by order id. It shows
	// that checkout and not the other one.
	wantID, otherID := workflows.CheckoutWorkflowID(wanted.order), workflows.CheckoutWorkflowID(other.order)
	list := env.UIURL + "/namespaces/default/workflows?query=" + url.QueryEscape(`OrderId="`+wanted.order+`"`)
	if err := chromedp.Do(ctx, chromedp.Navigate(list)); err != nil {
		t.Fatal(err)
	}
	if !shows(wantID) {
		shot("webui-list.png")
		t.Fatalf("the workflow list does not show %s", wantID)
	}
	if hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!document.body.innerText.includes(`+strconv.Quote(otherID)+`)`)); err != nil || !hidden {
		shot("webui-list.png")
		t.Fatalf("the search for %s also lists %s (%v)", wanted.order, otherID, err)
	}

	// Its history: the activities, the provider webhook's signal, and the
	// input decoded through the codec endpoint (Temporal stores it
	// encrypted: the customer's email can only come from the codec).
	history := env.UIURL + "/namespaces/default/workflows/" + url.PathEscape(wantID) + "/" + wanted.runID + "/history"
	if err := chromedp.Do(ctx, chromedp.Navigate(history)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ChargeCard", workflows.SignalPaymentEvent, wanted.email} {
		if !shows(want) {
			shot("webui-history.png")
			t.Fatalf("workflow history does not show %q", want)
		}
	}
	shot("webui-history.png")
}
