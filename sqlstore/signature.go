package sqlstore

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/hookgate/hookgate"
)

// storedSignature is a webhook's Signature as its sealed column keeps it:
// the keys as their 32-byte seeds in base64.
type storedSignature struct {
	Scheme                  string `json:"scheme,omitempty"`
	PreviousScheme          string `json:"previousScheme,omitempty"`
	PreviousSchemeExpiresAt int64  `json:"previousSchemeExpiresAt,omitempty"`
	Key                     string `json:"key,omitempty"`
	PreviousKey             string `json:"previousKey,omitempty"`
}

// storedPublic is the signing_public column: the public halves the JWKS
// lists without opening the sealed keys.
type storedPublic struct {
	Key         string `json:"key,omitempty"`
	PreviousKey string `json:"previousKey,omitempty"`
}

// signatureColumns encodes s as the signature (to be sealed) and
// signing_public columns; "" for the v1 default without keys.
func signatureColumns(s hookgate.Signature) (sealed, public string) {
	st := storedSignature{Scheme: s.Scheme, PreviousScheme: s.PreviousScheme, Key: seedOf(s.Key), PreviousKey: seedOf(s.PreviousKey)}
	if !s.PreviousSchemeExpiresAt.IsZero() {
		st.PreviousSchemeExpiresAt = micros(s.PreviousSchemeExpiresAt)
	}
	if st != (storedSignature{}) {
		b, _ := json.Marshal(st)
		sealed = string(b)
	}
	p := storedPublic{Key: publicOf(s.Key), PreviousKey: publicOf(s.PreviousKey)}
	if p != (storedPublic{}) {
		b, _ := json.Marshal(p)
		public = string(b)
	}
	return sealed, public
}

// signatureOf decodes the opened signature column.
func signatureOf(text string) (hookgate.Signature, error) {
	var s hookgate.Signature
	if text == "" {
		return s, nil
	}
	var st storedSignature
	if err := json.Unmarshal([]byte(text), &st); err != nil {
		return s, err
	}
	s.Scheme, s.PreviousScheme = st.Scheme, st.PreviousScheme
	if st.PreviousSchemeExpiresAt != 0 {
		s.PreviousSchemeExpiresAt = fromMicros(st.PreviousSchemeExpiresAt)
	}
	var err error
	if s.Key, err = keyOf(st.Key); err != nil {
		return s, err
	}
	s.PreviousKey, err = keyOf(st.PreviousKey)
	return s, err
}

func seedOf(k ed25519.PrivateKey) string {
	if len(k) != ed25519.PrivateKeySize {
		return ""
	}
	return base64.StdEncoding.EncodeToString(k.Seed())
}

func publicOf(k ed25519.PrivateKey) string {
	if pub := hookgate.PublicOf(k); pub != nil {
		return base64.StdEncoding.EncodeToString(pub)
	}
	return ""
}

func keyOf(seed string) (ed25519.PrivateKey, error) {
	if seed == "" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(seed)
	if err != nil || len(b) != ed25519.SeedSize {
		return nil, hookgate.Errorf(hookgate.EInternal, "a stored signing key is not an Ed25519 seed")
	}
	return ed25519.NewKeyFromSeed(b), nil
}

// PublicKeys returns the Ed25519 public keys of a project's webhooks that
// sign at now: each webhook's current key, and its previous key while the
// webhook's rotation grace lasts, with when that ends (zero for a
// current key).
func (s *Store) PublicKeys(ctx context.Context, projectID string, now time.Time) ([]hookgate.PublicKey, error) {
	rows, err := s.read.QueryContext(ctx, s.q(`SELECT id, signing_public, previous_secret_expires_at FROM webhooks
		WHERE project_id = ? AND signing_public <> '' ORDER BY id`), projectID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []hookgate.PublicKey
	for rows.Next() {
		var id, text string
		var prevExp int64
		if err := rows.Scan(&id, &text, &prevExp); err != nil {
			return nil, err
		}
		var p storedPublic
		if json.Unmarshal([]byte(text), &p) != nil {
			continue
		}
		if k, err := base64.StdEncoding.DecodeString(p.Key); err == nil && len(k) == ed25519.PublicKeySize {
			out = append(out, hookgate.PublicKey{WebhookID: id, Key: k})
		}
		if exp := fromMicros(prevExp); p.PreviousKey != "" && now.Before(exp) {
			if k, err := base64.StdEncoding.DecodeString(p.PreviousKey); err == nil && len(k) == ed25519.PublicKeySize {
				out = append(out, hookgate.PublicKey{WebhookID: id, Key: k, ExpiresAt: exp})
			}
		}
	}
	return out, rows.Err()
}
