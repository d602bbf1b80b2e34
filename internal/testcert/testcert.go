// Package testcert makes certificates for tests: a CA, server certificates
// for 127.0.0.1 and client certificates it signs, all in memory, in PEM
// and ready for crypto/tls. Only tests import it.
package testcert

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// serial numbers the certificates made by this process.
var serial atomic.Int64

// CA is a certificate authority of a test.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// PEM is the CA's certificate, as a caBundle holds it.
	PEM string
}

// NewCA returns a CA named name, valid from an hour ago for a year.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key := NewKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: name, Organization: []string{"Hookgate tests"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &CA{Cert: c, Key: key, PEM: certPEM(der)}
}

// Pool returns a pool holding the CA alone.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// Spec describes a certificate to issue. A zero NotBefore is an hour
// ago, a zero NotAfter thirty days from now, a nil Key a new ECDSA P-256
// key.
type Spec struct {
	CommonName          string
	Server              bool // for 127.0.0.1; else a client certificate
	NotBefore, NotAfter time.Time
	Key                 crypto.Signer
}

// Pair is an issued certificate with its key.
type Pair struct {
	Cert    *x509.Certificate
	CertPEM string
	KeyPEM  string
	TLS     tls.Certificate
}

// Issue signs a certificate as s describes.
func (ca *CA) Issue(t testing.TB, s Spec) Pair {
	t.Helper()
	if s.NotBefore.IsZero() {
		s.NotBefore = time.Now().Add(-time.Hour)
	}
	if s.NotAfter.IsZero() {
		s.NotAfter = time.Now().Add(30 * 24 * time.Hour)
	}
	if s.Key == nil {
		s.Key = NewKey(t)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: s.CommonName, Organization: []string{"Hookgate tests"}},
		NotBefore: s.NotBefore, NotAfter: s.NotAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if s.Server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, s.Key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(s.Key)
	if err != nil {
		t.Fatal(err)
	}
	p := Pair{Cert: c, CertPEM: certPEM(der), KeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))}
	if p.TLS, err = tls.X509KeyPair([]byte(p.CertPEM), []byte(p.KeyPEM)); err != nil {
		t.Fatal(err)
	}
	return p
}

// NewKey returns a new ECDSA P-256 key.
func NewKey(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func certPEM(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}
