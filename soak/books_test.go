package soak

import (
	"strings"
	"testing"

	"github.com/payflow/payflow/workflows"
)

// The book checks must fail on the broken worlds the soak exists to catch:
// each case is a set of provider books that a broken payflow would leave
// (a random idempotency key charging twice or refunding a partial refund
// twice, fulfilment on authorisation, a lost refund, a withdrawal approved
// without its payout, a deposit credited twice), and a violation must name
// it.
func TestBookChecksCatchBrokenWorlds(t *testing.T) {
	card := &job{flow: "checkout", scenario: "card_approved", orderID: "o1", amount: 500}
	cancel := &job{flow: "checkout", scenario: "cancel_after_payment", orderID: "o2", amount: 700}
	wallet := &job{flow: "checkout", scenario: "wallet_browser", orderID: "o3", amount: 900}
	// Refunded 300 of 1000 in two confirmed refunds (checkRefunds reads them).
	partial := &job{flow: "checkout", scenario: "card_partial_refund", orderID: "o4", amount: 1000, refundsAsked: 300, confirmed: 300}
	dep := &job{flow: "deposit", scenario: "deposit_instant", ledgerID: "ltx1"}
	r := &run{jobs: []*job{card, cancel, wallet, partial, dep}}
	r.merchant.Account = "merchant"
	final := map[*job]string{card: string(workflows.StatusFulfilled), cancel: string(workflows.StatusRefunded), wallet: string(workflows.StatusFulfilled),
		partial: string(workflows.StatusPartiallyRefunded), dep: workflows.DepositComplete}
	paid := func(ref string, amount int64) cardPayment {
		return cardPayment{ID: "pay_" + ref, Reference: ref, Amount: amount, Captured: amount, Approved: true}
	}
	credit := func(order string, amount int64) rehiveTx {
		return rehiveTx{ID: "c-" + order, TxType: "credit", Status: "Complete", Account: "merchant", Amount: amount, Metadata: map[string]any{"order_id": order}}
	}
	good := books{
		card: []cardPayment{paid("o1", 500), {ID: "pay_o2", Reference: "o2", Amount: 700, Captured: 700, Refunded: 700},
			{ID: "pay_o4", Reference: "o4", Amount: 1000, Captured: 1000, Refunded: 300}},
		rehive: []rehiveTx{credit("o3", 900), {ID: "d1", TxType: "credit", Status: "Complete", Amount: 42, Metadata: map[string]any{workflows.DepositMetadataKey: "ltx1"}}},
		ledger: []ledgerTx{{ID: "ltx1", Type: "deposit", Amount: 42}},
	}
	if v := r.checkAll(good, final); len(v) != 0 {
		t.Fatalf("clean books flagged: %v", v)
	}
	cases := map[string]struct {
		mutate func(b *books)
		want   string
	}{
		"charged twice (random idempotency key)": {func(b *books) { b.card = append(b.card, paid("o1", 500)) }, "charged 2 times"},
		"fulfilled on an authorisation":          {func(b *books) { b.card[0].Captured = 0 }, "fulfilled but 0 of 500"},
		"refund never done":                      {func(b *books) { b.card[1].Refunded = 0 }, "refunded but 700 still kept"},
		// A lost refund answer retried under a new key: Checkout.com took both
		// (600 of 1000 fits in the capture).
		"partial refund paid twice (random idempotency key)": {func(b *books) { b.card[2].Refunded = 600 }, "refunded twice: Checkout.com refunded 600, the order confirms 300"},
		"partial refund confirmed, never made":               {func(b *books) { b.card[2].Refunded = 0 }, "confirms 300 refunded, Checkout.com refunded 0"},
		"partially refunded, captured short":                 {func(b *books) { b.card[2].Captured = 900 }, "partially refunded but 600 kept"},
		"fulfilled order refunded behind its back":           {func(b *books) { b.card[0].Refunded = 100 }, "refunded twice: Checkout.com refunded 100, the order confirms 0"},
		"wallet order fulfilled unpaid":                      {func(b *books) { b.rehive[0].Status = "Failed" }, "fulfilled with no Complete Rehive payment"},
		"wallet paid twice, not reversed":                    {func(b *books) { b.rehive = append(b.rehive, credit("o3", 900)) }, "kept 1800 of 900"},
		"deposit credited twice":                             {func(b *books) { b.rehive = append(b.rehive, b.rehive[1]) }, "want exactly one Complete"},
		"withdrawal approved without payout": {func(b *books) {
			b.rehive = append(b.rehive, rehiveTx{ID: "w1", TxType: "debit", Status: "Complete", Amount: -5, Currency: struct{ Code string }{managed}})
		}, "Complete withdrawal w1"},
		"managed transaction left pending": {func(b *books) {
			b.rehive = append(b.rehive, rehiveTx{ID: "w2", TxType: "debit", Status: "Pending", Currency: struct{ Code string }{managed}})
		}, "not final: Pending"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			b := good
			b.card = append([]cardPayment(nil), good.card...)
			b.rehive = append([]rehiveTx(nil), good.rehive...)
			c.mutate(&b)
			v := r.checkAll(b, final)
			if !strings.Contains(strings.Join(v, "\n"), c.want) {
				t.Fatalf("want a violation with %q, got %v", c.want, v)
			}
		})
	}
}
