package rehive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/payflow/payflow/providers/httpx"
)

// maxMessage caps provider text copied into errors.
const maxMessage = 500

// CodeReplayed is among an error's Codes when Rehive replayed a refusal
// saved under the Idempotency-Key (Idempotent-Replayed: true): asking again
// with the same key can only get the same answer, so a retry meant to
// succeed needs a new key.
const CodeReplayed = "idempotent_replayed"

// errorFromResponse classifies a non-2xx answer. Rehive errors look like
// {"status":"error","message":"...","data":{"field":["why"]}}.
func errorFromResponse(resp *httpx.Response) *httpx.Error {
	e := &httpx.Error{Provider: provider, Class: httpx.ClassForStatus(resp.Status), Status: resp.Status}
	if e.Class == httpx.Retryable {
		e.RetryAfter = httpx.RetryAfter(resp.Header)
	}
	var body struct {
		Message   string          `json:"message"`
		Data      json.RawMessage `json:"data"`
		ErrorCode string          `json:"error_code"`
		ErrorType string          `json:"error_type"`
	}
	if json.Unmarshal(resp.Body, &body) == nil {
		e.Message = body.Message
		if f := fieldErrors(body.Data); f != "" {
			e.Message = strings.TrimSpace(e.Message + " (" + f + ")")
		}
		for _, c := range []string{body.ErrorCode, body.ErrorType} {
			if c != "" {
				e.Codes = append(e.Codes, c)
			}
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.Status)
	}
	if resp.Header.Get("Idempotent-Replayed") == "true" {
		e.Codes = append(e.Codes, CodeReplayed)
		e.Message = "replayed: " + e.Message
	}
	if len(e.Message) > maxMessage {
		e.Message = e.Message[:maxMessage] + "..."
	}
	return e
}

// fieldErrors flattens {"field": ["why", ...]} into "field: why; ...", in
// field order; anything else in data is ignored.
func fieldErrors(raw json.RawMessage) string {
	var fields map[string]any
	if json.Unmarshal(raw, &fields) != nil || len(fields) == 0 {
		return ""
	}
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, name := range names {
		var msgs []string
		switch v := fields[name].(type) {
		case string:
			msgs = append(msgs, v)
		case []any:
			for _, m := range v {
				if s, ok := m.(string); ok {
					msgs = append(msgs, s)
				}
			}
		}
		if len(msgs) > 0 {
			parts = append(parts, name+": "+strings.Join(msgs, " "))
		}
	}
	return strings.Join(parts, "; ")
}

// transportError reports a call that got no answer. The message names the
// method and path only: tokens travel in headers and never appear here.
func transportError(k call, err error) *httpx.Error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	if errors.Is(err, context.DeadlineExceeded) {
		msg = "timed out: " + msg
	}
	return &httpx.Error{Provider: provider, Class: httpx.Retryable, Message: fmt.Sprintf("%s %s: %s", k.method, k.path, msg)}
}

// malformedResponse reports a 2xx body that does not decode. It is retryable:
// the call reached Rehive, and a keyed retry replays the same answer.
func malformedResponse(resp *httpx.Response, err error) *httpx.Error {
	return &httpx.Error{Provider: provider, Class: httpx.Retryable, Status: resp.Status, Message: "malformed response: " + err.Error()}
}
