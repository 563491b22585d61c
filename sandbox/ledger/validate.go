package ledger

import "fmt"

// createBody is the body of POST /v1/transactions.
type createBody struct {
	ID          string            `json:"id"`
	Type        string            `json:"type"`
	Account     string            `json:"account"`
	Amount      int64             `json:"amount"`
	Currency    string            `json:"currency"`
	Status      string            `json:"status"`
	Destination string            `json:"destination"`
	Metadata    map[string]string `json:"metadata"`
}

// fieldError is a 422 answer: a machine code and a human message.
type fieldError struct{ code, message string }

func (b createBody) validate() *fieldError {
	switch {
	case b.ID == "":
		return &fieldError{"id_required", "id is required"}
	case len(b.ID) > 100:
		return &fieldError{"id_too_long", "id must be at most 100 characters"}
	case !printable(b.ID):
		return &fieldError{"id_invalid", "id must not contain spaces or control characters"}
	case b.Type != typeWithdrawal && b.Type != typeDeposit:
		return &fieldError{"type_invalid", "type must be withdrawal or deposit"}
	case b.Status != "" && b.Status != statusPending && b.Status != statusComplete:
		return &fieldError{"status_invalid", "status must be pending or complete"}
	}
	if fe := validateAccount(b.Account); fe != nil {
		return fe
	}
	if fe := validateMoney(b.Amount, b.Currency); fe != nil {
		return fe
	}
	if len(b.Destination) > 200 {
		return &fieldError{"destination_invalid", "destination must be at most 200 characters"}
	}
	return nil
}

func validateAccount(account string) *fieldError {
	switch {
	case account == "":
		return &fieldError{"account_required", "account is required"}
	case len(account) > 100 || !printable(account):
		return &fieldError{"account_invalid", "account must be at most 100 printable characters without spaces"}
	}
	return nil
}

func validateMoney(amount int64, currency string) *fieldError {
	if amount <= 0 {
		return &fieldError{"amount_invalid", "amount must be a positive integer in minor units"}
	}
	if currency == "" {
		return &fieldError{"currency_required", "currency is required"}
	}
	if len(currency) > 12 {
		return &fieldError{"currency_invalid", fmt.Sprintf("currency must be 1-12 upper-case letters or digits, got %d characters", len(currency))}
	}
	for _, r := range currency {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return &fieldError{"currency_invalid", "currency must be 1-12 upper-case letters or digits"}
		}
	}
	return nil
}

// printable rejects whitespace and control characters, which have no place
// in ids that end up in URL paths and logs.
func printable(s string) bool {
	for _, r := range s {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}
