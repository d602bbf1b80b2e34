package hookgate

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// Signature schemes of a webhook's requests (Standard Webhooks): v1 is
// HMAC-SHA256 with the webhook's secret, v1a Ed25519 with its key pair.
const (
	SchemeV1     = "v1"
	SchemeV1a    = "v1a"
	SchemeV1V1a  = "v1+v1a"
	PublicPrefix = "whpk_"
)

// Signature is a webhook's signing scheme and its Ed25519 keys. The
// private keys are plain here; stores encrypt them at rest.
type Signature struct {
	// Scheme is SchemeV1 (also for ""), SchemeV1a or SchemeV1V1a.
	Scheme string
	// PreviousScheme keeps being signed with, besides Scheme, until
	// PreviousSchemeExpiresAt after a change of scheme, so that receivers
	// can move from one to the other without a request they cannot verify.
	PreviousScheme          string
	PreviousSchemeExpiresAt time.Time
	// Key is the Ed25519 key that signs v1a; nil until v1a is first asked
	// for. PreviousKey keeps signing until the webhook's
	// PreviousSecretExpiresAt after a rotation, as PreviousSecret does.
	Key         ed25519.PrivateKey
	PreviousKey ed25519.PrivateKey
}

// CheckScheme accepts "", v1, v1a and v1+v1a; EInvalidParameter naming
// param otherwise.
func CheckScheme(param, scheme string) error {
	switch scheme {
	case "", SchemeV1, SchemeV1a, SchemeV1V1a:
		return nil
	}
	return InvalidParam(param, scheme, "%s must be v1 (HMAC-SHA256), v1a (Ed25519) or v1+v1a (both)", param)
}

// Signs reports which signatures a request made at now carries: the
// scheme's, and during a change the previous scheme's too.
func (s Signature) Signs(now time.Time) (v1, v1a bool) {
	add := func(scheme string) {
		switch scheme {
		case "", SchemeV1:
			v1 = true
		case SchemeV1a:
			v1a = true
		case SchemeV1V1a:
			v1, v1a = true, true
		}
	}
	add(s.Scheme)
	if s.PreviousScheme != "" && now.Before(s.PreviousSchemeExpiresAt) {
		add(s.PreviousScheme)
	}
	return v1, v1a
}

// NeedsKey reports whether the scheme (or the previous one, still in
// force) asks for an Ed25519 key.
func (s Signature) NeedsKey(now time.Time) bool {
	_, v1a := s.Signs(now)
	return v1a
}

// NewSigningKey returns a new Ed25519 key.
func NewSigningKey() ed25519.PrivateKey {
	_, k, _ := ed25519.GenerateKey(rand.Reader) // crypto/rand does not fail on supported platforms
	return k
}

// PublicKeyString is an Ed25519 public key as Hookgate shows it:
// "whpk_" and its 32 bytes in standard base64.
func PublicKeyString(pub ed25519.PublicKey) string {
	return PublicPrefix + base64.StdEncoding.EncodeToString(pub)
}

// KeyID is an Ed25519 public key's JWK thumbprint (RFC 7638: SHA-256 of
// {"crv":"Ed25519","kty":"OKP","x":…}, base64url without padding), the
// kid of its JWK and of the webhook-key-id header.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256([]byte(`{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// PublicOf returns k's public key; nil for no key.
func PublicOf(k ed25519.PrivateKey) ed25519.PublicKey {
	if len(k) != ed25519.PrivateKeySize {
		return nil
	}
	return k.Public().(ed25519.PublicKey)
}

// PublicKey is a webhook's Ed25519 public key as the project's JWKS lists
// it: ExpiresAt is zero for the current key, the end of the rotation's
// grace for the previous one.
type PublicKey struct {
	WebhookID string
	Key       ed25519.PublicKey
	ExpiresAt time.Time
}
