package checkoutcom

import (
	"net/http"
	"time"
)

// tokenTTL is how long a card token lives on Checkout.com.
const tokenTTL = 15 * time.Minute

type card struct {
	number      string
	expiryMonth int
	expiryYear  int
}

func (c card) last4() string { return c.number[len(c.number)-4:] }
func (c card) bin() string   { return c.number[:6] }

func (c card) scheme() string {
	switch c.number[0] {
	case '4':
		return "Visa"
	case '5', '2':
		return "Mastercard"
	case '3':
		return "Amex"
	default:
		return "Unknown"
	}
}

type token struct {
	card    card
	expires time.Time
	used    bool
}

type tokenRequest struct {
	Type        string `json:"type"`
	Number      string `json:"number"`
	ExpiryMonth int    `json:"expiry_month"`
	ExpiryYear  int    `json:"expiry_year"`
	CVV         string `json:"cvv"`
}

// createToken is POST /tokens. On Checkout.com it takes the public key; the
// sandbox needs none.
func (s *Sandbox) createToken(w http.ResponseWriter, r *http.Request) {
	var req tokenRequest
	if err := decodeBody(r, w, &req); err != nil {
		invalid(w, "request_body_malformed")
		return
	}
	now := s.now()
	var codes []string
	if req.Type != "card" {
		codes = append(codes, "token_type_invalid")
	}
	if !validCardNumber(req.Number) {
		codes = append(codes, "card_number_invalid")
	}
	switch {
	case req.ExpiryMonth < 1 || req.ExpiryMonth > 12:
		codes = append(codes, "card_expiry_month_invalid")
	case req.ExpiryYear < 1000 || req.ExpiryYear > 9999:
		codes = append(codes, "card_expiry_year_invalid")
	case req.ExpiryYear < now.Year() || (req.ExpiryYear == now.Year() && req.ExpiryMonth < int(now.Month())):
		codes = append(codes, "card_expired")
	}
	if req.CVV != "" && (len(req.CVV) < 3 || len(req.CVV) > 4 || !digits(req.CVV)) {
		codes = append(codes, "cvv_invalid")
	}
	if len(codes) > 0 {
		invalid(w, codes...)
		return
	}
	c := card{number: req.Number, expiryMonth: req.ExpiryMonth, expiryYear: req.ExpiryYear}
	t := &token{card: c, expires: now.Add(tokenTTL)}
	id := newID("tok_")
	s.mu.Lock()
	s.tokens[id] = t
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{
		"type":         "card",
		"token":        id,
		"expires_on":   t.expires.UTC().Format(time.RFC3339),
		"expiry_month": c.expiryMonth,
		"expiry_year":  c.expiryYear,
		"scheme":       c.scheme(),
		"last4":        c.last4(),
		"bin":          c.bin(),
		"card_type":    "CREDIT",
	})
}

// useToken spends a token, returning its card or the 422 error code.
// s.mu must be held.
func (s *Sandbox) useToken(id string) (card, string) {
	t, ok := s.tokens[id]
	switch {
	case !ok:
		return card{}, "token_invalid"
	case t.used:
		return card{}, "token_used"
	case !s.now().Before(t.expires):
		return card{}, "token_expired"
	}
	t.used = true
	return t.card, ""
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// validCardNumber checks length and the Luhn checksum.
func validCardNumber(n string) bool {
	if len(n) < 12 || len(n) > 19 || !digits(n) {
		return false
	}
	sum := 0
	for i := range len(n) {
		d := int(n[len(n)-1-i] - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}
