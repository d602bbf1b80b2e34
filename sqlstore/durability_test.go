package sqlstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/sqlstore"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// Issue 21, item 10: an event answered 202 must survive a power cut, so
// the embedded store syncs every commit (synchronous=FULL) unless told
// otherwise; NORMAL stays as an opt-in, and a bad setting is refused.
// PostgreSQL reports its server's synchronous_commit.
func TestCommitsSurvivePowerLossByDefault(t *testing.T) {
	sqltest.EachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		s := sqltest.Open(t, engine)
		got, err := s.Synchronous(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if engine == sqlstore.EnginePostgres {
			if got == "" {
				t.Fatal("PostgreSQL reported no synchronous_commit")
			}
			return
		}
		if got != "full" {
			t.Fatalf("SQLite synchronous = %q by default, want full", got)
		}
		cfg := sqltest.Config(t, engine)
		cfg.SQLiteSynchronous = sqlstore.SynchronousNormal
		if got, err := sqltest.OpenConfig(t, cfg).Synchronous(ctx); err != nil || got != "normal" {
			t.Fatalf("SQLite synchronous = %q (%v) when asked for normal", got, err)
		}
		cfg = sqltest.Config(t, engine)
		cfg.SQLiteSynchronous = "off"
		if s, err := sqlstore.Open(ctx, cfg); err == nil {
			s.Close()
			t.Fatal("synchronous=off was accepted")
		} else if !strings.Contains(err.Error(), `"full" or "normal"`) {
			t.Fatalf("error %q does not name the values taken", err)
		}
	})
}
