// Package signing signs webhook requests as Standard Webhooks specifies:
// webhook-signature is "v1," and the base64 of HMAC-SHA256 over
// "{webhook-id}.{webhook-timestamp}.{body}", keyed with the secret's bytes,
// and "v1a," and the base64 of the Ed25519 signature of the same content.
package signing

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/hookgate/hookgate"
)

// Header names of a signed request.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
	// HeaderKeyID names the keys of the v1a signatures, space-separated
	// in their order in webhook-signature: each one's JWK kid
	// (hookgate.KeyID), as the project's JWKS lists it.
	HeaderKeyID = "webhook-key-id"
)

// Signer signs with one or more secrets; during a rotation it holds the new
// secret and the old one, and a request carries both signatures.
type Signer struct {
	keys [][]byte
	ed   []ed25519.PrivateKey
}

// NewSigner decodes "whsec_" secrets, skipping empty ones.
func NewSigner(secrets ...string) (*Signer, error) {
	s := &Signer{}
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		k, err := hookgate.SecretBytes(sec)
		if err != nil {
			return nil, err
		}
		s.keys = append(s.keys, k)
	}
	return s, nil
}

// WithEd25519 adds Ed25519 keys, skipping nil ones: the request then
// carries a v1a signature for each, after the v1 ones.
func (s *Signer) WithEd25519(keys ...ed25519.PrivateKey) *Signer {
	for _, k := range keys {
		if len(k) == ed25519.PrivateKeySize {
			s.ed = append(s.ed, k)
		}
	}
	return s
}

// Empty reports whether the signer has no key at all.
func (s *Signer) Empty() bool { return len(s.keys) == 0 && len(s.ed) == 0 }

// KeyIDs returns the webhook-key-id header value: the kid of each
// Ed25519 key, in the order of the v1a signatures; "" without one.
func (s *Signer) KeyIDs() string {
	var b strings.Builder
	for i, k := range s.ed {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(hookgate.KeyID(hookgate.PublicOf(k)))
	}
	return b.String()
}

// Sign returns the webhook-signature header value for one request:
// space-separated "v1,…" signatures, one per secret, then "v1a,…" ones,
// one per Ed25519 key.
func (s *Signer) Sign(id string, unix int64, body []byte) string {
	ts := strconv.FormatInt(unix, 10)
	var b strings.Builder
	for _, k := range s.keys {
		mac := hmac.New(sha256.New, k)
		mac.Write([]byte(id))
		mac.Write([]byte{'.'})
		mac.Write([]byte(ts))
		mac.Write([]byte{'.'})
		mac.Write(body)
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("v1,")
		b.WriteString(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	if len(s.ed) > 0 {
		content := signedContent(id, ts, body)
		for _, k := range s.ed {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString("v1a,")
			b.WriteString(base64.StdEncoding.EncodeToString(ed25519.Sign(k, content)))
		}
	}
	return b.String()
}

// signedContent is what a v1a signature signs: "{id}.{timestamp}.{body}".
func signedContent(id, ts string, body []byte) []byte {
	c := make([]byte, 0, len(id)+len(ts)+2+len(body))
	c = append(c, id...)
	c = append(c, '.')
	c = append(c, ts...)
	c = append(c, '.')
	return append(c, body...)
}
