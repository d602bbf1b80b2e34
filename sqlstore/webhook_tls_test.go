package sqlstore_test

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/internal/testcert"
	"github.com/hookgate/hookgate/sqlstore"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// Issue 27, item 5: a webhook's TLS settings are sealed at rest, bound to
// their row, resealed by a key rotation; only the certificate's
// fingerprint and end, which are not secret, are kept in the clear.
func TestWebhookTLSSealedAtRest(t *testing.T) {
	t.Parallel()
	ca := testcert.NewCA(t, "receivers CA")
	pair := ca.Issue(t, testcert.Spec{CommonName: "client"})
	for _, engine := range sqltest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			cfg := sqltest.Config(t, engine)
			s := sqltest.OpenConfig(t, cfg)
			ctx := context.Background()
			p := newProject(t, s, "sealtls")
			w := newWebhook(t, s, p.ID)
			w.TLS = hookgate.WebhookTLS{ClientCertificate: pair.CertPEM, ClientKey: pair.KeyPEM, CABundle: ca.PEM}
			if err := s.UpdateWebhook(ctx, w); err != nil {
				t.Fatal(err)
			}
			db := rawDB(t, s, cfg)
			var raw, fingerprint string
			var notAfter int64
			if err := db.QueryRow(q(engine, `SELECT tls, tls_fingerprint, tls_not_after FROM webhooks WHERE id = ?`), w.ID).Scan(&raw, &fingerprint, &notAfter); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(raw, "v2:"+s.KeyID()+":") || strings.Contains(raw, "PRIVATE KEY") || strings.Contains(raw, "CERTIFICATE") {
				t.Fatalf("the tls column holds %q", raw)
			}
			info := w.TLS.ClientCertificateInfo()
			if fingerprint != info.SHA256 || notAfter != info.NotAfter.UnixMicro() {
				t.Fatalf("clear columns: %s %d, want %s %d", fingerprint, notAfter, info.SHA256, info.NotAfter.UnixMicro())
			}
			got, err := s.FindWebhook(ctx, p.ID, w.ID)
			if err != nil || got.TLS != w.TLS {
				t.Fatalf("FindWebhook: %+v, %v", got.TLS, err)
			}
			// Copied into another webhook's row, the sealed settings open no more.
			sealedStaysInItsRow(t, s, db, engine, p.ID, "tls", raw)

			// Key rotation: a store on a new key reseals the settings too.
			newCfg := cfg
			newCfg.Box = sqltest.Box(t)
			s2 := sqltest.OpenConfig(t, newCfg)
			n, err := s2.Reseal(ctx, cfg.Box)
			if err != nil || n != 5 { // url, secret, auth, headers, tls
				t.Fatalf("resealed %d, %v", n, err)
			}
			got, err = s2.FindWebhook(ctx, p.ID, w.ID)
			if err != nil || got.TLS != w.TLS {
				t.Fatalf("after rotation: %+v, %v", got, err)
			}
			if err := db.QueryRow(q(engine, `SELECT tls FROM webhooks WHERE id = ?`), w.ID).Scan(&raw); err != nil || !strings.HasPrefix(raw, "v2:"+s2.KeyID()+":") {
				t.Fatalf("tls column after rotation: %q, %v", raw, err)
			}

			// Removed: nothing left, in the clear or sealed.
			w.TLS = hookgate.WebhookTLS{}
			if err := s2.UpdateWebhook(ctx, w); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRow(q(engine, `SELECT tls, tls_fingerprint, tls_not_after FROM webhooks WHERE id = ?`), w.ID).Scan(&raw, &fingerprint, &notAfter); err != nil ||
				raw != "" || fingerprint != "" || notAfter != 0 {
				t.Fatalf("after removal: %q %q %d, %v", raw, fingerprint, notAfter, err)
			}
		})
	}
}

// The announcement of a certificate's expiry is a compare-and-set: of
// nodes announcing at once, one wins; a new certificate may be announced
// again.
func TestAnnounceCertificateOnce(t *testing.T) {
	t.Parallel()
	ca := testcert.NewCA(t, "receivers CA")
	soon := ca.Issue(t, testcert.Spec{CommonName: "soon", NotAfter: time.Now().Add(5 * 24 * time.Hour)})
	for _, engine := range sqltest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			s := sqltest.Open(t, engine)
			ctx := context.Background()
			p := newProject(t, s, "announce")
			w := newWebhook(t, s, p.ID)
			w.TLS = hookgate.WebhookTLS{ClientCertificate: soon.CertPEM, ClientKey: soon.KeyPEM}
			if err := s.UpdateWebhook(ctx, w); err != nil {
				t.Fatal(err)
			}
			newWebhook(t, s, p.ID) // no certificate: never listed
			list, err := s.ExpiringCertificates(ctx, time.Now().Add(14*24*time.Hour), "", 10)
			if err != nil || len(list) != 1 || list[0].ID != w.ID {
				t.Fatalf("expiring: %d, %v", len(list), err)
			}
			if list, _ := s.ExpiringCertificates(ctx, time.Now().Add(24*time.Hour), "", 10); len(list) != 0 {
				t.Fatalf("%d expiring within a day, want none", len(list))
			}
			fp := w.TLS.ClientCertificateInfo().SHA256
			var wins atomic.Int32
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ok, err := s.AnnounceCertificate(ctx, p.ID, w.ID, fp)
					if err != nil {
						t.Error(err)
					}
					if ok {
						wins.Add(1)
					}
				}()
			}
			wg.Wait()
			if n := wins.Load(); n != 1 {
				t.Fatalf("%d announcements won, want 1", n)
			}
			if list, _ := s.ExpiringCertificates(ctx, time.Now().Add(14*24*time.Hour), "", 10); len(list) != 0 {
				t.Fatalf("%d expiring after the announcement, want none", len(list))
			}
			if ok, err := s.AnnounceCertificate(ctx, p.ID, w.ID, "another"); ok || err != nil {
				t.Fatalf("a fingerprint that is not the webhook's was announced: %v, %v", ok, err)
			}
		})
	}
}

// sealedStaysInItsRow copies raw, a value sealed in one webhook's column,
// into that column of another webhook of projectID, and checks that the
// webhook then does not read: a sealed value opens only where it was
// sealed. The other webhook is deleted after.
func sealedStaysInItsRow(t *testing.T, s *sqlstore.Store, db *sql.DB, engine, projectID, column, raw string) {
	t.Helper()
	other := newWebhook(t, s, projectID)
	if _, err := db.Exec(q(engine, `UPDATE webhooks SET `+column+` = ? WHERE id = ?`), raw, other.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindWebhook(context.Background(), projectID, other.ID); err == nil {
		t.Fatalf("a value sealed in %s opened in another row", column)
	}
	if _, err := db.Exec(q(engine, `DELETE FROM webhooks WHERE id = ?`), other.ID); err != nil {
		t.Fatal(err)
	}
}
