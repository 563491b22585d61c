package integration

import (
	"net/http"
	"testing"
	"time"

	"github.com/payflow/payflow/testenv"
	"github.com/payflow/payflow/workflows"
)

// The customer finishes 3-D Secure only after the order expired: the late
// capture is refunded, so nothing paid is left unrefunded.
func TestLateThreeDSCaptureIsRefunded(t *testing.T) {
	t.Parallel()
	sku := product(t, 2100, 2)
	order := uid("ord")
	createCheckout(t, checkoutBody(order, sku, 1, "card", cardToken(t, card3DS)))
	st := waitStatus(t, order, 20*time.Second, workflows.StatusRequiresAction)
	waitStatus(t, order, 30*time.Second, workflows.StatusExpired)
	if stock, reserved := getProduct(t, sku); stock != 2 || reserved != 0 {
		t.Fatalf("after expiry: stock %d reserved %d", stock, reserved)
	}
	r := env.SandboxCall(t, http.MethodPost, "/sandbox/checkoutcom/_control/3ds/"+st.Payment.ProviderPaymentID, map[string]string{"outcome": "approved"})
	if r.Status >= 300 {
		t.Fatalf("3ds: %d %s", r.Status, r.Body)
	}
	// The late payment is settled: refunded once captured, or, caught while
	// only authorised, voided (then nothing was taken and the order stays
	// expired). Either way Checkout.com confirms it.
	waitFor(t, "the late payment refunded or voided on the sandbox", func() bool {
		p := ckoPayments(t, order)
		return len(p) == 1 && (p[0].Refunded == 2100 || p[0].Voided == 2100)
	})
	testenv.Eventually(t, 20*time.Second, "the order settled", func() bool {
		st = getCheckout(t, order)
		return st.Status == workflows.StatusRefunded || (st.Status == workflows.StatusExpired && hasStep(st, "settled"))
	})
	if p := ckoPayments(t, order); (st.Status == workflows.StatusRefunded) != (p[0].Refunded == 2100) {
		t.Fatalf("order %s, sandbox payment %+v", st.Status, p[0])
	}
	if stock, reserved := getProduct(t, sku); stock != 2 || reserved != 0 {
		t.Fatalf("after the refund: stock %d reserved %d", stock, reserved)
	}
}
