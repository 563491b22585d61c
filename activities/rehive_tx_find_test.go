package activities

import (
	"context"
	"testing"

	"github.com/payflow/payflow/workflows"
)

// FindWaiting reports the transition waiting from the transaction's
// current status, as Rehive lists it, and nothing once it is resolved.
func TestLookupRehiveTxFindsTheWaitingTransition(t *testing.T) {
	r := newCMRig(t, true)
	ctx := context.Background()
	tx := r.userTx(r.user(), "debit", "XLM", map[string]any{workflows.MetaDestination: "GDEST"})
	find := workflows.LookupRehiveTxInput{TxID: tx.ID, FindWaiting: true}
	info, err := r.a.LookupRehiveTx(ctx, find)
	if err != nil {
		t.Fatal(err)
	}
	if tr := info.Transition; tr == nil || tr.ID != tx.Transitions[0].ID || tr.Status != workflows.TransitionPending ||
		tr.FromStatus != info.Status || tr.ToStatus != workflows.RehiveTxComplete {
		t.Fatalf("waiting transition: %+v (transaction %s)", info.Transition, info.Status)
	}
	if _, err := r.a.ApproveTransition(ctx, workflows.TransitionInput{TxID: tx.ID, TransitionID: tx.Transitions[0].ID}); err != nil {
		t.Fatal(err)
	}
	if info, err = r.a.LookupRehiveTx(ctx, find); err != nil || info.Transition != nil || info.Status != workflows.RehiveTxComplete {
		t.Fatalf("after the approval: %+v %v", info, err)
	}
}
