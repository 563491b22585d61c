package checkoutcom

import (
	"bytes"
	"encoding/json"
	"time"
)

// Metadata is a flat key/value map. Checkout.com may echo values as numbers or
// booleans; they are kept as their JSON text ("42", "true") so callers always
// see strings.
type Metadata map[string]string

// UnmarshalJSON accepts string, number, boolean and null values; nested
// values are kept as compact JSON text rather than rejected.
func (m *Metadata) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(Metadata, len(raw))
	for k, v := range raw {
		v = bytes.TrimSpace(v)
		switch {
		case len(v) == 0 || string(v) == "null":
			continue
		case v[0] == '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return err
			}
			out[k] = s
		default:
			var buf bytes.Buffer
			if err := json.Compact(&buf, v); err != nil {
				return err
			}
			out[k] = buf.String()
		}
	}
	*m = out
	return nil
}

// Link is a HAL link from _links.
type Link struct {
	Href string `json:"href"`
}

// parseTime reads Checkout.com timestamps (RFC 3339, any fraction of a
// second, sometimes without a zone). An unreadable value yields the zero time:
// timestamps are informational and must not make a whole response unusable.
func parseTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}
