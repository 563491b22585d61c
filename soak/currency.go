package soak

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/payflow/payflow/workflows"
)

// The managed currency the soak uses (PAYFLOW_MANAGED_CURRENCIES' default)
// and an amount in its smallest unit (divisibility 7).
const (
	managed   = "XLM"
	xlmAmount = 25_000_000
)

// Managed Rehive transaction scenarios (PRODUCT.md flow 2) and where each must
// end on Rehive.
var txScenarios = []weighted{
	{"withdrawal_linked", 8}, {"withdrawal_destination", 8}, {"withdrawal_unusable", 3}, {"withdrawal_rejected", 3},
	{"withdrawal_stalled", 2}, {"transfer", 5}, {"unsupported_credit", 3}, {"initiating_pending_complete", 5},
	{"unmanaged_currency", 3},
}

var txExpected = map[string][]string{
	"withdrawal_linked":           {string(workflows.RehiveTxComplete)},
	"withdrawal_destination":      {string(workflows.RehiveTxComplete)},
	"withdrawal_unusable":         {string(workflows.RehiveTxFailed)},
	"withdrawal_rejected":         {string(workflows.RehiveTxFailed)},
	"withdrawal_stalled":          {string(workflows.RehiveTxFailed)}, // after the stall timer
	"transfer":                    {string(workflows.RehiveTxComplete)},
	"unsupported_credit":          {string(workflows.RehiveTxFailed)},
	"initiating_pending_complete": {string(workflows.RehiveTxComplete)},
	// Not payflow's: Rehive completes it by itself.
	"unmanaged_currency": {string(workflows.RehiveTxComplete)},
}

// Ledger deposit scenarios (PRODUCT.md flow 3) and payflow's final status.
var depositScenarios = []weighted{{"deposit_instant", 4}, {"deposit_confirmations", 4}, {"deposit_unlinked", 1}}

var depositExpected = map[string][]string{
	"deposit_instant":       {workflows.DepositComplete},
	"deposit_confirmations": {workflows.DepositComplete},
	"deposit_unlinked":      {workflows.DepositUnlinked},
}

func (r *run) link(rehiveAccount, ledgerAccount string) error {
	return r.c.apiJSON(http.MethodPut, "/v1/account-links/"+rehiveAccount, map[string]string{"ledger_account": ledgerAccount, "currency": managed}, "", nil, http.StatusOK)
}

func (r *run) transaction(_ context.Context, j *job) {
	j.expected = txExpected[j.scenario]
	currency := managed
	if j.scenario == "unmanaged_currency" {
		currency = "USD"
	}
	u, err := r.customer(j, currency, 10*xlmAmount)
	if err != nil {
		j.note = err.Error()
		return
	}
	id := randID(j.rng)
	body := map[string]any{"user": u.Email, "tx_type": "debit", "currency": currency, "amount": int64(xlmAmount), "status": "Pending"}
	switch j.scenario {
	case "withdrawal_linked":
		acct := "soak-la-" + id
		if err := r.link(u.Account, acct); err != nil {
			j.note = "link: " + err.Error()
			return
		}
		body["metadata"] = map[string]any{workflows.MetaLedgerAccount: acct}
	case "withdrawal_destination", "unmanaged_currency":
		body["metadata"] = map[string]any{workflows.MetaDestination: "soak-dest-" + id}
	case "initiating_pending_complete":
		body["status"] = "Initiating"
		body["metadata"] = map[string]any{workflows.MetaDestination: "soak-dest-" + id}
	case "withdrawal_unusable":
		body["metadata"] = map[string]any{"note": "to my wallet"}
	case "withdrawal_rejected":
		body["metadata"] = map[string]any{workflows.MetaDestination: "reject-" + id}
	case "withdrawal_stalled":
		body["metadata"] = map[string]any{workflows.MetaDestination: "stall-" + id}
	case "transfer":
		to, err := r.customer(j, managed, 0)
		if err != nil {
			j.note = err.Error()
			return
		}
		body["partner"] = to.Email
	case "unsupported_credit":
		body["tx_type"] = "credit"
		body["metadata"] = map[string]any{workflows.DepositMetadataKey: "ltx_forged_" + id}
	}
	var tx struct{ ID string }
	if err := r.c.sandbox(http.MethodPost, "/sandbox/rehive/_control/transactions", body, &tx); err != nil {
		j.note = "create: " + err.Error()
		return
	}
	j.txID = tx.ID
}

func (r *run) deposit(ctx context.Context, j *job) {
	j.expected = depositExpected[j.scenario]
	acct := "soak-dep-" + randID(j.rng)
	if j.scenario != "deposit_unlinked" {
		u, err := r.customer(j, managed, 0)
		if err != nil {
			j.note = err.Error()
			return
		}
		if err := r.link(u.Account, acct); err != nil {
			j.note = "link: " + err.Error()
			return
		}
	}
	confirmations := 0
	if j.scenario == "deposit_confirmations" {
		confirmations = 3
	}
	var in struct{ ID string }
	if err := r.c.sandbox(http.MethodPost, "/sandbox/ledger/_control/incoming", map[string]any{"account": acct, "amount": int64(xlmAmount) + int64(j.rng.IntN(1000)),
		"currency": managed, "required_confirmations": confirmations}, &in); err != nil {
		j.note = "incoming: " + err.Error()
		return
	}
	j.ledgerID = in.ID
	for range confirmations {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(300+j.rng.IntN(1200)) * time.Millisecond):
		}
		if err := r.c.sandbox(http.MethodPost, "/sandbox/ledger/_control/confirm/"+in.ID, map[string]int{"count": 1}, nil); err != nil {
			j.note = "confirm: " + err.Error()
		}
	}
}

// status is a scenario's current status: the order's, the Rehive
// transaction's on Rehive, or the deposit's in payflow.
func (r *run) status(j *job) string {
	switch {
	case j.flow == "checkout" && j.amount != 0:
		return string(r.checkoutState(j.orderID).Status)
	case j.flow == "tx" && j.txID != "":
		var tx struct{ Status string }
		if err := r.c.sandbox(http.MethodGet, "/sandbox/rehive/_control/transactions/"+j.txID, nil, &tx); err != nil {
			return "unknown"
		}
		return tx.Status
	case j.flow == "deposit" && j.ledgerID != "":
		var st workflows.DepositState
		if raw, _, err := r.c.api(http.MethodGet, "/v1/deposits/"+j.ledgerID, nil, "", http.StatusOK); err == nil {
			_ = json.Unmarshal(raw, &st)
		}
		return st.Status
	}
	return "not_started"
}

// isFinal: the scenario will not move any more (a not-started one never
// will; it is reported).
func (r *run) isFinal(j *job, status string) bool {
	switch j.flow {
	case "checkout":
		return j.amount == 0 || workflows.IsTerminal(workflows.CheckoutStatus(status))
	case "tx":
		return j.txID == "" || status == string(workflows.RehiveTxComplete) || status == string(workflows.RehiveTxFailed)
	default:
		return j.ledgerID == "" || (status != "" && status != workflows.DepositReceived && status != workflows.DepositPending)
	}
}

func (j *job) String() string {
	switch j.flow {
	case "checkout":
		return fmt.Sprintf("checkout %s (%s, %d %s x%d)", j.orderID, j.scenario, j.amount, j.sku, j.qty)
	case "tx":
		return fmt.Sprintf("rehive tx %s (%s)", j.txID, j.scenario)
	}
	return fmt.Sprintf("deposit %s (%s)", j.ledgerID, j.scenario)
}
