package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/payflow/payflow/stack"
	"github.com/payflow/payflow/workflows"
)

// payflowClient drives payflow's API as a shop's backend would, with a
// connection pool big enough for the concurrency (http.DefaultClient keeps
// two idle connections per host and would measure reconnects).
type payflowClient struct {
	st   *stack.Stack
	http *http.Client
	auth string
}

func newPayflowClient(st *stack.Stack, conc int) *payflowClient {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 2 * conc
	return &payflowClient{st: st, http: &http.Client{Transport: tr, Timeout: time.Minute}, auth: "Bearer " + st.Config.APIKeys[0]}
}

// call sends one request; any status but want's is an error.
func (p *payflowClient) call(method, url string, body any, out any, want ...int) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequest(method, url, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", p.auth)
	resp, err := p.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if !slices.Contains(want, resp.StatusCode) {
		return fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// product puts an active USD product with enough stock for the run.
func (p *payflowClient) product(stock int) (string, error) {
	sku := "BENCH_" + stack.RandomID(4)
	return sku, p.call(http.MethodPut, p.st.APIURL+"/v1/products/"+sku,
		map[string]any{"name": "bench " + sku, "price": 100, "currency": "USD", "stock": stock, "active": true}, nil, http.StatusOK)
}

// tokens tokenises n approving test cards, as shoppers' browsers do before
// the checkout starts: not part of the measured path.
func (p *payflowClient) tokens(n, conc int) ([]string, error) {
	out := make([]string, n)
	_, err := closedLoop(n, conc, func(i int) error {
		var tok struct{ Token string }
		if err := p.call(http.MethodPost, p.st.SandboxURL+"/sandbox/checkoutcom/tokens",
			map[string]any{"type": "card", "number": "4242424242424242", "expiry_month": 12, "expiry_year": 2031, "cvv": "100"}, &tok, http.StatusCreated); err != nil {
			return fmt.Errorf("token: %w", err)
		}
		out[i] = tok.Token
		return nil
	})
	return out, err
}

// startCheckout is POST /v1/checkouts, answered 201 (or one of want); its
// latency goes to posts.
func (p *payflowClient) startCheckout(order, sku, token string, posts *samples, want ...int) error {
	began := time.Now()
	err := p.call(http.MethodPost, p.st.APIURL+"/v1/checkouts", map[string]any{
		"order_id": order, "currency": "USD", "lines": []map[string]any{{"sku": sku, "quantity": 1}},
		"payment": map[string]any{"method": "card", "processor_token": token}}, nil, append(want, http.StatusCreated)...)
	if err == nil && posts != nil {
		posts.add(time.Since(began))
	}
	return err
}

// payflowRound runs a card checkout for each of toks (see tokens), conc at
// a time, each from POST /v1/checkouts to fulfilled in the read model.
func payflowRound(p *payflowClient, w *watcher, sku, tag string, toks []string, conc int, posts, ends *samples) (float64, error) {
	return closedLoop(len(toks), conc, func(i int) error {
		order := fmt.Sprintf("bench_%s_%d", tag, i)
		began := time.Now()
		done := w.expect(order)
		if err := p.startCheckout(order, sku, toks[i], posts); err != nil {
			w.forget(order)
			return err
		}
		select {
		case status := <-done:
			if status != string(workflows.StatusFulfilled) {
				return fmt.Errorf("checkout %s ended %s, not fulfilled", order, status)
			}
			if ends != nil {
				ends.add(time.Since(began))
			}
			return nil
		case <-time.After(2 * time.Minute):
			w.forget(order)
			return fmt.Errorf("checkout %s not fulfilled in 2 minutes", order)
		}
	})
}

// watcher sees checkouts reach the end of their payment in the read model:
// one query every tick for all the orders in flight, so that waiting costs
// the database one indexed lookup per tick, not one per checkout.
type watcher struct {
	db   *sqlx.DB
	tick time.Duration
	mu   sync.Mutex
	want map[string]chan string
}

// finalStatuses are where a card checkout's payment ends.
var finalStatuses = pq.StringArray{string(workflows.StatusFulfilled), string(workflows.StatusFailed), string(workflows.StatusExpired),
	string(workflows.StatusCancelled), string(workflows.StatusNeedsAttention), string(workflows.StatusRefunded)}

func newWatcher(db *sqlx.DB, tick time.Duration) *watcher {
	return &watcher{db: db, tick: tick, want: map[string]chan string{}}
}

func (w *watcher) expect(order string) <-chan string {
	ch := make(chan string, 1)
	w.mu.Lock()
	w.want[order] = ch
	w.mu.Unlock()
	return ch
}

func (w *watcher) forget(order string) {
	w.mu.Lock()
	delete(w.want, order)
	w.mu.Unlock()
}

func (w *watcher) run(ctx context.Context) {
	t := time.NewTicker(w.tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.mu.Lock()
		ids := make(pq.StringArray, 0, len(w.want))
		for id := range w.want {
			ids = append(ids, id)
		}
		w.mu.Unlock()
		if len(ids) == 0 {
			continue
		}
		var rows []struct {
			OrderID string `db:"order_id"`
			Status  string `db:"status"`
		}
		if err := w.db.SelectContext(ctx, &rows, `SELECT order_id, status FROM orders WHERE order_id = ANY($1) AND status = ANY($2)`, ids, finalStatuses); err != nil {
			continue // the next tick asks again; a checkout that never ends times out
		}
		w.mu.Lock()
		for _, r := range rows {
			if ch, ok := w.want[r.OrderID]; ok {
				ch <- r.Status
				delete(w.want, r.OrderID)
			}
		}
		w.mu.Unlock()
	}
}

// ackRelay stands between the Checkout.com sandbox and payflow's webhook
// endpoint: every webhook the sandbox sends (signed, for a running
// checkout) goes on to the API unchanged, and the API's acknowledgement
// time is recorded. That is the real path at load: verify, record in the
// inbox, signal the checkout, 200.
type ackRelay struct {
	target string
	http   *http.Client
	acks   *samples
	srv    *http.Server
	URL    string
}

func startAckRelay(target string, conc int) (*ackRelay, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 2 * conc
	r := &ackRelay{target: target, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}, acks: &samples{}, URL: "http://" + ln.Addr().String()}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.forward), ReadHeaderTimeout: 5 * time.Second}
	go r.srv.Serve(ln)
	return r, nil
}

func (r *ackRelay) forward(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	out, err := http.NewRequest(http.MethodPost, r.target, bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	out.Header = req.Header.Clone()
	began := time.Now()
	resp, err := r.http.Do(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(began)
	if resp.StatusCode == http.StatusOK {
		r.acks.add(took)
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}

func (r *ackRelay) close() { r.srv.Close() }
