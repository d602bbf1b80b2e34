package client_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/signing"
)

// signV1a signs a request at at with keys, as Hookgate's sender does.
func signV1a(t *testing.T, at time.Time, body []byte, keys ...ed25519.PrivateKey) http.Header {
	t.Helper()
	s, _ := signing.NewSigner()
	s.WithEd25519(keys...)
	h := http.Header{}
	h.Set("webhook-id", "msg_1")
	h.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	h.Set("webhook-signature", s.Sign("msg_1", at.Unix(), body))
	h.Set("webhook-key-id", s.KeyIDs())
	return h
}

// jwksServer serves a JWKS of keys, counting fetches; set changes them.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	keys    []ed25519.PrivateKey
	fetches int
}

func newJWKSServer(t *testing.T, keys ...ed25519.PrivateKey) *jwksServer {
	s := &jwksServer{keys: keys}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.fetches++
		var doc struct {
			Keys []map[string]string `json:"keys"`
		}
		for _, k := range s.keys {
			pub := hookgate.PublicOf(k)
			doc.Keys = append(doc.Keys, map[string]string{"kty": "OKP", "crv": "Ed25519", "x": base64.RawURLEncoding.EncodeToString(pub), "kid": hookgate.KeyID(pub), "use": "sig"})
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		_ = json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(keys ...ed25519.PrivateKey) {
	s.mu.Lock()
	s.keys = keys
	s.mu.Unlock()
}

func (s *jwksServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}

// Issue 27, item 4: the SDK verifies v1a with a whpk_ public key, or with
// the key a JWKS lists under the request's webhook-key-id: fetched once
// and kept as its max-age says, fetched again for an unknown kid (a
// rotation) but not more than once every 30 s, and refusing a changed
// body, another key, and a JWKS URL that is plain http off loopback.
func TestVerifyV1a(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_760_000_000, 0)
	body := []byte(`{"type":"order.paid"}`)
	k1, k2 := hookgate.NewSigningKey(), hookgate.NewSigningKey()
	h := signV1a(t, now, body, k1)
	if err := client.VerifyAt(hookgate.PublicKeyString(hookgate.PublicOf(k1)), h, body, now); err != nil {
		t.Fatalf("whpk_ key: %v", err)
	}
	if err := client.VerifyAt(hookgate.PublicKeyString(hookgate.PublicOf(k2)), h, body, now); err == nil {
		t.Fatal("another key verifies")
	}
	if err := client.VerifyAt(hookgate.PublicKeyString(hookgate.PublicOf(k1)), h, append(body, ' '), now); err == nil {
		t.Fatal("a changed body verifies")
	}

	srv := newJWKSServer(t, k1)
	v, err := client.NewJWKSVerifier(srv.URL+"/.well-known/hookgate/shop/jwks.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := v.VerifyAt(h, body, now); err != nil {
			t.Fatalf("JWKS: %v", err)
		}
	}
	if srv.count() != 1 {
		t.Fatalf("%d fetches for three requests, want 1", srv.count())
	}
	// A rotation: the new key signs first, the JWKS lists both.
	srv.set(k2, k1)
	h2 := signV1a(t, now.Add(5*time.Second), body, k2, k1)
	if err := v.VerifyAt(h2, body, now.Add(5*time.Second)); err != nil {
		t.Fatalf("during a rotation, with the old key: %v", err) // the second signature, k1's, verifies
	}
	h3 := signV1a(t, now.Add(10*time.Second), body, k2)
	if err := v.VerifyAt(h3, body, now.Add(10*time.Second)); err == nil {
		t.Fatal("an unknown kid verified without a fetch")
	}
	if srv.count() != 1 {
		t.Fatalf("an unknown kid within 30 s of a fetch fetched again: %d", srv.count())
	}
	h4 := signV1a(t, now.Add(31*time.Second), body, k2)
	if err := v.VerifyAt(h4, body, now.Add(31*time.Second)); err != nil || srv.count() != 2 {
		t.Fatalf("the new key after 30 s: %v, %d fetches", err, srv.count())
	}
	if _, err := client.NewJWKSVerifier("http://hooks.example.com/.well-known/hookgate/shop/jwks.json", nil); err == nil {
		t.Fatal("a plain http JWKS URL off loopback was taken")
	}
}
