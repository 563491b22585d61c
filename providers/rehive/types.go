package rehive

// Transaction statuses; Complete and Failed are final.
const (
	StatusInitiating = "Initiating"
	StatusQuoted     = "Quoted"
	StatusPending    = "Pending"
	StatusComplete   = "Complete"
	StatusFailed     = "Failed"
)

// Transaction types.
const (
	Credit = "credit"
	Debit  = "debit"
)

// Transition statuses.
const (
	TransitionQueued   = "queued"
	TransitionPending  = "pending"
	TransitionApproved = "approved"
	TransitionDeclined = "declined"
)

// Message levels and sections for AddMessage.
const (
	LevelInfo    = "info"
	LevelWarning = "warning"
	LevelError   = "error"
	SectionAdmin = "admin"
	SectionUser  = "user"
)

// IsFinal reports whether a transaction status can no longer change.
func IsFinal(status string) bool { return status == StatusComplete || status == StatusFailed }

// Transaction is Rehive's admin transaction object. Amounts are minor units of
// Currency; debits come back negative. JSON tags give the wire names, so a
// Transaction marshals to a form UnmarshalJSON reads back (workflows pass it
// through Temporal's JSON converter).
type Transaction struct {
	ID          ID             `json:"id"`
	Collection  ID             `json:"collection"`
	Partner     *Partner       `json:"partner"` // not nil for a transfer
	TxType      string         `json:"tx_type"`
	Subtype     string         `json:"subtype"`
	Status      string         `json:"status"`
	Amount      int64          `json:"amount"`
	Fee         int64          `json:"fee"`
	TotalAmount int64          `json:"total_amount"`
	Account     string         `json:"account"` // account reference
	Currency    Currency       `json:"currency"`
	User        User           `json:"user"`
	Metadata    map[string]any `json:"metadata"`
	Reference   string         `json:"reference"`
	Note        string         `json:"note"`
	Created     int64          `json:"created"` // epoch milliseconds
	Updated     int64          `json:"updated"`
	Executed    int64          `json:"executed"`
}

// AbsAmount is the amount without the sign Rehive puts on debits.
func (t *Transaction) AbsAmount() int64 {
	if t.Amount < 0 {
		return -t.Amount
	}
	return t.Amount
}

// IsTransfer reports whether the transaction is one side of a transfer.
func (t *Transaction) IsTransfer() bool { return t.Partner != nil }

// Partner is the other side of a transfer.
type Partner struct {
	ID        ID     `json:"id"` // the partner transaction
	Reference string `json:"reference,omitempty"`
	Account   string `json:"account,omitempty"`
	User      *User  `json:"user,omitempty"`
}

// Currency describes amounts: Divisibility is the number of decimal places of
// the minor unit (USD 2, XLM 7).
type Currency struct {
	Code         string `json:"code"`
	Divisibility int    `json:"divisibility"`
	Symbol       string `json:"symbol,omitempty"`
	Description  string `json:"description,omitempty"`
	Unit         string `json:"unit,omitempty"`
}

// User identifies a Rehive user.
type User struct {
	ID    ID     `json:"id"`
	Email string `json:"email,omitempty"`
}

// Collection is a group of transactions that move together.
type Collection struct {
	ID           ID            `json:"id"`
	Status       string        `json:"status"`
	Transactions []Transaction `json:"transactions"`
}

// Transition is a pending status change of a managed-currency transaction,
// waiting for the manager to approve or decline it.
type Transition struct {
	ID          ID          `json:"id"`
	Transaction Transaction `json:"transaction"`
	Status      string      `json:"status"`
	FromStatus  string      `json:"from_status"`
	ToStatus    string      `json:"to_status"`
}

// Account is a customer account with a balance per currency.
type Account struct {
	Reference  string            `json:"reference"`
	Name       string            `json:"name"`
	Primary    bool              `json:"primary"`
	Currencies []AccountCurrency `json:"currencies"`
}

// AccountCurrency is one currency's balance on an account, in minor units.
type AccountCurrency struct {
	Balance          int64    `json:"balance"`
	AvailableBalance int64    `json:"available_balance"`
	Currency         Currency `json:"currency"`
}

// Currency returns the balance entry for code, or nil.
func (a *Account) Currency(code string) *AccountCurrency {
	for i := range a.Currencies {
		if a.Currencies[i].Currency.Code == code {
			return &a.Currencies[i]
		}
	}
	return nil
}

// Message is a note attached to a transaction, shown to admins or the user.
type Message struct {
	ID      ID     `json:"id,omitempty"`
	Message string `json:"message"`
	Level   string `json:"level"`   // info | warning | error
	Section string `json:"section"` // admin | user
	Created int64  `json:"created,omitempty"`
}
