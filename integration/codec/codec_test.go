// Package codec checks the acceptance of encrypted payloads: with
// PAYFLOW_CODEC_KEYS set, Temporal's own database holds none of a customer's
// data, while payflow still reads its workflows.
package codec

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/payflow/payflow/testenv"
	"github.com/payflow/payflow/workflows"
)

// temporalDatabase is every byte of the embedded server's SQLite database,
// its write-ahead log included.
func temporalDatabase(t *testing.T, env *testenv.Env) []byte {
	t.Helper()
	var all []byte
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(env.TemporalDatabaseFile() + suffix)
		if err != nil && !(suffix != "" && os.IsNotExist(err)) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// checkout runs a card checkout to fulfilment through the API at apiURL
// (the sandboxes at sandboxURL) and returns what must stay secret: the
// customer's email, the SKU and the product's name, and the order id.
func checkout(t *testing.T, apiURL, sandboxURL string) (secrets []string, order string) {
	t.Helper()
	auth := map[string]string{"Authorization": "Bearer dev-key"}
	sku := "SECRET-SKU-" + testenv.RandomID(4)
	name := "Secret Teapot " + testenv.RandomID(4)
	if r := testenv.Call(t, http.MethodPut, apiURL+"/v1/products/"+sku, map[string]any{"name": name, "price": 4200, "currency": "USD", "stock": 3, "active": true}, auth); r.Status != http.StatusOK {
		t.Fatalf("product: %d %s", r.Status, r.Body)
	}
	tok := testenv.Call(t, http.MethodPost, sandboxURL+"/sandbox/checkoutcom/tokens", map[string]any{"type": "card", "number": "4242424242424242", "expiry_month": 12, "expiry_year": 2031, "cvv": "100"}, nil).Map(t)["token"]
	email := "ada.lovelace." + testenv.RandomID(4) + "@example.com"
	order = "ord_codec_" + testenv.RandomID(4)
	body := map[string]any{"order_id": order, "currency": "USD",
		"customer": map[string]any{"email": email}, "lines": []map[string]any{{"sku": sku, "quantity": 2}},
		"payment": map[string]any{"method": "card", "processor_token": tok}}
	r := testenv.Call(t, http.MethodPost, apiURL+"/v1/checkouts", body, auth)
	// A 503 says the order is recorded but its workflow did not start in
	// time (a loaded machine): the same request again, as the API asks.
	for i := 0; i < 10 && r.Status == http.StatusServiceUnavailable; i++ {
		time.Sleep(time.Second)
		r = testenv.Call(t, http.MethodPost, apiURL+"/v1/checkouts", body, auth)
	}
	if r.Status != http.StatusCreated && r.Status != http.StatusOK {
		t.Fatalf("checkout: %d %s", r.Status, r.Body)
	}
	// payflow itself reads the (encrypted) workflow state through its query.
	testenv.Eventually(t, 60*time.Second, "fulfilled", func() bool {
		var st workflows.CheckoutState
		testenv.Call(t, http.MethodGet, apiURL+"/v1/checkouts/"+order, nil, auth).JSON(t, &st)
		return st.Status == workflows.StatusFulfilled
	})
	return []string{email, sku, name}, order
}

func found(db []byte, secrets []string) []string {
	var out []string
	for _, s := range secrets {
		if bytes.Contains(db, []byte(s)) {
			out = append(out, s)
		}
	}
	return out
}

func TestTemporalDatabaseHoldsNoCustomerDataWithEncryption(t *testing.T) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	env, err := testenv.Start(testenv.Options{TemporalFile: true, Env: map[string]string{
		"PAYFLOW_CODEC_KEYS": "test-1:" + base64.StdEncoding.EncodeToString(key),
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	secrets, _ := checkout(t, env.APIURL, env.SandboxURL)
	db := temporalDatabase(t, env)
	if len(db) == 0 {
		t.Fatal("Temporal's database is empty")
	}
	if leaked := found(db, secrets); len(leaked) > 0 {
		t.Fatalf("Temporal's database holds %s in the clear", strings.Join(leaked, ", "))
	}
}

// The same search finds the data without encryption: the search can fail.
func TestTemporalDatabaseHoldsCustomerDataWithoutEncryption(t *testing.T) {
	env, err := testenv.Start(testenv.Options{TemporalFile: true})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	secrets, _ := checkout(t, env.APIURL, env.SandboxURL)
	if leaked := found(temporalDatabase(t, env), secrets); len(leaked) != len(secrets) {
		t.Fatalf("without encryption the search finds only %v of %v: it cannot see payloads", leaked, secrets)
	}
}
