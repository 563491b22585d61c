package workflows

import "context"

// CheckoutActivities are the activities of the checkout workflow, each
// registered under its method's name (the Act* constants). Every one is
// idempotent: Temporal retries it under the options of its stub in ckActs.
type CheckoutActivities interface {
	PriceCart(ctx context.Context, in PriceCartInput) (PriceCartResult, error)
	ReserveStock(ctx context.Context, in ReserveInput) error
	CommitStock(ctx context.Context, orderID string) error
	ReleaseStock(ctx context.Context, orderID string) error
	RestockOrder(ctx context.Context, orderID string) error
	ChargeCard(ctx context.Context, in ChargeInput) (ChargeResult, error)
	FindCardPayment(ctx context.Context, in FindCardPaymentInput) (FindCardPaymentResult, error)
	GetCardPayment(ctx context.Context, in CardPaymentInput) (CardPaymentStatus, error)
	VoidCard(ctx context.Context, in CardPaymentInput) (RefundResult, error)
	RefundCard(ctx context.Context, in CardPaymentInput) (RefundResult, error)
	GetCardAction(ctx context.Context, in CardActionInput) (CardActionResult, error)
	VerifyRehivePayment(ctx context.Context, in RehivePaymentInput) (RehivePaymentResult, error)
	RefundRehive(ctx context.Context, in RehiveRefundInput) (RefundResult, error)
	FindRehivePayments(ctx context.Context, in FindRehivePaymentsInput) (FindRehivePaymentsResult, error)
	// The API's refunds (checkout_refund_update.go).
	RefundCardPart(ctx context.Context, in RefundCardPartInput) (RefundResult, error)
	ReverseRehivePart(ctx context.Context, in ReverseRehivePartInput) (RefundResult, error)
	RestockLines(ctx context.Context, in RestockLinesInput) error
	// SaveOrder writes the read model; it runs as a local activity.
	SaveOrder(ctx context.Context, st CheckoutState) error
}

type (
	ckCall[In, Out any] = call[CheckoutActivities, In, Out]
	ckEffect[In any]    = effect[CheckoutActivities, In]
)

// checkoutStubs are the checkout's activities as the workflow calls them,
// one field per method of CheckoutActivities, with the options it runs
// under by default.
type checkoutStubs struct {
	PriceCart           ckCall[PriceCartInput, PriceCartResult]
	ReserveStock        ckEffect[ReserveInput]
	CommitStock         ckEffect[string]
	ReleaseStock        ckEffect[string]
	RestockOrder        ckEffect[string]
	ChargeCard          ckCall[ChargeInput, ChargeResult]
	FindCardPayment     ckCall[FindCardPaymentInput, FindCardPaymentResult]
	GetCardPayment      ckCall[CardPaymentInput, CardPaymentStatus]
	VoidCard            ckCall[CardPaymentInput, RefundResult]
	RefundCard          ckCall[CardPaymentInput, RefundResult]
	GetCardAction       ckCall[CardActionInput, CardActionResult]
	VerifyRehivePayment ckCall[RehivePaymentInput, RehivePaymentResult]
	RefundRehive        ckCall[RehiveRefundInput, RefundResult]
	FindRehivePayments  ckCall[FindRehivePaymentsInput, FindRehivePaymentsResult]
	RefundCardPart      ckCall[RefundCardPartInput, RefundResult]
	ReverseRehivePart   ckCall[ReverseRehivePartInput, RefundResult]
	RestockLines        ckEffect[RestockLinesInput]
	SaveOrder           ckEffect[CheckoutState]
}

var ckActs = checkoutStubs{
	PriceCart:           newCall(ActPriceCart, short, CheckoutActivities.PriceCart),
	ReserveStock:        newEffect(ActReserveStock, short, CheckoutActivities.ReserveStock),
	CommitStock:         newEffect(ActCommitStock, short, CheckoutActivities.CommitStock),
	ReleaseStock:        newEffect(ActReleaseStock, forever, CheckoutActivities.ReleaseStock),
	RestockOrder:        newEffect(ActRestockOrder, short, CheckoutActivities.RestockOrder),
	ChargeCard:          newCall(ActChargeCard, charge, CheckoutActivities.ChargeCard),
	FindCardPayment:     newCall(ActFindCardPayment, short, CheckoutActivities.FindCardPayment),
	GetCardPayment:      newCall(ActGetCardPayment, forever, CheckoutActivities.GetCardPayment),
	VoidCard:            newCall(ActVoidCard, short, CheckoutActivities.VoidCard),
	RefundCard:          newCall(ActRefundCard, forever, CheckoutActivities.RefundCard),
	GetCardAction:       newCall(ActGetCardAction, short, CheckoutActivities.GetCardAction),
	VerifyRehivePayment: newCall(ActVerifyRehivePayment, short, CheckoutActivities.VerifyRehivePayment),
	RefundRehive:        newCall(ActRefundRehive, forever, CheckoutActivities.RefundRehive),
	FindRehivePayments:  newCall(ActFindRehivePayments, short, CheckoutActivities.FindRehivePayments),
	RefundCardPart:      newCall(ActRefundCardPart, forever, CheckoutActivities.RefundCardPart),
	ReverseRehivePart:   newCall(ActReverseRehivePart, forever, CheckoutActivities.ReverseRehivePart),
	RestockLines:        newEffect(ActRestockLines, forever, CheckoutActivities.RestockLines),
	SaveOrder:           newLocalEffect(ActSaveOrder, CheckoutActivities.SaveOrder),
}

// RegisterCheckoutActivities registers a's activities under the names the
// checkout workflow calls.
func RegisterCheckoutActivities(r ActivityRegistry, a CheckoutActivities) { registerAll(r, ckActs, a) }
