package client

import (
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
	ErrNoMatch        = errors.New("hookgate verify: no signature matches the secret")
)

// Verify checks a request Hookgate sent to a receiver, as Standard Webhooks
// specifies: body must be the raw request body, header the request's
// headers, secret the webhook's "whsec_…" signing secret. It returns nil
// when one of the v1 signatures of webhook-signature is the HMAC-SHA256 of
// "{webhook-id}.{webhook-timestamp}.{body}" under the secret, and the
// timestamp is within Tolerance of now. During a secret rotation requests
// carry a signature for each secret, so either verifies.
func Verify(secret string, header http.Header, body []byte) error {
	return VerifyAt(secret, header, body, time.Now())
}

// VerifyAt is Verify with the receiver's clock reading now.
func VerifyAt(secret string, header http.Header, body []byte, now time.Time) error {
	key, err := secretKey(secret)
	if err != nil {
		return err
	}
	id, ts, sigs := header.Get("webhook-id"), header.Get("webhook-timestamp"), header.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return ErrMissingHeaders
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q is not Unix seconds", ErrTimestamp, ts)
	}
	if d := now.Sub(time.Unix(unix, 0)); d > Tolerance || d < -Tolerance {
		return fmt.Errorf("%w: it is %s from now", ErrTimestamp, d.Round(time.Second))
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
