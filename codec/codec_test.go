package codec

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
)

func newKey(t *testing.T, id string) string {
	t.Helper()
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return id + ":" + base64.StdEncoding.EncodeToString(b)
}

func mustParse(t *testing.T, spec string) *Codec {
	t.Helper()
	c, err := Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type order struct {
	OrderID string `json:"order_id"`
	Email   string `json:"customer_email"`
}

func TestRoundTripHidesThePlaintext(t *testing.T) {
	c := mustParse(t, newKey(t, "k1"))
	dc := DataConverter(c)
	in := order{OrderID: "ord_1", Email: "ada@example.com"}
	p, err := dc.ToPayload(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(p.Metadata[converter.MetadataEncoding]); got != Encoding {
		t.Fatalf("encoding %q", got)
	}
	if got := string(p.Metadata[MetadataKeyID]); got != "k1" {
		t.Fatalf("key id %q", got)
	}
	if bytes.Contains(p.Data, []byte("ada@example.com")) || bytes.Contains(p.Data, []byte("json/plain")) {
		t.Fatal("the encrypted payload holds plaintext")
	}
	var out order
	if err := dc.FromPayload(p, &out); err != nil {
		t.Fatal(err)
	}
	if out != in {
		t.Fatalf("round trip: %+v", out)
	}
	// A fresh nonce each time: the same value never encrypts the same way.
	p2, _ := dc.ToPayload(in)
	if bytes.Equal(p.Data, p2.Data) {
		t.Fatal("two encryptions of one value are identical")
	}
}

func TestRotationDecryptsWithEveryKeyEncryptsWithTheFirst(t *testing.T) {
	oldKey, newKeySpec := newKey(t, "2025-01"), newKey(t, "2026-06")
	before := mustParse(t, oldKey)
	after := mustParse(t, newKeySpec+", "+oldKey)
	if after.EncryptKeyID() != "2026-06" || strings.Join(after.KeyIDs(), ",") != "2026-06,2025-01" {
		t.Fatalf("keys %v, encrypting with %s", after.KeyIDs(), after.EncryptKeyID())
	}
	old, err := DataConverter(before).ToPayload("written before the rotation")
	if err != nil {
		t.Fatal(err)
	}
	var s string
	if err := DataConverter(after).FromPayload(old, &s); err != nil || s != "written before the rotation" {
		t.Fatalf("old payload after rotation: %q %v", s, err)
	}
	fresh, _ := DataConverter(after).ToPayload("after")
	if got := string(fresh.Metadata[MetadataKeyID]); got != "2026-06" {
		t.Fatalf("new payloads use key %q", got)
	}
	// Dropping the new key breaks only what it encrypted.
	if err := DataConverter(before).FromPayload(fresh, &s); err == nil || !strings.Contains(err.Error(), `"2026-06"`) {
		t.Fatalf("want an unknown-key error naming 2026-06, got %v", err)
	}
}

func TestTamperedPayloadIsAnError(t *testing.T) {
	c := mustParse(t, newKey(t, "k1")+","+newKey(t, "k2"))
	enc, err := c.Encode([]*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"x"`)}})
	if err != nil {
		t.Fatal(err)
	}
	flipped := &commonpb.Payload{Metadata: enc[0].Metadata, Data: bytes.Clone(enc[0].Data)}
	flipped.Data[len(flipped.Data)-1] ^= 1
	if _, err := c.Decode([]*commonpb.Payload{flipped}); err == nil {
		t.Fatal("a flipped bit decoded")
	}
	// The key id is authenticated too: relabelling to another valid key fails.
	relabelled := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte(Encoding), MetadataKeyID: []byte("k2")}, Data: enc[0].Data}
	if _, err := c.Decode([]*commonpb.Payload{relabelled}); err == nil {
		t.Fatal("a relabelled payload decoded")
	}
	short := &commonpb.Payload{Metadata: enc[0].Metadata, Data: []byte{1, 2}}
	if _, err := c.Decode([]*commonpb.Payload{short}); err == nil {
		t.Fatal("a truncated payload decoded")
	}
}

func TestUnknownKeyIDIsAnError(t *testing.T) {
	a := mustParse(t, newKey(t, "a"))
	b := mustParse(t, newKey(t, "b"))
	enc, err := a.Encode([]*commonpb.Payload{{Data: []byte("x")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Decode(enc); err == nil || !strings.Contains(err.Error(), `"a"`) {
		t.Fatalf("want an error naming key a, got %v", err)
	}
}

func TestUnencryptedPayloadsPassThrough(t *testing.T) {
	c := mustParse(t, newKey(t, "k1"))
	plain, err := converter.GetDefaultDataConverter().ToPayload(order{OrderID: "ord_old"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Decode([]*commonpb.Payload{plain})
	if err != nil || out[0] != plain {
		t.Fatalf("plain payload: %v %v", out, err)
	}
	var o order
	if err := DataConverter(c).FromPayload(plain, &o); err != nil || o.OrderID != "ord_old" {
		t.Fatalf("history written before encryption: %+v %v", o, err)
	}
}

func TestFailureMessagesAreEncrypted(t *testing.T) {
	c := mustParse(t, newKey(t, "k1"))
	fc := FailureConverter(c)
	f := fc.ErrorToFailure(temporal.NewNonRetryableApplicationError("card of ada@example.com declined", "declined", nil))
	if strings.Contains(f.String(), "ada@example.com") {
		t.Fatalf("failure holds the message in the clear: %s", f)
	}
	back := fc.FailureToError(f)
	var app *temporal.ApplicationError
	if !errors.As(back, &app) || !strings.Contains(app.Error(), "ada@example.com") || app.Type() != "declined" {
		t.Fatalf("decoded failure: %v", back)
	}
}

func TestOffWhenUnset(t *testing.T) {
	c, err := Parse("  ")
	if err != nil || c != nil {
		t.Fatalf("empty spec: %v %v", c, err)
	}
	if DataConverter(nil) != converter.GetDefaultDataConverter() {
		t.Fatal("no keys must mean the default converter")
	}
}

func TestBadKeysAreRefusedWithoutEchoingThem(t *testing.T) {
	good := newKey(t, "k1")
	short := "k2:" + base64.StdEncoding.EncodeToString([]byte("sixteen bytes!!!"))
	for spec, want := range map[string]string{
		"nocolon":            "keyid:base64",
		":" + good[3:]:       "keyid:base64",
		"k 1:" + good[3:]:    "key id",
		"k2:%%%not-base64%%": "not base64",
		short:                "16 bytes, want 32",
		good + "," + good:    "twice",
	} {
		_, err := Parse(spec)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: want an error with %q, got %v", spec, want, err)
			continue
		}
		if strings.Contains(err.Error(), good[3:]) || strings.Contains(err.Error(), short[3:]) {
			t.Errorf("%q: the error echoes key material: %v", spec, err)
		}
	}
}
