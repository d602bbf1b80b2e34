package api_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/testcert"
	"github.com/hookgate/hookgate/internal/testwait"
)

// tlsPath is the path of the webhooks of project acme.
const tlsPath = "/api/v1/projects/acme/webhooks"

// Issue 27, item 5: a webhook's TLS settings are taken at creation and
// by PATCH, read back as what they are (never the PEM), and removed by
// null; both engines alike.
func TestWebhookTLSSettings(t *testing.T) {
	ca := testcert.NewCA(t, "receivers CA")
	pair := ca.Issue(t, testcert.Spec{CommonName: "hookgate-client"})
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		pid, owner, _ := e.project("acme")
		settings := map[string]any{"clientCertificate": pair.CertPEM, "clientKey": pair.KeyPEM, "caBundle": ca.PEM}
		r := e.webhook("acme", owner, map[string]any{"url": "https://receiver.example.invalid/h", "tls": settings})
		id := r.str("id")
		info := pair.Cert
		want := map[string]any{
			"clientCertificate": map[string]any{
				"subject": info.Subject.String(), "issuer": ca.Cert.Subject.String(),
				"notBefore": info.NotBefore.UTC().Format(time.RFC3339), "notAfter": info.NotAfter.UTC().Format(time.RFC3339),
				"sha256": e.find(pid, id).TLS.ClientCertificateInfo().SHA256,
			},
			"caBundle": map[string]any{"certificates": 1, "subjects": []string{ca.Cert.Subject.String()}},
		}
		jsonEq(t, "created tls", r.Body["tls"], want)
		if strings.Contains(string(r.Raw), "PRIVATE KEY") || strings.Contains(string(r.Raw), "BEGIN CERTIFICATE") {
			t.Fatalf("an answer holds PEM: %s", r.Raw)
		}
		g := e.req("GET", tlsPath+"/"+id, owner, nil).must(t, 200)
		jsonEq(t, "read tls", g.Body["tls"], want)
		if w := e.find(pid, id); w.TLS.ClientKey != pair.KeyPEM || w.TLS.CABundle != ca.PEM {
			t.Fatal("the stored settings are not the ones sent")
		}

		// A PATCH of another field keeps them; null removes them.
		e.req("PATCH", tlsPath+"/"+id, owner, map[string]any{"description": "d"}).must(t, 200)
		if w := e.find(pid, id); w.TLS.ClientKey != pair.KeyPEM {
			t.Fatal("a PATCH of the description lost the TLS settings")
		}
		r = e.req("PATCH", tlsPath+"/"+id, owner, map[string]any{"tls": nil}).must(t, 200)
		if r.Body["tls"] != nil || !e.find(pid, id).TLS.IsZero() {
			t.Fatalf("tls after null: %v", r.Body["tls"])
		}
		// A CA bundle alone.
		r = e.req("PATCH", tlsPath+"/"+id, owner, map[string]any{"tls": map[string]any{"caBundle": ca.PEM}}).must(t, 200)
		jsonEq(t, "bundle alone", r.Body["tls"], map[string]any{"clientCertificate": nil, "caBundle": want["caBundle"]})
	})
}

// Each bad setting is a 400 naming its field, at creation and in a PATCH,
// and a refused PATCH changes nothing; both engines alike.
func TestWebhookTLSValidation(t *testing.T) {
	ca := testcert.NewCA(t, "receivers CA")
	good := ca.Issue(t, testcert.Spec{CommonName: "good"})
	other := ca.Issue(t, testcert.Spec{CommonName: "other"})
	expired := ca.Issue(t, testcert.Spec{CommonName: "expired", NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	future := ca.Issue(t, testcert.Spec{CommonName: "future", NotBefore: time.Now().Add(24 * time.Hour), NotAfter: time.Now().Add(48 * time.Hour)})
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weak := ca.Issue(t, testcert.Spec{CommonName: "weak", Key: small})
	garbage := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not DER")}))
	cases := []struct {
		name     string
		settings map[string]any
		code     string
		param    string
	}{
		{"certificate not PEM", map[string]any{"clientCertificate": "hello", "clientKey": good.KeyPEM}, "invalid_parameter", "tls.clientCertificate"},
		{"certificate is a key", map[string]any{"clientCertificate": good.KeyPEM, "clientKey": good.KeyPEM}, "invalid_parameter", "tls.clientCertificate"},
		{"certificate not DER", map[string]any{"clientCertificate": garbage, "clientKey": good.KeyPEM}, "invalid_parameter", "tls.clientCertificate"},
		{"certificate expired", map[string]any{"clientCertificate": expired.CertPEM, "clientKey": expired.KeyPEM}, "invalid_parameter", "tls.clientCertificate"},
		{"certificate not yet valid", map[string]any{"clientCertificate": future.CertPEM, "clientKey": future.KeyPEM}, "invalid_parameter", "tls.clientCertificate"},
		{"certificate without key", map[string]any{"clientCertificate": good.CertPEM}, "missing_parameter", "tls.clientKey"},
		{"key without certificate", map[string]any{"clientKey": good.KeyPEM}, "missing_parameter", "tls.clientCertificate"},
		{"key not PEM", map[string]any{"clientCertificate": good.CertPEM, "clientKey": "hello"}, "invalid_parameter", "tls.clientKey"},
		{"key is a certificate", map[string]any{"clientCertificate": good.CertPEM, "clientKey": good.CertPEM}, "invalid_parameter", "tls.clientKey"},
		{"key of another certificate", map[string]any{"clientCertificate": good.CertPEM, "clientKey": other.KeyPEM}, "invalid_parameter", "tls.clientKey"},
		{"RSA key under 2048 bits", map[string]any{"clientCertificate": weak.CertPEM, "clientKey": weak.KeyPEM}, "invalid_parameter", "tls.clientKey"},
		{"bundle not PEM", map[string]any{"caBundle": "hello"}, "invalid_parameter", "tls.caBundle"},
		{"bundle of a key", map[string]any{"caBundle": good.KeyPEM}, "invalid_parameter", "tls.caBundle"},
		{"bundle empty of certificates", map[string]any{"caBundle": "# only a comment\n"}, "invalid_parameter", "tls.caBundle"},
		{"unknown field", map[string]any{"clientCert": good.CertPEM}, "", ""},
	}
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		pid, owner, _ := e.project("acme")
		ok := e.webhook("acme", owner, map[string]any{"url": "https://receiver.example.invalid/h",
			"tls": map[string]any{"clientCertificate": good.CertPEM, "clientKey": good.KeyPEM, "caBundle": ca.PEM}})
		id := ok.str("id")
		before := e.req("GET", tlsPath+"/"+id, owner, nil).must(t, 200)
		stored := e.find(pid, id).TLS
		for _, c := range cases {
			r := e.req("POST", tlsPath, owner, map[string]any{"url": "https://receiver.example.invalid/h", "tls": c.settings})
			if c.code == "" {
				if r.Status < 400 || r.Status >= 500 {
					t.Fatalf("%s: create answered %d", c.name, r.Status)
				}
			} else {
				r.problem(t, 400, c.code, c.param)
			}
			r = e.req("PATCH", tlsPath+"/"+id, owner, map[string]any{"tls": c.settings, "description": "changed"})
			if c.code == "" {
				if r.Status != 400 {
					t.Fatalf("%s: PATCH answered %d: %s", c.name, r.Status, r.Raw)
				}
			} else {
				r.problem(t, 400, c.code, c.param)
			}
			after := e.req("GET", tlsPath+"/"+id, owner, nil).must(t, 200)
			jsonEq(t, c.name+": after the refused PATCH", after.Body, before.Body)
			if e.find(pid, id).TLS != stored {
				t.Fatalf("%s: a refused PATCH changed the stored settings", c.name)
			}
		}
		list := e.req("GET", tlsPath, owner, nil).must(t, 200)
		if n := len(list.items(t)); n != 1 {
			t.Fatalf("%d webhooks after the refused creations, want 1", n)
		}
		// TLS settings on a plain http URL would never be used.
		e.req("POST", tlsPath, owner, map[string]any{"url": "http://receiver.example.invalid/h",
			"tls": map[string]any{"caBundle": ca.PEM}}).problem(t, 400, "invalid_parameter", "tls")
	})
}

// Issue 21's rule, for the client key: a webhook's URL moved to another
// origin takes its client key only when the PATCH sends it again (tls
// whole); the key never follows the URL alone.
func TestWebhookTLSKeyFollowsNoHost(t *testing.T) {
	ca := testcert.NewCA(t, "receivers CA")
	pair := ca.Issue(t, testcert.Spec{CommonName: "hookgate-client"})
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		pid, owner, _ := e.project("acme")
		settings := map[string]any{"clientCertificate": pair.CertPEM, "clientKey": pair.KeyPEM}
		id := e.webhook("acme", owner, map[string]any{"url": "https://receiver.example.invalid/h", "tls": settings}).str("id")
		e.req("PATCH", tlsPath+"/"+id, owner, map[string]any{"url": "https://elsewhere.example.invalid/h"}).
			problem(t, 400, "invalid_parameter", "tls.clientKey")
		if w := e.find(pid, id); w.URL != "https://receiver.example.invalid/h" {
			t.Fatalf("the refused PATCH moved the URL to %s", w.URL)
		}
		// The same origin: the key stays.
		e.req("PATCH", tlsPath+"/"+id, owner, map[string]any{"url": "https://receiver.example.invalid/other"}).must(t, 200)
		// Sent again: moved.
		e.req("PATCH", tlsPath+"/"+id, owner, map[string]any{"url": "https://elsewhere.example.invalid/h", "tls": settings}).must(t, 200)
		// A CA bundle alone is no credential: it follows.
		e.req("PATCH", tlsPath+"/"+id, owner, map[string]any{"tls": map[string]any{"caBundle": ca.PEM}}).must(t, 200)
		e.req("PATCH", tlsPath+"/"+id, owner, map[string]any{"url": "https://third.example.invalid/h"}).must(t, 200)
	})
}

// End to end through the API and the dispatcher: a trigger and a test
// event to an mTLS receiver on loopback both present the webhook's client
// certificate, and trust its caBundle.
func TestWebhookTLSEndToEnd(t *testing.T) {
	ca := testcert.NewCA(t, "receivers CA")
	pair := ca.Issue(t, testcert.Spec{CommonName: "hookgate-client"})
	eachEngine(t, func(t *testing.T, engine string) {
		seen := make(chan string, 4)
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			seen <- r.TLS.PeerCertificates[0].Subject.CommonName
			rw.Header().Set("Content-Type", "application/json")
			_, _ = rw.Write([]byte(`{"ok":true}`))
		}))
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Issue(t, testcert.Spec{CommonName: "receiver", Server: true}).TLS},
			ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.Pool()}
		srv.StartTLS()
		defer srv.Close()
		e := setupDelivering(t, engine)
		_, owner, _ := e.project("acme")
		id := e.webhook("acme", owner, map[string]any{"url": srv.URL + "/hook", "triggerOnly": true,
			"tls": map[string]any{"clientCertificate": pair.CertPEM, "clientKey": pair.KeyPEM, "caBundle": ca.PEM}}).str("id")
		r := e.trigger("acme", id, owner, map[string]any{"data": map[string]any{"n": 1}}).must(t, 200)
		if cn := testwait.Recv(t, "the trigger's request", seen); cn != "hookgate-client" {
			t.Fatalf("the receiver saw %q for the trigger", cn)
		}
		if r.Body["status"] != float64(200) || r.Body["error"] != false {
			t.Fatalf("trigger answer: %s", r.Raw)
		}
		e.req("POST", tlsPath+"/"+id+"/test", owner, nil).must(t, 202)
		if cn := testwait.Recv(t, "the test event's delivery", seen); cn != "hookgate-client" {
			t.Fatalf("the receiver saw %q for the test event", cn)
		}
	})
}
