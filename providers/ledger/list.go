package ledger

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/payflow/payflow/providers/httpx"
)

// ListFilter narrows ListTransactions; zero fields do not filter.
type ListFilter struct {
	Type         Type
	Status       Status
	CreatedAfter time.Time // exclusive
	// Limit is the page size per request (1..100; 0 means 100).
	Limit int
}

// maxListPages bounds ListTransactions: a filter that matches more than
// maxListPages×Limit transactions is too broad for one call.
const maxListPages = 50

// ListTransactions lists transactions (GET /v1/transactions) oldest first,
// following the pages with starting_after. The reconciliation lists recent
// deposits with it, to start the workflow of one whose webhooks were lost.
func (c *Client) ListTransactions(ctx context.Context, f ListFilter) ([]Transaction, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if f.Type != "" {
		q.Set("type", string(f.Type))
	}
	if f.Status != "" {
		q.Set("status", string(f.Status))
	}
	if !f.CreatedAfter.IsZero() {
		q.Set("created_after", f.CreatedAfter.UTC().Format(time.RFC3339Nano))
	}
	var out []Transaction
	for range maxListPages {
		var page struct {
			Data    []Transaction `json:"data"`
			HasMore bool          `json:"has_more"`
		}
		if err := c.call(ctx, http.MethodGet, "/v1/transactions?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Data...)
		if !page.HasMore || len(page.Data) == 0 {
			return out, nil
		}
		q.Set("starting_after", page.Data[len(page.Data)-1].ID)
	}
	return nil, &httpx.Error{Provider: provider, Class: httpx.Invalid,
		Message: fmt.Sprintf("list: more than %d pages of %d; narrow the filter", maxListPages, limit)}
}
