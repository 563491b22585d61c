package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"go.temporal.io/sdk/activity"

	"github.com/payflow/payflow/providers/httpx"
	"github.com/payflow/payflow/providers/rehive"
	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/workflows"
)

// LookupRehiveTx reads a transaction (and the transition the event named)
// from Rehive, never trusting the webhook body. For a managed currency it
// stores the transaction and its collection and reports the ledger
// transaction ledger_links holds for it.
func (a *CurrencyManager) LookupRehiveTx(ctx context.Context, in workflows.LookupRehiveTxInput) (workflows.RehiveTxInfo, error) {
	// The transition first: a transaction read after it is at least as new.
	var tr *workflows.RehiveTransition
	if in.TransitionID != "" {
		t, err := a.Rehive.GetTransition(ctx, in.TransitionID)
		if err != nil {
			return workflows.RehiveTxInfo{}, classify(err)
		}
		if string(t.Transaction.ID) != in.TxID {
			// Approving it would move another transaction than this workflow's.
			return workflows.RehiveTxInfo{}, notFound(fmt.Sprintf("transition %s is not of transaction %s", in.TransitionID, in.TxID))
		}
		if tr, err = transition(t); err != nil {
			return workflows.RehiveTxInfo{}, err
		}
	}
	tx, err := a.Rehive.GetTransaction(ctx, in.TxID)
	if err != nil {
		return workflows.RehiveTxInfo{}, classify(err)
	}
	if in.FindWaiting && in.TransitionID == "" {
		if tr, err = a.waitingTransition(ctx, tx); err != nil {
			return workflows.RehiveTxInfo{}, err
		}
	}
	status, err := rehiveStatus(tx.Status)
	if err != nil {
		return workflows.RehiveTxInfo{}, err
	}
	info := workflows.RehiveTxInfo{
		TxID: string(tx.ID), CollectionID: string(tx.Collection), TxType: tx.TxType, Subtype: tx.Subtype,
		Status: status, Amount: tx.AbsAmount(), Currency: tx.Currency.Code, Account: tx.Account,
		Transfer: tx.IsTransfer(), OwnDeposit: isOwnDeposit(tx), Metadata: tx.Metadata,
		Managed: a.Managed(tx.Currency.Code), Transition: tr,
	}
	if !info.Managed {
		return info, nil
	}
	if err := a.saveLookup(ctx, tx, status); err != nil {
		return info, err
	}
	link, err := a.Store.GetLedgerLink(ctx, in.TxID)
	switch {
	case err == nil:
		info.LedgerTxID = link.LedgerTxID
	case !errors.Is(err, store.ErrNotFound):
		return info, err
	}
	return info, nil
}

// waitingTransition is the newest transition of tx waiting for a verdict
// from its current status (the transaction was read first: one raised
// since starts from a later status and is found by the next look), or nil.
func (a *CurrencyManager) waitingTransition(ctx context.Context, tx *rehive.Transaction) (*workflows.RehiveTransition, error) {
	trs, err := a.Rehive.ListTransitions(ctx, string(tx.ID))
	if err != nil {
		return nil, classify(err)
	}
	for _, t := range trs {
		if t.Status == rehive.TransitionPending && t.FromStatus == tx.Status {
			return transition(&t)
		}
	}
	return nil, nil
}

// rehiveStatus translates a status word of Rehive's into payflow's
// vocabulary; a word outside it fails the activity for good.
func rehiveStatus(word string) (workflows.RehiveStatus, error) {
	s, err := workflows.ParseRehiveStatus(word)
	if err != nil {
		return "", unknownStatus.newError(err.Error(), 0)
	}
	return s, nil
}

// transition is a Rehive transition with its statuses translated.
func transition(t *rehive.Transition) (*workflows.RehiveTransition, error) {
	from, err := rehiveStatus(t.FromStatus)
	if err != nil {
		return nil, err
	}
	to, err := rehiveStatus(t.ToStatus)
	if err != nil {
		return nil, err
	}
	return &workflows.RehiveTransition{ID: string(t.ID), Status: t.Status, FromStatus: from, ToStatus: to}, nil
}

// saveLookup stores the transaction and its collection as Rehive reported
// them. A collection Rehive does not know is left out rather than failing
// the lookup.
func (a *CurrencyManager) saveLookup(ctx context.Context, tx *rehive.Transaction, status workflows.RehiveStatus) error {
	var col store.RehiveCollection
	if tx.Collection != "" {
		c, err := a.Rehive.GetCollection(ctx, string(tx.Collection))
		switch {
		case err == nil:
			raw, err := json.Marshal(c)
			if err != nil {
				return err
			}
			col = store.RehiveCollection{ID: string(c.ID), Status: c.Status, Raw: raw}
		case httpx.ClassOf(err) != httpx.NotFound:
			return classify(err)
		}
	}
	raw, err := json.Marshal(tx)
	if err != nil {
		return err
	}
	return a.Store.SaveRehiveLookup(ctx, store.RehiveTx{
		ID: string(tx.ID), CollectionID: string(tx.Collection), TxType: tx.TxType, Currency: tx.Currency.Code,
		Amount: tx.AbsAmount(), Account: tx.Account, RehiveStatus: status, Raw: raw,
	}, col)
}

// ApproveTransition lets the transaction move to the transition's target.
func (a *CurrencyManager) ApproveTransition(ctx context.Context, in workflows.TransitionInput) (workflows.TransitionResult, error) {
	return a.resolveTransition(ctx, in, rehive.TransitionApproved, a.Rehive.ApproveTransition)
}

// DeclineTransition fails the transaction.
func (a *CurrencyManager) DeclineTransition(ctx context.Context, in workflows.TransitionInput) (workflows.TransitionResult, error) {
	return a.resolveTransition(ctx, in, rehive.TransitionDeclined, a.Rehive.DeclineTransition)
}

// resolveTransition gives the verdict once (the key is derived from the
// transition). Rehive refuses a verdict on a transition that is no longer
// pending: its status is then the answer, so that approving a transition
// someone declined returns "declined".
func (a *CurrencyManager) resolveTransition(ctx context.Context, in workflows.TransitionInput, verdict string,
	call func(ctx context.Context, id, key string) (*rehive.Transition, error),
) (workflows.TransitionResult, error) {
	t, err := call(ctx, in.TransitionID, intentKey(ctx, "payflow-transition-"+in.TransitionID+"-"+verdict))
	if err == nil {
		return workflows.TransitionResult{Status: t.Status}, nil
	}
	pe, ok := refused(err)
	if !ok {
		return workflows.TransitionResult{}, classify(err)
	}
	now, gerr := a.Rehive.GetTransition(ctx, in.TransitionID)
	if gerr != nil {
		return workflows.TransitionResult{}, classify(gerr)
	}
	switch {
	case now.Status == rehive.TransitionApproved || now.Status == rehive.TransitionDeclined:
		return workflows.TransitionResult{Status: now.Status}, nil
	case now.Status == rehive.TransitionQueued && verdict == rehive.TransitionApproved:
		// An earlier attempt's approval was accepted and waits to apply.
		return workflows.TransitionResult{Status: now.Status}, nil
	case pe.Class == httpx.Conflict:
		return workflows.TransitionResult{}, stillInFlight(pe)
	}
	return workflows.TransitionResult{}, rehiveRejected(pe)
}

// SetRehiveTxStatus sets a transaction's status as the admin. A transaction
// already in that status is success; any other refusal is
// ErrTypeRehiveRejected (e.g. the transaction is already final).
func (a *CurrencyManager) SetRehiveTxStatus(ctx context.Context, in workflows.RehiveStatusInput) error {
	// The note is part of the key: a key reused with another body is refused
	// for a day.
	note := sha256.Sum256([]byte(in.Note))
	key := intentKey(ctx, "payflow-tx-"+in.TxID+"-"+string(in.Status)+"-"+hex.EncodeToString(note[:6]))
	_, err := a.Rehive.PatchTransaction(ctx, in.TxID, rehive.TransactionPatch{Status: string(in.Status), Note: in.Note}, key)
	if err == nil {
		return nil
	}
	pe, ok := refused(err)
	if !ok {
		return classify(err)
	}
	tx, gerr := a.Rehive.GetTransaction(ctx, in.TxID)
	switch {
	case gerr != nil:
		return classify(gerr)
	case tx.Status == string(in.Status):
		return nil
	case pe.Class == httpx.Conflict && !rehive.IsFinal(tx.Status):
		return stillInFlight(pe)
	}
	return rehiveRejected(pe)
}

// intentKey is the Idempotency-Key of one attempt of one activity
// execution. Rehive saves every answer under a key, refusals and 5xx
// included, and replays it (PROVIDERS.md): a retry that reused the key would
// get the old refusal forever. Each attempt is a new intent, so it gets a new
// key; the effect stays single through what every caller checks after a
// refusal (the transition's or transaction's state now, ids derived from
// ours), which is also how an attempt whose answer was lost is recognised.
func intentKey(ctx context.Context, base string) string {
	if !activity.IsActivity(ctx) {
		return base
	}
	info := activity.GetInfo(ctx)
	h := sha256.Sum256([]byte(fmt.Sprintf("%s/%s/%d", info.WorkflowExecution.RunID, info.ActivityID, info.Attempt)))
	return base + "-" + hex.EncodeToString(h[:6])
}

// AddRehiveMessage attaches a message to a transaction, once per key: a
// message is shown to the user, so a repeat after a lost answer must not
// post it twice, and one Rehive refused is noted by the workflow, not
// retried.
func (a *CurrencyManager) AddRehiveMessage(ctx context.Context, in workflows.RehiveMessageInput) error {
	_, err := a.Rehive.AddMessage(ctx, in.TxID, rehive.Message{Message: in.Message, Level: in.Level, Section: in.Section}, "payflow-message-"+in.Key)
	return classify(err)
}
