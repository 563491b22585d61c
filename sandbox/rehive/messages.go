package rehive

import (
	"net/http"
	"slices"
)

// message is a note on a transaction for admins or the customer.
type message struct {
	ID      int64  `json:"id"`
	Message string `json:"message"`
	Level   string `json:"level"`
	Section string `json:"section"`
	Created int64  `json:"created"`
}

// addMessage handles POST /3/admin/transactions/{id}/messages/.
func (s *Sandbox) addMessage(w http.ResponseWriter, r *http.Request) {
	var req message
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, err)
		return
	}
	switch {
	case req.Message == "":
		writeError(w, fieldError("message", "This field is required."))
		return
	case req.Level != "info" && req.Level != "warning" && req.Level != "error":
		writeError(w, fieldError("level", "Level must be info, warning or error."))
		return
	case req.Section != "admin" && req.Section != "user":
		writeError(w, fieldError("section", "Section must be admin or user."))
		return
	}
	var m message
	err := s.write(func(*outbox) error {
		t := s.st.txs[r.PathValue("id")]
		if t == nil {
			return notFound()
		}
		s.st.lastMessage++
		m = message{ID: s.st.lastMessage, Message: req.Message, Level: req.Level, Section: req.Section, Created: nowMS()}
		t.messages = append(t.messages, m)
		return nil
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeData(w, http.StatusCreated, m)
}

// listMessages handles GET /3/admin/transactions/{id}/messages/.
func (s *Sandbox) listMessages(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	t := s.st.txs[r.PathValue("id")]
	var msgs []message
	if t != nil {
		msgs = slices.Clone(t.messages)
	}
	s.mu.Unlock()
	if t == nil {
		writeError(w, notFound())
		return
	}
	writeList(w, msgs)
}
