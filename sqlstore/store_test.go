package sqlstore_test

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/sqlstore"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// eachEngine runs fn as a parallel subtest on every engine under test.
func eachEngine(t *testing.T, fn func(t *testing.T, s *sqlstore.Store)) {
	t.Helper()
	t.Parallel()
	for _, engine := range sqltest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			fn(t, sqltest.Open(t, engine))
		})
	}
}

func newProject(t *testing.T, s *sqlstore.Store, slug string) *hookgate.Project {
	t.Helper()
	now := time.Now().UTC()
	p := &hookgate.Project{ID: hookgate.NewID(hookgate.PrefixProject, now), Slug: slug, Name: "P " + slug, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateProject(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return p
}

func newWebhook(t *testing.T, s *sqlstore.Store, projectID string, events ...string) *hookgate.Webhook {
	t.Helper()
	now := time.Now().UTC()
	w := &hookgate.Webhook{ID: hookgate.NewID(hookgate.PrefixWebhook, now), ProjectID: projectID, URL: "http://127.0.0.1:9/hook",
		Events: events, Secret: hookgate.NewSecret(), CreatedAt: now, UpdatedAt: now}
	w.ApplyDefaults()
	if err := s.CreateWebhook(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	return w
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := hookgate.ErrorCode(err); err == nil || got != code {
		t.Fatalf("error = %v (code %s), want code %s", err, got, code)
	}
}

func TestProjects(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "acme")
		t.Run("FindByIDAndSlug", func(t *testing.T) {
			for _, ref := range []string{p.ID, "acme"} {
				got, err := s.FindProject(ctx, ref)
				if err != nil || got.ID != p.ID || got.Name != p.Name {
					t.Fatalf("FindProject(%s) = %+v, %v", ref, got, err)
				}
			}
			_, err := s.FindProject(ctx, "nope")
			wantCode(t, err, hookgate.ENotFound)
		})
		t.Run("ErrSlugTaken", func(t *testing.T) {
			q := &hookgate.Project{ID: hookgate.NewID(hookgate.PrefixProject, time.Now()), Slug: "acme", Name: "x"}
			wantCode(t, s.CreateProject(ctx, q), hookgate.EConflict)
		})
		t.Run("UpdateWithSchedule", func(t *testing.T) {
			p.Name = "Acme Inc"
			p.RetrySchedule = []time.Duration{time.Second, time.Minute}
			if err := s.UpdateProject(ctx, p); err != nil {
				t.Fatal(err)
			}
			got, _ := s.FindProject(ctx, p.ID)
			if got.Name != "Acme Inc" || len(got.RetrySchedule) != 2 || got.RetrySchedule[1] != time.Minute {
				t.Fatalf("got %+v", got)
			}
		})
	})
}

func TestListPages(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		for i := range 7 {
			newProject(t, s, fmt.Sprintf("p%d", i))
		}
		var seen []string
		cursor := ""
		for pages := 0; ; pages++ {
			list, next, err := s.ListProjects(ctx, hookgate.Page{Limit: 3, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range list {
				seen = append(seen, p.Slug)
			}
			if next == "" {
				if pages != 2 {
					t.Fatalf("pages = %d, want 3", pages+1)
				}
				break
			}
			cursor = next
		}
		if strings.Join(seen, ",") != "p6,p5,p4,p3,p2,p1,p0" {
			t.Fatalf("order = %v, want newest first", seen)
		}
	})
}

func TestWebhookSecretsEncryptedAtRest(t *testing.T) {
	t.Parallel()
	cfg := sqltest.Config(t, sqlstore.EngineSQLite)
	s := sqltest.OpenConfig(t, cfg)
	ctx := context.Background()
	p := newProject(t, s, "enc")
	w := newWebhook(t, s, p.ID)
	w.Auth = hookgate.WebhookAuth{Type: hookgate.AuthBasic, Username: "u", Password: "hunter2-password"}
	w.Headers = map[string]string{"X-Api-Key": "header-credential"}
	w.Signature = hookgate.Signature{Scheme: hookgate.SchemeV1a, Key: hookgate.NewSigningKey(), PreviousKey: hookgate.NewSigningKey()}
	if err := s.UpdateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	// Issue 27: the Ed25519 keys read back whole.
	if got, err := s.FindWebhook(ctx, p.ID, w.ID); err != nil || !got.Signature.Key.Equal(w.Signature.Key) || !got.Signature.PreviousKey.Equal(w.Signature.PreviousKey) || got.Signature.Scheme != hookgate.SchemeV1a {
		t.Fatalf("signature read back: %+v, %v", got.Signature, err)
	}
	s.Close()
	db, err := sql.Open("sqlite", "file:"+cfg.DataDir+"/hookgate.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var secret, auth, headers, signature, public string
	if err := db.QueryRow(`SELECT secret, auth, headers, signature, signing_public FROM webhooks WHERE id = ?`, w.ID).Scan(&secret, &auth, &headers, &signature, &public); err != nil {
		t.Fatal(err)
	}
	seed := base64.StdEncoding.EncodeToString(w.Signature.Key.Seed())
	prevSeed := base64.StdEncoding.EncodeToString(w.Signature.PreviousKey.Seed())
	for _, leak := range []string{w.Secret, "hunter2-password", "header-credential", seed, prevSeed} {
		if strings.Contains(secret+auth+headers+signature+public, leak) {
			t.Fatalf("%q stored in plain text", leak)
		}
	}
	// A store with another key cannot read the webhook.
	cfg.Box = sqltest.Box(t)
	s2 := sqltest.OpenConfig(t, cfg)
	if _, err := s2.FindWebhook(ctx, p.ID, w.ID); err == nil {
		t.Fatal("FindWebhook with a wrong key succeeded")
	}
}

func TestWebhooks(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "a")
		other := newProject(t, s, "b")
		w := newWebhook(t, s, p.ID, "order.*")
		w.Auth = hookgate.WebhookAuth{Type: hookgate.AuthClientCredential, ClientID: "id", ClientSecret: "cs", TokenURL: "http://127.0.0.1:9/token", Scopes: []string{"a"}}
		w.Headers = map[string]string{"X-Tenant": "t1"}
		w.QueryParams = []string{"page"}
		w.Metadata = map[string]string{"team": "x"}
		w.RateLimit = 5
		if err := s.UpdateWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
		got, err := s.FindWebhook(ctx, p.ID, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Secret != w.Secret || got.Auth.ClientSecret != "cs" || got.Headers["X-Tenant"] != "t1" ||
			got.QueryParams[0] != "page" || got.Metadata["team"] != "x" || got.RateLimit != 5 || got.Events[0] != "order.*" {
			t.Fatalf("round trip lost fields: %+v", got)
		}
		t.Run("ErrOtherProject", func(t *testing.T) {
			_, err := s.FindWebhook(ctx, other.ID, w.ID)
			wantCode(t, err, hookgate.ENotFound)
			wantCode(t, s.DeleteWebhook(ctx, other.ID, w.ID), hookgate.ENotFound)
		})
		t.Run("PauseAndResume", func(t *testing.T) {
			w2 := newWebhook(t, s, p.ID)
			if _, err := s.CreateEvents(ctx, p.ID, []hookgate.EventInput{{Type: "order.created", Data: json.RawMessage(`{}`)}}); err != nil {
				t.Fatal(err)
			}
			status := func(want string) {
				t.Helper()
				list, _, err := s.ListDeliveries(ctx, p.ID, hookgate.DeliveryFilter{WebhookID: w2.ID})
				if err != nil || len(list) != 1 || list[0].Status != want {
					t.Fatalf("deliveries = %+v, %v; want one %s", list, err, want)
				}
			}
			status(hookgate.DeliveryPending)
			got, err := s.SetWebhookStatus(ctx, p.ID, w2.ID, hookgate.StatusDeactivated, time.Now())
			if err != nil || got.Status != hookgate.StatusDeactivated {
				t.Fatalf("deactivate: %+v, %v", got, err)
			}
			status(hookgate.DeliveryPaused)
			if _, err := s.SetWebhookStatus(ctx, p.ID, w2.ID, hookgate.StatusActive, time.Now()); err != nil {
				t.Fatal(err)
			}
			status(hookgate.DeliveryPending)
			if err := s.DeleteWebhook(ctx, p.ID, w2.ID); err != nil {
				t.Fatal(err)
			}
			status(hookgate.DeliveryCancelled)
		})
	})
}

func TestCreateEvents(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "ev")
		all := newWebhook(t, s, p.ID)
		orders := newWebhook(t, s, p.ID, "order.*")
		off := newWebhook(t, s, p.ID)
		if _, err := s.SetWebhookStatus(ctx, p.ID, off.ID, hookgate.StatusDeactivated, time.Now()); err != nil {
			t.Fatal(err)
		}
		t.Run("FanOutByFilter", func(t *testing.T) {
			out, err := s.CreateEvents(ctx, p.ID, []hookgate.EventInput{
				{Type: "order.created", Data: json.RawMessage(`{"n":1}`)},
				{Type: "user.created", Data: json.RawMessage(`{"n":2}`)},
			})
			if err != nil {
				t.Fatal(err)
			}
			if out[0].Deliveries != 2 || out[1].Deliveries != 1 {
				t.Fatalf("deliveries = %d, %d; want 2, 1", out[0].Deliveries, out[1].Deliveries)
			}
			list, _, err := s.ListDeliveries(ctx, p.ID, hookgate.DeliveryFilter{EventID: out[0].ID})
			if err != nil || len(list) != 2 {
				t.Fatalf("deliveries = %v, %v", list, err)
			}
			hooks := map[string]bool{list[0].WebhookID: true, list[1].WebhookID: true}
			if !hooks[all.ID] || !hooks[orders.ID] {
				t.Fatalf("deliveries went to %v", hooks)
			}
			e, err := s.FindEvent(ctx, p.ID, out[1].ID)
			if err != nil || string(e.Data) != `{"n":2}` || e.Type != "user.created" {
				t.Fatalf("FindEvent = %+v, %v", e, err)
			}
		})
		t.Run("Idempotency", func(t *testing.T) {
			in := []hookgate.EventInput{{Type: "order.paid", Data: json.RawMessage(`1`), IdempotencyKey: "k1"}}
			first, err := s.CreateEvents(ctx, p.ID, in)
			if err != nil {
				t.Fatal(err)
			}
			again, err := s.CreateEvents(ctx, p.ID, append(in, in[0]))
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range again {
				if e.ID != first[0].ID || !e.Replayed || e.Deliveries != 2 {
					t.Fatalf("replay = %+v, want event %s", e, first[0].ID)
				}
			}
			list, _, _ := s.ListEvents(ctx, p.ID, hookgate.EventFilter{Type: "order.paid"})
			if len(list) != 1 {
				t.Fatalf("%d events of type order.paid, want 1", len(list))
			}
		})
		t.Run("ConcurrentGroupCommit", func(t *testing.T) {
			q := newProject(t, s, "conc")
			newWebhook(t, s, q.ID)
			var wg sync.WaitGroup
			errs := make(chan error, 200)
			for i := range 200 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					out, err := s.CreateEvents(ctx, q.ID, []hookgate.EventInput{{Type: "t", Data: json.RawMessage(`{}`), IdempotencyKey: fmt.Sprint(i % 150)}})
					if err == nil && len(out) != 1 {
						err = fmt.Errorf("got %d events", len(out))
					}
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			var n int
			cursor := ""
			for {
				list, next, err := s.ListEvents(ctx, q.ID, hookgate.EventFilter{Page: hookgate.Page{Limit: 250, Cursor: cursor}})
				if err != nil {
					t.Fatal(err)
				}
				n += len(list)
				if next == "" {
					break
				}
				cursor = next
			}
			if n != 150 {
				t.Fatalf("%d events stored, want 150 (one per idempotency key)", n)
			}
			d, _, _ := s.ListDeliveries(ctx, q.ID, hookgate.DeliveryFilter{Page: hookgate.Page{Limit: 250}})
			if len(d) != 150 {
				t.Fatalf("%d deliveries, want 150", len(d))
			}
		})
		t.Run("ErrClosed", func(t *testing.T) {
			s2 := sqltest.Open(t, s.Engine())
			s2.Close()
			_, err := s2.CreateEvents(ctx, "proj_x", []hookgate.EventInput{{Type: "t", Data: json.RawMessage(`{}`)}})
			wantCode(t, err, hookgate.EUnavailable)
		})
	})
}

func TestDeleteProjectCascades(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "gone")
		newWebhook(t, s, p.ID)
		if err := s.CreateAPIKey(ctx, &hookgate.APIKey{ID: "key_1", ProjectID: p.ID, Name: "k", Role: hookgate.RoleOwner, Hash: []byte{1}}); err != nil {
			t.Fatal(err)
		}
		out, err := s.CreateEvents(ctx, p.ID, []hookgate.EventInput{{Type: "t", Data: json.RawMessage(`{}`)}})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteProject(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		_, err = s.FindEvent(ctx, p.ID, out[0].ID)
		wantCode(t, err, hookgate.ENotFound)
		_, err = s.FindAPIKey(ctx, "key_1")
		wantCode(t, err, hookgate.ENotFound)
		wantCode(t, s.DeleteProject(ctx, p.ID), hookgate.ENotFound)
	})
}

func TestEventTypes(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "et")
		et := &hookgate.EventType{ProjectID: p.ID, Name: "order.created", Schema: json.RawMessage(`{"type":"object"}`)}
		if err := s.CreateEventType(ctx, et); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.CreateEventType(ctx, et), hookgate.EConflict)
		et.Description = "d"
		et.Schema = nil
		if err := s.UpdateEventType(ctx, et); err != nil {
			t.Fatal(err)
		}
		got, err := s.FindEventType(ctx, p.ID, "order.created")
		if err != nil || got.Description != "d" || got.Schema != nil {
			t.Fatalf("got %+v, %v", got, err)
		}
		list, next, err := s.ListEventTypes(ctx, p.ID, hookgate.Page{})
		if err != nil || len(list) != 1 || next != "" {
			t.Fatalf("list = %v, %q, %v", list, next, err)
		}
		if err := s.DeleteEventType(ctx, p.ID, "order.created"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.DeleteEventType(ctx, p.ID, "order.created"), hookgate.ENotFound)
	})
}

// Many nodes starting at once migrate one after the other.
func TestConcurrentMigrate(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		cfg := sqltest.Config(t, s.Engine())
		errs := make(chan error, 4)
		for range 4 {
			go func() {
				st, err := sqlstore.Open(context.Background(), cfg)
				if err == nil {
					err = st.Migrate(context.Background())
					st.Close()
				}
				errs <- err
			}()
		}
		for range 4 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		st := sqltest.OpenConfig(t, cfg)
		cur, latest, err := st.MigrationStatus(context.Background())
		if err != nil || cur != latest {
			t.Fatalf("version %d of %d, %v", cur, latest, err)
		}
	})
}

// An event at the default size limit is stored and read back byte for byte.
func TestLargeEvent(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "big")
		newWebhook(t, s, p.ID)
		data := json.RawMessage(`"` + strings.Repeat("x", 1<<20-16) + `"`)
		out, err := s.CreateEvents(ctx, p.ID, []hookgate.EventInput{{Type: "big", Data: data}})
		if err != nil {
			t.Fatal(err)
		}
		e, err := s.FindEvent(ctx, p.ID, out[0].ID)
		if err != nil || string(e.Data) != string(data) {
			t.Fatalf("read back %d bytes, %v; want %d", len(e.Data), err, len(data))
		}
	})
}

// A page of events holds at most MaxPageBytes of data; the rest follows.
func TestEventPageBoundedByBytes(t *testing.T) {
	t.Parallel()
	for _, engine := range sqltest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			s := sqltest.Open(t, engine)
			now := time.Now().UTC()
			p := &hookgate.Project{ID: hookgate.NewID(hookgate.PrefixProject, now), Slug: "pg", Name: "pg", CreatedAt: now, UpdatedAt: now}
			if err := s.CreateProject(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			big := json.RawMessage(`"` + strings.Repeat("x", 1<<20) + `"`)
			in := make([]hookgate.EventInput, 6)
			for i := range in {
				in[i] = hookgate.EventInput{Type: "a.b", Data: big}
			}
			if _, err := s.CreateEvents(context.Background(), p.ID, in); err != nil {
				t.Fatal(err)
			}
			page, next, err := s.ListEvents(context.Background(), p.ID, hookgate.EventFilter{Page: hookgate.Page{Limit: 250}})
			if err != nil || len(page) != 3 || next == "" {
				t.Fatalf("first page: %d events, next %q, %v", len(page), next, err)
			}
			rest, next, err := s.ListEvents(context.Background(), p.ID, hookgate.EventFilter{Page: hookgate.Page{Limit: 250, Cursor: next}})
			if err != nil || len(rest) != 3 || next != "" {
				t.Fatalf("second page: %d events, next %q, %v", len(rest), next, err)
			}
		})
	}
}

// Sealed values are bound to where they are stored: one copied into
// another row or column no longer opens. Reseal moves every value to a new
// key (and values of the first scheme to the bound one).
func TestSealedValuesBoundAndRotated(t *testing.T) {
	t.Parallel()
	for _, engine := range sqltest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			cfg := sqltest.Config(t, engine)
			s := sqltest.OpenConfig(t, cfg)
			ctx := context.Background()
			now := time.Now().UTC()
			p := &hookgate.Project{ID: hookgate.NewID(hookgate.PrefixProject, now), Slug: "seal", Name: "seal", CreatedAt: now, UpdatedAt: now}
			if err := s.CreateProject(ctx, p); err != nil {
				t.Fatal(err)
			}
			mk := func(password string) *hookgate.Webhook {
				w := &hookgate.Webhook{ID: hookgate.NewID(hookgate.PrefixWebhook, time.Now()), ProjectID: p.ID, URL: "https://a.example.invalid/",
					Secret: hookgate.NewSecret(), Auth: hookgate.WebhookAuth{Type: hookgate.AuthBasic, Username: "u", Password: password}, CreatedAt: now, UpdatedAt: now}
				w.ApplyDefaults()
				if err := s.CreateWebhook(ctx, w); err != nil {
					t.Fatal(err)
				}
				return w
			}
			victim, attacker := mk("victim-pass"), mk("attacker-pass")
			db := rawDB(t, s, cfg)
			// Someone with write access to the database, not the key, moves
			// the victim's sealed auth into their own webhook's secret.
			var sealedAuth string
			if err := db.QueryRow(q(engine, `SELECT auth FROM webhooks WHERE id = ?`), victim.ID).Scan(&sealedAuth); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(q(engine, `UPDATE webhooks SET secret = ? WHERE id = ?`), sealedAuth, attacker.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := s.FindWebhook(ctx, p.ID, attacker.ID); err == nil {
				t.Fatal("a sealed value opened in another row and column")
			}
			if _, err := db.Exec(q(engine, `DELETE FROM webhooks WHERE id = ?`), attacker.ID); err != nil {
				t.Fatal(err)
			}

			// Rotation: a store on a new key reseals with the old one.
			newCfg := cfg
			newCfg.Box = sqltest.Box(t)
			s2 := sqltest.OpenConfig(t, newCfg)
			if _, err := s2.FindWebhook(ctx, p.ID, victim.ID); err == nil {
				t.Fatal("a value opened with another key")
			}
			n, err := s2.Reseal(ctx, cfg.Box)
			if err != nil || n != 4 { // url, secret, auth, headers ("null" is sealed too); previous secret empty
				t.Fatalf("resealed %d, %v", n, err)
			}
			got, err := s2.FindWebhook(ctx, p.ID, victim.ID)
			if err != nil || got.Auth.Password != "victim-pass" || got.Secret != victim.Secret {
				t.Fatalf("after rotation: %+v, %v", got, err)
			}
			if n, err := s2.Reseal(ctx, cfg.Box); err != nil || n != 0 {
				t.Fatalf("a second reseal sealed %d, %v", n, err)
			}
		})
	}
}

// rawDB opens a second handle on the database of cfg, past the store.
func rawDB(t *testing.T, _ *sqlstore.Store, cfg sqlstore.Config) *sql.DB {
	t.Helper()
	driver, dsn := "sqlite", "file:"+cfg.DataDir+"/hookgate.db?_pragma=busy_timeout(10000)"
	if cfg.DatabaseURL != "" {
		driver, dsn = "pgx", cfg.DatabaseURL
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// q rebinds '?' placeholders for PostgreSQL.
func q(engine, query string) string {
	if engine != sqlstore.EnginePostgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// On SQLite the writer never checkpoints; the checkpointer copies the WAL
// into the database file while the store runs, so the file grows with
// the data and the WAL does not.
func TestSQLiteCheckpointsInTheBackground(t *testing.T) {
	t.Parallel()
	cfg := sqltest.Config(t, sqlstore.EngineSQLite)
	s := sqltest.OpenConfig(t, cfg)
	path := filepath.Join(cfg.DataDir, "hookgate.db")
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	p := newProject(t, s, "wal")
	newWebhook(t, s, p.ID)
	data := json.RawMessage(`"` + strings.Repeat("x", 2000) + `"`)
	for range 20 {
		in := make([]hookgate.EventInput, 50)
		for i := range in {
			in[i] = hookgate.EventInput{Type: "a", Data: data}
		}
		if _, err := s.CreateEvents(context.Background(), p.ID, in); err != nil {
			t.Fatal(err)
		}
	}
	testwait.For(t, fmt.Sprintf("the database file to grow by 1 MiB from %d bytes: a checkpoint", before.Size()), func() bool {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return st.Size() > before.Size()+1<<20
	})
}
