package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/payflow/payflow/store"
	"github.com/payflow/payflow/store/storetest"
	"github.com/payflow/payflow/workflows"
)

// cmFakeQueries answers state queries by workflow id; any other workflow id
// gets err.
type cmFakeQueries struct {
	client.Client
	states map[string]any
	err    error
}

func (f *cmFakeQueries) QueryWorkflow(_ context.Context, workflowID, _, queryType string, _ ...any) (converter.EncodedValue, error) {
	if st, ok := f.states[workflowID]; ok && queryType == workflows.QueryState {
		return cmJSONValue{st}, nil
	}
	return nil, f.err
}

// QueryWorkflowWithOptions answers as for a running workflow.
func (f *cmFakeQueries) QueryWorkflowWithOptions(ctx context.Context, req *client.QueryWorkflowWithOptionsRequest) (*client.QueryWorkflowWithOptionsResponse, error) {
	v, err := f.QueryWorkflow(ctx, req.WorkflowID, req.RunID, req.QueryType)
	if err != nil {
		return nil, err
	}
	return &client.QueryWorkflowWithOptionsResponse{QueryResult: v}, nil
}

type cmJSONValue struct{ v any }

func (j cmJSONValue) HasValue() bool { return j.v != nil }

func (j cmJSONValue) Get(ptr any) error {
	b, err := json.Marshal(j.v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, ptr)
}

// cmTestApp serves the currency-manager handlers over a store on a
// throwaway, migrated schema of the PostgreSQL at DATABASE_URL (skipped when
// it is not reachable).
func cmTestApp(t *testing.T, q *cmFakeQueries) (*fiber.App, *store.Store) {
	t.Helper()
	st, err := store.Open(storetest.MigratedURL(t), 4, 2)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})

	s := &server{Deps: Deps{Store: st, Temporal: q}, log: slog.New(slog.DiscardHandler)}
	app := fiber.New(fiber.Config{ErrorHandler: s.errorHandler})
	app.Get("/v1/rehive/transactions/:tx_id", s.getRehiveTransaction)
	app.Get("/v1/deposits/:ledger_tx_id", s.getDeposit)
	app.Put("/v1/account-links/:rehive_account", s.putAccountLink)
	app.Get("/v1/account-links/:rehive_account", s.getAccountLink)
	return app, st
}

func cmDo(t *testing.T, app *fiber.App, method, path, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := app.Test(req, 10_000)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() {
		if err := resp.Body.Close(); err != nil {
			t.Errorf("close body: %v", err)
		}
	}()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: body %q is not a JSON object: %v", method, path, raw, err)
	}
	return resp.StatusCode, out
}

var cmErrNoWorkflow = serviceerror.NewNotFound("workflow not found")

func TestRehiveTransactionEndpoint(t *testing.T) {
	q := &cmFakeQueries{states: map[string]any{
		workflows.RehiveTxWorkflowID("tx-live"): workflows.RehiveTxState{
			TxID: "tx-live", Flow: workflows.FlowWithdrawal, Status: workflows.TxStatusAwaitingLedger, RehiveStatus: "Pending",
			LedgerTxID: "rehive-tx-live", Timeline: []workflows.TimelineEntry{{Step: "started"}},
		},
	}, err: cmErrNoWorkflow}
	app, st := cmTestApp(t, q)
	ctx := context.Background()

	code, body := cmDo(t, app, http.MethodGet, "/v1/rehive/transactions/tx-live", "")
	if code != http.StatusOK || body["status"] != string(workflows.TxStatusAwaitingLedger) || body["flow"] != workflows.FlowWithdrawal || body["ledger_tx_id"] != "rehive-tx-live" {
		t.Fatalf("live: %d %v", code, body)
	}
	for _, k := range []string{"tx_id", "flow", "rehive_status", "ledger_tx_id", "status", "failure_reason", "timeline"} {
		if _, ok := body[k]; !ok {
			t.Errorf("live state lacks %q", k)
		}
	}

	// Closed and gone from Temporal: the read model answers.
	state, err := json.Marshal(workflows.RehiveTxState{TxID: "tx-old", Flow: workflows.FlowTransfer, Status: workflows.TxStatusComplete, RehiveStatus: "Complete", Timeline: []workflows.TimelineEntry{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SaveRehiveTxState(ctx, store.RehiveTx{ID: "tx-old", Flow: workflows.FlowTransfer, Status: workflows.TxStatusComplete, State: state}); err != nil {
		t.Fatal(err)
	}
	code, body = cmDo(t, app, http.MethodGet, "/v1/rehive/transactions/tx-old", "")
	if code != http.StatusOK || body["status"] != string(workflows.TxStatusComplete) || body["flow"] != workflows.FlowTransfer {
		t.Fatalf("read model: %d %v", code, body)
	}

	// Looked up but no state saved yet: the row's columns answer.
	if err := st.SaveRehiveLookup(ctx, store.RehiveTx{ID: "tx-new", TxType: "debit", Currency: "XLM", Amount: 5, RehiveStatus: "Pending"}, store.RehiveCollection{}); err != nil {
		t.Fatal(err)
	}
	code, body = cmDo(t, app, http.MethodGet, "/v1/rehive/transactions/tx-new", "")
	if code != http.StatusOK || body["tx_id"] != "tx-new" || body["rehive_status"] != "Pending" {
		t.Fatalf("lookup row: %d %v", code, body)
	}

	code, body = cmDo(t, app, http.MethodGet, "/v1/rehive/transactions/tx-none", "")
	if code != http.StatusNotFound || cmErrCode(body) != "rehive_transaction_not_found" {
		t.Fatalf("unknown: %d %v", code, body)
	}
	code, _ = cmDo(t, app, http.MethodGet, "/v1/rehive/transactions/%20bad", "")
	if code != http.StatusNotFound {
		t.Fatalf("malformed id: %d", code)
	}

	// Temporal cannot answer and nothing is saved yet: retry later, not 404.
	q.err = errors.New("context deadline exceeded")
	code, body = cmDo(t, app, http.MethodGet, "/v1/rehive/transactions/tx-none", "")
	if code != http.StatusServiceUnavailable || cmErrCode(body) != "temporal_unavailable" {
		t.Fatalf("temporal down: %d %v", code, body)
	}
}

func TestDepositEndpoint(t *testing.T) {
	q := &cmFakeQueries{states: map[string]any{
		workflows.DepositWorkflowID("ltx-live"): workflows.DepositState{
			LedgerTxID: "ltx-live", RehiveTxID: "r-1", Account: "ACC", Amount: 7, Currency: "XLM", Status: workflows.DepositPending,
			Timeline: []workflows.TimelineEntry{},
		},
	}, err: cmErrNoWorkflow}
	app, st := cmTestApp(t, q)

	code, body := cmDo(t, app, http.MethodGet, "/v1/deposits/ltx-live", "")
	if code != http.StatusOK || body["status"] != workflows.DepositPending || body["rehive_tx_id"] != "r-1" || body["amount"] != 7.0 {
		t.Fatalf("live: %d %v", code, body)
	}
	if err := st.SaveDeposit(context.Background(), store.Deposit{LedgerTxID: "ltx-old", Status: workflows.DepositUnlinked, FailureReason: "unlinked_account"}); err != nil {
		t.Fatal(err)
	}
	code, body = cmDo(t, app, http.MethodGet, "/v1/deposits/ltx-old", "")
	if code != http.StatusOK || body["status"] != workflows.DepositUnlinked || body["ledger_tx_id"] != "ltx-old" {
		t.Fatalf("read model: %d %v", code, body)
	}
	code, body = cmDo(t, app, http.MethodGet, "/v1/deposits/ltx-none", "")
	if code != http.StatusNotFound || cmErrCode(body) != "deposit_not_found" {
		t.Fatalf("unknown: %d %v", code, body)
	}
}

func TestAccountLinkEndpoints(t *testing.T) {
	app, _ := cmTestApp(t, &cmFakeQueries{err: cmErrNoWorkflow})

	code, body := cmDo(t, app, http.MethodGet, "/v1/account-links/ACC-1", "")
	if code != http.StatusNotFound || cmErrCode(body) != "account_link_not_found" {
		t.Fatalf("missing: %d %v", code, body)
	}
	code, body = cmDo(t, app, http.MethodPut, "/v1/account-links/ACC-1", `{"ledger_account":"ledger-1","currency":"XLM"}`)
	want := map[string]any{"rehive_account": "ACC-1", "ledger_account": "ledger-1", "currency": "XLM"}
	if code != http.StatusOK || fmt.Sprint(body) != fmt.Sprint(want) {
		t.Fatalf("put: %d %v", code, body)
	}
	code, body = cmDo(t, app, http.MethodGet, "/v1/account-links/ACC-1", "")
	if code != http.StatusOK || fmt.Sprint(body) != fmt.Sprint(want) {
		t.Fatalf("get: %d %v", code, body)
	}
	code, body = cmDo(t, app, http.MethodPut, "/v1/account-links/ACC-2", `{"ledger_account":"ledger-1","currency":"XLM"}`)
	if code != http.StatusConflict || cmErrCode(body) != "ledger_account_linked" {
		t.Fatalf("conflict: %d %v", code, body)
	}
	code, body = cmDo(t, app, http.MethodPut, "/v1/account-links/ACC-2", `{"ledger_account":"has space","currency":"xlm"}`)
	fields, _ := body["error"].(map[string]any)["fields"].(map[string]any)
	if code != http.StatusBadRequest || fields["ledger_account"] == nil || fields["currency"] == nil {
		t.Fatalf("invalid: %d %v", code, body)
	}
	code, body = cmDo(t, app, http.MethodPut, "/v1/account-links/ACC-2", `{"currency":"XLM"}`)
	fields, _ = body["error"].(map[string]any)["fields"].(map[string]any)
	if code != http.StatusBadRequest || fields["ledger_account"] == nil {
		t.Fatalf("missing field: %d %v", code, body)
	}
	code, body = cmDo(t, app, http.MethodPut, "/v1/account-links/ACC-2", `{"ledger_account":"ledger-2","currency":"XLM","extra":1}`)
	if code != http.StatusBadRequest || cmErrCode(body) != "malformed_json" {
		t.Fatalf("unknown field: %d %v", code, body)
	}
}

func cmErrCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}
