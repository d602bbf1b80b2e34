package api

import (
	"time"

	"github.com/hookgate/hookgate"
)

// signatureIn is a webhook's signature scheme as create and PATCH take it.
type signatureIn struct {
	Scheme      string `json:"scheme" maxLength:"16" doc:"v1 (HMAC-SHA256 with the secret; the default), v1a (Ed25519) or v1+v1a (both)"`
	GracePeriod string `json:"gracePeriod,omitempty" maxLength:"32" doc:"On a change of scheme: how long the previous scheme's signatures are still sent beside the new one's, as a Go duration; default 24h, at most 720h, 0s for none"`
}

// signatureOut is a webhook's signature scheme and public keys as read.
type signatureOut struct {
	Scheme                  string     `json:"scheme" doc:"v1, v1a or v1+v1a"`
	PreviousScheme          string     `json:"previousScheme,omitempty" doc:"The scheme before the last change, still signed with until previousSchemeExpiresAt"`
	PreviousSchemeExpiresAt *time.Time `json:"previousSchemeExpiresAt,omitempty"`
	PublicKey               string     `json:"publicKey,omitempty" doc:"The Ed25519 public key of v1a signatures: whpk_ and its 32 bytes in base64; absent before v1a is first asked for"`
	KeyID                   string     `json:"keyId,omitempty" doc:"The key's JWK thumbprint (RFC 7638): its kid in the project's JWKS and in the webhook-key-id header"`
	PreviousPublicKey       string     `json:"previousPublicKey,omitempty" doc:"The key replaced by the last rotation, still signing until previousKeyExpiresAt"`
	PreviousKeyID           string     `json:"previousKeyId,omitempty"`
	PreviousKeyExpiresAt    *time.Time `json:"previousKeyExpiresAt,omitempty"`
}

func toSignature(w *hookgate.Webhook, now time.Time) signatureOut {
	s := w.Signature
	out := signatureOut{Scheme: s.Scheme}
	if out.Scheme == "" {
		out.Scheme = hookgate.SchemeV1
	}
	if s.PreviousScheme != "" && now.Before(s.PreviousSchemeExpiresAt) {
		t := utc(s.PreviousSchemeExpiresAt)
		out.PreviousScheme, out.PreviousSchemeExpiresAt = s.PreviousScheme, &t
	}
	if pub := hookgate.PublicOf(s.Key); pub != nil {
		out.PublicKey, out.KeyID = hookgate.PublicKeyString(pub), hookgate.KeyID(pub)
	}
	if pub := hookgate.PublicOf(s.PreviousKey); pub != nil && now.Before(w.PreviousSecretExpiresAt) {
		t := utc(w.PreviousSecretExpiresAt)
		out.PreviousPublicKey, out.PreviousKeyID, out.PreviousKeyExpiresAt = hookgate.PublicKeyString(pub), hookgate.KeyID(pub), &t
	}
	return out
}

// applySignature sets w's scheme from in at now: a change keeps the
// previous scheme signing for the grace period, and a scheme with v1a
// gets the webhook an Ed25519 key if it has none. EInvalidParameter
// naming signature.scheme or signature.gracePeriod.
func applySignature(w *hookgate.Webhook, in *signatureIn, now time.Time) error {
	if in == nil {
		return nil
	}
	if err := hookgate.CheckScheme("signature.scheme", in.Scheme); err != nil {
		return err
	}
	grace := DefaultGracePeriod
	if in.GracePeriod != "" {
		d, err := time.ParseDuration(in.GracePeriod)
		if err != nil || d < 0 || d > MaxGracePeriod {
			return hookgate.InvalidParam("signature.gracePeriod", in.GracePeriod, "signature.gracePeriod is a duration such as 24h, between 0s and 720h")
		}
		grace = d
	}
	s := &w.Signature
	cur, next := normalScheme(s.Scheme), normalScheme(in.Scheme)
	if cur != next {
		s.PreviousScheme, s.PreviousSchemeExpiresAt = cur, now.Add(grace)
		if grace == 0 {
			s.PreviousScheme, s.PreviousSchemeExpiresAt = "", time.Time{}
		}
		s.Scheme = next
	}
	if s.Key == nil && s.NeedsKey(now) {
		s.Key = hookgate.NewSigningKey()
	}
	return nil
}

func normalScheme(s string) string {
	if s == "" {
		return hookgate.SchemeV1
	}
	return s
}
