package rehive

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// ID is a Rehive identifier. Rehive documents uuids but some payloads carry
// numbers, so both decode; a number keeps its literal text.
type ID string

// UnmarshalJSON accepts a string, a number or null.
func (id *ID) UnmarshalJSON(b []byte) error {
	s, err := scalarID(b)
	if err != nil {
		return err
	}
	*id = ID(s)
	return nil
}

func (id ID) String() string { return string(id) }

var errBadID = errors.New("rehive: id is not a string or number")

// scalarID decodes a JSON string or number as an id; null is "".
func scalarID(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		return "", nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", err
		}
		return s, nil
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return "", err
		}
		return n.String(), nil
	}
	return "", errBadID
}

// idRef is a reference that arrives either as an id or as an object with an
// "id" (e.g. "collection": "<uuid>" or "collection": {"id": "<uuid>", ...}).
type idRef ID

func (r *idRef) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var obj struct {
			ID ID `json:"id"`
		}
		if err := json.Unmarshal(b, &obj); err != nil {
			return err
		}
		*r = idRef(obj.ID)
		return nil
	}
	s, err := scalarID(b)
	*r = idRef(s)
	return err
}

// uuidNamespace is the RFC 4122 URL namespace.
var uuidNamespace = [16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}

// DeriveID returns a deterministic uuid (version 5) for name, for the
// client-chosen collection and transaction ids that make creation idempotent:
// the same name always gives the same id.
func DeriveID(name string) string {
	h := sha1.New()
	h.Write(uuidNamespace[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	x := hex.EncodeToString(u[:])
	return fmt.Sprintf("%s-%s-%s-%s-%s", x[0:8], x[8:12], x[12:16], x[16:20], x[20:32])
}
