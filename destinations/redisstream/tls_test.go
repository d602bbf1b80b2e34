package redisstream_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/internal/testcert"
	"github.com/hookgate/hookgate/internal/testredis"
)

// A rediss:// destination verifies the broker's certificate (against the
// CA bundle given, else the system's roots) and presents its client
// certificate: with both, the entry lands; without the client
// certificate, or trusting the system's roots only, the attempt fails,
// retryable; a TLS setting with a plain redis:// URL is refused.
func TestSendOverTLS(t *testing.T) {
	t.Parallel()
	srv, ca := testredis.StartMutualTLS(t)
	client := ca.Issue(t, testcert.Spec{CommonName: "hookgate"})
	d := newDestination(t)

	w := webhook(srv, "orders", 0)
	w.URL, w.DestinationConfig.URL = srv.TLSURL(), srv.TLSURL()
	w.DestinationConfig.TLS = hookgate.WebhookTLS{ClientCertificate: client.CertPEM, ClientKey: client.KeyPEM, CABundle: ca.PEM}
	if err := w.DestinationConfig.TLS.CheckAt(time.Now(), "destination.tls"); err != nil {
		t.Fatal(err)
	}
	if err := d.Check(w); err != nil {
		t.Fatal(err)
	}
	if err := d.Probe(context.Background(), w); err != nil {
		t.Fatalf("probe over TLS: %v", err)
	}
	o := d.Send(context.Background(), w, message("dlv_tls"))
	if o.Class != hookgate.OutcomeSuccess {
		t.Fatalf("send over TLS: %+v", o)
	}
	if n, err := reader(t, srv).XLen(context.Background(), "orders").Result(); err != nil || n != 1 {
		t.Fatalf("stream length %d, %v; want the one entry", n, err)
	}

	noCert := webhook(srv, "orders", 0)
	noCert.URL, noCert.DestinationConfig.URL = srv.TLSURL(), srv.TLSURL()
	noCert.DestinationConfig.TLS = hookgate.WebhookTLS{CABundle: ca.PEM}
	if o := d.Send(context.Background(), noCert, message("dlv_nocert")); o.Class != hookgate.OutcomeRetryable {
		t.Fatalf("without a client certificate: %+v", o)
	}
	systemRoots := webhook(srv, "orders", 0)
	systemRoots.URL, systemRoots.DestinationConfig.URL = srv.TLSURL(), srv.TLSURL()
	systemRoots.DestinationConfig.TLS = hookgate.WebhookTLS{ClientCertificate: client.CertPEM, ClientKey: client.KeyPEM}
	o = d.Send(context.Background(), systemRoots, message("dlv_roots"))
	if o.Class != hookgate.OutcomeRetryable || !strings.Contains(o.Cause, "certificate") {
		t.Fatalf("a broker certificate of an unknown CA: %+v", o)
	}
	if err := d.Probe(context.Background(), systemRoots); hookgate.ErrorCode(err) != hookgate.EInvalidParameter {
		t.Fatalf("probe of a broker of an unknown CA: %v", err)
	}

	plain := webhook(srv, "orders", 0)
	plain.DestinationConfig.TLS = hookgate.WebhookTLS{CABundle: ca.PEM}
	if he, ok := d.Check(plain).(*hookgate.Error); !ok || he.Param != "destination.tls" {
		t.Fatalf("TLS settings with redis://: %v", he)
	}
}
