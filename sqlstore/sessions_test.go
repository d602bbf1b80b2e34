package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/sqlstore"
)

// A session is found until it expires; sign-out deletes it, and the hourly
// purge deletes expired ones.
func TestSessions(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		now := time.Now()
		live := &hookgate.Session{Hash: "h-live", KeyID: "key_1", CSRF: "c1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		old := &hookgate.Session{Hash: "h-old", AdminKey: "a1", CSRF: "c2", CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour)}
		for _, se := range []*hookgate.Session{live, old} {
			if err := s.CreateSession(ctx, se); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.FindSession(ctx, "h-live", now)
		if err != nil || got.KeyID != "key_1" || got.CSRF != "c1" || !got.ExpiresAt.Equal(live.ExpiresAt.Truncate(time.Microsecond)) {
			t.Fatalf("FindSession = %+v, %v", got, err)
		}
		if _, err := s.FindSession(ctx, "h-old", now); hookgate.ErrorCode(err) != hookgate.ENotFound {
			t.Fatalf("an expired session: %v", err)
		}
		if _, err := s.FindSession(ctx, "h-live", now.Add(2*time.Hour)); hookgate.ErrorCode(err) != hookgate.ENotFound {
			t.Fatalf("a session after its expiry: %v", err)
		}
		if n, err := s.Purge(ctx, now.Add(-30*24*time.Hour), now); err != nil || n != 1 {
			t.Fatalf("Purge = %d, %v; want the expired session", n, err)
		}
		if err := s.DeleteSession(ctx, "h-live", now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.FindSession(ctx, "h-live", now); hookgate.ErrorCode(err) != hookgate.ENotFound {
			t.Fatalf("after sign-out: %v", err)
		}
	})
}
