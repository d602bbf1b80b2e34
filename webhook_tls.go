package hookgate

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"strings"
	"time"
)

// Limits on a webhook's TLS settings.
const (
	// MaxTLSPEM bounds each PEM field of WebhookTLS.
	MaxTLSPEM = 64 << 10
	// MinRSABits is the smallest RSA client key accepted.
	MinRSABits = 2048
	// CertificateExpiryNotice is how long before its certificate expires
	// a webhook's EventCertificateExpiring is sent.
	CertificateExpiryNotice = 14 * 24 * time.Hour
)

// WebhookTLS is the TLS a webhook's requests use beyond the defaults: a
// client certificate presented to the receiver (and to its OAuth2 token
// URL), and the CAs trusted for it instead of the system's. Its fields are
// PEM; stores encrypt them at rest and answers never show them.
type WebhookTLS struct {
	// ClientCertificate is the client certificate, leaf first, followed by
	// any intermediates; set with ClientKey or not at all.
	ClientCertificate string `json:"clientCertificate,omitempty"`
	// ClientKey is the private key of ClientCertificate (PKCS #8, PKCS #1
	// or SEC 1).
	ClientKey string `json:"clientKey,omitempty"`
	// CABundle, when set, holds the only CAs trusted to have signed the
	// receiver's (and the token URL's) certificate.
	CABundle string `json:"caBundle,omitempty"`
}

// IsZero reports whether t sets nothing: requests use the defaults.
func (t *WebhookTLS) IsZero() bool {
	return t.ClientCertificate == "" && t.ClientKey == "" && t.CABundle == ""
}

// ClientCertificateInfo describes the client certificate w presents, to
// its receiver (TLS) or to its broker (DestinationConfig.TLS); nil when it
// presents none.
func (w *Webhook) ClientCertificateInfo() *CertificateInfo {
	if c := w.TLS.ClientCertificateInfo(); c != nil {
		return c
	}
	return w.DestinationConfig.TLS.ClientCertificateInfo()
}

// CertificateInfo is what answers show of a certificate: no secret.
type CertificateInfo struct {
	Subject   string
	Issuer    string
	NotBefore time.Time
	NotAfter  time.Time
	// SHA256 is the hex SHA-256 of the certificate's DER, its fingerprint.
	SHA256 string
}

// infoOf describes c.
func infoOf(c *x509.Certificate) CertificateInfo {
	sum := sha256.Sum256(c.Raw)
	return CertificateInfo{Subject: c.Subject.String(), Issuer: c.Issuer.String(),
		NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(), SHA256: hex.EncodeToString(sum[:])}
}

// ClientCertificateInfo describes the leaf of t's client certificate; nil
// when t has none or it does not parse (Check refuses such settings).
func (t *WebhookTLS) ClientCertificateInfo() *CertificateInfo {
	certs, err := parseCertificates("tls.clientCertificate", t.ClientCertificate)
	if err != nil || len(certs) == 0 {
		return nil
	}
	info := infoOf(certs[0])
	return &info
}

// CABundleSubjects returns the subjects of the certificates of t's CA
// bundle, in order; nil when it has none.
func (t *WebhookTLS) CABundleSubjects() []string {
	certs, err := parseCertificates("tls.caBundle", t.CABundle)
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(certs))
	for _, c := range certs {
		out = append(out, c.Subject.String())
	}
	return out
}

// Check validates t at now. The returned *Error names the field at fault:
// tls.clientCertificate (not PEM, not a certificate, expired or not yet
// valid), tls.clientKey (missing, not a private key, an RSA key under
// MinRSABits, not the certificate's) or tls.caBundle (not PEM, no
// certificate).
func (t *WebhookTLS) Check(now time.Time) error { return t.CheckAt(now, "tls") }

// CheckAt is Check for settings sent as the field base (such as
// destination.tls): errors name base.clientCertificate and so on.
func (t *WebhookTLS) CheckAt(now time.Time, base string) error {
	for _, f := range []struct{ param, v string }{
		{base + ".clientCertificate", t.ClientCertificate}, {base + ".clientKey", t.ClientKey}, {base + ".caBundle", t.CABundle},
	} {
		if len(f.v) > MaxTLSPEM {
			return InvalidParam(f.param, nil, "%s must be at most %d bytes", f.param, MaxTLSPEM)
		}
	}
	switch {
	case t.ClientCertificate == "" && t.ClientKey != "":
		return MissingParam(base + ".clientCertificate")
	case t.ClientCertificate != "" && t.ClientKey == "":
		return MissingParam(base + ".clientKey")
	case t.ClientCertificate != "":
		if err := t.checkClient(now, base); err != nil {
			return err
		}
	}
	if t.CABundle != "" {
		certs, err := parseCertificates(base+".caBundle", t.CABundle)
		if err != nil {
			return err
		}
		if len(certs) == 0 {
			return InvalidParam(base+".caBundle", nil, "%s.caBundle holds no certificate", base)
		}
	}
	return nil
}

// checkClient checks the client certificate and its key.
func (t *WebhookTLS) checkClient(now time.Time, base string) error {
	certs, err := parseCertificates(base+".clientCertificate", t.ClientCertificate)
	if err != nil {
		return err
	}
	if len(certs) == 0 {
		return InvalidParam(base+".clientCertificate", nil, "%s.clientCertificate holds no certificate", base)
	}
	leaf := certs[0]
	if now.Before(leaf.NotBefore) {
		return InvalidParam(base+".clientCertificate", nil, "%s.clientCertificate is not valid before %s", base, leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	if !now.Before(leaf.NotAfter) {
		return InvalidParam(base+".clientCertificate", nil, "%s.clientCertificate expired at %s", base, leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	key, err := parseKey(base+".clientKey", t.ClientKey)
	if err != nil {
		return err
	}
	if k, ok := key.(*rsa.PrivateKey); ok && k.N.BitLen() < MinRSABits {
		return InvalidParam(base+".clientKey", nil, "%s.clientKey is an RSA key of %d bits; at least %d are needed", base, k.N.BitLen(), MinRSABits)
	}
	if _, err := tls.X509KeyPair([]byte(t.ClientCertificate), []byte(t.ClientKey)); err != nil {
		return InvalidParam(base+".clientKey", nil, "%[1]s.clientKey is not the private key of %[1]s.clientCertificate", base)
	}
	return nil
}

// parseCertificates reads every PEM block of s as a certificate; an error
// names param when s has no PEM block, or a block that is not a
// certificate. Text around the blocks is allowed, as in most bundles.
func parseCertificates(param, s string) ([]*x509.Certificate, error) {
	rest := []byte(s)
	var out []*x509.Certificate
	blocks := 0
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		blocks++
		if b.Type != "CERTIFICATE" {
			return nil, InvalidParam(param, nil, "%s holds a PEM block of type %s; only CERTIFICATE blocks are allowed", param, b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, InvalidParam(param, nil, "%s holds a block that is not a valid certificate: %v", param, err)
		}
		out = append(out, c)
	}
	if blocks == 0 && s != "" {
		return nil, InvalidParam(param, nil, "%s is not PEM: no -----BEGIN block found", param)
	}
	return out, nil
}

// parseKey reads the one private key PEM block of s.
func parseKey(param, s string) (any, error) {
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		return nil, InvalidParam(param, nil, "%s is not PEM: no -----BEGIN block found", param)
	}
	if strings.Contains(b.Type, "ENCRYPTED") || strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED") {
		return nil, InvalidParam(param, nil, "%s is encrypted: send it decrypted (Hookgate seals it at rest)", param)
	}
	if k, err := x509.ParsePKCS8PrivateKey(b.Bytes); err == nil {
		switch k.(type) {
		case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
			return k, nil
		}
		return nil, InvalidParam(param, nil, "%s is a key of a kind TLS cannot use", param)
	}
	if k, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(b.Bytes); err == nil {
		return k, nil
	}
	return nil, InvalidParam(param, nil, "%s holds a %s block that is not a private key (PKCS #8, PKCS #1 or SEC 1)", param, b.Type)
}

// Config returns the TLS client configuration of t: its client certificate
// and, with a CA bundle, the only roots trusted. Check must have passed.
func (t *WebhookTLS) Config() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if t.ClientCertificate != "" {
		pair, err := tls.X509KeyPair([]byte(t.ClientCertificate), []byte(t.ClientKey))
		if err != nil {
			return nil, Errorf(EInvalidParameter, "tls.clientKey is not the private key of tls.clientCertificate")
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if t.CABundle != "" {
		certs, err := parseCertificates("tls.caBundle", t.CABundle)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		for _, c := range certs {
			pool.AddCert(c)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}
