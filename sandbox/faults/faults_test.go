package faults

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestLoseAnswersControl(t *testing.T) {
	var i Injector
	post := func(body string) int {
		w := httptest.NewRecorder()
		i.ServeControl(w, httptest.NewRequest(http.MethodPost, "/_control/faults", strings.NewReader(body)))
		return w.Code
	}
	for _, bad := range []string{`{"lose_mode":"drop"}`, `{"approvals":"later"}`, `{"lose_answers_next":-1}`} {
		if c := post(bad); c != http.StatusBadRequest {
			t.Errorf("%s = %d, want 400", bad, c)
		}
	}
	// The mode defaults to 5xx; N losses, then none, each counted.
	if c := post(`{"lose_answers_next":2}`); c != http.StatusOK {
		t.Fatalf("set = %d", c)
	}
	got := []LoseMode{i.TakeLoss(), i.TakeLoss(), i.TakeLoss()}
	if got[0] != Lose5xx || got[1] != Lose5xx || got[2] != "" {
		t.Errorf("losses = %q", got)
	}
	if cfg, st := i.Snapshot(); st.AnswersLost != 2 || cfg.LoseAnswersNext != 0 {
		t.Errorf("state = %+v %+v", cfg, st)
	}
	if i.Approvals() != "immediate" {
		t.Errorf("default approvals = %s", i.Approvals())
	}
	post(`{"approvals":"held"}`)
	if i.Approvals() != "held" {
		t.Errorf("approvals = %s", i.Approvals())
	}
	post(`{"approvals":"pending"}`)
	if i.Approvals() != "pending" {
		t.Errorf("approvals = %s", i.Approvals())
	}
}

func TestLossyCarriesOutThenLoses(t *testing.T) {
	var i Injector
	calls := 0
	h := i.Lossy(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { calls++; w.WriteHeader(http.StatusCreated) }))
	i.Set(Config{LoseAnswersNext: 1, LoseMode: Lose5xx})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", nil))
	if calls != 1 || w.Code != http.StatusBadGateway {
		t.Errorf("lost: calls %d, status %d", calls, w.Code)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", nil))
	if calls != 2 || w.Code != http.StatusCreated {
		t.Errorf("next: calls %d, status %d", calls, w.Code)
	}
}
