package workflows

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// The harness of the currency-manager workflows: cmFakes implements
// CurrencyActivities over a small fake of Rehive and of the ledger, with a
// record of every call, and helpers to signal, query and change the fakes at
// virtual times.

const (
	cmTxID     = "0b6f1d2e-5c1a-4e7b-9d43-0a1b2c3d4e5f"
	cmCurrency = "XLM"
	cmAccount  = "ACC-ADA"
	cmAmount   = 5_000_000
	cmStall    = time.Hour
)

// The ids the fake Rehive gives a deposit's credit (the real activity
// derives them from the ledger transaction).
const (
	cmDepositTxID  = "5f0e8d1a-7c2b-5d3e-9f4a-1b2c3d4e5f60"
	cmDepositColID = "6a1f9e2b-8d3c-5e4f-8a5b-2c3d4e5f6071"
)

var cmLedgerID = LedgerTxIDFor(cmTxID)

type cmFakes struct {
	mu    sync.Mutex
	calls map[string]int

	// Rehive: the one transaction under test and its transitions.
	tx          RehiveTxInfo
	transitions map[string]*RehiveTransition
	ledgerLinks map[string]string // Rehive tx id -> ledger tx id
	approvals   []TransitionInput
	declines    []TransitionInput
	statusSets  []RehiveStatusInput
	messages    []RehiveMessageInput
	credits     []RehiveCreditInput
	creditErr   error
	// queued makes an approval answer queued without moving the
	// transaction, as Rehive may; the test moves it later.
	queued bool

	// The ledger.
	ledger       map[string]*LedgerTxResult
	creates      []CreateLedgerTxInput
	createErr    error
	cancelTo     string // where a cancel takes a live transaction
	accountLinks map[string]AccountLinkResult

	savedTxs      []RehiveTxState
	savedDeposits []DepositState
}

func (f *cmFakes) hit(name string) {
	f.calls[name]++
}

func (f *cmFakes) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[name]
}

func (f *cmFakes) setLedger(id, status string, confirmations int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ledger[id].Status = status
	f.ledger[id].Confirmations = confirmations
}

// savedStatuses is the sequence of statuses the read model was given.
func (f *cmFakes) savedStatuses() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, s := range f.savedTxs {
		out = append(out, string(s.Status))
	}
	for _, s := range f.savedDeposits {
		out = append(out, s.Status)
	}
	return out
}

type cmHarness struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment
	f   *cmFakes
}

func cmNonRetryable(msg string, typ ErrType) error {
	return temporal.NewNonRetryableApplicationError(msg, string(typ), nil)
}

func newCMHarness(t *testing.T) *cmHarness {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetTestTimeout(30 * time.Second) // wall clock: a hang fails fast
	env.RegisterWorkflowWithOptions(RehiveTransaction, workflow.RegisterOptions{Name: RehiveTxWorkflowName})
	env.RegisterWorkflowWithOptions(LedgerDeposit, workflow.RegisterOptions{Name: DepositWorkflowName})
	f := &cmFakes{
		calls: map[string]int{},
		tx: RehiveTxInfo{
			TxID: cmTxID, CollectionID: "col-1", TxType: "debit", Status: RehiveTxPending, Amount: cmAmount,
			Currency: cmCurrency, Account: cmAccount, Managed: true, Metadata: map[string]any{MetaDestination: "GDESTINATION"},
		},
		transitions:  map[string]*RehiveTransition{},
		ledgerLinks:  map[string]string{},
		ledger:       map[string]*LedgerTxResult{},
		cancelTo:     LedgerCancelled,
		accountLinks: map[string]AccountLinkResult{},
	}
	h := &cmHarness{t: t, env: env, f: f}
	RegisterCurrencyActivities(env, f)
	return h
}

var _ CurrencyActivities = (*cmFakes)(nil)

func (f *cmFakes) LookupRehiveTx(_ context.Context, in LookupRehiveTxInput) (RehiveTxInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hit(ActLookupRehiveTx)
	info := f.tx
	info.LedgerTxID = f.ledgerLinks[in.TxID]
	if in.TransitionID != "" {
		tr, ok := f.transitions[in.TransitionID]
		if !ok {
			return RehiveTxInfo{}, cmNonRetryable("no such transition", ErrTypeNotFound)
		}
		c := *tr
		info.Transition = &c
	}
	if in.FindWaiting && in.TransitionID == "" {
		f.hit(ActLookupRehiveTx + "/find")
		for _, tr := range f.transitions {
			if tr.Status == TransitionPending && tr.FromStatus == info.Status {
				c := *tr
				info.Transition = &c
			}
		}
	}
	return info, nil
}

func (f *cmFakes) SetRehiveTxStatus(_ context.Context, in RehiveStatusInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hit(ActSetRehiveTxStatus)
	f.statusSets = append(f.statusSets, in)
	if in.TxID == f.tx.TxID {
		if f.tx.Status.Final() {
			return cmNonRetryable("A "+string(f.tx.Status)+" transaction cannot change status.", ErrTypeRehiveRejected)
		}
		f.tx.Status = in.Status
	}
	return nil
}

func (f *cmFakes) AddRehiveMessage(_ context.Context, in RehiveMessageInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hit(ActAddRehiveMessage)
	f.messages = append(f.messages, in)
	return nil
}

func (f *cmFakes) CreateRehiveCredit(_ context.Context, in RehiveCreditInput) (RehiveCreditResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hit(ActCreateRehiveCredit)
	f.credits = append(f.credits, in)
	if f.creditErr != nil {
		return RehiveCreditResult{}, f.creditErr
	}
	return RehiveCreditResult{TxID: cmDepositTxID, CollectionID: cmDepositColID, Status: in.Status}, nil
}

func (f *cmFakes) CreateLedgerTx(_ context.Context, in CreateLedgerTxInput) (LedgerTxResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hit(ActCreateLedgerTx)
	f.creates = append(f.creates, in)
	if f.createErr != nil {
		return LedgerTxResult{}, f.createErr
	}
	if tx, ok := f.ledger[in.LedgerTxID]; ok {
		return *tx, nil
	}
	tx := &LedgerTxResult{ID: in.LedgerTxID, Type: "withdrawal", Amount: in.Amount, Currency: in.Currency, Status: LedgerPending}
	f.ledger[in.LedgerTxID] = tx
	f.ledgerLinks[in.RehiveTxID] = in.LedgerTxID
	return *tx, nil
}

func (f *cmFakes) GetLedgerTx(_ context.Context, in LedgerTxRequest) (LedgerTxResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hit(ActGetLedgerTx)
	tx, ok := f.ledger[in.LedgerTxID]
	if !ok {
		return LedgerTxResult{}, cmNonRetryable("no such ledger transaction", ErrTypeNotFound)
	}
	return *tx, nil
}

func (f *cmFakes) CompleteLedgerTx(_ context.Context, in LedgerTxRequest) (LedgerTxResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hit(ActCompleteLedgerTx)
	return *f.ledger[in.LedgerTxID], nil // processing: the ledger confirms later
}

func (f *cmFakes) CancelLedgerTx(_ context.Context, in LedgerTxRequest) (LedgerTxResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hit(ActCancelLedgerTx)
	tx := f.ledger[in.LedgerTxID]
	if !ledgerFinal(tx.Status) {
		tx.Status = f.cancelTo
	}
	return *tx, nil
}

func (f *cmFakes) LookupAccountLink(_ context.Context, in AccountLinkQuery) (AccountLinkResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hit(ActLookupAccountLink)
	return f.accountLinks[in.LedgerAccount+"/"+in.Currency], nil
}

func (f *cmFakes) SaveRehiveTx(_ context.Context, st RehiveTxState) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hit(ActSaveRehiveTx)
	f.savedTxs = append(f.savedTxs, st)
	return nil
}

func (f *cmFakes) SaveDeposit(_ context.Context, st DepositState) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hit(ActSaveDeposit)
	f.savedDeposits = append(f.savedDeposits, st)
	return nil
}

func (f *cmFakes) ApproveTransition(_ context.Context, in TransitionInput) (TransitionResult, error) {
	return f.verdict(ActApproveTransition, true, in)
}

func (f *cmFakes) DeclineTransition(_ context.Context, in TransitionInput) (TransitionResult, error) {
	return f.verdict(ActDeclineTransition, false, in)
}

// verdict resolves an open transition as Rehive does.
func (f *cmFakes) verdict(name string, approve bool, in TransitionInput) (TransitionResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hit(name)
	tr := f.transitions[in.TransitionID]
	if approve {
		f.approvals = append(f.approvals, in)
	} else {
		f.declines = append(f.declines, in)
	}
	if tr.open() {
		if approve && f.queued {
			tr.Status = TransitionQueued
			return TransitionResult{Status: tr.Status}, nil
		}
		if approve {
			tr.Status, f.tx.Status = TransitionApproved, tr.ToStatus
		} else {
			tr.Status, f.tx.Status = TransitionDeclined, RehiveTxFailed
		}
	}
	return TransitionResult{Status: tr.Status}, nil
}

// transition adds an open transition of the transaction under test.
func (h *cmHarness) transition(id string, from, to RehiveStatus) {
	h.f.transitions[id] = &RehiveTransition{ID: id, Status: TransitionPending, FromStatus: from, ToStatus: to}
}

func (h *cmHarness) at(d time.Duration, fn func()) { h.env.RegisterDelayedCallback(fn, d) }

// rehiveMovesAt sets the transaction's status on the fake Rehive at d, with
// no webhook (lost).
func (h *cmHarness) rehiveMovesAt(d time.Duration, status RehiveStatus) {
	h.at(d, func() {
		h.f.mu.Lock()
		h.f.tx.Status = status
		h.f.mu.Unlock()
	})
}

func (h *cmHarness) rehiveEventAt(d time.Duration, ev RehiveEvent) {
	h.at(d, func() { h.env.SignalWorkflow(SignalRehiveEvent, ev) })
}

func (h *cmHarness) ledgerEventAt(d time.Duration, ev LedgerEvent) {
	h.at(d, func() { h.env.SignalWorkflow(SignalLedgerEvent, ev) })
}

// ledgerMovesAt changes the fake ledger at d and, when eventID is set, sends
// its webhook (an empty eventID models a lost webhook).
func (h *cmHarness) ledgerMovesAt(d time.Duration, id, status string, confirmations int, eventID string) {
	h.at(d, func() {
		h.f.setLedger(id, status, confirmations)
		if eventID == "" {
			return
		}
		h.f.mu.Lock()
		tx := *h.f.ledger[id]
		h.f.mu.Unlock()
		h.env.SignalWorkflow(SignalLedgerEvent, LedgerEvent{
			EventID: eventID, Type: "transaction.updated", LedgerTxID: id, TxType: tx.Type, Status: tx.Status,
			Account: tx.Account, Amount: tx.Amount, Currency: tx.Currency,
			Confirmations: tx.Confirmations, RequiredConfirmations: tx.RequiredConfirmations, FailureReason: tx.FailureReason,
		})
	})
}

func transitionEvent(eventID, transitionID string) RehiveEvent {
	return RehiveEvent{EventID: eventID, Event: "transaction.transition.create", TxID: cmTxID, TransitionID: transitionID, Currency: cmCurrency}
}

func updateEvent(eventID string) RehiveEvent {
	return RehiveEvent{EventID: eventID, Event: "transaction.update", TxID: cmTxID, Currency: cmCurrency}
}

// runTx runs the transaction workflow, first signalled with first (as
// SignalWithStart does), to its end.
func (h *cmHarness) runTx(first RehiveEvent) RehiveTxState {
	h.t.Helper()
	h.env.SetStartWorkflowOptions(cmStartOptions(cmTxID))
	h.rehiveEventAt(0, first)
	h.env.ExecuteWorkflow(RehiveTxWorkflowName, RehiveTxInput{TxID: cmTxID, StallTimeout: cmStall})
	require.True(h.t, h.env.IsWorkflowCompleted(), "workflow did not complete")
	require.NoError(h.t, h.env.GetWorkflowError())
	var st RehiveTxState
	require.NoError(h.t, h.env.GetWorkflowResult(&st))
	return st
}

func cmStartOptions(txID string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{ID: RehiveTxWorkflowID(txID)}
}

// queryTxAt queries the transaction's state at virtual time d.
func (h *cmHarness) queryTxAt(d time.Duration) *RehiveTxState {
	var st RehiveTxState
	h.at(d, func() {
		v, err := h.env.QueryWorkflow(QueryState)
		require.NoError(h.t, err)
		require.NoError(h.t, v.Get(&st))
	})
	return &st
}

func (h *cmHarness) requireCalls(want map[string]int) {
	h.t.Helper()
	for name, n := range want {
		require.Equal(h.t, n, h.f.count(name), "calls of %s", name)
	}
}

func cmSteps(tl []TimelineEntry) []string {
	out := make([]string, 0, len(tl))
	for _, e := range tl {
		out = append(out, e.Step)
	}
	return out
}

// requireInOrder checks that want appears in got in this order, with other
// entries possibly in between.
func cmRequireInOrder(t *testing.T, got, want []string) {
	t.Helper()
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	require.Equal(t, len(want), i, "want %v in order within %v", want, got)
}
