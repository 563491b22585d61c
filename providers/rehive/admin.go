package rehive

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/payflow/payflow/providers/httpx"
)

// GetTransaction reads a transaction (GET /admin/transactions/{id}/).
func (c *Client) GetTransaction(ctx context.Context, id string) (*Transaction, error) {
	p, err := pathID("transaction", id)
	if err != nil {
		return nil, err
	}
	var out Transaction
	if err := c.do(ctx, call{method: http.MethodGet, path: "/admin/transactions/" + p + "/", token: c.admin}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// TransactionPatch changes a transaction; empty fields are left alone.
// Metadata is a JSON Merge Patch of the stored metadata, as Rehive applies
// it: the keys given are set, a key set to nil is removed, the others stay.
type TransactionPatch struct {
	Status   string         `json:"status,omitempty"` // Pending | Complete | Failed
	Metadata map[string]any `json:"metadata,omitempty"`
	Note     string         `json:"note,omitempty"`
}

// PatchTransaction updates a transaction (PATCH /admin/transactions/{id}/).
// Setting Complete or Failed also resolves its pending transition.
func (c *Client) PatchTransaction(ctx context.Context, id string, patch TransactionPatch, idempotencyKey string) (*Transaction, error) {
	p, err := pathID("transaction", id)
	if err != nil {
		return nil, err
	}
	var out Transaction
	k := call{method: http.MethodPatch, path: "/admin/transactions/" + p + "/", token: c.admin, body: patch, key: idempotencyKey}
	if err := c.do(ctx, k, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AddMessage attaches a message to a transaction
// (POST /admin/transactions/{id}/messages/); section "user" shows it to the
// customer.
func (c *Client) AddMessage(ctx context.Context, txID string, msg Message, idempotencyKey string) (*Message, error) {
	p, err := pathID("transaction", txID)
	if err != nil {
		return nil, err
	}
	body := Message{Message: msg.Message, Level: msg.Level, Section: msg.Section}
	var out Message
	k := call{method: http.MethodPost, path: "/admin/transactions/" + p + "/messages/", token: c.admin, body: body, key: idempotencyKey}
	if err := c.do(ctx, k, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// TransactionFilter narrows ListTransactions; zero fields do not filter.
type TransactionFilter struct {
	Account      string    // account reference
	TxType       string    // Credit or Debit
	User         string    // user id or email
	Status       string    // e.g. StatusPending
	CreatedAfter time.Time // created strictly after (millisecond precision)
	PageSize     int       // per request; 0 means 100
}

// maxListPages bounds ListTransactions: a filter that matches more than
// maxListPages×PageSize transactions is too broad for one call.
const maxListPages = 50

// ListTransactions lists transactions (GET /admin/transactions/), newest
// first, following the pages Rehive links with next. Used to find a
// transaction whose webhooks never came (e.g. by metadata.order_id on the
// merchant's account), so bound it with CreatedAfter.
func (c *Client) ListTransactions(ctx context.Context, f TransactionFilter) ([]Transaction, error) {
	size := f.PageSize
	if size <= 0 {
		size = 100
	}
	q := url.Values{"orderby": {"-created"}, "page_size": {strconv.Itoa(size)}}
	for k, v := range map[string]string{"account": f.Account, "tx_type": f.TxType, "user": f.User, "status": f.Status} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if !f.CreatedAfter.IsZero() {
		q.Set("created__gt", strconv.FormatInt(f.CreatedAfter.UnixMilli(), 10))
	}
	path := "/admin/transactions/?" + q.Encode()
	var out []Transaction
	seen := map[ID]bool{}
	for range maxListPages {
		var page struct {
			Next    *string       `json:"next"`
			Results []Transaction `json:"results"`
		}
		if err := c.do(ctx, call{method: http.MethodGet, path: path, token: c.admin}, &page); err != nil {
			return nil, err
		}
		for _, t := range page.Results {
			// A transaction created while we page shifts the pages: the
			// same one may come twice.
			if !seen[t.ID] {
				seen[t.ID] = true
				out = append(out, t)
			}
		}
		if page.Next == nil || *page.Next == "" {
			return out, nil
		}
		// The admin token goes only to our own base URL.
		rest, ok := strings.CutPrefix(*page.Next, c.base)
		if !ok || !strings.HasPrefix(rest, "/admin/transactions/") {
			return nil, &httpx.Error{Provider: provider, Class: httpx.Retryable, Message: "list: next page outside the API base"}
		}
		path = rest
	}
	return nil, &httpx.Error{Provider: provider, Class: httpx.Invalid,
		Message: fmt.Sprintf("list: more than %d pages of %d; narrow the filter", maxListPages, size)}
}
