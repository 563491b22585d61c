package workflows

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// This file holds the test harness of the checkout workflow: checkoutFakes
// implements CheckoutActivities with scripted answers and a record of every
// call, plus helpers to signal, query and update at chosen virtual times.

const (
	ckOrderID        = "ord_1001"
	ckPaymentID      = "pay_abc"
	ckAmount         = 2 * 1250
	ckPaymentTimeout = 15 * time.Minute
	ckRefundWindow   = 24 * time.Hour
)

// checkoutFakes are the activities of one test. Behaviour fields are set before the
// workflow starts; the record fields are guarded by mu because activities run
// on their own goroutines.
type checkoutFakes struct {
	mu           sync.Mutex
	calls        map[string]int
	saved        []CheckoutState
	charges      []ChargeInput
	cardRefunds  []CardPaymentInput
	rehiveRefund []RehiveRefundInput
	voids        []CardPaymentInput
	verified     []RehivePaymentInput

	priceErr   error
	reserveErr error
	chargeRes  ChargeResult
	chargeErr  error
	statuses   []string // GetCardPayment answers in order; the last one repeats
	voidErrs   []error  // VoidCard answers in order; nil once exhausted
	commitErr  error
	refundErr  error
	verdicts   map[string][]RehivePaymentResult // per tx id, in order; the last repeats
	verifyErrs map[string][]error               // per tx id, consumed before verdicts
	onSave     func(CheckoutState)

	// outcomes are GetCardAction answers per kind (Void, Refund), in order;
	// the last repeats; none scripted means approved.
	outcomes     map[string][]CardActionResult
	actionInputs []CardActionInput
	found        []FindCardPaymentResult // FindCardPayment answers in order; the last repeats
	rehiveFound  []string                // FindRehivePayments answer
	reversalErrs []error                 // RefundRehive answers in order; nil once exhausted
	refunds      refundFakes             // the API refunds' activities (checkout_refund_update_test.go)
}

func (f *checkoutFakes) hit(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[name]++
}

// count is how often the activity name ran.
func (f *checkoutFakes) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[name]
}

// savedStatuses is the sequence of distinct statuses the read model was given.
func (f *checkoutFakes) savedStatuses() []CheckoutStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []CheckoutStatus
	for _, s := range f.saved {
		if len(out) == 0 || out[len(out)-1] != s.Status {
			out = append(out, s.Status)
		}
	}
	return out
}

// lastSaved is the last state written to the read model.
func (f *checkoutFakes) lastSaved() CheckoutState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.saved[len(f.saved)-1]
}

type checkoutHarness struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment
	f   *checkoutFakes
}

func newCheckoutHarness(t *testing.T) *checkoutHarness {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: CheckoutWorkflowID(ckOrderID)})
	env.SetTestTimeout(30 * time.Second) // wall clock: a hang fails fast
	env.RegisterWorkflowWithOptions(Checkout, workflow.RegisterOptions{Name: CheckoutWorkflowName})
	f := &checkoutFakes{
		calls:     map[string]int{},
		chargeRes: ChargeResult{PaymentID: ckPaymentID, Status: "Authorized", Approved: true, ResponseCode: "10000", ResponseSummary: "Approved"},
		statuses:  []string{"Pending"},
		verdicts:  map[string][]RehivePaymentResult{},
	}
	h := &checkoutHarness{t: t, env: env, f: f}

	RegisterCheckoutActivities(env, f)
	return h
}

var _ CheckoutActivities = (*checkoutFakes)(nil)

func (f *checkoutFakes) PriceCart(_ context.Context, in PriceCartInput) (PriceCartResult, error) {
	f.hit(ActPriceCart)
	if f.priceErr != nil {
		return PriceCartResult{}, f.priceErr
	}
	var res PriceCartResult
	for _, l := range in.Lines {
		res.Lines = append(res.Lines, PricedLine{SKU: l.SKU, Name: "Item " + l.SKU, Quantity: l.Quantity, UnitPrice: 1250, Total: 1250 * l.Quantity})
		res.Amount += 1250 * l.Quantity
	}
	return res, nil
}

func (f *checkoutFakes) ReserveStock(_ context.Context, in ReserveInput) error {
	f.hit(ActReserveStock)
	return f.reserveErr
}

func (f *checkoutFakes) CommitStock(_ context.Context, orderID string) error {
	f.hit(ActCommitStock)
	return f.commitErr
}

func (f *checkoutFakes) ReleaseStock(_ context.Context, orderID string) error {
	f.hit(ActReleaseStock)
	return nil
}

func (f *checkoutFakes) RestockOrder(_ context.Context, orderID string) error {
	f.hit(ActRestockOrder)
	return nil
}

func (f *checkoutFakes) ChargeCard(_ context.Context, in ChargeInput) (ChargeResult, error) {
	f.hit(ActChargeCard)
	f.mu.Lock()
	f.charges = append(f.charges, in)
	f.mu.Unlock()
	return f.chargeRes, f.chargeErr
}

func (f *checkoutFakes) GetCardPayment(_ context.Context, in CardPaymentInput) (CardPaymentStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.calls[ActGetCardPayment]
	f.calls[ActGetCardPayment]++
	st := f.statuses[min(n, len(f.statuses)-1)]
	return CardPaymentStatus{Status: st, State: CheckoutComState(st)}, nil // as the activity translates it
}

func (f *checkoutFakes) VoidCard(_ context.Context, in CardPaymentInput) (RefundResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.calls[ActVoidCard]
	f.calls[ActVoidCard]++
	f.voids = append(f.voids, in)
	if n < len(f.voidErrs) && f.voidErrs[n] != nil {
		return RefundResult{}, f.voidErrs[n]
	}
	return RefundResult{ID: fmt.Sprintf("act_void_%d", n+1)}, nil
}

func (f *checkoutFakes) GetCardAction(_ context.Context, in CardActionInput) (CardActionResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[ActGetCardAction]++
	f.actionInputs = append(f.actionInputs, in)
	outs := f.outcomes[in.Kind]
	if len(outs) == 0 {
		return CardActionResult{Found: true, Approved: true, ResponseCode: "10000"}, nil
	}
	out := outs[0]
	if len(outs) > 1 {
		f.outcomes[in.Kind] = outs[1:]
	}
	return out, nil
}

func (f *checkoutFakes) FindCardPayment(_ context.Context, in FindCardPaymentInput) (FindCardPaymentResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.calls[ActFindCardPayment]
	f.calls[ActFindCardPayment]++
	if len(f.found) == 0 {
		return FindCardPaymentResult{}, nil
	}
	return f.found[min(n, len(f.found)-1)], nil
}

func (f *checkoutFakes) FindRehivePayments(_ context.Context, in FindRehivePaymentsInput) (FindRehivePaymentsResult, error) {
	f.hit(ActFindRehivePayments)
	f.mu.Lock()
	defer f.mu.Unlock()
	return FindRehivePaymentsResult{TxIDs: f.rehiveFound}, nil
}

func (f *checkoutFakes) RefundCard(_ context.Context, in CardPaymentInput) (RefundResult, error) {
	f.hit(ActRefundCard)
	f.mu.Lock()
	f.cardRefunds = append(f.cardRefunds, in)
	f.mu.Unlock()
	if f.refundErr != nil {
		return RefundResult{}, f.refundErr
	}
	if in.Attempt > 1 {
		return RefundResult{ID: fmt.Sprintf("rfd_%s_%d", in.PaymentID, in.Attempt)}, nil
	}
	return RefundResult{ID: "rfd_" + in.PaymentID}, nil
}

func (f *checkoutFakes) VerifyRehivePayment(_ context.Context, in RehivePaymentInput) (RehivePaymentResult, error) {
	f.hit(ActVerifyRehivePayment)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.verified = append(f.verified, in)
	if errs := f.verifyErrs[in.TxID]; len(errs) > 0 {
		f.verifyErrs[in.TxID] = errs[1:]
		return RehivePaymentResult{}, errs[0]
	}
	vs := f.verdicts[in.TxID]
	if len(vs) == 0 {
		return RehivePaymentResult{Outcome: RehiveIgnored, TxID: in.TxID}, nil
	}
	v := vs[0]
	if len(vs) > 1 {
		f.verdicts[in.TxID] = vs[1:]
	}
	return v, nil
}

func (f *checkoutFakes) RefundRehive(_ context.Context, in RehiveRefundInput) (RefundResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.calls[ActRefundRehive]
	f.calls[ActRefundRehive]++
	f.rehiveRefund = append(f.rehiveRefund, in)
	if n < len(f.reversalErrs) && f.reversalErrs[n] != nil {
		return RefundResult{}, f.reversalErrs[n]
	}
	return RefundResult{ID: "rev_" + in.TxID}, nil
}

func (f *checkoutFakes) SaveOrder(_ context.Context, st CheckoutState) error {
	f.hit(ActSaveOrder)
	f.mu.Lock()
	f.saved = append(f.saved, st)
	onSave := f.onSave
	f.mu.Unlock()
	if onSave != nil {
		onSave(st)
	}
	return nil
}

func cardCheckoutInput() CheckoutInput {
	return CheckoutInput{
		OrderID:        ckOrderID,
		Currency:       "EUR",
		Lines:          []LineInput{{SKU: "TSHIRT-M", Quantity: 2}},
		CustomerEmail:  "ada@example.com",
		Method:         MethodCard,
		PaymentTimeout: ckPaymentTimeout,
		RefundWindow:   ckRefundWindow,
	}
}

func rehiveCheckoutInput() CheckoutInput {
	in := cardCheckoutInput()
	in.Method = MethodRehive
	return in
}

// run executes the workflow to its end and returns its final state.
func (h *checkoutHarness) run(in CheckoutInput) (CheckoutState, error) {
	h.t.Helper()
	h.env.ExecuteWorkflow(CheckoutWorkflowName, in)
	require.True(h.t, h.env.IsWorkflowCompleted(), "workflow did not complete")
	var st CheckoutState
	err := h.env.GetWorkflowError()
	if err == nil {
		require.NoError(h.t, h.env.GetWorkflowResult(&st))
	}
	return st, err
}

// runOK executes the workflow and requires it to end without error.
func (h *checkoutHarness) runOK(in CheckoutInput) CheckoutState {
	h.t.Helper()
	st, err := h.run(in)
	require.NoError(h.t, err)
	require.True(h.t, IsTerminal(st.Status), "final status %q is not terminal", st.Status)
	return st
}

func (h *checkoutHarness) signalAt(d time.Duration, ev PaymentEvent) {
	h.env.RegisterDelayedCallback(func() { h.env.SignalWorkflow(SignalPaymentEvent, ev) }, d)
}

// cancelSignalAt sends the legacy cancel signal, which runs before
// versionOperatorCancel listened to.
func (h *checkoutHarness) cancelSignalAt(d time.Duration) {
	h.env.RegisterDelayedCallback(func() { h.env.SignalWorkflow(SignalCancel, nil) }, d)
}

// cancelAt sends the API's cancel (the update) at virtual time d.
func (h *checkoutHarness) cancelAt(d time.Duration) *cancelUpdateResult {
	return h.cancelUpdateAt(d, fmt.Sprintf("cancel-at-%s", d))
}

// legacy makes the run take the DefaultVersion branch of the given change
// ids, as a run that started before those changes does: a run from before
// versionLean, which asks each of them.
func (h *checkoutHarness) legacy(changeIDs ...string) {
	start := workflow.Version(1)
	for _, id := range changeIDs {
		if id == versionOperatorCancel {
			start = workflow.DefaultVersion
			continue
		}
		h.env.OnGetVersion(id, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	}
	h.env.OnGetVersion(versionOperatorCancel, workflow.DefaultVersion, versionLean).Return(start)
}

// queryAt queries the state at virtual time d; the result is filled in when
// the workflow has run past d.
func (h *checkoutHarness) queryAt(d time.Duration) *CheckoutState {
	var st CheckoutState
	h.env.RegisterDelayedCallback(func() {
		v, err := h.env.QueryWorkflow(QueryState)
		require.NoError(h.t, err)
		require.NoError(h.t, v.Get(&st))
	}, d)
	return &st
}

// cancelUpdateResult records what became of one cancel update.
type cancelUpdateResult struct {
	mu        sync.Mutex
	accepted  bool
	rejected  error
	completed bool
	status    any
	err       error
}

func (u *cancelUpdateResult) snapshot() (accepted bool, rejected error, completed bool, status any, err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.accepted, u.rejected, u.completed, u.status, u.err
}

func (h *checkoutHarness) sendCancelUpdate(u *cancelUpdateResult, id string) {
	h.env.UpdateWorkflow(UpdateCancel, id, &testsuite.TestUpdateCallback{
		OnAccept: func() { u.mu.Lock(); u.accepted = true; u.mu.Unlock() },
		OnReject: func(err error) { u.mu.Lock(); u.rejected = err; u.mu.Unlock() },
		OnComplete: func(res any, err error) {
			u.mu.Lock()
			u.completed, u.status, u.err = true, res, err
			u.mu.Unlock()
		},
	})
}

// cancelUpdateAt sends the cancel update at virtual time d.
func (h *checkoutHarness) cancelUpdateAt(d time.Duration, id string) *cancelUpdateResult {
	u := &cancelUpdateResult{}
	h.env.RegisterDelayedCallback(func() { h.sendCancelUpdate(u, id) }, d)
	return u
}

// ckoEvent is a Checkout.com event as the inbox signals it: translated.
func ckoEvent(typ, eventID, paymentID string) PaymentEvent {
	ev := untranslatedCkoEvent(typ, eventID, paymentID)
	ev.Card = CheckoutComEvent(typ)
	return ev
}

// untranslatedCkoEvent is an event signalled before the inbox translated
// event types (a run in flight across the deploy).
func untranslatedCkoEvent(typ, eventID, paymentID string) PaymentEvent {
	return PaymentEvent{Provider: ProviderCheckoutCom, EventID: eventID, Type: typ, PaymentID: paymentID, Amount: ckAmount, Currency: "EUR"}
}

func rehiveTxEvent(txID string) PaymentEvent {
	return PaymentEvent{Provider: "rehive", EventID: "evt_" + txID, Type: "transaction.update", PaymentID: txID, Amount: ckAmount, Currency: "EUR"}
}

func timelineSteps(st CheckoutState) []string {
	out := make([]string, 0, len(st.Timeline))
	for _, e := range st.Timeline {
		out = append(out, e.Step)
	}
	return out
}

// countTimelineStep counts the step's entries, repeats included.
func countTimelineStep[S ~string](st CheckoutState, step S) int {
	n := 0
	for _, e := range st.Timeline {
		if e.Step == string(step) {
			n += 1 + e.Repeats
		}
	}
	return n
}

// requireSubsequence checks that want appears in got in order (other
// entries may sit in between).
func requireSubsequence(t *testing.T, got, want []string) {
	t.Helper()
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	require.Equal(t, len(want), i, "expected %v in order within %v", want, got)
}

func nonRetryableErr(msg string, typ ErrType) error {
	return temporal.NewNonRetryableApplicationError(msg, string(typ), nil)
}

// requireCalls checks exact call counts per activity name.
func (h *checkoutHarness) requireCalls(want map[string]int) {
	h.t.Helper()
	for name, n := range want {
		require.Equal(h.t, n, h.f.count(name), "calls of %s", name)
	}
}
