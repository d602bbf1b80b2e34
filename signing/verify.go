package signing

import (
	"crypto/ed25519"
	"crypto/hmac"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Tolerance is how far a request's webhook-timestamp may be from the
// receiver's clock, either way, as Standard Webhooks recommends.
const Tolerance = 5 * time.Minute

// Verify checks a received request as a Standard Webhooks receiver does:
// webhook-id and webhook-timestamp present, the timestamp within
// Tolerance of now, and one of the v1 signatures in webhook-signature made
// with one of the signer's secrets over id, timestamp and body.
func (s *Signer) Verify(h http.Header, body []byte, now time.Time) error {
	id, unix, sigs, err := received(h, now)
	if err != nil {
		return err
	}
	want := strings.Fields(s.Sign(id, unix, body))
	for _, got := range strings.Fields(sigs) {
		v, b64, ok := strings.Cut(got, ",")
		if !ok || v != "v1" {
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			continue
		}
		for _, w := range want {
			ws, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(w, "v1,"))
			if hmac.Equal(sig, ws) {
				return nil
			}
		}
	}
	return errors.New("no signature matches the secret")
}

// received reads a request's webhook-id, webhook-timestamp (within
// Tolerance of now) and webhook-signature.
func received(h http.Header, now time.Time) (id string, unix int64, sigs string, err error) {
	id, ts, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || ts == "" || sigs == "" {
		return "", 0, "", errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	unix, err = strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "", 0, "", errors.New("webhook-timestamp is not Unix seconds")
	}
	if d := now.Sub(time.Unix(unix, 0)); d > Tolerance || d < -Tolerance {
		return "", 0, "", fmt.Errorf("webhook-timestamp is %s from now, beyond %s", d.Round(time.Second), Tolerance)
	}
	return id, unix, sigs, nil
}

// VerifyEd25519 checks a received request as a Standard Webhooks receiver
// of v1a signatures does: webhook-id and webhook-timestamp present, the
// timestamp within Tolerance of now, and one of the v1a signatures in
// webhook-signature valid for one of keys over id, timestamp and body.
func VerifyEd25519(h http.Header, body []byte, now time.Time, keys ...ed25519.PublicKey) error {
	id, unix, sigs, err := received(h, now)
	if err != nil {
		return err
	}
	content := signedContent(id, strconv.FormatInt(unix, 10), body)
	for _, got := range strings.Fields(sigs) {
		v, b64, ok := strings.Cut(got, ",")
		if !ok || v != "v1a" {
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(sig) != ed25519.SignatureSize {
			continue
		}
		for _, k := range keys {
			if len(k) == ed25519.PublicKeySize && ed25519.Verify(k, content, sig) {
				return nil
			}
		}
	}
	return errors.New("no v1a signature matches the public keys")
}
