package ledger

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>.
const SignatureHeader = "Ledger-Signature"

// DefaultTolerance is how far a webhook's timestamp may be from now.
const DefaultTolerance = 5 * time.Minute

var (
	ErrMalformedSignature = errors.New("ledger webhook: malformed signature header")
	ErrBadSignature       = errors.New("ledger webhook: signature mismatch")
	ErrStaleTimestamp     = errors.New("ledger webhook: timestamp outside tolerance")
)

// Sign returns the Ledger-Signature value for body sent at t.
func Sign(secret string, body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// VerifyWebhook checks a Ledger-Signature header against the raw body: any
// v1 signature may match (the ledger sends several while rotating secrets),
// and the timestamp must be within tolerance of now (DefaultTolerance when
// tolerance is not positive) in either direction, which bounds replays.
func VerifyWebhook(header string, body []byte, secret string, now time.Time, tolerance time.Duration) error {
	ts, unix, sigs, err := parseSignature(header)
	if err != nil {
		return err
	}
	if secret == "" {
		return fmt.Errorf("%w: no webhook secret configured", ErrBadSignature)
	}
	want := mac(secret, ts, body)
	matched := false
	for _, sig := range sigs {
		// No early exit, so timing does not reveal which signature matched.
		matched = hmac.Equal(sig, want) || matched
	}
	if !matched {
		return ErrBadSignature
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	skew := now.Unix() - unix
	if skew < 0 {
		skew = -skew
	}
	if skew > int64(tolerance/time.Second) {
		return ErrStaleTimestamp
	}
	return nil
}

// parseSignature splits "t=<digits>,v1=<hex>[,v1=<hex>...]" (any order,
// spaces allowed, unknown schemes ignored). It returns the timestamp exactly
// as sent (that string is what was signed) and as a number, and the
// decodable v1 signatures.
func parseSignature(header string) (ts string, unix int64, sigs [][]byte, err error) {
	for _, part := range strings.Split(header, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue // tolerate stray commas
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return "", 0, nil, ErrMalformedSignature
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "t":
			if ts != "" || !digits(v) {
				return "", 0, nil, ErrMalformedSignature
			}
			ts = v
			// digits guarantees this parses.
			unix, err = strconv.ParseInt(v, 10, 64)
		case "v1":
			if sig, err := hex.DecodeString(v); err == nil && len(sig) == sha256.Size {
				sigs = append(sigs, sig)
			}
		}
	}
	if err != nil || ts == "" || len(sigs) == 0 {
		return "", 0, nil, ErrMalformedSignature
	}
	return ts, unix, sigs, nil
}

// digits accepts 1-12 decimal digits: a Unix time well past year 30000, and
// small enough that the skew arithmetic cannot overflow.
func digits(s string) bool {
	if len(s) == 0 || len(s) > 12 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
