package sqlstore_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/sqlstore"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// Issue 21, item 9: the database records its encryption key's fingerprint
// at the first start; a store with another key is refused, and on a
// database from before the record, a key is recorded only when it opens
// the secrets already stored. A rotation checks the keys it is given and
// records the new one.
func TestEncryptionKeyFingerprint(t *testing.T) {
	sqltest.EachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		cfg := sqltest.Config(t, engine)
		a := sqltest.OpenConfig(t, cfg)
		otherCfg := cfg
		otherCfg.Box = sqltest.Box(t)
		b := sqltest.OpenConfig(t, otherCfg)
		db := rawDB(t, a, cfg)

		mismatch := func(s *sqlstore.Store, recorded string) {
			t.Helper()
			var ek *sqlstore.EncryptionKeyError
			err := s.CheckEncryptionKey(ctx, "node-b")
			if !errors.As(err, &ek) || ek.Fingerprint != s.KeyFingerprint() || ek.Recorded != recorded {
				t.Fatalf("CheckEncryptionKey = %v, want the key's fingerprint against %q", err, recorded)
			}
		}
		// A new database records the first key it is started with.
		if err := a.CheckEncryptionKey(ctx, "node-a"); err != nil {
			t.Fatal(err)
		}
		if err := a.CheckEncryptionKey(ctx, "node-a"); err != nil {
			t.Fatalf("the recorded key again: %v", err)
		}
		mismatch(b, a.KeyFingerprint())
		var stored string
		if err := db.QueryRow(`SELECT fingerprint FROM key_fingerprints WHERE name = 'encryption'`).Scan(&stored); err != nil || stored != a.KeyFingerprint() {
			t.Fatalf("recorded %q (%v), want %q", stored, err, a.KeyFingerprint())
		}
		if a.KeyFingerprint() == b.KeyFingerprint() || strings.Contains(stored, a.KeyID()) {
			t.Fatalf("fingerprints %s and %s (key id %s)", a.KeyFingerprint(), b.KeyFingerprint(), a.KeyID())
		}

		// A database from before the record: secrets sealed, nothing
		// recorded. A key that does not open them is not recorded.
		p := newProject(t, a, "fp")
		newWebhook(t, a, p.ID)
		if _, err := db.Exec(`DELETE FROM key_fingerprints`); err != nil {
			t.Fatal(err)
		}
		var ek *sqlstore.EncryptionKeyError
		if err := b.CheckEncryptionKey(ctx, "node-b"); !errors.As(err, &ek) || ek.Recorded != "" || !strings.HasPrefix(ek.Value, "webhooks.url/") {
			t.Fatalf("an upgrade with a key that opens nothing: %v", err)
		}
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM key_fingerprints`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d records (%v) after a refused key", n, err)
		}
		// A database from before URLs were sealed holds them in plain
		// text: they prove nothing about the key and are passed over.
		if _, err := db.Exec(`UPDATE webhooks SET url = 'https://a.example.invalid/plain'`); err != nil {
			t.Fatal(err)
		}
		if err := b.CheckEncryptionKey(ctx, "node-b"); !errors.As(err, &ek) || !strings.HasPrefix(ek.Value, "webhooks.secret/") {
			t.Fatalf("an upgrade with plain URLs and a key that opens nothing: %v", err)
		}
		if err := a.CheckEncryptionKey(ctx, "node-a"); err != nil {
			t.Fatalf("an upgrade with the key that opens the secrets: %v", err)
		}
		mismatch(b, a.KeyFingerprint())

		// Rotation to b's key: refused without the old key, or with a
		// wrong one; with a's key as the old one, b's is recorded.
		third := sqltest.Box(t)
		if err := b.CheckRotation(ctx, nil); !errors.As(err, &ek) || ek.Recorded != a.KeyFingerprint() {
			t.Fatalf("a rotation without the old key: %v", err)
		}
		if err := b.CheckRotation(ctx, third); !errors.As(err, &ek) || ek.Old != third.Fingerprint() {
			t.Fatalf("a rotation with a wrong old key: %v", err)
		}
		if err := b.CheckRotation(ctx, cfg.Box); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Reseal(ctx, cfg.Box); err != nil {
			t.Fatal(err)
		}
		if err := b.RecordEncryptionKey(ctx, "rotate-key"); err != nil {
			t.Fatal(err)
		}
		if err := b.CheckEncryptionKey(ctx, "node-b"); err != nil {
			t.Fatalf("the new key after the rotation: %v", err)
		}
		mismatch(a, b.KeyFingerprint())
		// Run again, the rotation is a no-op that still passes.
		if err := b.CheckRotation(ctx, cfg.Box); err != nil {
			t.Fatalf("a rotation run again: %v", err)
		}
	})
}

// Issue 21, item 9: a node whose admin key differs from the recorded one is
// refused while another live node runs; with no other node alive (or on
// the embedded store, where a node is alone), its key replaces the record.
// The record is a digest keyed by the encryption key, not the admin key.
func TestAdminKeyRecordedAndReplacedWhenAlone(t *testing.T) {
	sqltest.EachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		cfg := sqltest.Config(t, engine)
		s := sqltest.OpenConfig(t, cfg)
		db := rawDB(t, s, cfg)
		const keyA, keyB = "admin-key-a-0123456789abcdef012345", "admin-key-b-0123456789abcdef012345"
		now := time.Now()
		live := now.Add(-15 * time.Second)
		if replaced, err := s.CheckAdminKey(ctx, "node-1", keyA, now, live, false); err != nil || replaced {
			t.Fatalf("first record: %v, %v", replaced, err)
		}
		var digest string
		if err := db.QueryRow(`SELECT fingerprint FROM key_fingerprints WHERE name = 'admin'`).Scan(&digest); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(digest, keyA) || len(digest) != 32 {
			t.Fatalf("admin record %q", digest)
		}
		// The same key joins; another is refused while node-1 and
		// node-2 beat.
		if replaced, err := s.CheckAdminKey(ctx, "node-2", keyA, now, live, false); err != nil || replaced {
			t.Fatalf("the same key: %v, %v", replaced, err)
		}
		var ak *sqlstore.AdminKeyError
		if _, err := s.CheckAdminKey(ctx, "node-3", keyB, now, live, false); !errors.As(err, &ak) || !slices.Equal(ak.Live, []string{"node-1", "node-2"}) {
			t.Fatalf("another key beside live nodes: %v", err)
		}
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM nodes WHERE id = 'node-3'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("the refused node was registered (%d, %v)", n, err)
		}
		// Alone (the embedded store's lock), the new key replaces the
		// record at once.
		if replaced, err := s.CheckAdminKey(ctx, "node-3", keyB, now, live, true); err != nil || !replaced {
			t.Fatalf("alone: %v, %v", replaced, err)
		}
		// Once the others' heartbeats are older than the node timeout,
		// another key replaces the record.
		later := now.Add(time.Minute)
		if _, err := s.CheckAdminKey(ctx, "node-4", keyA, later, now.Add(-time.Second), false); !errors.As(err, &ak) {
			t.Fatalf("node-3 is alive: %v", err)
		}
		if replaced, err := s.CheckAdminKey(ctx, "node-4", keyA, later, later.Add(-15*time.Second), false); err != nil || !replaced {
			t.Fatalf("no other node alive: %v, %v", replaced, err)
		}
		// A rotation of the encryption key forgets the admin record, a
		// digest under the old key: the next node records its own.
		if err := s.CheckEncryptionKey(ctx, "node-4"); err != nil {
			t.Fatal(err)
		}
		rotated := cfg
		rotated.Box = sqltest.Box(t)
		r := sqltest.OpenConfig(t, rotated)
		if _, err := r.Reseal(ctx, cfg.Box); err != nil {
			t.Fatal(err)
		}
		if err := r.RecordEncryptionKey(ctx, "rotate-key"); err != nil {
			t.Fatal(err)
		}
		if replaced, err := r.CheckAdminKey(ctx, "node-5", keyB, later, later.Add(-15*time.Second), false); err != nil || replaced {
			t.Fatalf("after a rotation: %v, %v", replaced, err)
		}
	})
}

// Issue 21, item 9: nodes that start at once with different keys check one
// after the other: one key wins, the others are refused.
func TestKeyChecksOfNodesStartingAtOnce(t *testing.T) {
	sqltest.EachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		cfg := sqltest.Config(t, engine)
		nodes := make([]*sqlstore.Store, 4)
		for i := range nodes {
			c := cfg
			c.Box = sqltest.Box(t)
			nodes[i] = sqltest.OpenConfig(t, c)
		}
		run := func(check func(i int, s *sqlstore.Store) error) int {
			errs := make(chan error, len(nodes))
			for i, s := range nodes {
				go func() { errs <- check(i, s) }()
			}
			ok := 0
			for range nodes {
				if err := <-errs; err == nil {
					ok++
				} else if !errors.As(err, new(*sqlstore.EncryptionKeyError)) && !errors.As(err, new(*sqlstore.AdminKeyError)) {
					t.Fatal(err)
				}
			}
			return ok
		}
		if ok := run(func(i int, s *sqlstore.Store) error { return s.CheckEncryptionKey(ctx, "node") }); ok != 1 {
			t.Fatalf("%d encryption keys accepted at once, want 1", ok)
		}
		// The admin key, on one encryption key.
		for i := range nodes {
			nodes[i] = sqltest.OpenConfig(t, cfg)
		}
		now := time.Now()
		if ok := run(func(i int, s *sqlstore.Store) error {
			_, err := s.CheckAdminKey(ctx, "node-"+string(rune('a'+i)), "admin-key-"+string(rune('a'+i))+"-0123456789abcdef0123456789", now, now.Add(-15*time.Second), false)
			return err
		}); ok != 1 {
			t.Fatalf("%d admin keys accepted at once, want 1", ok)
		}
		// A minute later that node is silent: the record stands, and one
		// of the next nodes replaces it; the others see that one alive.
		later := now.Add(time.Minute)
		if ok := run(func(i int, s *sqlstore.Store) error {
			_, err := s.CheckAdminKey(ctx, "node-"+string(rune('e'+i)), "admin-key-"+string(rune('e'+i))+"-0123456789abcdef0123456789", later, later.Add(-15*time.Second), false)
			return err
		}); ok != 1 {
			t.Fatalf("%d admin keys replaced the record at once, want 1", ok)
		}
	})
}
