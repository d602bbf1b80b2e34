package api

import (
	"bytes"
	"encoding/json"
	"net/url"
	"time"

	"github.com/hookgate/hookgate"
)

// tlsBody is a webhook's TLS settings as sent: PEM text, never answered.
type tlsBody struct {
	ClientCertificate string `json:"clientCertificate,omitempty" doc:"PEM client certificate presented to the receiver and to the OAuth2 token URL, leaf first; with clientKey. Never answered: the read shows its subject, issuer and validity"`
	ClientKey         string `json:"clientKey,omitempty" doc:"PEM private key of clientCertificate (PKCS #8, PKCS #1 or SEC 1; RSA of at least 2048 bits, ECDSA or Ed25519). Never answered"`
	CABundle          string `json:"caBundle,omitempty" doc:"PEM certificates: when set, the only CAs trusted for the receiver (and the token URL), instead of the system's"`
}

func (b *tlsBody) domain() hookgate.WebhookTLS {
	if b == nil {
		return hookgate.WebhookTLS{}
	}
	return hookgate.WebhookTLS{ClientCertificate: b.ClientCertificate, ClientKey: b.ClientKey, CABundle: b.CABundle}
}

// tlsOut is what a read shows of a webhook's TLS settings: no secret.
type tlsOut struct {
	ClientCertificate *certificateOut `json:"clientCertificate" doc:"The client certificate's leaf; null when there is none"`
	CABundle          *caBundleOut    `json:"caBundle" doc:"The CAs trusted instead of the system's; null when the system's are"`
}

type certificateOut struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	NotBefore time.Time `json:"notBefore"`
	NotAfter  time.Time `json:"notAfter"`
	SHA256    string    `json:"sha256" doc:"The hex SHA-256 of the certificate (DER): its fingerprint"`
}

type caBundleOut struct {
	Certificates int      `json:"certificates"`
	Subjects     []string `json:"subjects"`
}

// toTLS renders t for an answer; nil when it sets nothing.
func toTLS(t *hookgate.WebhookTLS) *tlsOut {
	if t.IsZero() {
		return nil
	}
	out := &tlsOut{}
	if c := t.ClientCertificateInfo(); c != nil {
		out.ClientCertificate = &certificateOut{Subject: c.Subject, Issuer: c.Issuer, NotBefore: c.NotBefore, NotAfter: c.NotAfter, SHA256: c.SHA256}
	}
	if subjects := t.CABundleSubjects(); len(subjects) > 0 {
		out.CABundle = &caBundleOut{Certificates: len(subjects), Subjects: subjects}
	}
	return out
}

// patchTLS applies a PATCH's tls: absent keeps the settings, null removes
// them, an object replaces them whole (the key is never answered, so it
// cannot be sent back as read). It reports whether settings were sent.
func patchTLS(w *hookgate.Webhook, raw rawJSON) (bool, error) {
	switch {
	case len(raw) == 0:
		return false, nil
	case raw.isNull():
		w.TLS = hookgate.WebhookTLS{}
		return false, nil
	}
	var b tlsBody
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return false, hookgate.InvalidParam("tls", nil, "tls is {\"clientCertificate\", \"clientKey\", \"caBundle\"} (PEM strings), or null: %v", err)
	}
	w.TLS = b.domain()
	return true, nil
}

// checkTLS checks TLS settings sent at now (hookgate.WebhookTLS.Check).
// Settings stored before are not checked again: a certificate that expired
// since does not block other changes (its expiry was announced).
func (s *Server) checkTLS(w *hookgate.Webhook) error {
	return w.TLS.Check(s.now())
}

// tlsNeedsHTTPS refuses TLS settings on a webhook whose URL is not https:
// they would never be used, and the owner would believe they are.
func tlsNeedsHTTPS(w *hookgate.Webhook) error {
	if w.TLS.IsZero() {
		return nil
	}
	if u, err := url.Parse(w.URL); err == nil && u.Scheme != "https" {
		return hookgate.InvalidParam("tls", nil, "tls settings need an https url; this one is %s", u.Scheme)
	}
	return nil
}
