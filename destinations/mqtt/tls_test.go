package mqtt_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/destinations/mqtt"
	"github.com/hookgate/hookgate/internal/testcert"
	"github.com/hookgate/hookgate/internal/testmqtt"
	"github.com/hookgate/hookgate/internal/testwait"
)

// mqtts:// connects over TLS, checking the broker's certificate against
// the configuration's CA bundle and presenting its client certificate: so
// it delivers and a source consumes; with the system's roots, or without
// the client certificate the broker requires, the probe and the attempt
// fail; TLS settings with mqtt:// are refused.
func TestTLS(t *testing.T) {
	t.Parallel()
	ca := testcert.NewCA(t, "broker CA")
	cert := ca.Issue(t, testcert.Spec{CommonName: "127.0.0.1", Server: true})
	client := ca.Issue(t, testcert.Spec{CommonName: "hookgate"})
	srv := testmqtt.StartWith(t, testmqtt.Options{TLS: &testmqtt.TLS{CertPEM: cert.CertPEM, KeyPEM: cert.KeyPEM, CAPEM: ca.PEM},
		Conf: []string{"require_certificate true"}})
	if !strings.HasPrefix(srv.URL(), "mqtts://") {
		t.Fatal(srv.URL())
	}
	settings := hookgate.WebhookTLS{ClientCertificate: client.CertPEM, ClientKey: client.KeyPEM, CABundle: ca.PEM}
	got := make(chan hookgate.SourceMessage, 1)
	s := source(srv, "orders")
	s.Config.TLS = settings
	consume(t, &mqtt.Source{}, s, func(_ context.Context, m hookgate.SourceMessage) error { got <- m; return nil }, &reporter{})
	d := newDestination(t)
	w := webhook(srv, "orders", 1)
	w.DestinationConfig.TLS = settings
	if err := d.Probe(context.Background(), w); err != nil {
		t.Fatalf("probe: %v", err)
	}
	if o := d.Send(context.Background(), w, message("dlv_tls")); o.Class != hookgate.OutcomeSuccess {
		t.Fatalf("send: %+v", o)
	}
	if m := testwait.Recv(t, "the message over TLS", got); m.ID != "dlv_tls" {
		t.Fatalf("message %+v", m)
	}

	systemRoots := webhook(srv, "orders", 1)
	systemRoots.DestinationConfig.TLS = hookgate.WebhookTLS{ClientCertificate: client.CertPEM, ClientKey: client.KeyPEM}
	if err := d.Probe(context.Background(), systemRoots); !isParam(err, "destination.url") || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("probe with the system's roots: %v", err)
	}
	if o := d.Send(context.Background(), systemRoots, message("dlv_2")); o.Class != hookgate.OutcomeRetryable || !strings.Contains(o.Attempt.Error, "certificate") {
		t.Fatalf("send with the system's roots: %+v", o)
	}
	noCert := webhook(srv, "orders", 1)
	noCert.DestinationConfig.TLS = hookgate.WebhookTLS{CABundle: ca.PEM}
	if o := d.Send(context.Background(), noCert, message("dlv_3")); o.Class != hookgate.OutcomeRetryable {
		t.Fatalf("send without the client certificate: %+v", o)
	}
	plain := webhook(srv, "orders", 1)
	plain.URL = strings.Replace(srv.URL(), "mqtts://", "mqtt://", 1)
	plain.DestinationConfig.URL, plain.DestinationConfig.TLS = plain.URL, settings
	if err := d.Check(plain); !isParam(err, "destination.tls") {
		t.Fatalf("TLS settings with mqtt://: %v", err)
	}
}
