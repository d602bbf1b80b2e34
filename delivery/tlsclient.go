package delivery

import (
	"crypto/sha256"
	"errors"
	"net/http"
	"time"

	"github.com/hookgate/hookgate"
)

// maxTLSClients bounds the cache of per-webhook clients; past it the one
// used least recently is dropped (its idle connections closed).
const maxTLSClients = 1000

// tlsClientIdle is how long a per-webhook client may go unused before it
// is dropped: a deleted webhook's goes so.
const tlsClientIdle = 10 * time.Minute

// tlsClient is the HTTP client of one webhook with TLS settings: the
// Sender's transport cloned (same dialer, so the same network policy for
// every connection) with the webhook's client certificate and roots.
type tlsClient struct {
	// version is the UpdatedAt of the webhook last seen with these
	// settings; hash the SHA-256 of the settings themselves.
	version time.Time
	hash    [sha256.Size]byte
	client  *http.Client
	used    time.Time
}

// clientFor returns the client of w's requests: the Sender's own for a
// webhook without TLS settings (the hot path: nothing looked up), else
// one of w's own, cached by webhook ID and the hash of its settings.
func (s *Sender) clientFor(w *hookgate.Webhook) (*http.Client, error) {
	if w.TLS.ClientCertificate == "" && w.TLS.CABundle == "" {
		return s.Client, nil
	}
	return s.webhookClient(w)
}

// webhookClient returns w's cached client, made again when w's TLS
// settings changed. A webhook changed otherwise (another UpdatedAt, the
// same settings) keeps its client and its connections.
func (s *Sender) webhookClient(w *hookgate.Webhook) (*http.Client, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepTLSClients(now)
	c, ok := s.tlsClients[w.ID]
	if ok && c.version.Equal(w.UpdatedAt) {
		c.used = now
		return c.client, nil
	}
	h := tlsHash(&w.TLS)
	if ok && c.hash == h {
		c.version, c.used = w.UpdatedAt, now
		return c.client, nil
	}
	if ok {
		c.client.CloseIdleConnections()
		delete(s.tlsClients, w.ID)
	}
	client, err := s.newTLSClient(&w.TLS)
	if err != nil {
		return nil, err
	}
	if s.tlsClients == nil {
		s.tlsClients = map[string]*tlsClient{}
	}
	if len(s.tlsClients) >= maxTLSClients {
		s.dropLeastUsed()
	}
	s.tlsClients[w.ID] = &tlsClient{version: w.UpdatedAt, hash: h, client: client, used: now}
	return client, nil
}

// newTLSClient clones the Sender's client with t's TLS configuration.
func (s *Sender) newTLSClient(t *hookgate.WebhookTLS) (*http.Client, error) {
	base, ok := s.Client.Transport.(*http.Transport)
	if !ok {
		// Any other transport may dial in ways the clone would not: no
		// request goes rather than one outside the network policy.
		return nil, errors.New("tls: this sender's transport cannot carry a webhook's client certificate")
	}
	cfg, err := t.Config()
	if err != nil {
		return nil, err
	}
	tr := base.Clone()
	if tr.TLSClientConfig != nil {
		merged := tr.TLSClientConfig.Clone()
		merged.Certificates, merged.RootCAs = cfg.Certificates, cfg.RootCAs
		cfg = merged
	}
	tr.TLSClientConfig = cfg
	c := *s.Client
	c.Transport = tr
	return &c, nil
}

// sweepTLSClients drops the clients unused for tlsClientIdle, at most
// once a minute; s.mu is held.
func (s *Sender) sweepTLSClients(now time.Time) {
	if now.Sub(s.tlsSwept) < time.Minute {
		return
	}
	s.tlsSwept = now
	for id, c := range s.tlsClients {
		if now.Sub(c.used) > tlsClientIdle {
			c.client.CloseIdleConnections()
			delete(s.tlsClients, id)
		}
	}
}

// dropLeastUsed drops the client used least recently; s.mu is held.
func (s *Sender) dropLeastUsed() {
	var oldest string
	var at time.Time
	for id, c := range s.tlsClients {
		if oldest == "" || c.used.Before(at) {
			oldest, at = id, c.used
		}
	}
	if c, ok := s.tlsClients[oldest]; ok {
		c.client.CloseIdleConnections()
		delete(s.tlsClients, oldest)
	}
}

// tlsHash is the SHA-256 of t's three fields, each length-prefixed.
func tlsHash(t *hookgate.WebhookTLS) [sha256.Size]byte {
	h := sha256.New()
	for _, f := range []string{t.ClientCertificate, t.ClientKey, t.CABundle} {
		var n [8]byte
		for i := range n {
			n[i] = byte(len(f) >> (8 * i))
		}
		h.Write(n[:])
		h.Write([]byte(f))
	}
	var out [sha256.Size]byte
	copy(out[:], h.Sum(nil))
	return out
}

// TLSClients returns how many per-webhook TLS clients are cached.
func (s *Sender) TLSClients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tlsClients)
}
