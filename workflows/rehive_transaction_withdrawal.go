package workflows

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"go.temporal.io/sdk/workflow"
)

// withdrawal sends the debit to the destination its metadata names, waits for
// the ledger to confirm, then approves.
func (w *rehiveTx) withdrawal(ctx workflow.Context, info RehiveTxInfo) {
	if !w.payout(ctx, info, FlowWithdrawal, LedgerComplete, LedgerKindWithdrawal) {
		return
	}
	w.confirmAndApprove(ctx)
}

// payout takes the debit into flow and creates its ledger transaction
// (status, kind) to the destination its metadata names. It reports false
// when the transaction ended instead (unusable metadata, a ledger refusal).
func (w *rehiveTx) payout(ctx workflow.Context, info RehiveTxInfo, flow, status, kind string) bool {
	w.state.Flow = flow
	dest, ok := w.destination(ctx, info)
	return ok && w.createLedger(ctx, info, dest, status, kind)
}

// confirmAndApprove waits for the ledger transaction to be final and gives
// Rehive the matching verdict.
func (w *rehiveTx) confirmAndApprove(ctx workflow.Context) {
	if w.state.Status != TxStatusAwaitingLedger {
		w.setStatus(ctx, TxStatusAwaitingLedger, "ledger transaction "+w.state.LedgerTxID)
	}
	switch w.ledger.wait(ctx, w.stall, func(r LedgerTxResult) bool { return ledgerFinal(r.Status) }) {
	case watchCancelled:
		return // run records it
	case watchStalled:
		w.onStall(ctx)
		return
	}
	if w.ledger.last.Status != LedgerComplete {
		w.ledgerFailed(ctx)
		return
	}
	w.approveAfterLedger(ctx)
}

// approveAfterLedger approves the transition once the ledger has completed:
// from here on, failing on Rehive would pay twice.
func (w *rehiveTx) approveAfterLedger(ctx workflow.Context) {
	switch ok, err := w.approve(ctx); {
	case errors.Is(err, errApprovalStalled):
		w.attention(ctx, "approval_not_applied", "the ledger completed; Rehive has not applied the approval in time")
	case err != nil:
		w.attention(ctx, "approve_failed", "the ledger completed but the approval failed: "+errDetail(err))
	case !ok:
		w.attention(ctx, "declined_after_ledger", "the ledger completed but the transaction was declined or failed on Rehive")
	default:
		w.setStatus(ctx, TxStatusComplete, "ledger complete; transition approved")
	}
}

// destination resolves the withdrawal instructions in the metadata. When they
// are unusable it fails the transaction at once, with a message to the user,
// and reports false.
func (w *rehiveTx) destination(ctx workflow.Context, info RehiveTxInfo) (string, bool) {
	dest, account, problem := parseWithdrawalMetadata(info.Metadata)
	if problem == "" && account != "" {
		link, err := cmActs.LookupAccountLink.Run(ctx, AccountLinkQuery{LedgerAccount: account, Currency: info.Currency})
		if err != nil {
			w.attention(ctx, "account_link_lookup_failed", errDetail(err))
			return "", false
		}
		switch {
		case !link.Found:
			problem = fmt.Sprintf("ledger account %q is not linked for %s", account, info.Currency)
		case link.RehiveAccount != info.Account:
			// Only the account's own link: a user cannot withdraw to the
			// ledger account of someone else.
			problem = fmt.Sprintf("ledger account %q is not linked to this account", account)
		}
		dest = account
	}
	if problem != "" {
		w.failRehive(ctx, "unusable_metadata", problem, "Withdrawal failed: "+problem+".")
		return "", false
	}
	return dest, true
}

// ParseWithdrawalMetadata is parseWithdrawalMetadata for the reconciliation,
// which creates a payout the workflow never made.
func ParseWithdrawalMetadata(meta map[string]any) (destination, ledgerAccount, problem string) {
	return parseWithdrawalMetadata(meta)
}

// maxInstructionLen bounds a destination or ledger account id.
const maxInstructionLen = 256

// parseWithdrawalMetadata reads the withdrawal instructions: exactly one of
// metadata.destination (a ledger address) and metadata.ledger_account (a
// linked ledger account). problem says, for the user, why they are unusable.
func parseWithdrawalMetadata(meta map[string]any) (destination, ledgerAccount, problem string) {
	dest, destSet, problem := instruction(meta, MetaDestination)
	if problem != "" {
		return "", "", problem
	}
	account, accountSet, problem := instruction(meta, MetaLedgerAccount)
	switch {
	case problem != "":
		return "", "", problem
	case destSet && accountSet:
		return "", "", "metadata sets both destination and ledger_account; set only one"
	case destSet:
		return dest, "", ""
	case accountSet:
		return "", account, ""
	}
	return "", "", "metadata needs destination (a ledger address) or ledger_account (a linked ledger account)"
}

func instruction(meta map[string]any, key string) (value string, set bool, problem string) {
	raw, ok := meta[key]
	if !ok || raw == nil {
		return "", false, ""
	}
	s, ok := raw.(string)
	switch {
	case !ok:
		return "", true, "metadata." + key + " must be a string"
	case s == "":
		return "", true, "metadata." + key + " is empty"
	case len(s) > maxInstructionLen:
		return "", true, fmt.Sprintf("metadata.%s is longer than %d characters", key, maxInstructionLen)
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0:
		return "", true, "metadata." + key + " contains spaces or control characters"
	}
	return s, true, ""
}

// metaText is a string metadata value, or "".
func metaText(meta map[string]any, key string) string {
	s, _ := meta[key].(string)
	return s
}
