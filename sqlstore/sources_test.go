package sqlstore_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

func newSource(t *testing.T, s hookgate.Store, projectID, name string) *hookgate.Source {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	src := &hookgate.Source{ID: hookgate.NewID(hookgate.PrefixSource, now), ProjectID: projectID, Name: name, Kind: "redis-stream",
		Config: hookgate.DestinationConfig{URL: "redis://127.0.0.1:6379/0",
			Fields: map[string]json.RawMessage{"stream": json.RawMessage(`"orders"`)},
			Auth:   hookgate.DestinationAuth{Username: "hookgate", Password: "source-pass-123"}},
		EventType: hookgate.SourceEventType{Pointer: "/type", Default: "order.created"},
		Status:    hookgate.SourceActive, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateSource(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	return src
}

// Issue 28: a source is stored with its configuration sealed, read back
// whole, listed in pages, changed, deleted, and deleted with its project.
func TestSourcesStored(t *testing.T) {
	sqltest.EachEngine(t, func(t *testing.T, engine string) {
		cfg := sqltest.Config(t, engine)
		s := sqltest.OpenConfig(t, cfg)
		ctx := context.Background()
		p := newProject(t, s, "sources")
		src := newSource(t, s, p.ID, "orders")

		got, err := s.FindSource(ctx, p.ID, src.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State.Lag != -1 || got.LeaseNode != "" || !got.LeaseUntil.IsZero() {
			t.Fatalf("a new source's state and lease: %+v", got)
		}
		got.State = src.State
		got.State.Lag = 0
		if !reflect.DeepEqual(got, src) {
			t.Fatalf("FindSource:\n got %+v\nwant %+v", got, src)
		}
		other := newProject(t, s, "others")
		if _, err := s.FindSource(ctx, other.ID, src.ID); hookgate.ErrorCode(err) != hookgate.ENotFound {
			t.Fatalf("another project's source: %v", err)
		}

		db := rawDB(t, s, cfg)
		var raw string
		if err := db.QueryRow(q(engine, `SELECT config FROM sources WHERE id = ?`), src.ID).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(raw, "v2:"+s.KeyID()+":") || strings.Contains(raw, "source-pass-123") || strings.Contains(raw, "orders") {
			t.Fatalf("stored config %q", raw)
		}
		// Copied into another source's row, the sealed configuration opens no more.
		copyOf := newSource(t, s, p.ID, "copy")
		if _, err := db.Exec(q(engine, `UPDATE sources SET config = ? WHERE id = ?`), raw, copyOf.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.FindSource(ctx, p.ID, copyOf.ID); err == nil {
			t.Fatal("a configuration sealed in one row opened in another")
		}
		if err := s.DeleteSource(ctx, p.ID, copyOf.ID); err != nil {
			t.Fatal(err)
		}

		// Key rotation reseals it.
		newCfg := cfg
		newCfg.Box = sqltest.Box(t)
		s2 := sqltest.OpenConfig(t, newCfg)
		if n, err := s2.Reseal(ctx, cfg.Box); err != nil || n != 1 {
			t.Fatalf("resealed %d, %v", n, err)
		}
		if got, err := s2.FindSource(ctx, p.ID, src.ID); err != nil || !reflect.DeepEqual(got.Config, src.Config) {
			t.Fatalf("after rotation: %+v, %v", got, err)
		}

		second := newSource(t, s2, p.ID, "second")
		list, next, err := s2.ListSources(ctx, p.ID, hookgate.Page{Limit: 1})
		if err != nil || len(list) != 1 || list[0].ID != second.ID || next == "" {
			t.Fatalf("first page: %v %q %v", list, next, err)
		}
		list, next, err = s2.ListSources(ctx, p.ID, hookgate.Page{Limit: 1, Cursor: next})
		if err != nil || len(list) != 1 || list[0].ID != src.ID || next != "" {
			t.Fatalf("second page: %v %q %v", list, next, err)
		}

		src.Name, src.Status, src.EventType = "renamed", hookgate.SourceDeactivated, hookgate.SourceEventType{Header: "type"}
		src.Config.Auth.Password = "changed-pass"
		src.UpdatedAt = src.UpdatedAt.Add(time.Second)
		if err := s2.UpdateSource(ctx, src); err != nil {
			t.Fatal(err)
		}
		got, err = s2.FindSource(ctx, p.ID, src.ID)
		if err != nil || got.Name != "renamed" || got.Status != hookgate.SourceDeactivated || got.EventType != src.EventType ||
			got.Config.Auth.Password != "changed-pass" || !got.UpdatedAt.Equal(src.UpdatedAt) {
			t.Fatalf("after UpdateSource: %+v, %v", got, err)
		}
		if err := s2.DeleteSource(ctx, p.ID, src.ID); err != nil {
			t.Fatal(err)
		}
		if err := s2.DeleteSource(ctx, p.ID, src.ID); hookgate.ErrorCode(err) != hookgate.ENotFound {
			t.Fatalf("deleting it again: %v", err)
		}
		if err := s2.DeleteProject(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s2.FindSource(ctx, p.ID, second.ID); hookgate.ErrorCode(err) != hookgate.ENotFound {
			t.Fatalf("a deleted project's source: %v", err)
		}
	})
}

// Issue 28: the leases of sources. A node claims the active sources no
// other node holds and renews its own; another node gets none until the
// lease expires or is released; the state saves only under the lease.
func TestSourceLeases(t *testing.T) {
	sqltest.EachEngine(t, func(t *testing.T, engine string) {
		cfg := sqltest.Config(t, engine)
		s := sqltest.OpenConfig(t, cfg)
		ctx := context.Background()
		p := newProject(t, s, "leases")
		a := newSource(t, s, p.ID, "a")
		paused := newSource(t, s, p.ID, "paused")
		paused.Status = hookgate.SourceDeactivated
		if err := s.UpdateSource(ctx, paused); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		ids := func(list []*hookgate.Source) []string {
			var out []string
			for _, src := range list {
				out = append(out, src.ID)
			}
			return out
		}
		got, err := s.ClaimSources(ctx, "node-1", now, now.Add(30*time.Second))
		if err != nil || !reflect.DeepEqual(ids(got), []string{a.ID}) || got[0].LeaseNode != "node-1" {
			t.Fatalf("node-1 claims: %v, %v", ids(got), err)
		}
		if got, err := s.ClaimSources(ctx, "node-2", now.Add(time.Second), now.Add(31*time.Second)); err != nil || len(got) != 0 {
			t.Fatalf("node-2 claims a held source: %v, %v", ids(got), err)
		}
		if got, err := s.ClaimSources(ctx, "node-1", now.Add(10*time.Second), now.Add(40*time.Second)); err != nil || len(got) != 1 {
			t.Fatalf("node-1 renews: %v, %v", ids(got), err)
		}
		st := hookgate.SourceState{Node: "node-1", Connected: true, Lag: 3, Received: 5, Accepted: 4, Rejected: 1,
			LastError: "entry 1-0: not JSON", LastErrorAt: now.Truncate(time.Second), UpdatedAt: now.Truncate(time.Second)}
		if ok, err := s.SaveSourceState(ctx, p.ID, a.ID, "node-2", st); err != nil || ok {
			t.Fatalf("node-2 saved a state it does not hold: %v, %v", ok, err)
		}
		if ok, err := s.SaveSourceState(ctx, p.ID, a.ID, "node-1", st); err != nil || !ok {
			t.Fatalf("node-1 saves its state: %v, %v", ok, err)
		}
		if got, err := s.FindSource(ctx, p.ID, a.ID); err != nil || !reflect.DeepEqual(got.State, st) {
			t.Fatalf("state read back: %+v, %v", got.State, err)
		}
		// Expired: node-2 takes it.
		if got, err := s.ClaimSources(ctx, "node-2", now.Add(41*time.Second), now.Add(71*time.Second)); err != nil || len(got) != 1 || got[0].LeaseNode != "node-2" {
			t.Fatalf("node-2 takes an expired lease: %v, %v", ids(got), err)
		}
		if got, err := s.ClaimSources(ctx, "node-1", now.Add(42*time.Second), now.Add(72*time.Second)); err != nil || len(got) != 0 {
			t.Fatalf("node-1 claims what node-2 holds: %v, %v", ids(got), err)
		}
		// Released: node-1 takes it at once.
		if err := s.ReleaseSources(ctx, "node-2"); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ClaimSources(ctx, "node-1", now.Add(43*time.Second), now.Add(73*time.Second)); err != nil || len(got) != 1 {
			t.Fatalf("node-1 after node-2's release: %v, %v", ids(got), err)
		}
		if err := s.ReleaseSources(ctx, "node-1", a.ID); err != nil {
			t.Fatal(err)
		}
		if got, err := s.FindSource(ctx, p.ID, a.ID); err != nil || got.LeaseNode != "" || !got.LeaseUntil.IsZero() {
			t.Fatalf("released by ID: %+v, %v", got, err)
		}
		// Every node's, at the start of a node alone on its store.
		if got, err := s.ClaimSources(ctx, "dead", now, now.Add(time.Hour)); err != nil || len(got) != 1 {
			t.Fatalf("a claim for an hour: %v, %v", ids(got), err)
		}
		if err := s.ReleaseSources(ctx, ""); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ClaimSources(ctx, "node-3", now.Add(time.Second), now.Add(time.Minute)); err != nil || len(got) != 1 {
			t.Fatalf("after every lease was released: %v, %v", ids(got), err)
		}
	})
}

// On PostgreSQL, nodes claiming at once on their own connections never
// both hold a source.
func TestSourceClaimsRace(t *testing.T) {
	t.Parallel()
	if !slicesContains(sqltest.Engines(t), "postgres") {
		t.Skip("PostgreSQL only: SQLite has one writer")
	}
	cfg := sqltest.Config(t, "postgres")
	s := sqltest.OpenConfig(t, cfg)
	ctx := context.Background()
	p := newProject(t, s, "race")
	for i := range 20 {
		newSource(t, s, p.ID, "s"+string(rune('a'+i)))
	}
	nodes := []hookgate.Store{s, sqltest.OpenConfig(t, cfg), sqltest.OpenConfig(t, cfg)}
	now := time.Now().UTC()
	held := make(chan []*hookgate.Source, len(nodes))
	errs := make(chan error, len(nodes))
	for i, n := range nodes {
		go func() {
			got, err := n.ClaimSources(ctx, "node-"+string(rune('0'+i)), now, now.Add(time.Minute))
			held <- got
			errs <- err
		}()
	}
	seen := map[string]string{}
	for range nodes {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		for _, src := range <-held {
			if n, dup := seen[src.ID]; dup {
				t.Fatalf("%s held by %s and %s", src.ID, n, src.LeaseNode)
			}
			seen[src.ID] = src.LeaseNode
		}
	}
	if len(seen) != 20 {
		t.Fatalf("%d of 20 sources claimed", len(seen))
	}
}

func slicesContains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
