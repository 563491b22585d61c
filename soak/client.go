package soak

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/payflow/payflow/stack"
)

// client talks to payflow's API processes (round-robin, failing over to the
// next one as a load balancer would) and to the sandboxes.
type client struct {
	t    Target
	next atomic.Uint64
}

func newClient(t Target) *client { return &client{t: t} }

// api sends one call, retrying on connection errors and 5xx (an API process
// killed, Temporal restarting) for up to a minute; with an idempotency key
// the retries are safe for creating calls too.
func (c *client) api(method, path string, body any, idemKey string, want ...int) ([]byte, int, error) {
	headers := map[string]string{"Authorization": "Bearer " + c.t.APIKey}
	if idemKey != "" {
		headers["Idempotency-Key"] = idemKey
	}
	var last error
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		base := c.t.APIURLs[int(c.next.Add(1))%len(c.t.APIURLs)]
		resp, err := stack.Do(method, base+path, body, headers)
		if err != nil {
			last = err
			continue
		}
		if resp.Status >= 500 || resp.Status == http.StatusTooManyRequests {
			last = fmt.Errorf("%s %s: %d %s", method, path, resp.Status, resp.Body)
			continue
		}
		for _, w := range want {
			if resp.Status == w {
				return resp.Body, resp.Status, nil
			}
		}
		if len(want) == 0 && resp.Status < 300 {
			return resp.Body, resp.Status, nil
		}
		return resp.Body, resp.Status, fmt.Errorf("%s %s: %d %s", method, path, resp.Status, resp.Body)
	}
	return nil, 0, last
}

func (c *client) apiJSON(method, path string, body any, idemKey string, out any, want ...int) error {
	raw, _, err := c.api(method, path, body, idemKey, want...)
	if err != nil || out == nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

// sandbox sends one control call; control endpoints are exempt from faults,
// so only connection errors are retried.
func (c *client) sandbox(method, path string, body, out any) error {
	var last error
	for attempt := 0; attempt < 20; attempt++ {
		resp, err := stack.Do(method, c.t.SandboxURL+path, body, nil)
		if err != nil {
			last = err
			time.Sleep(250 * time.Millisecond)
			continue
		}
		if resp.Status >= 300 {
			return fmt.Errorf("%s %s: %d %s", method, path, resp.Status, resp.Body)
		}
		if out == nil {
			return nil
		}
		return json.Unmarshal(resp.Body, out)
	}
	return last
}
