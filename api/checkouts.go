package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/payflow/payflow/money"
	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/workflows"
)

var (
	orderIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,49}$`)
	tokenPattern   = regexp.MustCompile(`^tok_[A-Za-z0-9_]{8,64}$`)
	emailPattern   = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
)

// refundWindow is how long a fulfilled checkout can still be cancelled
// (and refunded).
const refundWindow = workflows.DefaultRefundWindow

type checkoutBody struct {
	OrderID  string     `json:"order_id"`
	Currency string     `json:"currency"`
	Lines    []lineBody `json:"lines"`
	Customer struct {
		Email string `json:"email"`
	} `json:"customer"`
	Payment struct {
		Method         string `json:"method"`
		ProcessorToken string `json:"processor_token,omitempty"`
	} `json:"payment"`
}

type lineBody struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
}

func (b *checkoutBody) validate() *Error {
	f := map[string]string{}
	if !orderIDPattern.MatchString(b.OrderID) {
		f["order_id"] = "1-50 letters, digits, dot, dash, colon or underscore"
	}
	if !currencyPattern.MatchString(b.Currency) {
		f["currency"] = "ISO 4217 code such as USD"
	}
	if len(b.Lines) == 0 || len(b.Lines) > 100 {
		f["lines"] = "between 1 and 100 lines"
	}
	seen := map[string]bool{}
	for i, l := range b.Lines {
		if !skuPattern.MatchString(l.SKU) || seen[l.SKU] {
			f[fmt.Sprintf("lines[%d].sku", i)] = "a valid sku, once per checkout"
		}
		seen[l.SKU] = true
		if l.Quantity < 1 || l.Quantity > 10000 {
			f[fmt.Sprintf("lines[%d].quantity", i)] = "between 1 and 10000"
		}
	}
	if b.Customer.Email != "" && (len(b.Customer.Email) > 254 || !emailPattern.MatchString(b.Customer.Email)) {
		f["customer.email"] = "an email address"
	}
	switch b.Payment.Method {
	case workflows.MethodCard:
		if !tokenPattern.MatchString(b.Payment.ProcessorToken) {
			f["payment.processor_token"] = "a Checkout.com token (tok_...)"
		}
	case workflows.MethodRehive:
		if b.Payment.ProcessorToken != "" {
			f["payment.processor_token"] = "only for card payments"
		}
	default:
		f["payment.method"] = "card or rehive"
	}
	if len(f) > 0 {
		return invalidFields(f)
	}
	return nil
}

type checkoutCreated struct {
	OrderID    string                   `json:"order_id"`
	WorkflowID string                   `json:"workflow_id"`
	RunID      string                   `json:"run_id"`
	Status     workflows.CheckoutStatus `json:"status"`
	Amount     int64                    `json:"amount"`
	Currency   string                   `json:"currency"`
	// With Prefer: wait, the payment's first outcome.
	FailureReason string                  `json:"failure_reason,omitempty"`
	Payment       *workflows.PaymentState `json:"payment,omitempty"`
}

// createCheckout prices the cart, records the order and starts its workflow.
// The order id is the idempotency key: the same body again answers 200 with
// the same checkout, a different body 409.
func (s *server) createCheckout(c *fiber.Ctx) error {
	ctx := c.UserContext()
	var b checkoutBody
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	if err := b.validate(); err != nil {
		return err
	}
	if b.Payment.Method == workflows.MethodRehive && s.Config.IsManaged(b.Currency) {
		// Managed-currency transactions belong to the currency manager, which
		// would complete the transfer without the checkout ever hearing of it.
		return &Error{Status: http.StatusUnprocessableEntity, Code: "currency_managed",
			Message: b.Currency + " is a currency payflow manages on Rehive; checkouts cannot be paid in it", Fields: map[string]string{"currency": "managed currency"}}
	}
	amount, apiErr, err := s.priceCart(ctx, b)
	if err != nil {
		return s.storeError(err)
	}
	if apiErr != nil {
		return apiErr
	}
	wfID := workflows.CheckoutWorkflowID(b.OrderID)
	hash := hashJSON(b)
	var token string
	if b.Payment.Method == workflows.MethodCard {
		token = b.Payment.ProcessorToken
	}
	order, created, err := s.Store.CreateOrderWithToken(ctx, store.Order{
		OrderID: b.OrderID, Status: workflows.StatusPending, Amount: amount, Currency: b.Currency,
		PaymentMethod: b.Payment.Method, CustomerEmail: b.Customer.Email, RequestHash: hash, WorkflowID: wfID,
	}, token)
	if err != nil {
		return s.storeError(err)
	}
	if !created && order.RequestHash != hash {
		return errorf(http.StatusConflict, "order_conflict", "order "+b.OrderID+" exists with a different body")
	}
	// Starting is idempotent too: a retry after a failed start finishes the job.
	// A new checkout asked to wait (Prefer: wait=N) is started with its
	// first-outcome update; a repeat answers as it stands.
	var runID string
	var outcome *workflows.CheckoutState
	if wait := preferWait(c.Get("Prefer")); wait > 0 && created {
		runID, outcome, err = s.startCheckoutWaiting(ctx, b, order, wait)
	} else {
		runID, err = s.startCheckout(ctx, b, order)
	}
	if err != nil {
		s.log.Warn("checkout workflow not started", "order_id", b.OrderID, "error", err)
		return errorf(http.StatusServiceUnavailable, "temporal_unavailable", "the checkout is recorded but could not start; retry the same request")
	}
	// The run is not written to the order here (one commit fewer per
	// checkout): the workflow's first save records it, and for a run that
	// closed before that save the reconciliation's unstarted pass does.
	if order.RunID == "" {
		order.RunID = runID
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	res := checkoutCreated{
		OrderID: b.OrderID, WorkflowID: wfID, RunID: order.RunID, Status: order.Status, Amount: order.Amount, Currency: order.Currency,
	}
	if outcome != nil {
		c.Set("Preference-Applied", "wait")
		res.Status, res.FailureReason, res.Payment = outcome.Status, outcome.FailureReason, &outcome.Payment
	}
	return c.Status(status).JSON(res)
}

// priceCart prices the cart from the catalog so the answer can state the
// amount; the workflow prices it again and its figure is authoritative.
func (s *server) priceCart(ctx context.Context, b checkoutBody) (int64, *Error, error) {
	skus := make([]string, len(b.Lines))
	for i, l := range b.Lines {
		skus[i] = l.SKU
	}
	products, err := s.Store.GetProducts(ctx, skus)
	if err != nil {
		return 0, nil, err
	}
	var amount int64
	fields := map[string]string{}
	for i, l := range b.Lines {
		p, ok := products[l.SKU]
		switch {
		case !ok:
			fields[fmt.Sprintf("lines[%d].sku", i)] = "unknown sku"
		case !p.Active:
			fields[fmt.Sprintf("lines[%d].sku", i)] = "not for sale"
		case p.Currency != b.Currency:
			fields[fmt.Sprintf("lines[%d].sku", i)] = "priced in " + p.Currency
		}
		line, ok1 := money.Mul(p.Price, l.Quantity)
		sum, ok2 := money.Add(amount, line)
		if !ok1 || !ok2 {
			fields[fmt.Sprintf("lines[%d].quantity", i)] = "the cart's total is too large"
		}
		amount = sum
	}
	if len(fields) > 0 {
		return 0, &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_cart", Message: "the cart cannot be sold", Fields: fields}, nil
	}
	if amount <= 0 {
		// Nothing to pay: no provider takes a zero payment, and a free
		// order would hand out stock without a charge.
		return 0, &Error{Status: http.StatusUnprocessableEntity, Code: "zero_amount", Message: "the cart prices to zero; nothing can be charged", Fields: map[string]string{"lines": "prices to 0"}}, nil
	}
	return amount, nil, nil
}

// checkoutStart is the start of the order's checkout workflow: its options
// and input.
func (s *server) checkoutStart(b checkoutBody, order store.Order) (client.StartWorkflowOptions, workflows.CheckoutInput) {
	lines := make([]workflows.LineInput, len(b.Lines))
	for i, l := range b.Lines {
		lines[i] = workflows.LineInput{SKU: l.SKU, Quantity: l.Quantity}
	}
	in := workflows.CheckoutInput{
		OrderID: b.OrderID, Currency: b.Currency, Lines: lines, CustomerEmail: b.Customer.Email, Method: b.Payment.Method,
		PaymentTimeout: s.Config.PaymentTimeout, RefundWindow: refundWindow, LateWindow: s.Config.LateWindow,
	}
	md := workflows.CheckoutMetadata(in, order.Amount) // what the Web UI shows of the order
	return client.StartWorkflowOptions{
		ID:                       order.WorkflowID,
		TaskQueue:                s.Config.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		// Where a worker runs on this client (payflow dev, the in-process
		// stack), the server hands it the first workflow task in the start's
		// answer instead of through matching; elsewhere the SDK asks nothing.
		EnableEagerStart: true,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.SAOrderID.ValueSet(b.OrderID), workflows.SAStatus.ValueSet(string(workflows.StatusPending))),
		StaticSummary: md.Summary,
		StaticDetails: md.Details,
	}, in
}

// startCheckout starts the order's checkout workflow, or finds the run that
// serves it, and returns that run's id.
func (s *server) startCheckout(ctx context.Context, b checkoutBody, order store.Order) (string, error) {
	opts, in := s.checkoutStart(b, order)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	run, err := s.Temporal.ExecuteWorkflow(ctx, opts, workflows.CheckoutWorkflowName, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return started.RunId, nil // it ran and closed already
	}
	if err != nil {
		return "", err
	}
	return run.GetRunID(), nil
}

// loadOrder reads the order named by the :order_id parameter.
func (s *server) loadOrder(c *fiber.Ctx) (store.Order, error) {
	id := c.Params("order_id")
	if !orderIDPattern.MatchString(id) {
		// No order can have such an id (createCheckout validates it).
		return store.Order{}, errorf(http.StatusNotFound, "checkout_not_found", "no checkout with this order id")
	}
	order, err := s.Store.GetOrder(c.UserContext(), id)
	if errors.Is(err, store.ErrNotFound) {
		return order, errorf(http.StatusNotFound, "checkout_not_found", "no checkout with this order id")
	}
	if err != nil {
		return order, s.storeError(err)
	}
	return order, nil
}

// getCheckout answers from the workflow while it runs and from the read model
// once it has closed (or when the worker cannot answer).
func (s *server) getCheckout(c *fiber.Ctx) error {
	ctx := c.UserContext()
	order, err := s.loadOrder(c)
	if err != nil {
		return err
	}
	if !workflows.IsTerminal(order.Status) || workflows.RefundableStatus(order.Status) {
		var st workflows.CheckoutState
		if err := s.queryState(ctx, order.WorkflowID, &st); err == nil {
			return c.JSON(st)
		}
	}
	return c.JSON(order.CheckoutState())
}

type checkoutSummary struct {
	OrderID       string                   `json:"order_id"`
	Status        workflows.CheckoutStatus `json:"status"`
	Amount        int64                    `json:"amount"`
	Currency      string                   `json:"currency"`
	PaymentMethod string                   `json:"payment_method"`
	FailureReason string                   `json:"failure_reason"`
	WorkflowID    string                   `json:"workflow_id"`
	RunID         string                   `json:"run_id"`
	CreatedAt     time.Time                `json:"created_at"`
	UpdatedAt     time.Time                `json:"updated_at"`
}

// listCheckouts pages through the read model, newest first.
func (s *server) listCheckouts(c *fiber.Ctx) error {
	limit := 50
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return invalidFields(map[string]string{"limit": "between 1 and 500"})
		}
		limit = n
	}
	status := c.Query("status")
	if status != "" && !validStatus(status) {
		return invalidFields(map[string]string{"status": "a checkout status"})
	}
	cursor := c.Query("cursor")
	if cursor != "" && !orderIDPattern.MatchString(cursor) {
		return invalidFields(map[string]string{"cursor": "not a cursor this endpoint returned"})
	}
	orders, err := s.Store.ListOrders(c.UserContext(), status, limit, cursor)
	if errors.Is(err, store.ErrNotFound) {
		return invalidFields(map[string]string{"cursor": "not a cursor this endpoint returned"})
	}
	if err != nil {
		return s.storeError(err)
	}
	items := make([]checkoutSummary, len(orders))
	for i, o := range orders {
		items[i] = checkoutSummary{o.OrderID, o.Status, o.Amount, o.Currency, o.PaymentMethod, o.FailureReason, o.WorkflowID, o.RunID, o.CreatedAt, o.UpdatedAt}
	}
	var next *string
	if len(orders) == limit {
		next = &orders[len(orders)-1].OrderID
	}
	return c.JSON(fiber.Map{"items": items, "next_cursor": next})
}

func validStatus(word string) bool {
	s := workflows.CheckoutStatus(word)
	switch s {
	case workflows.StatusPending, workflows.StatusReserved, workflows.StatusAwaitingPayment, workflows.StatusRequiresAction, workflows.StatusPaid:
		return true
	}
	return workflows.IsTerminal(s)
}

// cancelWait bounds how long the cancel request waits for the workflow to
// settle the cancel (void or refund confirmed, stock released).
const cancelWait = 20 * time.Second

// cancelCheckout cancels through the workflow's cancel update, so the answer
// is the workflow's own: 202 with the status it settled on (cancelled,
// refunded, needs_attention, ...), or with the current status when settling
// outlasts cancelWait; 409 once the order can no longer change. Repeats of
// the request join the same update (one id per order).
func (s *server) cancelCheckout(c *fiber.Ctx) error {
	ctx := c.UserContext()
	order, err := s.loadOrder(c)
	if err != nil {
		return err
	}
	if workflows.IsTerminal(order.Status) && !workflows.RefundableStatus(order.Status) {
		return errorf(http.StatusConflict, "checkout_final", "the checkout is already "+string(order.Status))
	}
	uctx, cancel := context.WithTimeout(ctx, cancelWait)
	defer cancel()
	h, err := s.Temporal.UpdateWorkflow(uctx, client.UpdateWorkflowOptions{
		WorkflowID: order.WorkflowID, UpdateID: "api-cancel", UpdateName: workflows.UpdateCancel,
		WaitForStage: client.WorkflowUpdateStageAccepted,
	})
	var status workflows.CheckoutStatus
	if err == nil {
		err = h.Get(uctx, &status)
	}
	var notFound *serviceerror.NotFound
	var rejected *temporal.ApplicationError
	switch {
	case err == nil:
		return c.Status(http.StatusAccepted).JSON(fiber.Map{"order_id": order.OrderID, "status": status})
	case errors.As(err, &notFound):
		return errorf(http.StatusConflict, "checkout_final", "the checkout is closed ("+string(order.Status)+")")
	case errors.As(err, &rejected):
		return errorf(http.StatusConflict, "checkout_final", rejected.Error())
	case h != nil && uctx.Err() != nil:
		// Accepted, still settling (e.g. waiting for Checkout.com to confirm a
		// refund): the workflow finishes it; GET shows the outcome.
		var st workflows.CheckoutState
		status = order.Status
		if s.queryState(ctx, order.WorkflowID, &st) == nil {
			status = st.Status
		}
		return c.Status(http.StatusAccepted).JSON(fiber.Map{"order_id": order.OrderID, "status": status})
	}
	return errorf(http.StatusServiceUnavailable, "temporal_unavailable", "could not reach the workflow; retry")
}
