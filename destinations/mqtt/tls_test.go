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

// mqtts:// connects over TLS, checking the broker's certificate: against
// the roots given, it delivers and a source consumes; against others
// (the system's), the probe and the attempt fail.
func TestTLS(t *testing.T) {
	t.Parallel()
	ca := testcert.NewCA(t, "broker CA")
	cert := ca.Issue(t, testcert.Spec{CommonName: "127.0.0.1", Server: true})
	srv := testmqtt.StartWith(t, testmqtt.Options{TLS: &testmqtt.TLS{CertPEM: cert.CertPEM, KeyPEM: cert.KeyPEM, CAPEM: ca.PEM}})
	if !strings.HasPrefix(srv.URL(), "mqtts://") {
		t.Fatal(srv.URL())
	}
	got := make(chan hookgate.SourceMessage, 1)
	consume(t, &mqtt.Source{RootCAs: ca.Pool()}, source(srv, "orders"), func(_ context.Context, m hookgate.SourceMessage) error { got <- m; return nil }, &reporter{})
	d := &mqtt.Destination{RootCAs: ca.Pool()}
	t.Cleanup(func() { _ = d.Close() })
	w := webhook(srv, "orders", 1)
	if err := d.Probe(context.Background(), w); err != nil {
		t.Fatalf("probe: %v", err)
	}
	if o := d.Send(context.Background(), w, message("dlv_tls")); o.Class != hookgate.OutcomeSuccess {
		t.Fatalf("send: %+v", o)
	}
	if m := testwait.Recv(t, "the message over TLS", got); m.ID != "dlv_tls" {
		t.Fatalf("message %+v", m)
	}
	untrusting := newDestination(t)
	if err := untrusting.Probe(context.Background(), w); !isParam(err, "destination.url") || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("probe with the system's roots: %v", err)
	}
	if o := untrusting.Send(context.Background(), w, message("dlv_2")); o.Class != hookgate.OutcomeRetryable || !strings.Contains(o.Attempt.Error, "certificate") {
		t.Fatalf("send with the system's roots: %+v", o)
	}
}
