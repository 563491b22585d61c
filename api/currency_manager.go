package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"

	"github.com/gofiber/fiber/v2"
	"go.temporal.io/api/serviceerror"

	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/workflows"
)

var (
	// providerIDPattern accepts Rehive uuids, ledger transaction ids and
	// account references.
	providerIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$`)
	// assetCodePattern is a Rehive currency code (XLM, USDC, ...).
	assetCodePattern = regexp.MustCompile(`^[A-Z][A-Z0-9]{1,11}$`)
)

// getRehiveTransaction answers from the workflow rehive-tx/<id>, falling back
// to the read model.
func (s *server) getRehiveTransaction(c *fiber.Ctx) error {
	return serveState(s, c, c.Params("tx_id"), workflows.RehiveTxWorkflowID, s.Store.GetRehiveTx, rehiveTxFromRow,
		"rehive_transaction_not_found", "no managed Rehive transaction with this id")
}

// getDeposit answers from the workflow ledger-deposit/<id>, falling back to
// the read model.
func (s *server) getDeposit(c *fiber.Ctx) error {
	return serveState(s, c, c.Params("ledger_tx_id"), workflows.DepositWorkflowID, s.Store.GetDeposit, depositFromRow,
		"deposit_not_found", "no deposit for this ledger transaction")
}

// serveState answers with the state S of the running workflow for id, or,
// when it has closed or cannot answer, with its read-model row R in the same
// shape (the reconciliation records what it settled after a close there).
func serveState[S, R any](s *server, c *fiber.Ctx, id string, workflowID func(string) string,
	read func(context.Context, string) (R, error), fromRow func(R) S, code, message string) error {
	if !providerIDPattern.MatchString(id) {
		return errorf(http.StatusNotFound, code, message)
	}
	ctx := c.UserContext()
	var st S
	qerr := s.queryOpenState(ctx, workflowID(id), &st)
	if qerr == nil {
		return c.JSON(st)
	}
	row, err := read(ctx, id)
	if err == nil {
		return c.JSON(fromRow(row))
	}
	if errors.Is(qerr, errWorkflowClosed) && errors.Is(err, store.ErrNotFound) {
		// Closed before its first save reached the read model: its last state.
		if qerr = s.queryState(ctx, workflowID(id), &st); qerr == nil {
			return c.JSON(st)
		}
	}
	return s.stateMissing(err, qerr, code, message)
}

// stateMissing answers when neither the workflow nor the read model gave a
// state: 404 only when Temporal confirms there is no such workflow; a
// workflow that exists but could not answer (no worker, Temporal down) is
// 503, since its read-model row may simply not be written yet.
func (s *server) stateMissing(storeErr, queryErr error, code, message string) error {
	if !errors.Is(storeErr, store.ErrNotFound) {
		return s.storeError(storeErr)
	}
	var notFound *serviceerror.NotFound
	if errors.As(queryErr, &notFound) {
		return errorf(http.StatusNotFound, code, message)
	}
	s.log.Warn("workflow state unavailable", "error", queryErr)
	return errorf(http.StatusServiceUnavailable, "temporal_unavailable", "the workflow could not answer; retry shortly")
}

// rehiveTxFromRow is the read model in the query's shape: the state the
// workflow saved, or the looked-up facts before it saved one.
func rehiveTxFromRow(r store.RehiveTx) workflows.RehiveTxState {
	var st workflows.RehiveTxState
	if json.Unmarshal(r.State, &st) == nil && st.TxID != "" {
		return st
	}
	return workflows.RehiveTxState{
		TxID: r.ID, Flow: r.Flow, RehiveStatus: r.RehiveStatus, LedgerTxID: r.LedgerTxID, Status: r.Status,
		FailureReason: r.FailureReason, TxType: r.TxType, Amount: r.Amount, Currency: r.Currency, Account: r.Account,
		CollectionID: r.CollectionID, Timeline: []workflows.TimelineEntry{},
	}
}

func depositFromRow(r store.Deposit) workflows.DepositState {
	var st workflows.DepositState
	if json.Unmarshal(r.State, &st) == nil && st.LedgerTxID != "" {
		return st
	}
	return workflows.DepositState{
		LedgerTxID: r.LedgerTxID, RehiveTxID: r.RehiveTxID, Account: r.Account, Amount: r.Amount, Currency: r.Currency,
		Status: r.Status, FailureReason: r.FailureReason, Timeline: []workflows.TimelineEntry{},
	}
}

type accountLinkBody struct {
	LedgerAccount *string `json:"ledger_account"`
	Currency      *string `json:"currency"`
}

type accountLinkView struct {
	RehiveAccount string `json:"rehive_account"`
	LedgerAccount string `json:"ledger_account"`
	Currency      string `json:"currency"`
}

// putAccountLink creates or replaces the ledger account a Rehive account's
// deposits arrive on (the deposit flow's lookup table).
func (s *server) putAccountLink(c *fiber.Ctx) error {
	account := c.Params("rehive_account")
	var b accountLinkBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	fields := map[string]string{}
	if !providerIDPattern.MatchString(account) {
		fields["rehive_account"] = "1-128 letters, digits or . _ : @ -, starting with a letter or digit"
	}
	if b.LedgerAccount == nil || !providerIDPattern.MatchString(*b.LedgerAccount) {
		fields["ledger_account"] = "required, 1-128 letters, digits or . _ : @ -, starting with a letter or digit"
	}
	if b.Currency == nil || !assetCodePattern.MatchString(*b.Currency) {
		fields["currency"] = "required, a currency code such as XLM"
	}
	if len(fields) > 0 {
		return invalidFields(fields)
	}
	l, err := s.Store.PutAccountLink(c.UserContext(), store.AccountLink{RehiveAccount: account, LedgerAccount: *b.LedgerAccount, Currency: *b.Currency})
	if errors.Is(err, store.ErrConflict) {
		return errorf(http.StatusConflict, "ledger_account_linked", "this ledger account is already linked to another Rehive account for "+*b.Currency)
	}
	if err != nil {
		return s.storeError(err)
	}
	return c.JSON(accountLinkView{l.RehiveAccount, l.LedgerAccount, l.Currency})
}

func (s *server) getAccountLink(c *fiber.Ctx) error {
	account := c.Params("rehive_account")
	if !providerIDPattern.MatchString(account) {
		return errorf(http.StatusNotFound, "account_link_not_found", "no ledger account is linked to this Rehive account")
	}
	l, err := s.Store.GetAccountLink(c.UserContext(), account)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, "account_link_not_found", "no ledger account is linked to this Rehive account")
	}
	if err != nil {
		return s.storeError(err)
	}
	return c.JSON(accountLinkView{l.RehiveAccount, l.LedgerAccount, l.Currency})
}

// listManagedCurrencies shows which Rehive currencies this deployment manages.
func (s *server) listManagedCurrencies(c *fiber.Ctx) error {
	codes, err := s.Store.ManagedCurrencies(c.UserContext())
	if err != nil {
		return s.storeError(err)
	}
	return c.JSON(fiber.Map{"currencies": codes})
}
