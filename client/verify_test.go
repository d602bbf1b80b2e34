package client_test

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/signing"
)

// Verify accepts what the server's signer signs, within the tolerance, and
// nothing else.
func TestVerify(t *testing.T) {
	t.Parallel()
	const (
		secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		old    = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
	)
	now := time.Unix(1_760_000_000, 0)
	body := []byte(`{"type":"order.paid","data":{"id":1}}`)
	sign := func(secrets []string, id string, at time.Time, body []byte) http.Header {
		s, err := signing.NewSigner(secrets...)
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		h.Set("webhook-id", id)
		h.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
		h.Set("webhook-signature", s.Sign(id, at.Unix(), body))
		return h
	}
	good := sign([]string{secret}, "dlv_1", now, body)
	if err := client.VerifyAt(secret, good, body, now); err != nil {
		t.Fatalf("a good request: %v", err)
	}
	if err := client.VerifyAt(secret, good, body, now.Add(client.Tolerance-time.Second)); err != nil {
		t.Fatalf("within the tolerance: %v", err)
	}
	rotating := sign([]string{secret, old}, "dlv_2", now, body)
	for _, s := range []string{secret, old} {
		if err := client.VerifyAt(s, rotating, body, now); err != nil {
			t.Fatalf("during a rotation, with %s: %v", s, err)
		}
	}
	tampered := append([]byte(nil), body...)
	tampered[10] = 'X'
	otherID := sign([]string{secret}, "dlv_1", now, body)
	otherID.Set("webhook-id", "dlv_9")
	missing := sign([]string{secret}, "dlv_1", now, body)
	missing.Del("webhook-signature")
	v2 := sign([]string{secret}, "dlv_1", now, body)
	v2.Set("webhook-signature", "v2,"+v2.Get("webhook-signature")[3:])
	for name, tc := range map[string]struct {
		secret string
		h      http.Header
		body   []byte
		now    time.Time
		want   error
	}{
		"tampered body":     {secret, good, tampered, now, client.ErrNoMatch},
		"another id":        {secret, otherID, body, now, client.ErrNoMatch},
		"another secret":    {old, good, body, now, client.ErrNoMatch},
		"only v1 counts":    {secret, v2, body, now, client.ErrNoMatch},
		"too old":           {secret, good, body, now.Add(client.Tolerance + time.Second), client.ErrTimestamp},
		"from the future":   {secret, good, body, now.Add(-client.Tolerance - time.Second), client.ErrTimestamp},
		"missing signature": {secret, missing, body, now, client.ErrMissingHeaders},
	} {
		if err := client.VerifyAt(tc.secret, tc.h, tc.body, tc.now); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	if err := client.VerifyAt("not-a-secret", good, body, now); err == nil {
		t.Error("a secret without whsec_ verified")
	}
}
