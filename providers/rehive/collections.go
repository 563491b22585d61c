package rehive

import (
	"context"
	"net/http"
)

// CollectionRequest creates transactions as one collection. Ids are uuids
// chosen by the caller (see DeriveID): sending the same request again returns
// the existing collection instead of a duplicate. Status, on the collection or
// on a transaction, sets it directly (the manager's way to create deposits).
type CollectionRequest struct {
	ID           string         `json:"id,omitempty"`
	Transactions []CollectionTx `json:"transactions"`
	Status       string         `json:"status,omitempty"`
}

// CollectionTx is one transaction of a CollectionRequest. Amount is positive
// minor units; User (id or email) or Account (reference) says whose it is.
type CollectionTx struct {
	ID        string         `json:"id,omitempty"`
	TxType    string         `json:"tx_type"`
	Amount    int64          `json:"amount"`
	Currency  string         `json:"currency"`
	Account   string         `json:"account,omitempty"`
	User      string         `json:"user,omitempty"`
	Subtype   string         `json:"subtype,omitempty"`
	Reference string         `json:"reference,omitempty"`
	Metadata  map[string]any `json:"metadata,omitempty"`
	Status    string         `json:"status,omitempty"`
}

// CreateCollection creates a transaction collection
// (POST /admin/transaction-collections/). It is retried when it carries an
// idempotency key or when every id is client-chosen.
func (c *Client) CreateCollection(ctx context.Context, req CollectionRequest, idempotencyKey string) (*Collection, error) {
	retry := req.ID != ""
	if !retry && len(req.Transactions) > 0 {
		retry = true
		for _, tx := range req.Transactions {
			retry = retry && tx.ID != ""
		}
	}
	var out Collection
	k := call{method: http.MethodPost, path: "/admin/transaction-collections/", token: c.admin, body: req, key: idempotencyKey, retry: retry}
	if err := c.do(ctx, k, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetCollection reads a collection (GET /admin/transaction-collections/{id}/).
func (c *Client) GetCollection(ctx context.Context, id string) (*Collection, error) {
	p, err := pathID("collection", id)
	if err != nil {
		return nil, err
	}
	var out Collection
	if err := c.do(ctx, call{method: http.MethodGet, path: "/admin/transaction-collections/" + p + "/", token: c.admin}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// PatchCollection moves every transaction of a collection to status
// (PATCH /admin/transaction-collections/{id}/).
func (c *Client) PatchCollection(ctx context.Context, id, status, idempotencyKey string) (*Collection, error) {
	p, err := pathID("collection", id)
	if err != nil {
		return nil, err
	}
	var out Collection
	k := call{method: http.MethodPatch, path: "/admin/transaction-collections/" + p + "/", token: c.admin,
		body: map[string]string{"status": status}, key: idempotencyKey}
	if err := c.do(ctx, k, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
