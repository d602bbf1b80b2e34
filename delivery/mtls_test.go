package delivery_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/destinations/all"
	"github.com/hookgate/hookgate/internal/testcert"
	"github.com/hookgate/hookgate/internal/testlog"
	"github.com/hookgate/hookgate/internal/testwait"
)

// mtlsServer starts a TLS server on loopback with a certificate of ca for
// 127.0.0.1 that requires a client certificate signed by ca, and counts
// the requests that reach handler with the common name of each client.
func mtlsServer(t *testing.T, ca *testcert.CA, handler http.HandlerFunc) (*httptest.Server, *atomic.Value) {
	t.Helper()
	peer := &atomic.Value{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			peer.Store(r.TLS.PeerCertificates[0].Subject.CommonName)
		}
		handler(rw, r)
	}))
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{ca.Issue(t, testcert.Spec{CommonName: "receiver", Server: true}).TLS},
		ClientAuth:   tls.RequireAndVerifyClientCert, ClientCAs: ca.Pool(),
	}
	// The refused handshakes are the point of these tests, not news.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, peer
}

// Issue 27, item 5: a receiver that requires a client certificate refuses
// a delivery without one and with one of another CA, and accepts the
// webhook's; the webhook's caBundle is what makes its server certificate
// trusted.
func TestSendMTLS(t *testing.T) {
	t.Parallel()
	ca := testcert.NewCA(t, "receivers CA")
	good := ca.Issue(t, testcert.Spec{CommonName: "hookgate-client"})
	wrong := testcert.NewCA(t, "another CA").Issue(t, testcert.Spec{CommonName: "intruder"})
	var reached atomic.Int32
	srv, peer := mtlsServer(t, ca, func(rw http.ResponseWriter, _ *http.Request) {
		reached.Add(1)
		rw.WriteHeader(http.StatusNoContent)
	})
	sender := newSender()
	cases := []struct {
		name    string
		tls     hookgate.WebhookTLS
		ok      bool
		errPart string
	}{
		// The test CA is not among the system's roots: without a bundle
		// the server's certificate is refused before any client one.
		{"no caBundle", hookgate.WebhookTLS{ClientCertificate: good.CertPEM, ClientKey: good.KeyPEM}, false, "certificate"},
		{"no client certificate", hookgate.WebhookTLS{CABundle: ca.PEM}, false, "tls"},
		{"another CA's certificate", hookgate.WebhookTLS{ClientCertificate: wrong.CertPEM, ClientKey: wrong.KeyPEM, CABundle: ca.PEM}, false, "tls"},
		{"the right certificate", hookgate.WebhookTLS{ClientCertificate: good.CertPEM, ClientKey: good.KeyPEM, CABundle: ca.PEM}, true, ""},
	}
	for i, c := range cases {
		w := webhook(srv.URL + "/hook")
		w.ID = "wh_mtls" + string(rune('a'+i))
		w.TLS = c.tls
		if err := w.TLS.Check(time.Now()); err != nil {
			t.Fatalf("%s: settings refused: %v", c.name, err)
		}
		res := sender.Send(context.Background(), w, msg)
		if res.OK() != c.ok {
			t.Fatalf("%s: OK = %v, want %v (status %d, err %v)", c.name, res.OK(), c.ok, res.StatusCode, res.Err)
		}
		if c.ok {
			continue
		}
		a := res.Attempt("dl_1", 1)
		if res.StatusCode != 0 || a.Error == "" || !strings.Contains(strings.ToLower(a.Error), c.errPart) {
			t.Fatalf("%s: status %d, recorded error %q, want one naming %q", c.name, res.StatusCode, a.Error, c.errPart)
		}
	}
	if n := reached.Load(); n != 1 {
		t.Fatalf("the handler was reached %d times, want once (the right certificate)", n)
	}
	if cn, _ := peer.Load().(string); cn != "hookgate-client" {
		t.Fatalf("the server saw client %q", cn)
	}
}

// A webhook's client is made again when its TLS settings change, and a
// webhook without TLS settings uses the Sender's own client (none cached).
func TestSendMTLSSettingsChange(t *testing.T) {
	t.Parallel()
	ca := testcert.NewCA(t, "receivers CA")
	good := ca.Issue(t, testcert.Spec{CommonName: "first"})
	next := ca.Issue(t, testcert.Spec{CommonName: "second"})
	srv, peer := mtlsServer(t, ca, func(rw http.ResponseWriter, _ *http.Request) { rw.WriteHeader(http.StatusOK) })
	sender := newSender()
	plain := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) { rw.WriteHeader(http.StatusOK) }))
	defer plain.Close()
	if res := sender.Send(context.Background(), webhook(plain.URL), msg); !res.OK() || sender.TLSClients() != 0 {
		t.Fatalf("plain webhook: %v, %d TLS clients cached", res.Err, sender.TLSClients())
	}
	w := webhook(srv.URL)
	w.TLS = hookgate.WebhookTLS{ClientCertificate: good.CertPEM, ClientKey: good.KeyPEM, CABundle: ca.PEM}
	if res := sender.Send(context.Background(), w, msg); !res.OK() || peer.Load() != "first" {
		t.Fatalf("first certificate: %v, server saw %v", res.Err, peer.Load())
	}
	changed := *w
	changed.TLS.ClientCertificate, changed.TLS.ClientKey = next.CertPEM, next.KeyPEM
	changed.UpdatedAt = w.UpdatedAt.Add(time.Second)
	if res := sender.Send(context.Background(), &changed, msg); !res.OK() || peer.Load() != "second" {
		t.Fatalf("second certificate: %v, server saw %v", res.Err, peer.Load())
	}
	if n := sender.TLSClients(); n != 1 {
		t.Fatalf("%d TLS clients cached for one webhook, want 1", n)
	}
	// Unused for ten minutes (the webhook deleted, say): dropped by the
	// next sweep, which any webhook's requests make.
	clk := newClock(time.Now().Add(11 * time.Minute))
	sender.Now = clk.Now
	sender.Pace(webhook(plain.URL))
	if n := sender.TLSClients(); n != 0 {
		t.Fatalf("%d TLS clients cached after ten idle minutes, want 0", n)
	}
}

// The OAuth2 token request of a webhook with a client certificate presents
// it: the token server requires it, and the delivery carries the token.
func TestTokenURLOverMTLS(t *testing.T) {
	t.Parallel()
	ca := testcert.NewCA(t, "receivers CA")
	good := ca.Issue(t, testcert.Spec{CommonName: "hookgate-client"})
	tokenSrv, tokenPeer := mtlsServer(t, ca, func(rw http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Form.Get("grant_type") != "client_credentials" {
			http.Error(rw, "bad grant", http.StatusBadRequest)
			return
		}
		rw.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(rw).Encode(map[string]any{"access_token": "tok-mtls", "token_type": "Bearer", "expires_in": 3600})
	})
	var auth atomic.Value
	srv, _ := mtlsServer(t, ca, func(rw http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		rw.WriteHeader(http.StatusOK)
	})
	sender := newSender()
	w := webhook(srv.URL)
	w.Auth = hookgate.WebhookAuth{Type: hookgate.AuthClientCredential, ClientID: "id", ClientSecret: "s", TokenURL: tokenSrv.URL + "/token"}
	w.TLS = hookgate.WebhookTLS{ClientCertificate: good.CertPEM, ClientKey: good.KeyPEM, CABundle: ca.PEM}
	res := sender.Send(context.Background(), w, msg)
	if !res.OK() {
		t.Fatalf("delivery: %d %v", res.StatusCode, res.Err)
	}
	if got := auth.Load(); got != "Bearer tok-mtls" {
		t.Fatalf("Authorization = %v", got)
	}
	if cn := tokenPeer.Load(); cn != "hookgate-client" {
		t.Fatalf("the token server saw client %v", cn)
	}

	// Without the certificate the token server refuses the handshake: no
	// token, no request.
	bare := webhook(srv.URL)
	bare.ID = "wh_bare"
	bare.Auth = w.Auth
	bare.TLS = hookgate.WebhookTLS{CABundle: ca.PEM}
	res = sender.Send(context.Background(), bare, msg)
	if res.OK() || res.Err == nil || !strings.Contains(res.Err.Error(), "oauth2 token") {
		t.Fatalf("without a certificate: %d %v", res.StatusCode, res.Err)
	}
}

// Deliveries through the dispatcher to an mTLS receiver, on both engines:
// the webhook with the right certificate gets its event; the one with
// another CA's does not, and its attempt records the TLS refusal.
func TestDeliverMTLS(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ca := testcert.NewCA(t, "receivers CA")
		good := ca.Issue(t, testcert.Spec{CommonName: "hookgate-client"})
		wrong := testcert.NewCA(t, "another CA").Issue(t, testcert.Spec{CommonName: "intruder"})
		got := make(chan string, 4)
		srv, _ := mtlsServer(t, ca, func(rw http.ResponseWriter, r *http.Request) {
			got <- r.TLS.PeerCertificates[0].Subject.CommonName
			rw.WriteHeader(http.StatusOK)
		})
		h := newHarness(t, engine, hookgate.Schedule{time.Hour})
		right := h.webhookWith(t, srv.URL+"/right", func(w *hookgate.Webhook) {
			w.TLS = hookgate.WebhookTLS{ClientCertificate: good.CertPEM, ClientKey: good.KeyPEM, CABundle: ca.PEM}
		})
		bad := h.webhookWith(t, srv.URL+"/wrong", func(w *hookgate.Webhook) {
			w.TLS = hookgate.WebhookTLS{ClientCertificate: wrong.CertPEM, ClientKey: wrong.KeyPEM, CABundle: ca.PEM}
		})
		h.start()
		h.send(t, 1)
		if cn := testwait.Recv(t, "the delivery with the right certificate", got); cn != "hookgate-client" {
			t.Fatalf("the receiver saw %q", cn)
		}
		var attempt *hookgate.Attempt
		testwait.For(t, "the refused attempt to be recorded", func() bool {
			ds, _, err := h.store.ListDeliveries(context.Background(), h.proj, hookgate.DeliveryFilter{Page: hookgate.Page{Limit: 10}, WebhookID: bad.ID})
			if err != nil || len(ds) != 1 {
				return false
			}
			as, _, err := h.store.ListAttempts(context.Background(), h.proj, ds[0].ID, hookgate.Page{Limit: 10})
			if err != nil || len(as) == 0 {
				return false
			}
			attempt = as[0]
			return true
		})
		if attempt.StatusCode != 0 || !strings.Contains(strings.ToLower(attempt.Error), "tls") {
			t.Fatalf("refused attempt: status %d, error %q", attempt.StatusCode, attempt.Error)
		}
		testwait.For(t, "the right webhook's delivery to succeed", func() bool {
			ds, _, err := h.store.ListDeliveries(context.Background(), h.proj, hookgate.DeliveryFilter{Page: hookgate.Page{Limit: 10}, WebhookID: right.ID})
			return err == nil && len(ds) == 1 && ds[0].Status == hookgate.DeliverySucceeded
		})
		select {
		case cn := <-got:
			t.Fatalf("a second request reached the receiver, from %q", cn)
		default:
		}
	})
}

// Issue 27, item 5: a certificate 14 days or less from its end is
// announced once (hookgate.webhook.certificate_expiring), however often
// the check runs; a new certificate is announced anew.
func TestCertificateExpiring(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ca := testcert.NewCA(t, "receivers CA")
		now := time.Now().UTC()
		soon := ca.Issue(t, testcert.Spec{CommonName: "soon", NotAfter: now.Add(10 * 24 * time.Hour)})
		later := ca.Issue(t, testcert.Spec{CommonName: "later", NotAfter: now.Add(60 * 24 * time.Hour)})
		clk := newClock(now)
		h := newHarness(t, engine, nil, func(c *delivery.Config) { c.Now = clk.Now })
		w := h.webhookWith(t, "https://127.0.0.1:9/", func(w *hookgate.Webhook) {
			w.TLS = hookgate.WebhookTLS{ClientCertificate: soon.CertPEM, ClientKey: soon.KeyPEM}
		})
		h.webhookWith(t, "https://127.0.0.1:9/", func(w *hookgate.Webhook) {
			w.TLS = hookgate.WebhookTLS{ClientCertificate: later.CertPEM, ClientKey: later.KeyPEM}
		})
		for range 2 {
			if _, err := h.disp.CheckCertificates(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		evs := expiringEvents(t, h)
		if len(evs) != 1 {
			t.Fatalf("%d expiry events after two checks, want 1", len(evs))
		}
		var data struct {
			WebhookID   string    `json:"webhookId"`
			NotAfter    time.Time `json:"notAfter"`
			Subject     string    `json:"subject"`
			Fingerprint string    `json:"fingerprint"`
		}
		if err := json.Unmarshal(evs[0].Data, &data); err != nil {
			t.Fatal(err)
		}
		info := w.TLS.ClientCertificateInfo()
		if data.WebhookID != w.ID || !data.NotAfter.Equal(info.NotAfter) || data.Fingerprint != info.SHA256 || !strings.Contains(data.Subject, "CN=soon") {
			t.Fatalf("event data = %+v, want webhook %s, %s, %s", data, w.ID, info.NotAfter, info.SHA256)
		}

		// Replaced by a certificate that ends soon too: announced anew.
		renewed := ca.Issue(t, testcert.Spec{CommonName: "renewed", NotAfter: now.Add(12 * 24 * time.Hour)})
		w.TLS = hookgate.WebhookTLS{ClientCertificate: renewed.CertPEM, ClientKey: renewed.KeyPEM}
		w.UpdatedAt = now.Add(time.Second)
		if err := h.store.UpdateWebhook(context.Background(), w); err != nil {
			t.Fatal(err)
		}
		// And 50 days on, the later one's turn.
		clk.Advance(50 * 24 * time.Hour)
		if n, err := h.disp.CheckCertificates(context.Background()); err != nil || n != 2 {
			t.Fatalf("second check sent %d events (%v), want 2: the renewed certificate and the later one", n, err)
		}
		if n, err := h.disp.CheckCertificates(context.Background()); err != nil || n != 0 {
			t.Fatalf("third check sent %d events (%v), want none", n, err)
		}
		if n := len(expiringEvents(t, h)); n != 3 {
			t.Fatalf("%d expiry events in all, want 3", n)
		}
	})
}

// expiringEvents lists the project's certificate_expiring events.
func expiringEvents(t *testing.T, h *harness) []*hookgate.Event {
	t.Helper()
	evs, _, err := h.store.ListEvents(context.Background(), h.proj, hookgate.EventFilter{Page: hookgate.Page{Limit: 50}, Type: hookgate.EventCertificateExpiring})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// failAnnounce fails AnnounceCertificate, as a node that stops between the
// event and the record of its announcement.
type failAnnounce struct {
	hookgate.Queue
}

func (failAnnounce) AnnounceCertificate(context.Context, string, string, string) (bool, error) {
	return false, errors.New("the node stopped")
}

// The expiry event is not lost nor doubled when a node stops between the
// event and the record of its announcement, when nodes check at once, or
// when a producer's event holds the event's idempotency key.
func TestCertificateExpiringOnce(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ca := testcert.NewCA(t, "receivers CA")
		soon := ca.Issue(t, testcert.Spec{CommonName: "soon", NotAfter: time.Now().Add(3 * 24 * time.Hour)})
		h := newHarness(t, engine, nil)
		w := h.webhookWith(t, "https://127.0.0.1:9/", func(w *hookgate.Webhook) {
			w.TLS = hookgate.WebhookTLS{ClientCertificate: soon.CertPEM, ClientKey: soon.KeyPEM}
		})
		stopped := delivery.New(delivery.Config{Queue: failAnnounce{h.store}, Destinations: all.New(newSender()), Logger: testlog.Logger(t)})
		if _, err := stopped.CheckCertificates(context.Background()); err == nil {
			t.Fatal("the check did not report the failed record")
		}
		var wg sync.WaitGroup
		sent := make(chan int, 4)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := h.disp.CheckCertificates(context.Background())
				if err != nil {
					t.Error(err)
				}
				sent <- n
			}()
		}
		wg.Wait()
		close(sent)
		for n := range sent {
			if n != 0 {
				t.Fatalf("a check after the stopped one sent %d events: the first was already in", n)
			}
		}
		if n := len(expiringEvents(t, h)); n != 1 {
			t.Fatalf("%d expiry events, want 1", n)
		}

		// A producer's event under the key the next certificate's event
		// would take does not silence it.
		next := ca.Issue(t, testcert.Spec{CommonName: "next", NotAfter: time.Now().Add(4 * 24 * time.Hour)})
		w.TLS = hookgate.WebhookTLS{ClientCertificate: next.CertPEM, ClientKey: next.KeyPEM}
		w.UpdatedAt = w.UpdatedAt.Add(time.Second)
		if err := h.store.UpdateWebhook(context.Background(), w); err != nil {
			t.Fatal(err)
		}
		key := hookgate.EventCertificateExpiring + "/" + w.ID + "/" + w.TLS.ClientCertificateInfo().SHA256
		if _, err := h.store.CreateEvents(context.Background(), h.proj, []hookgate.EventInput{{Type: "order.created", Data: json.RawMessage(`{}`), IdempotencyKey: key}}); err != nil {
			t.Fatal(err)
		}
		if n, err := h.disp.CheckCertificates(context.Background()); err != nil || n != 1 {
			t.Fatalf("the next certificate's check sent %d events (%v), want 1", n, err)
		}
		if n := len(expiringEvents(t, h)); n != 2 {
			t.Fatalf("%d expiry events, want 2", n)
		}
	})
}

// A recovery probe of a disabled webhook with a client certificate
// presents it: the mTLS receiver answers 2xx and the webhook is enabled
// again.
func TestRecoveryProbeMTLS(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		ca := testcert.NewCA(t, "receivers CA")
		good := ca.Issue(t, testcert.Spec{CommonName: "hookgate-client"})
		pings := make(chan string, 4)
		srv, _ := mtlsServer(t, ca, func(rw http.ResponseWriter, r *http.Request) {
			var env struct {
				Type string `json:"type"`
			}
			_ = json.NewDecoder(r.Body).Decode(&env)
			if env.Type == hookgate.EventPing {
				pings <- r.TLS.PeerCertificates[0].Subject.CommonName
			}
			rw.WriteHeader(http.StatusOK)
		})
		clk := newClock(time.Now().UTC().Truncate(time.Millisecond))
		sched := hookgate.Schedule{5 * time.Minute}
		h := runDispatcher(t, engine, nil, func(c *delivery.Config) {
			clocked(c, clk)
			c.RecoverySchedule, c.ProbePoll = sched, 10*time.Millisecond
		})
		w := h.webhookWith(t, srv.URL, func(w *hookgate.Webhook) {
			w.TLS = hookgate.WebhookTLS{ClientCertificate: good.CertPEM, ClientKey: good.KeyPEM, CABundle: ca.PEM}
		})
		if _, err := h.store.SetWebhookStatus(ctx, h.proj, w.ID, hookgate.StatusDisabled, clk.Now()); err != nil {
			t.Fatal(err)
		}
		testwait.For(t, "the first probe scheduled", func() bool { return h.recovery(t, w.ID) != nil && !h.recovery(t, w.ID).NextProbeAt.IsZero() })
		clk.Advance(sched[0])
		if cn := testwait.Recv(t, "the probe", pings); cn != "hookgate-client" {
			t.Fatalf("the probe came from %q", cn)
		}
		testwait.For(t, "the webhook enabled again", func() bool {
			got, err := h.store.FindWebhook(ctx, h.proj, w.ID)
			return err == nil && got.Status == hookgate.StatusActive
		})
	})
}

// The client certificate a webhook presents to its broker
// (destination.tls) is watched as a receiver's is: announced once when it
// ends soon.
func TestBrokerCertificateExpiring(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ca := testcert.NewCA(t, "brokers CA")
		soon := ca.Issue(t, testcert.Spec{CommonName: "broker-client", NotAfter: time.Now().Add(5 * 24 * time.Hour)})
		h := newHarness(t, engine, nil)
		w := h.webhookWith(t, "rediss://127.0.0.1:9/0", func(w *hookgate.Webhook) {
			w.Destination = "redis-stream"
			w.DestinationConfig = hookgate.DestinationConfig{URL: w.URL, Fields: map[string]json.RawMessage{"stream": json.RawMessage(`"orders"`)},
				TLS: hookgate.WebhookTLS{ClientCertificate: soon.CertPEM, ClientKey: soon.KeyPEM}}
		})
		for range 2 {
			if _, err := h.disp.CheckCertificates(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		evs := expiringEvents(t, h)
		if len(evs) != 1 || !strings.Contains(string(evs[0].Data), w.ID) || !strings.Contains(string(evs[0].Data), "CN=broker-client") {
			t.Fatalf("expiry events %v, want one for %s", evs, w.ID)
		}
	})
}
