package client

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Tolerance is how far a request's webhook-timestamp may be from the
// receiver's clock, either way, before Verify refuses it (Standard
// Webhooks' recommendation): it bounds replays of a captured request.
const Tolerance = 5 * time.Minute

// Errors of Verify, to tell a forged request from a stale one.
var (
	ErrMissingHeaders = errors.New("hookgate verify: missing webhook-id, webhook-timestamp or webhook-signature")
	ErrTimestamp      = errors.New("hookgate verify: webhook-timestamp is not within the tolerance")
	ErrNoMatch        = errors.New("hookgate verify: no signature matches the secret or key")
)

// Verify checks a request Hookgate sent to a receiver, as Standard Webhooks
// specifies: body must be the raw request body, header the request's
// headers, and secret either the webhook's "whsec_…" signing secret (v1)
// or its "whpk_…" public key (v1a). It returns nil when one of the
// signatures of webhook-signature of that version is valid over
// "{webhook-id}.{webhook-timestamp}.{body}" (the HMAC-SHA256 under the
// secret; the Ed25519 signature under the public key), and the timestamp
// is within Tolerance of now. During a rotation requests carry a signature
// for each secret or key, so either verifies. To take the keys from the
// project's JWKS instead, see JWKSVerifier.
func Verify(secret string, header http.Header, body []byte) error {
	return VerifyAt(secret, header, body, time.Now())
}

// VerifyAt is Verify with the receiver's clock reading now.
func VerifyAt(secret string, header http.Header, body []byte, now time.Time) error {
	if strings.HasPrefix(secret, "whpk_") {
		pub, err := publicKey(secret)
		if err != nil {
			return err
		}
		return verifyEd25519(header, body, now, func(string) []ed25519.PublicKey { return []ed25519.PublicKey{pub} })
	}
	key, err := secretKey(secret)
	if err != nil {
		return err
	}
	id, ts, sigs, err := signed(header, now)
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, field := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(field, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrNoMatch
}

// signed reads a request's webhook-id, webhook-timestamp (checked against
// now) and webhook-signature.
func signed(header http.Header, now time.Time) (id, ts, sigs string, err error) {
	id, ts, sigs = header.Get("webhook-id"), header.Get("webhook-timestamp"), header.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return "", "", "", ErrMissingHeaders
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "", "", "", fmt.Errorf("%w: %q is not Unix seconds", ErrTimestamp, ts)
	}
	if d := now.Sub(time.Unix(unix, 0)); d > Tolerance || d < -Tolerance {
		return "", "", "", fmt.Errorf("%w: it is %s from now", ErrTimestamp, d.Round(time.Second))
	}
	return id, ts, sigs, nil
}

// verifyEd25519 checks the v1a signatures of a request: the one at index
// i of the v1a signatures against keys(kid), kid being the i-th name of
// webhook-key-id ("" when the header names none: then every key keys
// gives is tried).
func verifyEd25519(header http.Header, body []byte, now time.Time, keys func(kid string) []ed25519.PublicKey) error {
	id, ts, sigs, err := signed(header, now)
	if err != nil {
		return err
	}
	content := make([]byte, 0, len(id)+len(ts)+2+len(body))
	content = append(append(append(append(append(content, id...), '.'), ts...), '.'), body...)
	kids := strings.Fields(header.Get("webhook-key-id"))
	n := 0
	for _, field := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(field, ",")
		if !ok || version != "v1a" {
			continue
		}
		kid := ""
		if n < len(kids) {
			kid = kids[n]
		}
		n++
		sig, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(sig) != ed25519.SignatureSize {
			continue
		}
		for _, k := range keys(kid) {
			if ed25519.Verify(k, content, sig) {
				return nil
			}
		}
	}
	return ErrNoMatch
}

// publicKey decodes a "whpk_" public key.
func publicKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whpk_"))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, errors.New("hookgate verify: the public key is not whpk_ and the base64 of 32 bytes")
	}
	return b, nil
}

// secretKey decodes a "whsec_" secret into its key bytes.
func secretKey(secret string) ([]byte, error) {
	b64, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		return nil, errors.New(`hookgate verify: the secret must start with "whsec_"`)
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(key) == 0 {
		return nil, errors.New("hookgate verify: the secret is not whsec_ and base64")
	}
	return key, nil
}
