package inbox

import "encoding/json"

// Redact removes customer credentials from a webhook before it is stored:
// Checkout.com echoes the card token as metadata.AccelerateToken. The rest
// of the event is kept as received, for the relay and for operators.
func Redact(provider string, payload []byte) []byte {
	if provider != CheckoutCom {
		return payload
	}
	var ev map[string]any
	if json.Unmarshal(payload, &ev) != nil {
		return payload
	}
	data, _ := ev["data"].(map[string]any)
	meta, _ := data["metadata"].(map[string]any)
	if _, ok := meta["AccelerateToken"]; !ok {
		return payload
	}
	meta["AccelerateToken"] = "[redacted]"
	out, err := json.Marshal(ev)
	if err != nil {
		return payload
	}
	return out
}
