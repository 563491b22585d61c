package workflows

import (
	"fmt"
	"strings"

	"github.com/payflow/payflow/money"
)

// Temporal's user metadata, so an operator reads a workflow's state from the
// Web UI's list and page without opening its history: a static summary and
// details set when the workflow starts (StartMetadata, by whoever starts it:
// the API, the webhook inbox, the reconciliation), and current details each
// workflow keeps up to date as its status moves (workflow.SetCurrentDetails).
// Like the rest of a workflow's data they hold no customer data beyond ids.

// StartMetadata is the summary (one line, the workflow list) and details
// (the workflow page) of a workflow start: client.StartWorkflowOptions'
// StaticSummary and StaticDetails.
type StartMetadata struct {
	Summary string
	Details string
}

// CheckoutMetadata describes the start of checkout/<order_id>; amount is the
// priced total in the currency's minor units.
func CheckoutMetadata(in CheckoutInput, amount int64) StartMetadata {
	total := formatMinor(amount, in.Currency)
	return StartMetadata{
		Summary: fmt.Sprintf("Order %s: %s by %s", in.OrderID, total, in.Method),
		Details: detailLines(
			"Order", in.OrderID,
			"Amount", total,
			"Payment method", in.Method,
			"Lines", fmt.Sprint(len(in.Lines)),
		),
	}
}

// RehiveTxMetadata describes the start of rehive-tx/<id> from the
// transaction as the event that started it carried it. The flow is decided
// by the workflow once it has read the transaction: its current details say
// which.
func RehiveTxMetadata(txID, txType, subtype, status string, amount int64, currency string) StartMetadata {
	kind := strings.TrimSpace(txType + " " + subtype)
	return StartMetadata{
		Summary: fmt.Sprintf("Rehive %s %s: %d %s (minor units)", kind, txID, amount, currency),
		Details: detailLines(
			"Rehive transaction", txID,
			"Type", kind,
			"Amount", fmt.Sprintf("%d %s (minor units)", amount, currency),
			"Status when started", status,
		),
	}
}

// DepositMetadata describes the start of ledger-deposit/<ledger_tx_id>.
func DepositMetadata(ledgerTxID string, amount int64, currency, ledgerAccount string) StartMetadata {
	return StartMetadata{
		Summary: fmt.Sprintf("Ledger deposit %s: %d %s (minor units)", ledgerTxID, amount, currency),
		Details: detailLines(
			"Ledger transaction", ledgerTxID,
			"Amount", fmt.Sprintf("%d %s (minor units)", amount, currency),
			"Ledger account", ledgerAccount,
		),
	}
}

// formatMinor writes an ISO 4217 amount in major units: 2500 EUR is "25.00 EUR".
func formatMinor(amount int64, currency string) string {
	exp := money.Exponent(currency)
	if exp == 0 {
		return fmt.Sprintf("%d %s", amount, currency)
	}
	sign, abs := "", amount
	if abs < 0 {
		sign, abs = "-", -abs
	}
	unit := int64(1)
	for range exp {
		unit *= 10
	}
	return fmt.Sprintf("%s%d.%0*d %s", sign, abs/unit, exp, abs%unit, currency)
}

// detailLines renders label/value pairs as Markdown lines (the Web UI renders
// details as Markdown); empty values are left out.
func detailLines(pairs ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			continue
		}
		fmt.Fprintf(&b, "**%s**: %s  \n", pairs[i], pairs[i+1])
	}
	return strings.TrimSuffix(b.String(), "  \n")
}

// currentDetails is what a workflow shows as its current details: its
// payflow status, what it waits for, the last step's detail, and more
// label/value pairs.
func currentDetails(status, waitingFor, detail string, more ...string) string {
	return detailLines(append([]string{"Status", status, "Waiting for", waitingFor, "Last step", detail}, more...)...)
}
