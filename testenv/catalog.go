package testenv

import (
	"net/http"
	"testing"
)

// Product creates an active USD product through the API and returns its SKU.
func (e *Env) Product(t testing.TB, price, stock int64) string {
	t.Helper()
	sku := "SKU_" + RandomID(5)
	r := e.API(t, http.MethodPut, "/v1/products/"+sku, map[string]any{"name": "Thing " + sku, "price": price, "currency": "USD", "stock": stock, "active": true})
	if r.Status != http.StatusOK {
		t.Fatalf("put product: %d %s", r.Status, r.Body)
	}
	return sku
}

// Stock reads a product's stock and reserved units through the API.
func (e *Env) Stock(t testing.TB, sku string) (stock, reserved int64) {
	t.Helper()
	var p struct{ Stock, Reserved int64 }
	e.API(t, http.MethodGet, "/v1/products/"+sku, nil).JSON(t, &p)
	return p.Stock, p.Reserved
}

// CardToken tokenises a sandbox test card, as the browser would.
func (e *Env) CardToken(t testing.TB, number string) string {
	t.Helper()
	r := e.SandboxCall(t, http.MethodPost, "/sandbox/checkoutcom/tokens", map[string]any{"type": "card", "number": number, "expiry_month": 12, "expiry_year": 2031, "cvv": "100"})
	if r.Status != http.StatusCreated && r.Status != http.StatusOK {
		t.Fatalf("token: %d %s", r.Status, r.Body)
	}
	return r.Map(t)["token"].(string)
}

// SetFaults replaces a sandbox's fault settings.
func (e *Env) SetFaults(t testing.TB, provider string, faults map[string]any) {
	t.Helper()
	if r := e.SandboxCall(t, http.MethodPost, "/sandbox/"+provider+"/_control/faults", faults); r.Status != http.StatusOK {
		t.Fatalf("faults: %d %s", r.Status, r.Body)
	}
}
