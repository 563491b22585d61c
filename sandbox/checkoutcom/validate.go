package checkoutcom

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
)

// paymentRequest is the part of POST /payments the sandbox understands.
type paymentRequest struct {
	Source *struct {
		Type  string `json:"type"`
		Token string `json:"token"`
	} `json:"source"`
	Amount              json.RawMessage `json:"amount"`
	Currency            string          `json:"currency"`
	Reference           string          `json:"reference"`
	Capture             *bool           `json:"capture"` // Checkout.com defaults to true
	ProcessingChannelID string          `json:"processing_channel_id"`
	Customer            *struct {
		Email string `json:"email"`
	} `json:"customer"`
	ThreeDS *struct {
		Enabled bool `json:"enabled"`
	} `json:"3ds"`
	SuccessURL string                     `json:"success_url"`
	FailureURL string                     `json:"failure_url"`
	Metadata   map[string]json.RawMessage `json:"metadata"`
}

// validate returns the amount and the 422 error codes, if any.
func (req *paymentRequest) validate() (int64, []string) {
	var codes []string
	if req.Source == nil || req.Source.Type != "token" {
		codes = append(codes, "source_invalid")
	} else if req.Source.Token == "" {
		codes = append(codes, "token_required")
	}
	amount, err := strconv.ParseInt(string(bytes.TrimSpace(req.Amount)), 10, 64)
	if err != nil || amount <= 0 {
		codes = append(codes, "amount_invalid")
	}
	if !isCurrency(req.Currency) {
		codes = append(codes, "currency_invalid")
	}
	if len(req.Reference) > 50 {
		codes = append(codes, "reference_invalid")
	}
	switch {
	case req.ProcessingChannelID == "":
		codes = append(codes, "processing_channel_id_required")
	case !validChannel(req.ProcessingChannelID):
		codes = append(codes, "processing_channel_id_invalid")
	}
	if req.Customer != nil && req.Customer.Email != "" && !strings.Contains(req.Customer.Email, "@") {
		codes = append(codes, "customer_email_invalid")
	}
	if req.SuccessURL != "" && !absoluteURL(req.SuccessURL) {
		codes = append(codes, "success_url_invalid")
	}
	if req.FailureURL != "" && !absoluteURL(req.FailureURL) {
		codes = append(codes, "failure_url_invalid")
	}
	if !validMetadata(req.Metadata) {
		codes = append(codes, "metadata_invalid")
	}
	return amount, codes
}

// validChannel checks the shape of a processing channel id: pc_ and 26
// lowercase letters or digits.
func validChannel(id string) bool {
	rest, ok := strings.CutPrefix(id, "pc_")
	if !ok || len(rest) != 26 {
		return false
	}
	for _, r := range rest {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

func isCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for _, r := range c {
		if (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') {
			return false
		}
	}
	return true
}

func absoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && u.Host != ""
}

// validMetadata enforces Checkout.com's limits: at most 20 keys, flat
// primitive values of at most 255 characters.
func validMetadata(m map[string]json.RawMessage) bool {
	if len(m) > 20 {
		return false
	}
	for k, raw := range m {
		raw = bytes.TrimSpace(raw)
		if k == "" || len(raw) == 0 || raw[0] == '{' || raw[0] == '[' {
			return false
		}
		if raw[0] == '"' {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil || len([]rune(s)) > 255 {
				return false
			}
		} else if len(raw) > 255 {
			return false
		}
	}
	return true
}
