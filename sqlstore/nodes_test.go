package sqlstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/sqlstore"
)

// A node name is one live process's: a second process is refused it while
// the holder beats, takes it (and gives back the rows leased under it) once
// the holder's heartbeat is stale, and the holder displaced meanwhile can
// neither beat under the name nor, leaving, give back the new holder's
// rows.
func TestNodeNameIsOneLiveProcesss(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "names")
		newWebhook(t, s, p.ID)
		if _, err := s.CreateEvents(ctx, p.ID, []hookgate.EventInput{{Type: "a", Data: json.RawMessage(`1`)}, {Type: "b", Data: json.RawMessage(`2`)}}); err != nil {
			t.Fatal(err)
		}
		const timeout = 15 * time.Second
		now := time.Now().Add(time.Second)
		if held, n, err := s.ClaimNodeName(ctx, "n1", "first", now, now.Add(-timeout)); err != nil || !held.IsZero() || n != 0 {
			t.Fatalf("claim a free name = %v, %d, %v", held, n, err)
		}
		if err := s.Heartbeat(ctx, "n1", "first", now); err != nil {
			t.Fatal(err)
		}
		if rows, _, err := s.ClaimDue(ctx, "n1", now, 1, time.Hour); err != nil || len(rows) != 1 {
			t.Fatalf("claim = %d, %v", len(rows), err)
		}

		t.Run("ErrHeldByALiveProcess", func(t *testing.T) {
			at := now.Add(time.Second)
			held, n, err := s.ClaimNodeName(ctx, "n1", "second", at, at.Add(-timeout))
			if err != nil || !held.Equal(now.Truncate(time.Microsecond)) || n != 0 {
				t.Fatalf("claim a held name = %v, %d, %v; want the holder's heartbeat %v", held, n, err, now)
			}
			if err := s.Heartbeat(ctx, "n1", "second", at); !errors.Is(err, hookgate.ErrNodeNameTaken) {
				t.Fatalf("heartbeat of another incarnation = %v, want ErrNodeNameTaken", err)
			}
		})

		// The holder goes silent; another process takes the name, and the
		// row leased under it is due again.
		later := now.Add(timeout + time.Second)
		if held, n, err := s.ClaimNodeName(ctx, "n1", "second", later, later.Add(-timeout)); err != nil || !held.IsZero() || n != 1 {
			t.Fatalf("claim a stale name = %v, %d, %v; want it, and its 1 row given back", held, n, err)
		}
		// A node taking silent nodes over at this moment leaves the new
		// holder alone.
		if nodes, n, err := s.TakeOver(ctx, "other", later.Add(-timeout)); err != nil || nodes != 0 || n != 0 {
			t.Fatalf("take over = %d nodes, %d rows, %v; want none", nodes, n, err)
		}
		rows, _, err := s.ClaimDue(ctx, "n1", later, 10, time.Hour)
		if err != nil || len(rows) != 2 {
			t.Fatalf("claim by the new holder = %d, %v; want both rows", len(rows), err)
		}

		t.Run("ErrDisplacedHolderBeats", func(t *testing.T) {
			if err := s.Heartbeat(ctx, "n1", "first", later); !errors.Is(err, hookgate.ErrNodeNameTaken) {
				t.Fatalf("heartbeat of the displaced process = %v, want ErrNodeNameTaken", err)
			}
			if n, err := s.Leave(ctx, "n1", "first"); err != nil || n != 0 {
				t.Fatalf("the displaced process leaves = %d, %v; want nothing given back", n, err)
			}
			if err := s.Heartbeat(ctx, "n1", "second", later); err != nil {
				t.Fatalf("the holder's heartbeat after the displaced one left: %v", err)
			}
		})

		t.Run("OKLeave", func(t *testing.T) {
			if n, err := s.Leave(ctx, "n1", "second"); err != nil || n != 2 {
				t.Fatalf("leave = %d, %v; want the 2 rows", n, err)
			}
			at := later.Add(time.Second)
			if held, _, err := s.ClaimNodeName(ctx, "n1", "third", at, at.Add(-timeout)); err != nil || !held.IsZero() {
				t.Fatalf("claim a name left = %v, %v", held, err)
			}
		})
	})
}
