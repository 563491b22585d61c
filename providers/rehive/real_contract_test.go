//go:build contract

package rehive_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/payflow/payflow/providers/rehive"
)

// TestRealSandbox runs the shared contract cases against a real Rehive
// company (go test -tags contract), e.g. on staging:
//
//	REHIVE_CONTRACT_BASE_URL     default https://api.staging.rehive.com/3
//	REHIVE_CONTRACT_ADMIN_TOKEN  a service user's token
//	REHIVE_CONTRACT_COMPANY      the company id
//	REHIVE_CONTRACT_USER         a customer's email, with a balance in the currency
//	REHIVE_CONTRACT_PASSWORD     its password (no multi-factor challenge)
//	REHIVE_CONTRACT_RECIPIENT    another user's email, who receives 1 minor unit per run
//	REHIVE_CONTRACT_CURRENCY     default USD
func TestRealSandbox(t *testing.T) {
	get := func(k, def string) string {
		if v := os.Getenv(k); v != "" {
			return v
		}
		return def
	}
	admin, company, user, password, recipient := get("REHIVE_CONTRACT_ADMIN_TOKEN", ""), get("REHIVE_CONTRACT_COMPANY", ""),
		get("REHIVE_CONTRACT_USER", ""), get("REHIVE_CONTRACT_PASSWORD", ""), get("REHIVE_CONTRACT_RECIPIENT", "")
	if admin == "" || company == "" || user == "" || password == "" || recipient == "" {
		t.Skip("rehive: real-sandbox contract tests skipped: set REHIVE_CONTRACT_ADMIN_TOKEN, REHIVE_CONTRACT_COMPANY, REHIVE_CONTRACT_USER, REHIVE_CONTRACT_PASSWORD and REHIVE_CONTRACT_RECIPIENT")
	}
	client := rehive.New(rehive.Config{BaseURL: get("REHIVE_CONTRACT_BASE_URL", "https://api.staging.rehive.com/3"), AdminToken: admin, Timeout: 30 * time.Second})
	runShared(t, target{client: client, user: user, company: company, password: password,
		recipient: recipient, currency: get("REHIVE_CONTRACT_CURRENCY", "USD"), run: fmt.Sprint(time.Now().UnixNano())})
}
