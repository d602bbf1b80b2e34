package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/internal/testcert"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// Issue 27, item 5: webhook create and update take a client certificate,
// its key and a CA bundle from files; get shows what they are; a bad key
// is refused naming the field; --tls-none removes them.
func TestCLIWebhookTLS(t *testing.T) {
	t.Parallel()
	ca := testcert.NewCA(t, "receivers CA")
	pair := ca.Issue(t, testcert.Spec{CommonName: "hookgate-client"})
	other := ca.Issue(t, testcert.Spec{CommonName: "other"})
	dir := t.TempDir()
	file := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cert, key, bundle, otherKey := file("client.pem", pair.CertPEM), file("client.key", pair.KeyPEM), file("ca.pem", ca.PEM), file("other.key", other.KeyPEM)
	for _, engine := range sqltest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			srv := apitest.New(t, engine)
			c := &cli{t: t, server: srv.URL, key: apitest.AdminKey}
			c.ok("project", "create", "O", "--slug", "o")
			var wh client.Webhook
			c.json(&wh, "webhook", "create", "https://receiver.example.invalid/h", "-p", "o", "--uid", "h",
				"--tls-cert", cert, "--tls-key", key, "--tls-ca", bundle)
			if wh.TLS == nil || wh.TLS.ClientCertificate == nil || !strings.Contains(wh.TLS.ClientCertificate.Subject, "CN=hookgate-client") ||
				wh.TLS.CABundle == nil || wh.TLS.CABundle.Certificates != 1 {
				t.Fatalf("created with tls %+v", wh.TLS)
			}
			if out := c.ok("webhook", "get", "h", "-p", "o"); !strings.Contains(out, "CN=hookgate-client") || !strings.Contains(out, "trusts only 1 CA") ||
				strings.Contains(out, "PRIVATE KEY") {
				t.Fatalf("webhook get:\n%s", out)
			}
			if out := c.fails("webhook", "update", "h", "-p", "o", "--tls-cert", cert, "--tls-key", otherKey); !strings.Contains(out, "tls.clientKey") {
				t.Fatalf("a key of another certificate:\n%s", out)
			}
			if out := c.fails("webhook", "update", "h", "-p", "o", "--tls-key", filepath.Join(dir, "missing.key"), "--tls-cert", cert); !strings.Contains(out, "--tls-key") {
				t.Fatalf("a missing file:\n%s", out)
			}
			var got client.Webhook
			c.json(&got, "webhook", "update", "h", "-p", "o", "--tls-none")
			if got.TLS != nil {
				t.Fatalf("after --tls-none: %+v", got.TLS)
			}
		})
	}
}
