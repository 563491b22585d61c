package workflows

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Card checkout: happy path, declines, 3-D Secure, webhook ordering and the
// payment timeout. Cancels are in checkout_cancel_test.go, Rehive payments in
// checkout_rehive_test.go, the harness in checkout_fakes_test.go.

func TestCheckoutCardCapturedFulfilled(t *testing.T) {
	h := newCheckoutHarness(t)
	start := h.env.Now()
	mid := h.queryAt(time.Minute)
	h.signalAt(2*time.Minute, ckoEvent("payment_captured", "evt_1", ckPaymentID))
	st := h.runOK(cardCheckoutInput())

	require.Equal(t, StatusAwaitingPayment, mid.Status, "state mid-flight")
	require.Equal(t, int64(ckAmount), mid.Amount)
	require.Equal(t, "Authorized", mid.Payment.Status)

	require.Equal(t, StatusFulfilled, st.Status)
	require.Empty(t, st.FailureReason)
	require.Equal(t, ckOrderID, st.OrderID)
	require.Equal(t, CheckoutWorkflowID(ckOrderID), st.WorkflowID)
	require.NotEmpty(t, st.RunID)
	require.Equal(t, int64(ckAmount), st.Amount)
	require.Equal(t, "EUR", st.Currency)
	require.Equal(t, "ada@example.com", st.CustomerEmail)
	require.Equal(t, []PricedLine{{SKU: "TSHIRT-M", Name: "Item TSHIRT-M", Quantity: 2, UnitPrice: 1250, Total: 2500}}, st.Lines)
	require.Equal(t, PaymentState{Method: MethodCard, Status: "Captured", ProviderPaymentID: ckPaymentID}, st.Payment)
	requireSubsequence(t, timelineSteps(st), []string{"created", "priced", string(StatusReserved), string(StatusAwaitingPayment), "webhook", string(StatusPaid), string(StatusFulfilled)})

	h.requireCalls(map[string]int{
		ActPriceCart: 1, ActReserveStock: 1, ActChargeCard: 1, ActCommitStock: 1,
		ActReleaseStock: 0, ActGetCardPayment: 0, ActVoidCard: 0, ActRefundCard: 0, ActRestockOrder: 0,
	})
	require.Equal(t, []ChargeInput{{OrderID: ckOrderID, Amount: ckAmount, Currency: "EUR", CustomerEmail: "ada@example.com"}}, h.f.charges)
	// A lean run saves first once the stock is reserved (versionLean).
	require.Equal(t, []CheckoutStatus{StatusReserved, StatusAwaitingPayment, StatusPaid, StatusFulfilled}, h.f.savedStatuses())
	// With no cancel, the workflow stays open exactly for the refund window.
	require.Equal(t, 2*time.Minute+ckRefundWindow, h.env.Now().Sub(start))
}

// payment_approved is an authorisation: the order is paid on the capture.
func TestCheckoutCardApprovedThenCapturedFulfilled(t *testing.T) {
	h := newCheckoutHarness(t)
	h.signalAt(time.Minute, ckoEvent("payment_approved", "evt_1", ckPaymentID))
	mid := h.queryAt(2 * time.Minute)
	h.signalAt(3*time.Minute, ckoEvent("payment_captured", "evt_2", ckPaymentID))
	st := h.runOK(cardCheckoutInput())
	require.Equal(t, StatusAwaitingPayment, mid.Status, "approved is not paid")
	require.Equal(t, "Authorized", mid.Payment.Status)
	require.Equal(t, StatusFulfilled, st.Status)
	require.Equal(t, "Captured", st.Payment.Status)
	require.Equal(t, 3*time.Minute, timelineAt(t, st, StatusPaid).Sub(st.Timeline[0].At))
	h.requireCalls(map[string]int{ActCommitStock: 1, ActReleaseStock: 0})
}

// An older run (before versionCardCaptured) still fulfils on approval.
func TestCheckoutCardApprovedLegacyFulfilled(t *testing.T) {
	h := newCheckoutHarness(t)
	h.legacy(versionCardCaptured)
	h.signalAt(time.Minute, ckoEvent("payment_approved", "evt_1", ckPaymentID))
	st := h.runOK(cardCheckoutInput())
	require.Equal(t, StatusFulfilled, st.Status)
	require.Equal(t, "Authorized", st.Payment.Status)
	h.requireCalls(map[string]int{ActCommitStock: 1, ActReleaseStock: 0})
}

func TestCheckoutCardDeclinedAtCharge(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.chargeRes = ChargeResult{PaymentID: ckPaymentID, Status: "Declined", Approved: false, ResponseCode: "20005", ResponseSummary: "Declined - Do Not Honour"}
	st := h.runOK(cardCheckoutInput())

	require.Equal(t, StatusFailed, st.Status)
	require.Equal(t, ReasonPaymentDeclined, st.FailureReason)
	require.Equal(t, ckPaymentID, st.Payment.ProviderPaymentID)
	require.Equal(t, "Declined", st.Payment.Status)
	require.Contains(t, st.Timeline[len(st.Timeline)-1].Detail, "20005")
	h.requireCalls(map[string]int{ActChargeCard: 1, ActReleaseStock: 1, ActCommitStock: 0, ActVoidCard: 0, ActRefundCard: 0})
	require.Equal(t, []CheckoutStatus{StatusReserved, StatusFailed}, h.f.savedStatuses())
}

func TestCheckoutCardRejectedAtCharge(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.chargeErr = nonRetryableErr("request_invalid: token_invalid", ErrTypeRejected)
	st := h.runOK(cardCheckoutInput())

	require.Equal(t, StatusFailed, st.Status)
	require.Equal(t, ReasonPaymentRejected, st.FailureReason)
	require.Empty(t, st.Payment.ProviderPaymentID)
	require.Contains(t, st.Timeline[len(st.Timeline)-1].Detail, "token_invalid")
	h.requireCalls(map[string]int{ActChargeCard: 1, ActReleaseStock: 1, ActCommitStock: 0})
}

func TestCheckoutCardChargeErrorFailsPaymentError(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.chargeErr = nonRetryableErr("provider unavailable", "provider_error")
	st := h.runOK(cardCheckoutInput())
	require.Equal(t, StatusFailed, st.Status)
	require.Equal(t, ReasonPaymentError, st.FailureReason)
	h.requireCalls(map[string]int{ActChargeCard: 1, ActReleaseStock: 1, ActCommitStock: 0})
}

func TestCheckoutOutOfStock(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.reserveErr = nonRetryableErr("TSHIRT-M: 1 left, 2 wanted", ErrTypeOutOfStock)
	st := h.runOK(cardCheckoutInput())

	require.Equal(t, StatusFailed, st.Status)
	require.Equal(t, ReasonOutOfStock, st.FailureReason)
	require.Equal(t, int64(ckAmount), st.Amount, "priced before reserving")
	require.Equal(t, "none", st.Payment.Status)
	h.requireCalls(map[string]int{ActReserveStock: 1, ActChargeCard: 0, ActReleaseStock: 0, ActCommitStock: 0})
	require.Equal(t, []CheckoutStatus{StatusFailed}, h.f.savedStatuses())
}

func TestCheckoutInvalidCart(t *testing.T) {
	t.Run("unknown sku at pricing", func(t *testing.T) {
		h := newCheckoutHarness(t)
		h.f.priceErr = nonRetryableErr("unknown sku NOPE", ErrTypeInvalidCart)
		st := h.runOK(cardCheckoutInput())
		require.Equal(t, StatusFailed, st.Status)
		require.Equal(t, ReasonInvalidCart, st.FailureReason)
		require.Contains(t, st.Timeline[len(st.Timeline)-1].Detail, "unknown sku NOPE")
		require.Zero(t, st.Amount)
		// Released all the same: a lean run's first task may have been run
		// before, up to its reservation.
		h.requireCalls(map[string]int{ActPriceCart: 1, ActReserveStock: 0, ActChargeCard: 0, ActReleaseStock: 1})
	})
	t.Run("invalid at reservation", func(t *testing.T) {
		h := newCheckoutHarness(t)
		h.f.reserveErr = nonRetryableErr("sku inactive", ErrTypeInvalidCart)
		st := h.runOK(cardCheckoutInput())
		require.Equal(t, StatusFailed, st.Status)
		require.Equal(t, ReasonInvalidCart, st.FailureReason)
		h.requireCalls(map[string]int{ActReserveStock: 1, ActChargeCard: 0, ActReleaseStock: 0})
	})
}

func TestCheckoutThreeDSecure(t *testing.T) {
	const redirect = "https://3ds.example/challenge/pay_abc"
	pending := ChargeResult{PaymentID: ckPaymentID, Status: "Pending", RequiresAction: true, RedirectURL: redirect}

	t.Run("approved", func(t *testing.T) {
		h := newCheckoutHarness(t)
		h.f.chargeRes = pending
		mid := h.queryAt(time.Minute)
		h.signalAt(3*time.Minute, ckoEvent("payment_approved", "evt_3ds", ckPaymentID))
		h.signalAt(4*time.Minute, ckoEvent("payment_captured", "evt_cap", ckPaymentID))
		st := h.runOK(cardCheckoutInput())

		require.Equal(t, StatusRequiresAction, mid.Status)
		require.Equal(t, redirect, mid.Payment.RedirectURL)
		require.Equal(t, "Pending", mid.Payment.Status)

		require.Equal(t, StatusFulfilled, st.Status)
		require.Equal(t, redirect, st.Payment.RedirectURL)
		require.Equal(t, "Captured", st.Payment.Status)
		requireSubsequence(t, timelineSteps(st), []string{string(StatusReserved), string(StatusRequiresAction), "webhook", "webhook", string(StatusPaid), string(StatusFulfilled)})
		h.requireCalls(map[string]int{ActChargeCard: 1, ActCommitStock: 1, ActReleaseStock: 0})
	})
	t.Run("declined", func(t *testing.T) {
		h := newCheckoutHarness(t)
		h.f.chargeRes = pending
		mid := h.queryAt(time.Minute)
		ev := ckoEvent("payment_declined", "evt_3ds", ckPaymentID)
		ev.ResponseCode, ev.ResponseSummary = "20150", "Card not 3D Secure enabled"
		h.signalAt(3*time.Minute, ev)
		st := h.runOK(cardCheckoutInput())

		require.Equal(t, StatusRequiresAction, mid.Status)
		require.Equal(t, StatusFailed, st.Status)
		require.Equal(t, ReasonPaymentDeclined, st.FailureReason)
		require.Equal(t, "Declined", st.Payment.Status)
		require.Contains(t, st.Timeline[len(st.Timeline)-1].Detail, "20150")
		h.requireCalls(map[string]int{ActCommitStock: 0, ActReleaseStock: 1, ActVoidCard: 0})
	})
}

// A webhook may reach the workflow before the charge activity has returned:
// it waits in the signal channel and is applied once the payment id is known.
func TestCheckoutWebhookBeforeChargeReturns(t *testing.T) {
	for _, at := range []time.Duration{0, 30 * time.Second} {
		t.Run(at.String(), func(t *testing.T) {
			h := newCheckoutHarness(t)
			h.env.OnActivity(ActChargeCard, mock.Anything, mock.Anything).After(time.Minute).Return(
				ChargeResult{PaymentID: ckPaymentID, Status: "Authorized", Approved: true}, nil).Once()
			h.signalAt(at, ckoEvent("payment_captured", "evt_early", ckPaymentID))
			st := h.runOK(cardCheckoutInput())

			require.Equal(t, StatusFulfilled, st.Status)
			require.Equal(t, "Captured", st.Payment.Status)
			require.Equal(t, 1, countTimelineStep(st, "webhook"))
			// The payment completed when the charge returned, not at the timeout.
			paidAt := timelineAt(t, st, StatusPaid)
			require.Less(t, paidAt.Sub(st.Timeline[0].At), 2*time.Minute)
			h.requireCalls(map[string]int{ActCommitStock: 1, ActReleaseStock: 0, ActGetCardPayment: 0})
			h.env.AssertExpectations(t)
		})
	}
}

func timelineAt[S ~string](t *testing.T, st CheckoutState, step S) time.Time {
	t.Helper()
	for _, e := range st.Timeline {
		if e.Step == string(step) {
			return e.At
		}
	}
	t.Fatalf("no %q step in %v", step, timelineSteps(st))
	return time.Time{}
}

// Duplicates and out-of-order events: the first deciding event wins and is
// applied once; the rest are recorded as late and change nothing.
func TestCheckoutDuplicateAndReorderedEvents(t *testing.T) {
	h := newCheckoutHarness(t)
	h.signalAt(time.Minute, ckoEvent("payment_captured", "evt_cap", ckPaymentID))
	h.signalAt(time.Minute, ckoEvent("payment_captured", "evt_cap", ckPaymentID))
	h.signalAt(time.Minute, ckoEvent("payment_declined", "evt_dec", ckPaymentID))
	h.signalAt(time.Minute, ckoEvent("payment_approved", "evt_app", ckPaymentID))
	// More redeliveries during the refund window, and a stale capture
	// decline: the provider (asked) shows the payment captured.
	h.f.statuses = []string{"Captured"}
	h.signalAt(time.Hour, ckoEvent("payment_captured", "evt_cap", ckPaymentID))
	h.signalAt(time.Hour, ckoEvent("payment_capture_declined", "evt_cd", ckPaymentID))
	st := h.runOK(cardCheckoutInput())

	require.Equal(t, StatusFulfilled, st.Status)
	require.Empty(t, st.FailureReason)
	require.Equal(t, "Captured", st.Payment.Status)
	// The capture pays; the rest are read in the refund window and change
	// nothing.
	require.Equal(t, 6, countTimelineStep(st, "webhook"))
	require.Zero(t, countTimelineStep(st, "capture_check"), "a confirmed capture is not asked about again")
	require.Equal(t, 1, countTimelineStep(st, StatusPaid))
	require.Equal(t, 1, countTimelineStep(st, StatusFulfilled))
	require.Zero(t, countTimelineStep(st, StatusFailed))
	h.requireCalls(map[string]int{ActCommitStock: 1, ActReleaseStock: 0, ActRefundCard: 0, ActVoidCard: 0, ActRestockOrder: 0})
}

func TestCheckoutEventsForOtherPaymentsIgnored(t *testing.T) {
	h := newCheckoutHarness(t)
	h.signalAt(time.Minute, ckoEvent("payment_captured", "evt_x", "pay_other"))
	h.signalAt(time.Minute, ckoEvent("payment_declined", "evt_y", "pay_other"))
	h.signalAt(time.Minute, PaymentEvent{Provider: "rehive", EventID: "evt_r", Type: "transaction.update", PaymentID: ckPaymentID})
	h.signalAt(time.Minute, ckoEvent("payment_pending", "evt_p", ckPaymentID)) // ours, but not a decision
	mid := h.queryAt(2 * time.Minute)
	h.signalAt(5*time.Minute, ckoEvent("payment_captured", "evt_ok", ckPaymentID))
	st := h.runOK(cardCheckoutInput())

	require.Equal(t, StatusAwaitingPayment, mid.Status)
	require.Equal(t, 3, countTimelineStep(*mid, "event_ignored"))
	require.Empty(t, mid.FailureReason)
	require.Equal(t, StatusFulfilled, st.Status)
	require.Equal(t, 2, countTimelineStep(st, "webhook"), "payment_pending and payment_captured")
	h.requireCalls(map[string]int{ActCommitStock: 1, ActReleaseStock: 0})
}

func TestCheckoutCardPaymentTimeout(t *testing.T) {
	t.Run("provider captured: lost webhook still fulfils", func(t *testing.T) {
		h := newCheckoutHarness(t)
		h.f.statuses = []string{"Captured"}
		st := h.runOK(cardCheckoutInput())
		require.Equal(t, StatusFulfilled, st.Status)
		require.Empty(t, st.FailureReason)
		require.Equal(t, "Captured", st.Payment.Status)
		requireSubsequence(t, timelineSteps(st), []string{string(StatusAwaitingPayment), "timeout_check", string(StatusPaid), string(StatusFulfilled)})
		require.Equal(t, ckPaymentTimeout, timelineAt(t, st, "timeout_check").Sub(st.Timeline[0].At))
		h.requireCalls(map[string]int{ActGetCardPayment: 1, ActVoidCard: 0, ActCommitStock: 1, ActReleaseStock: 0})
	})
	t.Run("provider authorized: voided, released, expired", func(t *testing.T) {
		h := newCheckoutHarness(t)
		h.f.statuses = []string{"Authorized"}
		st := h.runOK(cardCheckoutInput())
		require.Equal(t, StatusExpired, st.Status)
		require.Equal(t, ReasonPaymentTimeout, st.FailureReason)
		require.Equal(t, "Voided", st.Payment.Status)
		requireSubsequence(t, timelineSteps(st), []string{"voided", string(StatusExpired)})
		h.requireCalls(map[string]int{ActGetCardPayment: 1, ActVoidCard: 1, ActReleaseStock: 1, ActCommitStock: 0, ActRefundCard: 0})
		require.Equal(t, []CardPaymentInput{{OrderID: ckOrderID, PaymentID: ckPaymentID, Amount: ckAmount, Attempt: 1}}, h.f.voids)
	})
	t.Run("provider pending: released, expired", func(t *testing.T) {
		h := newCheckoutHarness(t)
		h.f.statuses = []string{"Pending"}
		st := h.runOK(cardCheckoutInput())
		require.Equal(t, StatusExpired, st.Status)
		require.Equal(t, ReasonPaymentTimeout, st.FailureReason)
		require.Equal(t, "Pending", st.Payment.Status)
		h.requireCalls(map[string]int{ActGetCardPayment: 1, ActVoidCard: 0, ActReleaseStock: 1, ActCommitStock: 0})
	})
	t.Run("provider declined: failed", func(t *testing.T) {
		h := newCheckoutHarness(t)
		h.f.statuses = []string{"Declined"}
		st := h.runOK(cardCheckoutInput())
		require.Equal(t, StatusFailed, st.Status)
		require.Equal(t, ReasonPaymentDeclined, st.FailureReason)
		h.requireCalls(map[string]int{ActVoidCard: 0, ActReleaseStock: 1, ActCommitStock: 0})
	})
	t.Run("void fails, then provider reports captured: fulfilled", func(t *testing.T) {
		h := newCheckoutHarness(t)
		h.f.statuses = []string{"Authorized", "Captured"}
		h.f.voidErrs = []error{nonRetryableErr("action_not_allowed", "void_refused")}
		st := h.runOK(cardCheckoutInput())
		require.Equal(t, StatusFulfilled, st.Status)
		require.Equal(t, 1, countTimelineStep(st, "void_failed"))
		h.requireCalls(map[string]int{ActGetCardPayment: 2, ActVoidCard: 1, ActCommitStock: 1, ActReleaseStock: 0})
	})
}

// When stock cannot be committed after capture, the payment is refunded so
// that nothing paid is left unfulfilled.
func TestCheckoutCommitFailureRefunds(t *testing.T) {
	h := newCheckoutHarness(t)
	h.f.statuses = []string{"Captured"}
	h.f.commitErr = nonRetryableErr("reservation missing", "store_error")
	h.signalAt(time.Minute, ckoEvent("payment_captured", "evt_1", ckPaymentID))
	st := h.runOK(cardCheckoutInput())

	require.Equal(t, StatusRefunded, st.Status)
	require.Equal(t, "Refunded", st.Payment.Status)
	require.Equal(t, "rfd_"+ckPaymentID, st.Payment.RefundID)
	h.requireCalls(map[string]int{ActCommitStock: 1, ActGetCardPayment: 1, ActRefundCard: 1, ActGetCardAction: 1, ActReleaseStock: 1, ActRestockOrder: 0})
	require.Equal(t, []CardPaymentInput{{OrderID: ckOrderID, PaymentID: ckPaymentID, Amount: ckAmount, Attempt: 1}}, h.f.cardRefunds)
}

// An older run (before versionConfirmedActions): a refund that the provider
// refuses for good leaves the order failed and the workflow failed.
func TestCheckoutRefundRefusedFailsWorkflowLegacy(t *testing.T) {
	h := newCheckoutHarness(t)
	h.legacy(versionConfirmedActions)
	h.f.statuses = []string{"Captured"}
	h.f.commitErr = nonRetryableErr("reservation missing", "store_error")
	h.f.refundErr = nonRetryableErr("refund_amount_exceeds_balance", "refund_refused")
	h.signalAt(time.Minute, ckoEvent("payment_captured", "evt_1", ckPaymentID))
	_, err := h.run(cardCheckoutInput())
	require.Error(t, err)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr))
	require.Equal(t, "refund_refused", appErr.Type())
	require.Equal(t, StatusFailed, h.f.lastSaved().Status)
	require.Contains(t, h.f.lastSaved().Timeline[len(h.f.lastSaved().Timeline)-1].Detail, "refund_amount_exceeds_balance")
}

type upsert struct {
	orderID string
	status  CheckoutStatus
}

// recordUpserts collects the run's search-attribute upserts.
func (h *checkoutHarness) recordUpserts() *[]upsert {
	var got []upsert
	h.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		sa := args.Get(0).(temporal.SearchAttributes)
		o, _ := sa.GetKeyword(SAOrderID)
		s, _ := sa.GetKeyword(SAStatus)
		got = append(got, upsert{o, CheckoutStatus(s)})
	}).Return(nil)
	return &got
}

// The workflow keeps OrderId and PayflowStatus up to date for the Web UI:
// in a lean run, every status a checkout can be found waiting in ("paid"
// lasts only the task that commits the stock).
func TestCheckoutSearchAttributes(t *testing.T) {
	h := newCheckoutHarness(t)
	got := h.recordUpserts()
	h.signalAt(time.Minute, ckoEvent("payment_captured", "evt_1", ckPaymentID))
	st := h.runOK(cardCheckoutInput())

	require.Equal(t, StatusFulfilled, st.Status)
	require.Equal(t, []upsert{
		{ckOrderID, StatusReserved},
		{ckOrderID, StatusAwaitingPayment},
		{ckOrderID, StatusFulfilled},
	}, *got)
	requireSubsequence(t, timelineSteps(st), []string{string(StatusPaid), string(StatusFulfilled)})
}

// A run from before versionLean upserts every status, saves once before
// pricing, and asks each checkout change where it first differs.
func TestCheckoutBeforeLean(t *testing.T) {
	h := newCheckoutHarness(t)
	h.legacy()
	got := h.recordUpserts()
	asked := map[string]bool{}
	for _, id := range []string{versionCardCaptured, versionAPIRefunds} {
		h.env.OnGetVersion(id, workflow.DefaultVersion, 1).Run(func(mock.Arguments) { asked[id] = true }).Return(workflow.Version(1))
	}
	h.signalAt(time.Minute, ckoEvent("payment_approved", "evt_1", ckPaymentID))
	h.signalAt(2*time.Minute, ckoEvent("payment_captured", "evt_2", ckPaymentID))
	st := h.runOK(cardCheckoutInput())

	require.Equal(t, StatusFulfilled, st.Status)
	require.Equal(t, []upsert{
		{ckOrderID, StatusReserved},
		{ckOrderID, StatusAwaitingPayment},
		{ckOrderID, StatusPaid},
		{ckOrderID, StatusFulfilled},
	}, *got)
	require.Equal(t, []CheckoutStatus{StatusPending, StatusReserved, StatusAwaitingPayment, StatusPaid, StatusFulfilled}, h.f.savedStatuses())
	require.Equal(t, map[string]bool{versionCardCaptured: true, versionAPIRefunds: true}, asked)
}

// A lean run does price, reserve and commit as local activities, the rest
// as activities, and asks no checkout change but its first.
func TestCheckoutLeanLocalActivities(t *testing.T) {
	for _, lean := range []bool{true, false} {
		t.Run(fmt.Sprintf("lean=%v", lean), func(t *testing.T) {
			h := newCheckoutHarness(t)
			if !lean {
				h.legacy()
			}
			var asked []string
			for _, id := range []string{versionCardCaptured, versionCardAfterFulfilment, versionConfirmedActions, versionChargeLookup, versionAPIRefunds} {
				h.env.OnGetVersion(id, workflow.DefaultVersion, 1).Run(func(mock.Arguments) { asked = append(asked, id) }).Return(workflow.Version(1))
			}
			var local, remote []string
			h.env.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, _ []any) {
				local = append(local, info.ActivityType.Name)
			})
			h.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
				remote = append(remote, info.ActivityType.Name)
			})
			h.signalAt(time.Minute, ckoEvent("payment_approved", "evt_1", ckPaymentID))
			h.signalAt(2*time.Minute, ckoEvent("payment_captured", "evt_2", ckPaymentID))
			require.Equal(t, StatusFulfilled, h.runOK(cardCheckoutInput()).Status)
			db := []string{ActPriceCart, ActReserveStock, ActCommitStock}
			if lean {
				require.Subset(t, local, db)
				require.Equal(t, []string{ActChargeCard}, remote)
				require.Empty(t, asked)
			} else {
				require.Equal(t, []string{versionCardCaptured, versionAPIRefunds}, asked)
				require.Equal(t, append(db[:2:2], ActChargeCard, ActCommitStock), remote)
				require.NotContains(t, local, ActPriceCart)
			}
		})
	}
}

// A worker that pins operator-cancel to 1 (the lean checkout's rollout)
// starts runs as the previous build did: activities, not local ones.
func TestCheckoutPinnedBeforeLean(t *testing.T) {
	h := newCheckoutHarness(t)
	h.env.SetWorkerOptions(worker.Options{PreferredVersionProvider: PinnedVersions(map[string]int{versionOperatorCancel: 1})})
	var remote []string
	h.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		remote = append(remote, info.ActivityType.Name)
	})
	h.signalAt(time.Minute, ckoEvent("payment_captured", "evt_1", ckPaymentID))
	require.Equal(t, StatusFulfilled, h.runOK(cardCheckoutInput()).Status)
	require.Equal(t, []string{ActPriceCart, ActReserveStock, ActChargeCard, ActCommitStock}, remote)
	require.Nil(t, PinnedVersions(nil))
}
