package ledger

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var (
	fixedNow = time.Unix(1_700_000_000, 0)
	testBody = []byte(`{"id":"evt_1","type":"transaction.updated","created":"2023-11-14T22:13:20Z","data":{"id":"tx_1","status":"complete"}}`)
)

func TestSignVerifiesAndIsFormatted(t *testing.T) {
	h := Sign("s3cret", testBody, fixedNow)
	if !strings.HasPrefix(h, "t=1700000000,v1=") || len(h) != len("t=1700000000,v1=")+64 {
		t.Fatalf("header %q", h)
	}
	if err := VerifyWebhook(h, testBody, "s3cret", fixedNow, 0); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyWebhookHeaders(t *testing.T) {
	good := Sign("s3cret", testBody, fixedNow)
	_, v1, _ := strings.Cut(good, ",")
	other := strings.TrimPrefix(Sign("old-secret", testBody, fixedNow), "t=1700000000,")
	cases := []struct {
		name, header string
		want         error
	}{
		{"good", good, nil},
		{"spaces and order", " " + v1 + " , t = 1700000000 ", nil},
		{"rotation: second v1 matches", "t=1700000000," + other + "," + v1, nil},
		{"unknown scheme ignored", "t=1700000000,v0=abc," + v1, nil},
		{"stray comma", good + ",", nil},
		{"only other secret", "t=1700000000," + other, ErrBadSignature},
		{"timestamp changed", strings.Replace(good, "t=1700000000", "t=1700000001", 1), ErrBadSignature},
		{"empty", "", ErrMalformedSignature},
		{"no timestamp", v1, ErrMalformedSignature},
		{"no signature", "t=1700000000", ErrMalformedSignature},
		{"two timestamps", "t=1700000000,t=1700000000," + v1, ErrMalformedSignature},
		{"signed timestamp", "t=+1700000000," + v1, ErrMalformedSignature},
		{"non-numeric timestamp", "t=soon," + v1, ErrMalformedSignature},
		{"huge timestamp", "t=99999999999999999999," + v1, ErrMalformedSignature},
		{"non-hex signature", "t=1700000000,v1=zz", ErrMalformedSignature},
		{"short signature", "t=1700000000,v1=abcd", ErrMalformedSignature},
		{"no equals", "t1700000000", ErrMalformedSignature},
	}
	for _, c := range cases {
		if err := VerifyWebhook(c.header, testBody, "s3cret", fixedNow, 0); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

func TestVerifyWebhookTolerance(t *testing.T) {
	h := Sign("s3cret", testBody, fixedNow)
	cases := []struct {
		name      string
		now       time.Time
		tolerance time.Duration
		want      error
	}{
		{"default, 4m59s late", fixedNow.Add(299 * time.Second), 0, nil},
		{"default, 5m late", fixedNow.Add(5 * time.Minute), 0, nil},
		{"default, 6m late", fixedNow.Add(6 * time.Minute), 0, ErrStaleTimestamp},
		{"default, 6m early", fixedNow.Add(-6 * time.Minute), 0, ErrStaleTimestamp},
		{"custom, 30s late", fixedNow.Add(30 * time.Second), 10 * time.Second, ErrStaleTimestamp},
		{"custom, 1h late", fixedNow.Add(time.Hour), 2 * time.Hour, nil},
	}
	for _, c := range cases {
		if err := VerifyWebhook(h, testBody, "s3cret", c.now, c.tolerance); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

func TestVerifyWebhookNeedsSecret(t *testing.T) {
	h := Sign("", testBody, fixedNow)
	if err := VerifyWebhook(h, testBody, "", fixedNow, 0); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("empty secret accepted: %v", err)
	}
}

func FuzzVerifyWebhook(f *testing.F) {
	f.Add(Sign("s3cret", testBody, fixedNow), testBody, "s3cret", int64(0))
	f.Add(" v1="+strings.Repeat("ab", 32)+" , t = 1700000000 ,", testBody, "s3cret", int64(400))
	f.Add("t=1700000000,v1=zz,v1=", []byte("{}"), "k", int64(-400))
	f.Add("t=,v1", []byte(nil), "", int64(0))
	f.Add("t=999999999999,v1="+strings.Repeat("0", 64), []byte("x"), "k", int64(1<<40))
	f.Fuzz(func(t *testing.T, header string, body []byte, secret string, offset int64) {
		now := fixedNow.Add(time.Duration(offset) * time.Second)
		err := VerifyWebhook(header, body, secret, now, 0)
		if err != nil && !errors.Is(err, ErrMalformedSignature) && !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrStaleTimestamp) {
			t.Fatalf("unexpected error kind: %v", err)
		}
		// Sign's output verifies for any real clock (Unix times of 1-12 digits).
		if secret != "" && now.Unix() >= 0 && now.Unix() < 1e12 {
			if err := VerifyWebhook(Sign(secret, body, now), body, secret, now, 0); err != nil {
				t.Fatalf("own signature rejected: %v", err)
			}
		}
	})
}
