package httpx

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestClassForStatus(t *testing.T) {
	for status, want := range map[int]Class{401: Auth, 403: Auth, 404: NotFound, 409: Conflict, 422: Invalid, 400: Invalid, 429: Retryable, 500: Retryable, 503: Retryable, 408: Retryable} {
		if got := ClassForStatus(status); got != want {
			t.Errorf("%d: %s, want %s", status, got, want)
		}
	}
	if ClassOf(nil) != "" || ClassOf(errors.New("dial tcp: refused")) != Retryable || ClassOf(&Error{Class: Declined}) != Declined {
		t.Error("ClassOf")
	}
}

func TestRetryAfter(t *testing.T) {
	h := http.Header{}
	if RetryAfter(h) != 0 {
		t.Error("no header")
	}
	h.Set("Retry-After", "7")
	if RetryAfter(h) != 7*time.Second {
		t.Error("seconds")
	}
	h.Set("Retry-After", time.Now().Add(time.Minute).UTC().Format(http.TimeFormat))
	if d := RetryAfter(h); d < 50*time.Second || d > time.Minute {
		t.Errorf("date: %s", d)
	}
}

// Idempotent calls are retried through 5xx; others are sent once.
func TestDoRetriesOnlyIdempotentCalls(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	hc := NewHTTPClient(5 * time.Second)
	resp, err := Do(context.Background(), hc, Request{Method: http.MethodGet, URL: srv.URL, Idempotent: true})
	if err != nil || resp.Status != http.StatusOK || calls.Load() != 3 {
		t.Fatalf("idempotent: %v %+v after %d calls", err, resp, calls.Load())
	}
	calls.Store(0)
	resp, err = Do(context.Background(), hc, Request{Method: http.MethodPost, URL: srv.URL, Body: map[string]int{"a": 1}})
	if err != nil || resp.Status != http.StatusBadGateway || calls.Load() != 1 {
		t.Fatalf("non-idempotent: %v %+v after %d calls", err, resp, calls.Load())
	}
}

// Attempts 1 sends an idempotent call once: the caller (a Temporal activity)
// retries it.
func TestDoSingleAttempt(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	resp, err := Do(context.Background(), NewHTTPClient(5*time.Second), Request{Method: http.MethodGet, URL: srv.URL, Idempotent: true, Attempts: 1})
	if err != nil || resp.Status != http.StatusServiceUnavailable || calls.Load() != 1 {
		t.Fatalf("%v %+v after %d calls", err, resp, calls.Load())
	}
}

func TestDoStopsWithTheContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	began := time.Now()
	resp, err := Do(ctx, NewHTTPClient(time.Second), Request{Method: http.MethodGet, URL: srv.URL, Idempotent: true})
	if took := time.Since(began); took > 6*time.Second {
		t.Fatalf("kept retrying for %s", took)
	}
	if err == nil && resp.Status != http.StatusServiceUnavailable {
		t.Fatalf("%+v", resp)
	}
}
