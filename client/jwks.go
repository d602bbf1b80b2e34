package client

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// JWKS fetching bounds: the document's size, how long it is kept at least
// and at most whatever its Cache-Control says, and how often an unknown
// kid may make the verifier fetch it again.
const (
	maxJWKSBytes     = 4 << 20
	minJWKSAge       = 30 * time.Second
	maxJWKSAge       = time.Hour
	jwksRefetchEvery = 30 * time.Second
)

// JWKSVerifier verifies v1a (Ed25519) signatures with the public keys a
// project publishes at {server}/.well-known/hookgate/{project}/jwks.json.
// It fetches the document when first needed, keeps it as long as its
// Cache-Control says (30 s to 1 h), and fetches it again when a request
// names a key it does not know (a rotation), at most once every 30 s so
// that forged key IDs cannot make it fetch in a loop. It is safe for
// concurrent use.
type JWKSVerifier struct {
	url    string
	client *http.Client

	mu      sync.Mutex
	keys    map[string]ed25519.PublicKey
	expires time.Time
	fetched time.Time
}

// NewJWKSVerifier returns a verifier of the JWKS at jwksURL. The URL must
// be https, or http on a loopback host (a server on the same machine).
// The fetch follows no redirect and gives up after 10 seconds; hc, when
// not nil, makes the request instead (to pass through your egress proxy or
// network policy; its redirect policy is kept).
func NewJWKSVerifier(jwksURL string, hc *http.Client) (*JWKSVerifier, error) {
	u, err := url.Parse(jwksURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) {
		return nil, fmt.Errorf("hookgate verify: the JWKS URL %q must be https (or http on a loopback host)", jwksURL)
	}
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return &JWKSVerifier{url: jwksURL, client: hc}, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Verify checks a request as Verify does for v1a, with the key its
// webhook-key-id names taken from the JWKS.
func (v *JWKSVerifier) Verify(header http.Header, body []byte) error {
	return v.VerifyAt(header, body, time.Now())
}

// VerifyAt is Verify with the receiver's clock reading now.
func (v *JWKSVerifier) VerifyAt(header http.Header, body []byte, now time.Time) error {
	var fetchErr error
	err := verifyEd25519(header, body, now, func(kid string) []ed25519.PublicKey {
		k, err := v.key(kid, now)
		if err != nil {
			fetchErr = err
			return nil
		}
		return k
	})
	if err != nil && fetchErr != nil {
		return fmt.Errorf("%w (%v)", err, fetchErr)
	}
	return err
}

// key returns the key kid names ("" for every key), fetching the JWKS
// when it is stale, or when kid is unknown and no fetch happened within
// jwksRefetchEvery.
func (v *JWKSVerifier) key(kid string, now time.Time) ([]ed25519.PublicKey, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	_, known := v.keys[kid]
	if v.keys == nil || now.After(v.expires) || (kid != "" && !known && now.Sub(v.fetched) >= jwksRefetchEvery) {
		if err := v.fetch(now); err != nil && v.keys == nil {
			return nil, err
		}
	}
	if kid != "" {
		if k, ok := v.keys[kid]; ok {
			return []ed25519.PublicKey{k}, nil
		}
		return nil, nil
	}
	all := make([]ed25519.PublicKey, 0, len(v.keys))
	for _, k := range v.keys {
		all = append(all, k)
	}
	return all, nil
}

// fetch reads the JWKS; v.mu is held.
func (v *JWKSVerifier) fetch(now time.Time) error {
	v.fetched = now
	res, err := v.client.Get(v.url)
	if err != nil {
		return fmt.Errorf("fetch the JWKS: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch the JWKS: %s", res.Status)
	}
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxJWKSBytes+1))
	if err != nil {
		return fmt.Errorf("fetch the JWKS: %w", err)
	}
	if len(raw) > maxJWKSBytes {
		return errors.New("fetch the JWKS: larger than 4 MiB (add ?webhook={your webhook's ID} to its URL)")
	}
	var doc struct {
		Keys []struct {
			Kty, Crv, X, Kid string
		} `json:"keys"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("the JWKS is not JSON: %w", err)
	}
	keys := make(map[string]ed25519.PublicKey, len(doc.Keys))
	for _, k := range doc.Keys {
		x, err := base64.RawURLEncoding.DecodeString(k.X)
		if k.Kty != "OKP" || k.Crv != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize || k.Kid == "" {
			continue
		}
		keys[k.Kid] = x
	}
	v.keys, v.expires = keys, now.Add(maxAge(res.Header.Get("Cache-Control")))
	return nil
}

// maxAge reads max-age from Cache-Control, within minJWKSAge and
// maxJWKSAge.
func maxAge(cc string) time.Duration {
	for _, d := range strings.Split(cc, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(d), "max-age="); ok {
			if n, err := strconv.Atoi(v); err == nil {
				return min(max(time.Duration(n)*time.Second, minJWKSAge), maxJWKSAge)
			}
		}
	}
	return minJWKSAge
}
