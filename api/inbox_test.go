package api

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/payflow/payflow/store"
)

type inboxPage struct {
	Items []struct {
		ID         int64           `json:"id"`
		EventID    string          `json:"event_id"`
		EventType  string          `json:"event_type"`
		WorkflowID string          `json:"workflow_id"`
		Status     string          `json:"status"`
		Payload    json.RawMessage `json:"payload"`
	} `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func (e *edgeApp) inbox(t *testing.T, query string) inboxPage {
	t.Helper()
	r := e.do(t, request(http.MethodGet, "/v1/webhooks/inbox?"+query, "", nil))
	if r.Status != http.StatusOK {
		t.Fatalf("inbox?%s: %d %s", query, r.Status, r.Body)
	}
	var p inboxPage
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func eventIDs(p inboxPage) []string {
	out := []string{}
	for _, it := range p.Items {
		out = append(out, it.EventID)
	}
	return out
}

// The listing filters by provider, type, routed workflow and time, pages
// with its cursor, and refuses filters it cannot apply.
func TestInboxListingFilters(t *testing.T) {
	e := newEdgeApp(t, "", nil)
	now := time.Now().UTC()
	for i, ord := range []string{"ord_a", "ord_b", "ord_a"} {
		body := fmt.Sprintf(`{"id":"evt_f%d","type":%q,"version":"1.0.0","created_on":%q,"data":{"id":"pay_%d","amount":100,"currency":"USD","reference":%q}}`,
			i, []string{"payment_captured", "payment_approved", "payment_refunded"}[i], now.Format(time.RFC3339), i, ord)
		if r := e.do(t, checkoutcomWebhook(e.cfg, body)); r.Status != http.StatusOK {
			t.Fatalf("webhook %d: %d %s", i, r.Status, r.Body)
		}
	}
	cases := map[string][]string{
		"provider=checkoutcom":                       {"evt_f2", "evt_f1", "evt_f0"},
		"order_id=ord_a":                             {"evt_f2", "evt_f0"},
		"order_id=ord_a&event_type=payment_captured": {"evt_f0"},
		"event_type=payment_approved":                {"evt_f1"},
		"provider=rehive":                            {},
		"since=" + url.QueryEscape(now.Add(-time.Hour).Format(time.RFC3339)) + "&order_id=ord_b": {"evt_f1"},
		"until=" + url.QueryEscape(now.Add(-time.Hour).Format(time.RFC3339)):                     {},
	}
	for q, want := range cases {
		if got := eventIDs(e.inbox(t, q)); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("inbox?%s = %v, want %v", q, got, want)
		}
	}
	first := e.inbox(t, "order_id=ord_a&limit=1")
	if first.NextCursor == nil || eventIDs(first)[0] != "evt_f2" {
		t.Fatalf("first page: %+v", first)
	}
	if got := eventIDs(e.inbox(t, "order_id=ord_a&limit=1&cursor="+*first.NextCursor)); len(got) != 1 || got[0] != "evt_f0" {
		t.Errorf("second page = %v, want [evt_f0]", got)
	}
	for _, q := range []string{"since=yesterday", "order_id=a&rehive_tx_id=b", "event_type=%00", "until=2026-01-01T00:00:00Z&since=2026-02-01T00:00:00Z", "order_id=" + strings.Repeat("x", 200)} {
		if r := e.do(t, request(http.MethodGet, "/v1/webhooks/inbox?"+q, "", nil)); r.Status != http.StatusBadRequest {
			t.Errorf("inbox?%s: %d, want 400", q, r.Status)
		}
	}
}

// The detail shows the payload as stored; the replay routes it again and
// records the new outcome; unknown ids are 404.
func TestInboxDetailAndReplay(t *testing.T) {
	e := newEdgeApp(t, "", nil)
	body := ckoEvent("evt_detail", time.Now().UTC().Format(time.RFC3339), "")
	if r := e.do(t, checkoutcomWebhook(e.cfg, body)); r.Status != http.StatusOK {
		t.Fatalf("webhook: %d %s", r.Status, r.Body)
	}
	// No workflow in the fake Temporal: the delivery after the ack finds the
	// event unroutable.
	eventually(t, 5*time.Second, "the delivery's outcome", func() bool {
		return e.inboxStatus(t, "checkoutcom", "evt_detail") != store.InboxPending
	})
	p := e.inbox(t, "order_id=ord_hostile")
	if len(p.Items) != 1 {
		t.Fatalf("listing: %+v", p)
	}
	if p.Items[0].Payload != nil {
		t.Errorf("the listing shows payloads only when asked: %s", p.Items[0].Payload)
	}
	id := p.Items[0].ID
	r := e.do(t, request(http.MethodGet, fmt.Sprintf("/v1/webhooks/inbox/%d", id), "", nil))
	var ev struct {
		EventID    string `json:"event_id"`
		WorkflowID string `json:"workflow_id"`
		Status     string `json:"status"`
		Payload    struct {
			ID string `json:"id"`
		} `json:"payload"`
	}
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &ev) != nil || ev.Payload.ID != "evt_detail" || ev.WorkflowID != "checkout/ord_hostile" {
		t.Fatalf("detail: %d %s", r.Status, r.Body)
	}
	if ev.Status != store.InboxUnroutable {
		t.Fatalf("status %q, want unroutable", ev.Status)
	}
	// Replayed, it is unroutable again.
	r = e.do(t, request(http.MethodPost, fmt.Sprintf("/v1/webhooks/inbox/%d/replay", id), "", nil))
	var rep struct {
		Status    string `json:"status"`
		Attempts  int    `json:"attempts"`
		Delivered bool   `json:"delivered"`
	}
	if r.Status != http.StatusAccepted || json.Unmarshal(r.Body, &rep) != nil {
		t.Fatalf("replay: %d %s", r.Status, r.Body)
	}
	if rep.Status != store.InboxUnroutable || rep.Delivered || rep.Attempts != 2 {
		t.Errorf("replay answered %+v, want unroutable after a second attempt", rep)
	}
	for _, path := range []string{"/v1/webhooks/inbox/999999999", "/v1/webhooks/inbox/abc", "/v1/webhooks/inbox/0"} {
		if r := e.do(t, request(http.MethodGet, path, "", nil)); r.Status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, r.Status)
		}
		if r := e.do(t, request(http.MethodPost, path+"/replay", "", nil)); r.Status != http.StatusNotFound {
			t.Errorf("POST %s/replay: %d, want 404", path, r.Status)
		}
	}
}

// /metrics serves the backlog: pending events and the oldest one's age.
func TestInboxBacklogMetrics(t *testing.T) {
	e := newEdgeApp(t, "", nil)
	ctx := context.Background()
	for i := range 3 {
		if _, _, err := e.store.RecordWebhook(ctx, store.InboxEvent{
			Provider: "checkoutcom", EventID: fmt.Sprintf("evt_backlog%d", i), EventType: "payment_captured",
			WorkflowID: sql.NullString{String: "checkout/ord_x", Valid: true}, Payload: json.RawMessage(`{}`),
		}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.store.DB().ExecContext(ctx, `UPDATE webhook_inbox SET received_at = now() - interval '90 seconds' WHERE event_id = 'evt_backlog0'`); err != nil {
		t.Fatal(err)
	}
	r := e.do(t, request(http.MethodGet, "/metrics", "", nil))
	text := string(r.Body)
	if !strings.Contains(text, "\npayflow_webhook_inbox_pending 3\n") {
		t.Errorf("no pending gauge of 3 in /metrics:\n%s", grepLines(text, "payflow_webhook_inbox"))
	}
	var age float64
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, "payflow_webhook_inbox_oldest_pending_seconds "); ok {
			_, _ = fmt.Sscan(v, &age)
		}
	}
	if age < 89 || age > 600 {
		t.Errorf("oldest pending age %v s, want about 90", age)
	}
}

func grepLines(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// /docs is a page whose script and style come from payflow itself.
func TestDocsPageIsSelfContained(t *testing.T) {
	app := New(Deps{Config: testConfig(t, nil)})
	resp, err := app.Test(request(http.MethodGet, "/docs", "", nil))
	if err != nil {
		t.Fatal(err)
	}
	b := readAll(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("/docs: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q does not keep the page to its origin", csp)
	}
	page := string(b)
	refs := 0
	for _, attr := range []string{`src="`, `href="`} {
		for rest := page; ; {
			i := strings.Index(rest, attr)
			if i < 0 {
				break
			}
			rest = rest[i+len(attr):]
			u := rest[:strings.Index(rest, `"`)]
			refs++
			if !strings.HasPrefix(u, "/") || strings.HasPrefix(u, "//") {
				t.Errorf("/docs references %q, not a same-origin path", u)
			}
			if strings.HasPrefix(u, "/docs/assets/") {
				ar, err := app.Test(request(http.MethodGet, u, "", nil))
				if err != nil {
					t.Fatal(err)
				}
				if body := readAll(t, ar); ar.StatusCode != http.StatusOK || len(body) < 100 {
					t.Errorf("%s: %d, %d bytes", u, ar.StatusCode, len(body))
				}
			}
		}
	}
	if refs < 3 || !strings.Contains(page, "/docs/assets/docs.js") || !strings.Contains(page, "/openapi.json") {
		t.Errorf("the page does not load its script and /openapi.json:\n%s", page)
	}
	if resp, _ := app.Test(request(http.MethodGet, "/docs/assets/openapi.go", "", nil)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown asset: %d, want 404", resp.StatusCode)
	}
}

func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
