package ledger

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	eventUpdated  = "transaction.updated"
	eventIncoming = "transaction.incoming"
)

type event struct {
	ID      string      `json:"id"`
	Type    string      `json:"type"`
	Created time.Time   `json:"created"`
	Data    transaction `json:"data"`
}

// signHeader sets Ledger-Signature: t=<unix>,v1=<hex HMAC-SHA256("<t>.<body>")>.
// It runs per delivery attempt, so a retry carries a fresh timestamp while a
// duplicate keeps the same body and event id.
func (s *Sandbox) signHeader(h http.Header, body []byte) {
	t := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(s.cfg.WebhookSecret))
	mac.Write([]byte(t))
	mac.Write([]byte("."))
	mac.Write(body)
	h.Set("Ledger-Signature", "t="+t+",v1="+hex.EncodeToString(mac.Sum(nil)))
}

// newEvent snapshots tx into a webhook body; call it under s.mu and send the
// result after unlocking.
func (s *Sandbox) newEvent(typ string, tx transaction) []byte {
	body, err := json.Marshal(event{ID: newID("evt_"), Type: typ, Created: time.Now().UTC(), Data: tx})
	if err != nil {
		// Only reachable if the types above stop being plain data.
		s.log.Error("ledger sandbox: encode webhook", "error", err)
		return nil
	}
	return body
}

// send hands webhook bodies to the sender; never call it holding s.mu.
func (s *Sandbox) send(bodies ...[]byte) {
	for _, b := range bodies {
		if b != nil {
			s.sender.Send(b)
		}
	}
}

func newID(prefix string) string {
	return prefix + strings.ToLower(rand.Text())
}
