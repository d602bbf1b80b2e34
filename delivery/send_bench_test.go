package delivery_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/internal/testcert"
)

// The cost of one request by the Sender, with a webhook without TLS
// settings (the hot path, which looks nothing up for them) and with a
// client certificate (its cached transport, connections reused).
func BenchmarkSend(b *testing.B) {
	b.Run("plain", func(b *testing.B) {
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) { rw.WriteHeader(204) }))
		defer srv.Close()
		benchSend(b, webhook(srv.URL))
	})
	b.Run("mtls", func(b *testing.B) {
		ca := testcert.NewCA(b, "receivers CA")
		pair := ca.Issue(b, testcert.Spec{CommonName: "client"})
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) { rw.WriteHeader(204) }))
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Issue(b, testcert.Spec{CommonName: "receiver", Server: true}).TLS},
			ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.Pool()}
		srv.StartTLS()
		defer srv.Close()
		w := webhook(srv.URL)
		w.TLS = hookgate.WebhookTLS{ClientCertificate: pair.CertPEM, ClientKey: pair.KeyPEM, CABundle: ca.PEM}
		benchSend(b, w)
	})
}

func benchSend(b *testing.B, w *hookgate.Webhook) {
	s := newSender()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if res := s.Send(ctx, w, msg); !res.OK() {
			b.Fatal(res.Err)
		}
	}
}

// The cost of a delivery's body: the envelope of a webhook without a
// transform (Payload's cost: Render adds nothing to it), and a transform
// with transformHeaders (the event decoded once for both).
func BenchmarkRender(b *testing.B) {
	ctx := context.Background()
	b.Run("payload", func(b *testing.B) {
		w := webhook("http://127.0.0.1:9/")
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := delivery.Payload(w, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("envelope", func(b *testing.B) {
		w := webhook("http://127.0.0.1:9/")
		b.ReportAllocs()
		for b.Loop() {
			if _, err := delivery.Render(ctx, w, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("transform", func(b *testing.B) {
		w := webhook("http://127.0.0.1:9/")
		w.Transform, w.TransformHeaders = `{"order": data.id, "kind": type}`, `{"X-Order": string(data.id)}`
		b.ReportAllocs()
		for b.Loop() {
			if _, err := delivery.Render(ctx, w, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
}
