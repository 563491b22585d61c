package soak

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/lib/pq"

	"github.com/payflow/payflow/workflows"
)

// The providers' books as the sandboxes' list controls show them.
type cardPayment struct {
	ID, Status, Reference      string
	Amount, Captured, Refunded int64
	Approved                   bool
}

type rehiveTx struct {
	ID          string                     `json:"id"`
	Collection  string                     `json:"collection"`
	Partner     *struct{}                  `json:"partner"`
	TxType      string                     `json:"tx_type"`
	Status      string                     `json:"status"`
	Amount      int64                      `json:"amount"`
	Account     string                     `json:"account"`
	Currency    struct{ Code string }      `json:"currency"`
	Metadata    map[string]any             `json:"metadata"`
	Messages    []struct{ Section string } `json:"messages"`
	Transitions []struct{ Status string }  `json:"transitions"`
}

type ledgerTx struct {
	ID, Type, Account, Currency, Status, Destination string
	Amount                                           int64
	Metadata                                         map[string]string
}

type books struct {
	card   []cardPayment
	rehive []rehiveTx
	ledger []ledgerTx
}

func (r *run) readBooks() (books, error) {
	var b books
	var cko struct{ Payments []cardPayment }
	if err := r.c.sandbox(http.MethodGet, "/sandbox/checkoutcom/_control/payments", nil, &cko); err != nil {
		return b, err
	}
	var rh struct{ Transactions []rehiveTx }
	if err := r.c.sandbox(http.MethodGet, "/sandbox/rehive/_control/transactions", nil, &rh); err != nil {
		return b, err
	}
	var lg struct{ Transactions []ledgerTx }
	if err := r.c.sandbox(http.MethodGet, "/sandbox/ledger/_control/transactions", nil, &lg); err != nil {
		return b, err
	}
	b.card, b.rehive, b.ledger = cko.Payments, rh.Transactions, lg.Transactions
	return b, nil
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// check compares every scenario's end with what PRODUCT.md wants and the
// books with the invariants.
func (r *run) check(ctx context.Context, final map[*job]string) ([]string, error) {
	b, err := r.readBooks()
	if err != nil {
		return nil, err
	}
	var v []string
	bad := func(f string, a ...any) { v = append(v, fmt.Sprintf(f, a...)) }

	// Each scenario's end state.
	var orders []string
	sold := map[string]int64{}
	for _, j := range r.jobs {
		st := final[j]
		switch {
		case j.note != "" && !r.isFinal(j, st):
			bad("%s: could not be driven (%s) and is %s", j, j.note, st)
			continue
		case j.flow == "checkout" && j.amount == 0:
			bad("%s: never created (%s)", j, j.note)
			continue
		case (j.flow == "tx" && j.txID == "") || (j.flow == "deposit" && j.ledgerID == ""):
			bad("%s: never created (%s)", j, j.note)
			continue
		}
		if j.flow == "checkout" {
			orders = append(orders, j.orderID)
			// A partial refund names no lines: its units stay sold.
			if workflows.RefundableStatus(workflows.CheckoutStatus(st)) {
				sold[j.sku] += j.qty
			}
			if !workflows.IsTerminal(workflows.CheckoutStatus(st)) {
				bad("%s: not terminal: %s", j, st)
				continue
			}
			if st == string(workflows.StatusFailed) && r.checkoutState(j.orderID).FailureReason == workflows.ReasonOutOfStock {
				continue // the scarce product ran out first
			}
		}
		if !slices.Contains(j.expected, st) {
			bad("%s: ended %s, want %s", j, st, strings.Join(j.expected, " or "))
		}
	}

	v = append(v, r.checkRefunds(final)...)
	v = append(v, r.checkAll(b, final)...)

	// No reservation outlives its order; stock adds up.
	var held int
	if err := r.t.DB.GetContext(ctx, &held, `SELECT count(*) FROM reservations WHERE status = 'held' AND order_id = ANY($1)`, pq.Array(orders)); err != nil {
		return nil, err
	}
	if held != 0 {
		bad("%d reservations still held by finished orders", held)
	}
	for sku, initial := range r.skus {
		var p struct{ Stock, Reserved int64 }
		if err := r.c.apiJSON(http.MethodGet, "/v1/products/"+sku, nil, "", &p, http.StatusOK); err != nil {
			return nil, err
		}
		if p.Reserved != 0 || p.Stock != initial-sold[sku] {
			bad("%s: stock %d reserved %d, want %d and 0", sku, p.Stock, p.Reserved, initial-sold[sku])
		}
	}
	if n := r.inboxPending(ctx); n != 0 {
		bad("%d inbox events still pending", n)
	}
	return v, nil
}

// checkAll runs every check of the books.
func (r *run) checkAll(b books, final map[*job]string) []string {
	v := r.checkCards(b, final)
	v = append(v, r.checkWallet(b, final)...)
	v = append(v, r.checkManaged(b)...)
	return append(v, r.checkDeposits(b)...)
}

// checkCards: from every Checkout.com payment, grouped by order: charged at
// most once, captured and kept in full only by a fulfilled order, nothing
// kept by any other.
func (r *run) checkCards(b books, final map[*job]string) []string {
	byRef := map[string][]cardPayment{}
	for _, p := range b.card {
		byRef[p.Reference] = append(byRef[p.Reference], p)
	}
	var v []string
	for _, j := range r.jobs {
		if j.flow != "checkout" || j.amount == 0 {
			continue
		}
		pays, st := byRef[j.orderID], final[j]
		byCard := strings.HasPrefix(j.scenario, "card") || j.scenario == "cancel_after_payment"
		var kept, refunded int64
		captured := 0
		for _, p := range pays {
			kept += p.Captured - p.Refunded
			refunded += p.Refunded
			if p.Captured > 0 {
				captured++
			}
		}
		if captured > 1 {
			v = append(v, fmt.Sprintf("%s charged %d times (card payments %v)", j, captured, pays))
		}
		switch {
		case !byCard && len(pays) > 0:
			v = append(v, fmt.Sprintf("%s paid by wallet but has card payments %v", j, pays))
		case !byCard:
		// While an order holds money, only its confirmed refunds went back.
		case workflows.RefundableStatus(workflows.CheckoutStatus(st)) && refunded > j.confirmed:
			v = append(v, fmt.Sprintf("%s refunded twice: Checkout.com refunded %d, the order confirms %d (card payments %v)", j, refunded, j.confirmed, pays))
		case workflows.RefundableStatus(workflows.CheckoutStatus(st)) && refunded < j.confirmed:
			v = append(v, fmt.Sprintf("%s confirms %d refunded, Checkout.com refunded %d (card payments %v)", j, j.confirmed, refunded, pays))
		case st == string(workflows.StatusPartiallyRefunded):
			if kept != j.amount-j.confirmed {
				v = append(v, fmt.Sprintf("%s partially refunded but %d kept, want %d captured less %d refunded (card payments %v)", j, kept, j.amount, j.confirmed, pays))
			}
		case st == string(workflows.StatusFulfilled) && kept != j.amount:
			v = append(v, fmt.Sprintf("%s fulfilled but %d of %d captured and kept (card payments %v)", j, kept, j.amount, pays))
		case st == string(workflows.StatusRefunded) && kept != 0:
			v = append(v, fmt.Sprintf("%s refunded but %d still kept (card payments %v)", j, kept, pays))
		case st != string(workflows.StatusFulfilled) && kept != 0:
			v = append(v, fmt.Sprintf("%s %s but paid: %d kept (card payments %v)", j, st, kept, pays))
		}
	}
	return v
}

// checkWallet: from every Rehive transaction on the merchant's account:
// payments for an order (metadata.order_id) less their reversals
// (metadata.refund_for_order), Complete only.
func (r *run) checkWallet(b books, final map[*job]string) []string {
	kept := map[string]int64{}
	for _, t := range b.rehive {
		if t.Account != r.merchant.Account || t.Status != string(workflows.RehiveTxComplete) {
			continue
		}
		if id, _ := t.Metadata["order_id"].(string); id != "" && t.TxType == "credit" {
			kept[id] += abs(t.Amount)
		}
		if id, _ := t.Metadata["refund_for_order"].(string); id != "" && t.TxType == "debit" {
			kept[id] -= abs(t.Amount)
		}
	}
	var v []string
	for _, j := range r.jobs {
		if j.flow != "checkout" || j.amount == 0 {
			continue
		}
		k, st := kept[j.orderID], final[j]
		switch {
		case st == string(workflows.StatusFulfilled) && k != 0 && k != j.amount:
			v = append(v, fmt.Sprintf("%s fulfilled but the merchant's Rehive account kept %d of %d", j, k, j.amount))
		case st == string(workflows.StatusFulfilled) && k == 0 && strings.HasPrefix(j.scenario, "wallet"):
			v = append(v, fmt.Sprintf("%s fulfilled with no Complete Rehive payment", j))
		case st != string(workflows.StatusFulfilled) && k != 0:
			v = append(v, fmt.Sprintf("%s %s but the merchant's Rehive account kept %d", j, st, k))
		}
	}
	return v
}

// checkManaged: every managed Rehive transaction is final; each Complete
// withdrawal has exactly one complete ledger withdrawal of the same amount,
// each Failed one none that completed; a transfer's two legs end alike
// (balances conserved); payflow leaves unmanaged currencies alone.
func (r *run) checkManaged(b books) []string {
	ledgerFor := map[string][]ledgerTx{}
	for _, l := range b.ledger {
		if id := l.Metadata["rehive_tx_id"]; id != "" {
			ledgerFor[id] = append(ledgerFor[id], l)
		} else if strings.HasPrefix(l.ID, workflows.LedgerTxIDFor("")) {
			id := strings.TrimPrefix(l.ID, workflows.LedgerTxIDFor(""))
			ledgerFor[id] = append(ledgerFor[id], l)
		}
	}
	mine := map[string]*job{}
	for _, j := range r.jobs {
		if j.flow == "tx" && j.txID != "" {
			mine[j.txID] = j
		}
	}
	legs := map[string][]rehiveTx{}
	var v []string
	for _, t := range b.rehive {
		if t.Partner != nil {
			legs[t.Collection] = append(legs[t.Collection], t)
		}
		if j := mine[t.ID]; j != nil && j.scenario == "unmanaged_currency" && (len(t.Messages) > 0 || len(t.Transitions) > 0) {
			v = append(v, fmt.Sprintf("%s: payflow touched a currency it does not manage", j))
		}
		if t.Currency.Code != managed {
			continue
		}
		if t.Status != string(workflows.RehiveTxComplete) && t.Status != string(workflows.RehiveTxFailed) {
			v = append(v, fmt.Sprintf("managed Rehive transaction %s (%s) not final: %s", t.ID, t.TxType, t.Status))
			continue
		}
		if t.TxType != "debit" || t.Partner != nil {
			continue
		}
		var complete []ledgerTx
		for _, l := range ledgerFor[t.ID] {
			if l.Type == "withdrawal" && l.Status == workflows.LedgerComplete {
				complete = append(complete, l)
			}
		}
		switch {
		case t.Status == string(workflows.RehiveTxComplete) && (len(complete) != 1 || complete[0].Amount != abs(t.Amount)):
			v = append(v, fmt.Sprintf("Complete withdrawal %s of %d has complete ledger withdrawals %v", t.ID, abs(t.Amount), complete))
		case t.Status == string(workflows.RehiveTxFailed) && len(complete) != 0:
			v = append(v, fmt.Sprintf("Failed withdrawal %s was paid out on the ledger: %v", t.ID, complete))
		}
	}
	for col, ls := range legs {
		for _, l := range ls[1:] {
			if l.Status != ls[0].Status {
				v = append(v, fmt.Sprintf("transfer %s: legs %s %s and %s %s (money created or destroyed)", col, ls[0].ID, ls[0].Status, l.ID, l.Status))
			}
		}
	}
	return v
}

// checkDeposits: each ledger credit on a linked account has exactly one
// Complete Rehive credit of the same amount; one on an unlinked account none.
func (r *run) checkDeposits(b books) []string {
	credits := map[string][]rehiveTx{}
	for _, t := range b.rehive {
		if id, _ := t.Metadata[workflows.DepositMetadataKey].(string); id != "" && t.TxType == "credit" && t.Status != string(workflows.RehiveTxFailed) {
			credits[id] = append(credits[id], t)
		}
	}
	amounts := map[string]int64{}
	for _, l := range b.ledger {
		amounts[l.ID] = l.Amount
	}
	var v []string
	for _, j := range r.jobs {
		if j.flow != "deposit" || j.ledgerID == "" {
			continue
		}
		cs := credits[j.ledgerID]
		if j.scenario == "deposit_unlinked" {
			if len(cs) != 0 {
				v = append(v, fmt.Sprintf("%s: unlinked account credited on Rehive: %v", j, cs))
			}
			continue
		}
		if len(cs) != 1 || cs[0].Status != string(workflows.RehiveTxComplete) || abs(cs[0].Amount) != amounts[j.ledgerID] {
			v = append(v, fmt.Sprintf("%s of %d: Rehive credits %+v, want exactly one Complete", j, amounts[j.ledgerID], cs))
		}
	}
	return v
}

func (r *run) inboxPending(ctx context.Context) int {
	var n int
	if err := r.t.DB.GetContext(ctx, &n, `SELECT count(*) FROM webhook_inbox WHERE status = 'pending'`); err != nil {
		return -1
	}
	return n
}
