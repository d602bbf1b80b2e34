package api

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/hookgate/hookgate"
)

// MaxJWKSAge bounds how long a receiver may keep a project's JWKS.
const MaxJWKSAge = 5 * time.Minute

// jwk is an Ed25519 public key as RFC 8037 writes it.
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
}

// handleJWKS answers GET /.well-known/hookgate/{project}/jwks.json: the
// public keys that sign the project's v1a signatures, with no key needed;
// ?webhook={id} lists one webhook's alone.
// A receiver may keep it for max-age, which is never past the end of a
// listed previous key's grace (nor past MaxJWKSAge); a kid it does not
// know means a new key: fetch again.
func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	p, err := s.store.FindProject(r.Context(), r.PathValue("project"))
	if err != nil {
		writeProblem(w, r, problemFrom(err))
		return
	}
	now := s.now()
	keys, err := s.store.PublicKeys(r.Context(), p.ID, now)
	if err != nil {
		writeProblem(w, r, problemFrom(err))
		return
	}
	age := MaxJWKSAge
	doc := struct {
		Keys []jwk `json:"keys"`
	}{Keys: make([]jwk, 0, len(keys))}
	only := r.URL.Query().Get("webhook")
	for _, k := range keys {
		if only != "" && k.WebhookID != only {
			continue
		}
		doc.Keys = append(doc.Keys, jwk{Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(k.Key), Kid: hookgate.KeyID(k.Key), Use: "sig", Alg: "EdDSA"})
		if !k.ExpiresAt.IsZero() {
			age = min(age, k.ExpiresAt.Sub(now))
		}
	}
	body, _ := json.Marshal(doc)
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	h := w.Header()
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(max(age, 0)/time.Second)))
	h.Set("ETag", etag)
	h.Set("Access-Control-Allow-Origin", "*")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/jwk-set+json")
	_, _ = w.Write(body)
}
