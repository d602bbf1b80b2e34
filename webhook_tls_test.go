package hookgate_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/internal/testcert"
)

// The key formats and kinds TLS takes are accepted (PKCS #8, PKCS #1,
// SEC 1; ECDSA, RSA of 2048 bits, Ed25519), an encrypted key is refused
// naming tls.clientKey, and the certificate's description is exact.
func TestWebhookTLSCheckKeys(t *testing.T) {
	t.Parallel()
	ca := testcert.NewCA(t, "receivers CA")
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	pemOf := func(typ string, der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	ecPair, rsaPair, edPair := ca.Issue(t, testcert.Spec{CommonName: "ec", Key: ec}), ca.Issue(t, testcert.Spec{CommonName: "rsa", Key: rsaKey}),
		ca.Issue(t, testcert.Spec{CommonName: "ed", Key: ed})
	now := time.Now()
	for _, c := range []struct {
		name, cert, key string
	}{
		{"ECDSA, PKCS #8", ecPair.CertPEM, ecPair.KeyPEM},
		{"ECDSA, SEC 1", ecPair.CertPEM, pemOf("EC PRIVATE KEY", sec1)},
		{"RSA 2048, PKCS #8", rsaPair.CertPEM, rsaPair.KeyPEM},
		{"RSA 2048, PKCS #1", rsaPair.CertPEM, pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey))},
		{"Ed25519", edPair.CertPEM, edPair.KeyPEM},
		{"chain: leaf and CA", ecPair.CertPEM + ca.PEM, ecPair.KeyPEM},
	} {
		s := hookgate.WebhookTLS{ClientCertificate: c.cert, ClientKey: c.key}
		if err := s.Check(now); err != nil {
			t.Errorf("%s: refused: %v", c.name, err)
			continue
		}
		if _, err := s.Config(); err != nil {
			t.Errorf("%s: no TLS configuration: %v", c.name, err)
		}
	}
	encrypted := hookgate.WebhookTLS{ClientCertificate: ecPair.CertPEM, ClientKey: pemOf("ENCRYPTED PRIVATE KEY", []byte("…"))}
	if err := encrypted.Check(now); hookgate.ErrorCode(err) != hookgate.EInvalidParameter || paramOf(err) != "tls.clientKey" {
		t.Fatalf("an encrypted key: %v", err)
	}
	info := (&hookgate.WebhookTLS{ClientCertificate: ecPair.CertPEM + ca.PEM}).ClientCertificateInfo()
	if info == nil || info.Subject != ecPair.Cert.Subject.String() || info.Issuer != ca.Cert.Subject.String() || !info.NotAfter.Equal(ecPair.Cert.NotAfter) || len(info.SHA256) != 64 {
		t.Fatalf("info = %+v", info)
	}
}

// paramOf is the parameter an *hookgate.Error names.
func paramOf(err error) string {
	var e *hookgate.Error
	if errors.As(err, &e) {
		return e.Param
	}
	return ""
}
