package ui_test

import (
	"context"
	"html"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/internal/testcert"
)

// Issue 27, item 5: a webhook's page shows what its client certificate and
// CA bundle are (subject, issuer, validity, fingerprint), never the PEM.
func TestWebhookPageShowsTLS(t *testing.T) {
	ca := testcert.NewCA(t, "receivers CA")
	pair := ca.Issue(t, testcert.Spec{CommonName: "hookgate-client"})
	eachEngine(t, func(t *testing.T, engine string) {
		srv := apitest.New(t, engine)
		admin, b := shopRetrying(t, srv, "1h")
		w, err := admin.CreateWebhook(context.Background(), "shop", client.WebhookCreate{URL: "https://receiver.example.invalid/h",
			TLS: &client.TLS{ClientCertificate: pair.CertPEM, ClientKey: pair.KeyPEM, CABundle: ca.PEM}})
		if err != nil {
			t.Fatal(err)
		}
		_, _, page := b.get("/ui/p/shop/webhooks/" + w.ID)
		page = html.UnescapeString(page)
		c := w.TLS.ClientCertificate
		for _, want := range []string{"client certificate <code>" + c.Subject + "</code>", "issued by <code>" + c.Issuer + "</code>",
			c.SHA256, "trusts only 1 CA: <code>" + ca.Cert.Subject.String() + "</code>"} {
			if !strings.Contains(page, want) {
				t.Fatalf("the page lacks %q:\n%s", want, page)
			}
		}
		if strings.Contains(page, "PRIVATE KEY") || strings.Contains(page, "BEGIN CERTIFICATE") {
			t.Fatal("the page holds PEM")
		}
	})
}
