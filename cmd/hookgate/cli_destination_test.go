package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/internal/testcert"
	"github.com/hookgate/hookgate/internal/testredis"
	"github.com/hookgate/hookgate/sqlstore"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// Issue 28: webhook create registers a redis-stream destination from
// flags, the URL argument being the broker's address; get shows it with
// the password redacted; a kind's flag without the kind is refused.
func TestCLIWebhookDestination(t *testing.T) {
	t.Parallel()
	redis := testredis.Start(t)
	if _, err := redis.Do("ACL", "SETUSER", "hookgate", "on", ">broker-pass-1", "~*", "+@all"); err != nil {
		t.Fatal(err)
	}
	for _, engine := range sqltest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			srv := apitest.New(t, engine)
			c := &cli{t: t, server: srv.URL, key: apitest.AdminKey}
			c.ok("project", "create", "D", "--slug", "d")
			var wh client.Webhook
			c.json(&wh, "webhook", "create", redis.URL(), "-p", "d", "--uid", "orders",
				"--destination-kind", "redis-stream", "--destination-stream", "orders", "--destination-max-len", "1000",
				"--destination-username", "hookgate", "--destination-password", "broker-pass-1")
			d := wh.Destination
			if d == nil || d.Kind != client.DestinationRedisStream || d.URL != redis.URL() || d.Stream != "orders" || d.MaxLen != 1000 ||
				d.Auth == nil || d.Auth.Password != "********" || wh.URL != redis.URL() {
				t.Fatalf("created %+v (destination %+v)", wh, d)
			}
			if out := c.ok("webhook", "get", "orders", "-p", "d"); !strings.Contains(out, "redis-stream, "+redis.URL()+", stream orders, max length ~1000, as hookgate") ||
				strings.Contains(out, "broker-pass-1") {
				t.Fatalf("webhook get:\n%s", out)
			}
			if out := c.fails("webhook", "create", redis.URL(), "-p", "d", "--destination-kind", "redis-stream"); !strings.Contains(out, "destination.stream") {
				t.Fatalf("no stream:\n%s", out)
			}
			if out := c.fails("webhook", "create", "https://receiver.example.invalid/h", "-p", "d", "--destination-stream", "s"); !strings.Contains(out, "--destination-kind") {
				t.Fatalf("a stream without a kind:\n%s", out)
			}
		})
	}
}

// The broker's TLS settings come from PEM files; get describes the client
// certificate and never prints the PEM.
func TestCLIWebhookDestinationTLS(t *testing.T) {
	t.Parallel()
	redis, ca := testredis.StartMutualTLS(t)
	pair := ca.Issue(t, testcert.Spec{CommonName: "cli-client"})
	dir := t.TempDir()
	files := map[string]string{"cert.pem": pair.CertPEM, "key.pem": pair.KeyPEM, "ca.pem": ca.PEM}
	for name, pem := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(pem), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	srv := apitest.New(t, sqlstore.EngineSQLite)
	c := &cli{t: t, server: srv.URL, key: apitest.AdminKey}
	c.ok("project", "create", "T", "--slug", "t")
	c.ok("webhook", "create", redis.TLSURL(), "-p", "t", "--uid", "secure", "--destination-kind", "redis-stream", "--destination-stream", "orders",
		"--destination-tls-cert", filepath.Join(dir, "cert.pem"), "--destination-tls-key", filepath.Join(dir, "key.pem"), "--destination-tls-ca", filepath.Join(dir, "ca.pem"))
	if out := c.ok("webhook", "get", "secure", "-p", "t"); !strings.Contains(out, "TLS client certificate CN=cli-client") || strings.Contains(out, "BEGIN") {
		t.Fatalf("webhook get:\n%s", out)
	}
	if out := c.fails("webhook", "create", redis.TLSURL(), "-p", "t", "--destination-kind", "redis-stream", "--destination-stream", "o",
		"--destination-tls-ca", filepath.Join(dir, "missing.pem")); !strings.Contains(out, "--destination-tls-ca") {
		t.Fatalf("a missing file:\n%s", out)
	}
}
