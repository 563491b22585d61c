package rehive

import "encoding/json"

const (
	eventTransactionCreate = "transaction.create"
	eventTransactionUpdate = "transaction.update"
	eventTransitionCreate  = "transaction.transition.create"
	eventTransitionUpdate  = "transaction.transition.update"
)

// outbox collects the webhooks of one state change, sent once the lock is
// released.
type outbox struct{ bodies [][]byte }

type event struct {
	ID      int64  `json:"id"`
	Event   string `json:"event"`
	Company string `json:"company"`
	Data    any    `json:"data"`
}

// queueLocked numbers an event and adds it to ob. The body is fixed here, so
// every retry and duplicate carries the same id and data.
func (s *Sandbox) queueLocked(ob *outbox, name string, data any) {
	s.st.lastEvent++
	body, err := json.Marshal(event{ID: s.st.lastEvent, Event: name, Company: s.st.company, Data: data})
	if err != nil {
		s.log.Error("rehive sandbox: encode webhook", "event", name, "error", err)
		return
	}
	ob.bodies = append(ob.bodies, body)
}

// send hands the bodies to the sender, which delivers them asynchronously.
func (s *Sandbox) send(ob *outbox) {
	for _, b := range ob.bodies {
		s.sender.Send(b)
	}
}
