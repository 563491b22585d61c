package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/payflow/payflow/providers/httpx"
)

// errorBody accepts the ledger's {"error":{"code","message"}} and, failing
// that, the flat {"message","error_type"} that proxies and the sandbox's
// fault injector send.
type errorBody struct {
	Error     json.RawMessage `json:"error"`
	Message   string          `json:"message"`
	ErrorType string          `json:"error_type"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// statusError classifies a non-2xx answer.
func statusError(resp *httpx.Response) error {
	e := &httpx.Error{Provider: provider, Class: httpx.ClassForStatus(resp.Status), Status: resp.Status}
	if resp.Status == http.StatusTooManyRequests || resp.Status == http.StatusServiceUnavailable {
		e.RetryAfter = httpx.RetryAfter(resp.Header)
	}
	var b errorBody
	if json.Unmarshal(resp.Body, &b) != nil {
		e.Message = http.StatusText(resp.Status)
		return e
	}
	var d errorDetail
	if json.Unmarshal(b.Error, &d) != nil {
		// "error" may be a plain string, or absent.
		var s string
		if json.Unmarshal(b.Error, &s) == nil {
			d.Message = s
		}
	}
	d.Code = firstNonEmpty(d.Code, b.ErrorType)
	if d.Code != "" {
		e.Codes = []string{d.Code}
	}
	e.Message = truncate(firstNonEmpty(d.Message, b.Message, http.StatusText(resp.Status)), 300)
	return e
}

// transportError turns a failed exchange into a Retryable error. The message
// names the call, never the Authorization header.
func transportError(ctx context.Context, method, path string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL is already in the message below
	}
	msg := method + " " + path + ": " + err.Error()
	if ctx.Err() != nil {
		msg = method + " " + path + ": " + ctx.Err().Error()
	}
	return &httpx.Error{Provider: provider, Class: httpx.Retryable, Message: msg}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
