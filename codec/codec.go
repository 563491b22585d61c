// Package codec encrypts every payload payflow hands to Temporal (workflow
// and activity inputs and results, signals, queries, memos, user metadata,
// failure messages) with AES-256-GCM, so that Temporal's database holds no
// customer data in the clear. Keys come from PAYFLOW_CODEC_KEYS: the first
// encrypts, every one decrypts, so a key is rotated by putting a new one
// first and dropping the old one once no open history needs it.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

const (
	// Encoding is the metadata encoding of an encrypted payload.
	Encoding = "binary/encrypted"
	// MetadataKeyID names the metadata entry holding the encrypting key's id.
	MetadataKeyID = "encryption-key-id"
	// KeySize is the length of an AES-256 key.
	KeySize = 32
)

// keyIDPattern keeps key ids printable and short: they are stored in every
// payload's metadata and echoed in errors.
var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Codec is a converter.PayloadCodec encrypting with its first key.
type Codec struct {
	encryptID string
	keys      map[string]cipher.AEAD
	ids       []string
}

var _ converter.PayloadCodec = (*Codec)(nil)

// Parse reads a PAYFLOW_CODEC_KEYS value: comma-separated keyid:base64 pairs,
// each key 32 bytes. An empty value means no encryption: (nil, nil). Errors
// name the key id or position, never the key material.
func Parse(spec string) (*Codec, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, nil
	}
	c := &Codec{keys: map[string]cipher.AEAD{}}
	for i, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		id, b64, ok := strings.Cut(part, ":")
		id = strings.TrimSpace(id)
		if !ok || id == "" {
			return nil, fmt.Errorf("key %d: want keyid:base64-of-32-bytes", i+1)
		}
		if !keyIDPattern.MatchString(id) {
			return nil, fmt.Errorf("key %d: the key id may hold only letters, digits, '.', '_' and '-' (at most 64)", i+1)
		}
		if _, dup := c.keys[id]; dup {
			return nil, fmt.Errorf("key %q is listed twice", id)
		}
		raw, err := decodeBase64(strings.TrimSpace(b64))
		if err != nil {
			return nil, fmt.Errorf("key %q: not base64", id)
		}
		if len(raw) != KeySize {
			return nil, fmt.Errorf("key %q: %d bytes, want %d (AES-256)", id, len(raw), KeySize)
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", id, err)
		}
		c.keys[id] = aead
		c.ids = append(c.ids, id)
	}
	c.encryptID = c.ids[0]
	return c, nil
}

func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// EncryptKeyID is the id of the key new payloads are encrypted with.
func (c *Codec) EncryptKeyID() string { return c.encryptID }

// KeyIDs lists the configured key ids, the encrypting one first.
func (c *Codec) KeyIDs() []string { return append([]string(nil), c.ids...) }

// Encode encrypts each payload whole (its metadata included, so not even the
// encoding of the plaintext shows) with the first key. The key id is bound to
// the ciphertext as additional data: a payload relabelled with another key
// id does not decrypt.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.keys[c.encryptID]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("codec: marshal payload: %w", err)
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("codec: nonce: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(Encoding),
				MetadataKeyID:              []byte(c.encryptID),
			},
			Data: aead.Seal(nonce, nonce, plain, []byte(c.encryptID)),
		}
	}
	return out, nil
}

// Decode decrypts encrypted payloads with the key their metadata names and
// passes any other payload through unchanged (histories written before
// encryption was switched on stay readable). A tampered payload, or one
// encrypted with a key that is not configured, is an error.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != Encoding {
			out[i] = p
			continue
		}
		id := string(p.Metadata[MetadataKeyID])
		aead, ok := c.keys[id]
		if !ok {
			return nil, fmt.Errorf("codec: payload encrypted with key %q, which is not in PAYFLOW_CODEC_KEYS", id)
		}
		if len(p.Data) < aead.NonceSize() {
			return nil, fmt.Errorf("codec: encrypted payload too short")
		}
		nonce, sealed := p.Data[:aead.NonceSize()], p.Data[aead.NonceSize():]
		plain, err := aead.Open(nil, nonce, sealed, []byte(id))
		if err != nil {
			return nil, fmt.Errorf("codec: payload does not decrypt with key %q (tampered or corrupted)", id)
		}
		var dec commonpb.Payload
		if err := proto.Unmarshal(plain, &dec); err != nil {
			return nil, fmt.Errorf("codec: decrypted payload: %w", err)
		}
		out[i] = &dec
	}
	return out, nil
}

// DataConverter is the SDK's default converter, encrypting through c when c
// is not nil.
func DataConverter(c *Codec) converter.DataConverter {
	if c == nil {
		return converter.GetDefaultDataConverter()
	}
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// FailureConverter moves failure messages and stack traces into an
// (encrypted) payload when c is not nil: error messages may quote customer
// data, and Temporal stores them in the history.
func FailureConverter(c *Codec) converter.FailureConverter {
	if c == nil {
		return temporal.GetDefaultFailureConverter()
	}
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter:          DataConverter(c),
		EncodeCommonAttributes: true,
	})
}
