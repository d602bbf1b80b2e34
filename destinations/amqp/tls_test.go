package amqp_test

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/internal/testamqp"
	"github.com/hookgate/hookgate/internal/testcert"
)

// amqps:// checks the broker's certificate against destination.tls's CA
// bundle and presents its client certificate (to a TLS proxy in front of
// the machine's RabbitMQ, which requires one): the message lands; with
// the system's roots or without the client certificate, the attempt
// fails, retryable, and the probe says why; TLS settings with amqp:// are
// refused.
func TestSendOverTLS(t *testing.T) {
	t.Parallel()
	ca := testcert.NewCA(t, "broker CA")
	server := ca.Issue(t, testcert.Spec{CommonName: "127.0.0.1", Server: true})
	client := ca.Issue(t, testcert.Spec{CommonName: "hookgate"})
	proxy := testamqp.StartTLSProxy(t, &tls.Config{Certificates: []tls.Certificate{server.TLS}, ClientAuth: tls.RequireAndVerifyClientCert,
		ClientCAs: ca.Pool(), MinVersion: tls.VersionTLS12})
	v := testamqp.New(t)
	ch := channel(t, v)
	queue(t, ch, "orders", nil)
	d := newDestination(t)
	secure := strings.Replace(v.URL(proxy.Addr()), "amqp://", "amqps://", 1)

	w := webhook(secure, "", "orders")
	w.DestinationConfig.TLS = hookgate.WebhookTLS{ClientCertificate: client.CertPEM, ClientKey: client.KeyPEM, CABundle: ca.PEM}
	if err := d.Probe(context.Background(), w); err != nil {
		t.Fatalf("probe over TLS: %v", err)
	}
	if o := d.Send(context.Background(), w, message("dlv_tls")); o.Class != hookgate.OutcomeSuccess {
		t.Fatalf("send over TLS: %+v", o)
	}
	if n := count(t, ch, "orders"); n != 1 {
		t.Fatalf("%d messages, want the one sent over TLS", n)
	}

	systemRoots := webhook(secure, "", "orders")
	systemRoots.DestinationConfig.TLS = hookgate.WebhookTLS{ClientCertificate: client.CertPEM, ClientKey: client.KeyPEM}
	if o := d.Send(context.Background(), systemRoots, message("dlv_roots")); o.Class != hookgate.OutcomeRetryable || !strings.Contains(o.Cause, "certificate") {
		t.Fatalf("a broker certificate of an unknown CA: %+v", o)
	}
	if err := d.Probe(context.Background(), systemRoots); hookgate.ErrorCode(err) != hookgate.EInvalidParameter {
		t.Fatalf("probe of a broker of an unknown CA: %v", err)
	}
	noCert := webhook(secure, "", "orders")
	noCert.DestinationConfig.TLS = hookgate.WebhookTLS{CABundle: ca.PEM}
	if o := d.Send(context.Background(), noCert, message("dlv_nocert")); o.Class != hookgate.OutcomeRetryable {
		t.Fatalf("without the client certificate: %+v", o)
	}
	plain := webhook(v.URL(proxy.Addr()), "", "orders")
	plain.DestinationConfig.TLS = hookgate.WebhookTLS{CABundle: ca.PEM}
	if he, ok := d.Check(plain).(*hookgate.Error); !ok || he.Param != "destination.tls" {
		t.Fatalf("TLS settings with amqp://: %v", d.Check(plain))
	}
	if n := count(t, ch, "orders"); n != 1 {
		t.Fatalf("%d messages after the refused sends, want 1", n)
	}
}
