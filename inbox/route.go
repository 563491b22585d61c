// Package inbox turns recorded provider webhooks into workflow signals. The
// API records every verified event, tries to deliver it (for at most a couple
// of seconds), and acknowledges it either way; the relay retries whatever is
// still pending, so an event is never lost when Temporal is unreachable.
package inbox

import (
	"fmt"
	"strings"
	"time"

	"github.com/payflow/payflow/providers/checkoutcom"
	"github.com/payflow/payflow/providers/ledger"
	"github.com/payflow/payflow/providers/rehive"
	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/workflows"
)

// Provider names as recorded in the inbox.
const (
	CheckoutCom = workflows.ProviderCheckoutCom
	Rehive      = workflows.ProviderRehive
	Ledger      = "ledger"
)

// Route says where one event goes.
type Route struct {
	EventID   string // the inbox dedup key
	EventType string
	// WorkflowID receives Signal with Arg. Empty with Status set means there
	// is nothing to deliver.
	WorkflowID string
	Signal     string
	Arg        any
	// Start, when set, starts the workflow if it is not running (SignalWithStart).
	Start *Start
	// Status is set (ignored or unroutable) when the event is recorded only.
	Status string
	Note   string
	// Optional marks an event whose workflow may rightly not exist (a status
	// change of a managed transaction no transition started, such as
	// payflow's own deposit credit): then it is ignored, not unroutable.
	Optional bool
	// TransitionID is set when a Rehive transition event carried no transaction:
	// the deliverer must look the transition up to find its workflow.
	TransitionID string
}

// Start describes the workflow a SignalWithStart creates.
type Start struct {
	Workflow string
	Input    any
	// Metadata is what the Web UI shows of the workflow.
	Metadata workflows.StartMetadata
}

// Policy is the configuration routing depends on.
type Policy struct {
	IsManaged func(code string) bool // Rehive currencies payflow manages
	Stall     time.Duration          // stall timeout of the workflows routing starts
}

// RouteEvent decodes a stored payload of provider and routes it. It is pure:
// the API and the relay get the same answer for the same event.
func RouteEvent(provider string, payload []byte, p Policy) (Route, error) {
	switch provider {
	case CheckoutCom:
		ev, err := checkoutcom.ParseWebhook(payload)
		if err != nil {
			return Route{}, err
		}
		return routeCheckoutCom(ev), nil
	case Rehive:
		ev, err := rehive.ParseWebhook(payload)
		if err != nil {
			return Route{}, err
		}
		return routeRehive(ev, p), nil
	case Ledger:
		ev, err := ledger.ParseWebhook(payload)
		if err != nil {
			return Route{}, err
		}
		return routeLedger(ev, p), nil
	}
	return Route{}, fmt.Errorf("unknown provider %q", provider)
}

func routeCheckoutCom(ev *checkoutcom.WebhookEvent) Route {
	r := Route{EventID: ev.ID, EventType: string(ev.Type)}
	orderID := ev.OrderID()
	if orderID == "" {
		r.Status, r.Note = store.InboxUnroutable, "no reference or metadata.order_id"
		return r
	}
	r.WorkflowID = workflows.CheckoutWorkflowID(orderID)
	r.Signal = workflows.SignalPaymentEvent
	r.Arg = workflows.PaymentEvent{
		Provider: CheckoutCom, EventID: ev.ID, Type: string(ev.Type), PaymentID: ev.Data.ID,
		Amount: ev.Data.Amount, Currency: ev.Data.Currency,
		ResponseCode: ev.Data.ResponseCode, ResponseSummary: ev.Data.ResponseSummary,
		Card: workflows.CheckoutComEvent(string(ev.Type)),
	}
	return r
}

func routeRehive(ev *rehive.WebhookEvent, p Policy) Route {
	// Rehive event ids are per company; the pair is the dedup key.
	r := Route{EventID: ev.Company + ":" + ev.ID, EventType: ev.Event}
	if !strings.HasPrefix(ev.Event, "transaction.") {
		r.Status, r.Note = store.InboxIgnored, "not a transaction event"
		return r
	}
	tx, txErr := ev.Transaction()
	if ev.IsTransition() {
		if txErr == nil && !p.IsManaged(tx.Currency.Code) {
			r.Status, r.Note = store.InboxIgnored, "currency "+tx.Currency.Code+" is not managed"
			return r
		}
		transitionID, _ := ev.TransitionID()
		if txErr != nil {
			if transitionID == "" {
				r.Status, r.Note = store.InboxUnroutable, "transition event without transition or transaction"
				return r
			}
			r.TransitionID = transitionID // resolved by the deliverer
			return r
		}
		return rehiveTxRoute(r, ev, tx, transitionID, p.Stall)
	}
	if txErr != nil {
		r.Status, r.Note = store.InboxUnroutable, "no transaction in event"
		return r
	}
	if p.IsManaged(tx.Currency.Code) {
		// Status changes of managed transactions go to their running workflow;
		// only a transition starts one.
		r = rehiveTxRoute(r, ev, tx, "", 0)
		r.Optional = true
		return r
	}
	orderID, _ := tx.Metadata["order_id"].(string)
	if orderID == "" {
		r.Status, r.Note = store.InboxIgnored, "unmanaged currency and no metadata.order_id"
		return r
	}
	r.WorkflowID = workflows.CheckoutWorkflowID(orderID)
	r.Signal = workflows.SignalPaymentEvent
	r.Arg = workflows.PaymentEvent{
		Provider: Rehive, EventID: r.EventID, Type: ev.Event, PaymentID: string(tx.ID),
		Amount: tx.AbsAmount(), Currency: tx.Currency.Code,
	}
	return r
}

// rehiveTxRoute signals rehive-tx/<id>; with a stall timeout (transition
// events) it starts the workflow if needed.
func rehiveTxRoute(r Route, ev *rehive.WebhookEvent, tx *rehive.Transaction, transitionID string, stall time.Duration) Route {
	r.WorkflowID = workflows.RehiveTxWorkflowID(string(tx.ID))
	r.Signal = workflows.SignalRehiveEvent
	// The status is what the event carried, for the timeline: the workflow
	// re-reads the transaction, whose lookup refuses a word payflow does not
	// know. Such a word is left out here rather than dropping the event.
	status, _ := workflows.ParseRehiveStatus(tx.Status)
	r.Arg = workflows.RehiveEvent{
		EventID: r.EventID, Event: ev.Event, TxID: string(tx.ID), TransitionID: transitionID,
		Status: status, Currency: tx.Currency.Code,
	}
	if stall > 0 {
		r.Start = &Start{Workflow: workflows.RehiveTxWorkflowName, Input: workflows.RehiveTxInput{TxID: string(tx.ID), StallTimeout: stall},
			Metadata: workflows.RehiveTxMetadata(string(tx.ID), tx.TxType, tx.Subtype, tx.Status, tx.AbsAmount(), tx.Currency.Code)}
	}
	return r
}

func routeLedger(ev *ledger.WebhookEvent, p Policy) Route {
	r := Route{EventID: ev.ID, EventType: string(ev.Type)}
	if ev.Type != ledger.EventTransactionUpdated && ev.Type != ledger.EventTransactionIncoming {
		r.Status, r.Note = store.InboxIgnored, "event type not used"
		return r
	}
	d := ev.Data
	arg := workflows.LedgerEvent{
		EventID: ev.ID, Type: string(ev.Type), LedgerTxID: d.ID, TxType: string(d.Type), Status: string(d.Status),
		Account: d.Account, Amount: d.Amount, Currency: d.Currency,
		Confirmations: d.Confirmations, RequiredConfirmations: d.RequiredConfirmations, FailureReason: d.FailureReason,
	}
	r.Signal, r.Arg = workflows.SignalLedgerEvent, arg
	if rehiveTxID, ours := workflows.RehiveTxIDFromLedger(d.ID); ours {
		r.WorkflowID = workflows.RehiveTxWorkflowID(rehiveTxID)
		return r
	}
	if ev.Type == ledger.EventTransactionIncoming || d.Type == ledger.Deposit {
		r.WorkflowID = workflows.DepositWorkflowID(d.ID)
		r.Start = &Start{Workflow: workflows.DepositWorkflowName, Input: workflows.DepositInput{LedgerTxID: d.ID, StallTimeout: p.Stall},
			Metadata: workflows.DepositMetadata(d.ID, d.Amount, d.Currency, d.Account)}
		return r
	}
	r.Status, r.Note = store.InboxIgnored, "not a transaction payflow tracks"
	return r
}
