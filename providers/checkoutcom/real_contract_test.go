//go:build contract

package checkoutcom_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/payflow/payflow/providers/checkoutcom"
)

// TestRealSandbox runs the shared contract cases against Checkout.com's own
// sandbox (go test -tags contract), with the credentials of a sandbox
// account:
//
//	CHECKOUTCOM_CONTRACT_SECRET_KEY          sk_sbox_...
//	CHECKOUTCOM_CONTRACT_PUBLIC_KEY          pk_sbox_... (to tokenize the test cards)
//	CHECKOUTCOM_CONTRACT_PROCESSING_CHANNEL  pc_...
//	CHECKOUTCOM_CONTRACT_BASE_URL            default https://api.sandbox.checkout.com
func TestRealSandbox(t *testing.T) {
	secret, public, channel := os.Getenv("CHECKOUTCOM_CONTRACT_SECRET_KEY"), os.Getenv("CHECKOUTCOM_CONTRACT_PUBLIC_KEY"), os.Getenv("CHECKOUTCOM_CONTRACT_PROCESSING_CHANNEL")
	if secret == "" || public == "" || channel == "" {
		t.Skip("checkoutcom: real-sandbox contract tests skipped: set CHECKOUTCOM_CONTRACT_SECRET_KEY, CHECKOUTCOM_CONTRACT_PUBLIC_KEY and CHECKOUTCOM_CONTRACT_PROCESSING_CHANNEL")
	}
	base := os.Getenv("CHECKOUTCOM_CONTRACT_BASE_URL")
	if base == "" {
		base = "https://api.sandbox.checkout.com"
	}
	client := checkoutcom.New(checkoutcom.Config{BaseURL: base, SecretKey: secret, ProcessingChannelID: channel, Timeout: 30 * time.Second})
	token := func(t *testing.T, number string) string {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"type": "card", "number": number, "expiry_month": 12, "expiry_year": time.Now().Year() + 3, "cvv": "100"})
		req, err := http.NewRequest(http.MethodPost, base+"/tokens", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+public)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct{ Token string }
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("tokenize: %d %v", resp.StatusCode, err)
		}
		return out.Token
	}
	runShared(t, target{client: client, token: token, run: fmt.Sprint(time.Now().UnixNano())})
}
