// Package signing signs webhook requests as Standard Webhooks specifies:
// webhook-signature is "v1," and the base64 of HMAC-SHA256 over
// "{webhook-id}.{webhook-timestamp}.{body}", keyed with the secret's bytes.
package signing

import (
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
)

// Signer signs with one or more secrets; during a rotation it holds the new
// secret and the old one, and a request carries both signatures.
type Signer struct {
	keys [][]byte
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

// Sign returns the webhook-signature header value for one request:
// space-separated "v1,…" signatures, one per secret.
func (s *Signer) Sign(id string, unix int64, body []byte) string {
	ts := strconv.FormatInt(unix, 10)
	var b strings.Builder
	for i, k := range s.keys {
		mac := hmac.New(sha256.New, k)
		mac.Write([]byte(id))
		mac.Write([]byte{'.'})
		mac.Write([]byte(ts))
		mac.Write([]byte{'.'})
		mac.Write(body)
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("v1,")
		b.WriteString(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return b.String()
}
