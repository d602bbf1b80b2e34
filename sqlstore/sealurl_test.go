package sqlstore_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/sqlstore"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// slackURL is an incoming-webhook URL: whoever has it may post. Its path
// and its query are both credentials.
const slackURL = "https://hooks.slack.invalid/services/T0000/B0000/XXXXPATHSECRET?token=QUERYSECRET"

// Issue 21, item 11: a webhook's URL is sealed at rest like its secrets,
// bound to its row: the raw column holds no part of it, and every read of
// the store opens it.
func TestWebhookURLSealedAtRest(t *testing.T) {
	t.Parallel()
	for _, engine := range sqltest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			cfg := sqltest.Config(t, engine)
			s := sqltest.OpenConfig(t, cfg)
			ctx := context.Background()
			p := newProject(t, s, "sealurl")
			w := newWebhook(t, s, p.ID)
			w.URL = slackURL
			if err := s.UpdateWebhook(ctx, w); err != nil {
				t.Fatal(err)
			}
			var raw string
			if err := rawDB(t, s, cfg).QueryRow(q(engine, `SELECT url FROM webhooks WHERE id = ?`), w.ID).Scan(&raw); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(raw, "v2:"+s.KeyID()+":") || strings.Contains(raw, "SECRET") || strings.Contains(raw, "slack") {
				t.Fatalf("the url column holds %q", raw)
			}
			got, err := s.FindWebhook(ctx, p.ID, w.ID)
			if err != nil || got.URL != slackURL {
				t.Fatalf("FindWebhook: %+v, %v", got, err)
			}
			list, _, err := s.ListWebhooks(ctx, p.ID, hookgate.Page{})
			if err != nil || len(list) != 1 || list[0].URL != slackURL {
				t.Fatalf("ListWebhooks: %+v, %v", list, err)
			}
			if d, err := s.DeliveryWebhook(ctx, p.ID, w.ID); err != nil || d.URL != slackURL {
				t.Fatalf("DeliveryWebhook: %+v, %v", d, err)
			}
			// Copied into another webhook's row, the sealed URL opens no more.
			other := newWebhook(t, s, p.ID)
			if _, err := rawDB(t, s, cfg).Exec(q(engine, `UPDATE webhooks SET url = ? WHERE id = ?`), raw, other.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := s.FindWebhook(ctx, p.ID, other.ID); err == nil {
				t.Fatal("a sealed URL opened in another row")
			}
			if engine != sqlstore.EngineSQLite {
				return
			}
			// Nowhere in the embedded store's files either.
			s.Close()
			files, _ := filepath.Glob(filepath.Join(cfg.DataDir, "hookgate.db*"))
			if len(files) == 0 {
				t.Fatal("no database file")
			}
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(b, []byte("XXXXPATHSECRET")) || bytes.Contains(b, []byte("QUERYSECRET")) {
					t.Fatalf("%s holds the URL in plain text", filepath.Base(f))
				}
			}
		})
	}
}

// Issue 21, item 11: a database of a version that stored URLs in plain
// text is sealed by Reseal (which serve runs at every start), and a key
// rotation seals URLs again with the new key.
func TestResealSealsPlainURLsAndRotatesThem(t *testing.T) {
	t.Parallel()
	for _, engine := range sqltest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			cfg := sqltest.Config(t, engine)
			s := sqltest.OpenConfig(t, cfg)
			ctx := context.Background()
			p := newProject(t, s, "legacy")
			w := newWebhook(t, s, p.ID)
			db := rawDB(t, s, cfg)
			const plain = "https://legacy.example.invalid/hook?api_key=LEGACYSECRET"
			// As an older version stored it.
			if _, err := db.Exec(q(engine, `UPDATE webhooks SET url = ? WHERE id = ?`), plain, w.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := s.FindWebhook(ctx, p.ID, w.ID); err == nil {
				t.Fatal("a plain-text URL was read as sealed")
			}
			if n, err := s.Reseal(ctx, nil); err != nil || n != 1 {
				t.Fatalf("Reseal sealed %d, %v", n, err)
			}
			rawURL := func() string {
				t.Helper()
				var raw string
				if err := db.QueryRow(q(engine, `SELECT url FROM webhooks WHERE id = ?`), w.ID).Scan(&raw); err != nil {
					t.Fatal(err)
				}
				return raw
			}
			if raw := rawURL(); strings.Contains(raw, "LEGACYSECRET") || !strings.HasPrefix(raw, "v2:"+s.KeyID()+":") {
				t.Fatalf("after Reseal the url column holds %q", raw)
			}
			if got, err := s.FindWebhook(ctx, p.ID, w.ID); err != nil || got.URL != plain {
				t.Fatalf("after Reseal: %+v, %v", got, err)
			}
			if n, err := s.Reseal(ctx, nil); err != nil || n != 0 {
				t.Fatalf("a second Reseal sealed %d, %v", n, err)
			}

			// rotate-key: a store on a new key reseals with the old one.
			newCfg := cfg
			newCfg.Box = sqltest.Box(t)
			s2 := sqltest.OpenConfig(t, newCfg)
			if _, err := s2.Reseal(ctx, cfg.Box); err != nil {
				t.Fatal(err)
			}
			if raw := rawURL(); !strings.HasPrefix(raw, "v2:"+s2.KeyID()+":") || strings.Contains(raw, "LEGACYSECRET") {
				t.Fatalf("after rotation the url column holds %q", raw)
			}
			if got, err := s2.FindWebhook(ctx, p.ID, w.ID); err != nil || got.URL != plain {
				t.Fatalf("after rotation: %+v, %v", got, err)
			}
			// A value that looks sealed but is not is never taken as plain.
			if _, err := db.Exec(q(engine, `UPDATE webhooks SET url = ? WHERE id = ?`), "v2:"+s2.KeyID()+"x:garbage", w.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := s2.Reseal(ctx, nil); err == nil {
				t.Fatal("Reseal took a damaged sealed URL for plain text")
			}
		})
	}
}
