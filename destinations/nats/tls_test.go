package natsdest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/internal/testcert"
	"github.com/hookgate/hookgate/internal/testnats"
)

// tls:// with destination.tls: the server's certificate is checked against
// the CA bundle and the client certificate the server requires is
// presented: the message is stored; without the client certificate the
// attempt fails, retryable; TLS settings with nats:// are refused.
func TestTLSWithClientCertificate(t *testing.T) {
	t.Parallel()
	ca := testcert.NewCA(t, "nats test CA")
	server := ca.Issue(t, testcert.Spec{CommonName: "127.0.0.1", Server: true})
	client := ca.Issue(t, testcert.Spec{CommonName: "hookgate"})
	srv := testnats.Start(t, testnats.WithTLS(server.CertPEM, server.KeyPEM, ca.Pool()), testnats.WithClientCertificates(ca.PEM, client.TLS))
	srv.CreateStream("ORDERS", "orders.>")
	d := newDestination(t, 5*time.Second)

	w := webhook(srv, "orders.created")
	w.DestinationConfig.TLS = hookgate.WebhookTLS{ClientCertificate: client.CertPEM, ClientKey: client.KeyPEM, CABundle: ca.PEM}
	if err := d.Check(w); err != nil {
		t.Fatal(err)
	}
	if err := d.Probe(context.Background(), w); err != nil {
		t.Fatalf("probe over TLS: %v", err)
	}
	if o := d.Send(context.Background(), w, message("dlv_tls")); o.Class != hookgate.OutcomeSuccess {
		t.Fatalf("send over TLS: %+v", o)
	}
	if n := messages(t, srv, "ORDERS"); n != 1 {
		t.Fatalf("%d messages in the stream, want 1", n)
	}

	noCert := webhook(srv, "orders.created")
	noCert.DestinationConfig.TLS = hookgate.WebhookTLS{CABundle: ca.PEM}
	if o := d.Send(context.Background(), noCert, message("dlv_nocert")); o.Class != hookgate.OutcomeRetryable {
		t.Fatalf("without the client certificate: %+v", o)
	}
	plain := webhook(srv, "orders.created")
	plain.DestinationConfig.URL = "nats://" + srv.Addr()
	plain.DestinationConfig.TLS = hookgate.WebhookTLS{CABundle: ca.PEM}
	if he, ok := d.Check(plain).(*hookgate.Error); !ok || he.Param != "destination.tls" || !strings.Contains(he.Error(), "TLS URL") {
		t.Fatalf("TLS settings with nats://: %v", d.Check(plain))
	}
}
