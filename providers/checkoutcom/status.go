package checkoutcom

// Status is a payment's status.
type Status string

// Payment statuses (GET /payments/{id}).
const (
	StatusPending           Status = "Pending"
	StatusAuthorized        Status = "Authorized"
	StatusCardVerified      Status = "Card Verified"
	StatusVoided            Status = "Voided"
	StatusPartiallyCaptured Status = "Partially Captured"
	StatusCaptured          Status = "Captured"
	StatusPartiallyRefunded Status = "Partially Refunded"
	StatusRefunded          Status = "Refunded"
	StatusDeclined          Status = "Declined"
	StatusCanceled          Status = "Canceled"
	StatusExpired           Status = "Expired"
	StatusPaid              Status = "Paid"
)

// ActionType is the type of a payment action (GET /payments/{id}/actions).
type ActionType string

// Action types.
const (
	ActionAuthorization    ActionType = "Authorization"
	ActionCardVerification ActionType = "Card Verification"
	ActionCapture          ActionType = "Capture"
	ActionVoid             ActionType = "Void"
	ActionRefund           ActionType = "Refund"
)

// ResponseCodeApproved is the gateway response code of an approved action.
const ResponseCodeApproved = "10000"
