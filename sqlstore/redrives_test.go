package sqlstore_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/sqlstore"
)

// Issue 24, item 5: a redrive walks its deliveries in batches of
// hookgate.RedriveBatch, each counted once, to finished; a node takes a
// running redrive over only once its lease expired.
func TestRedriveWalksInBatchesAndIsTakenOverAfterItsLease(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		const n = 2*hookgate.RedriveBatch + 200
		p := failedDeliveries(t, s, n)
		now := time.Now()
		r := &hookgate.Redrive{ID: hookgate.NewID(hookgate.PrefixRedrive, now), ProjectID: p.ID, State: hookgate.RedriveRunning,
			Selection: hookgate.RedriveSelection{Status: hookgate.DeliveryFailed}, StartedAt: now}
		leaseUntil := now.Add(hookgate.RedriveLease)
		if _, created, err := s.CreateRedrive(ctx, r, leaseUntil); err != nil || !created {
			t.Fatalf("CreateRedrive = %v, %v", created, err)
		}
		if took, err := s.TakeOverRedrive(ctx, p.ID, r.ID, now, leaseUntil); err != nil || took {
			t.Fatalf("a redrive within its lease was taken over (%v, %v)", took, err)
		}
		for i, want := range []int64{hookgate.RedriveBatch, 2 * hookgate.RedriveBatch} {
			over, err := s.StepRedrive(ctx, p.ID, r.ID, now, leaseUntil)
			if err != nil || over {
				t.Fatalf("step %d = %v, %v; want more to do", i, over, err)
			}
			got, _ := s.FindRedrive(ctx, p.ID, r.ID)
			if got.Matched != want || got.Requeued != want || got.State != hookgate.RedriveRunning {
				t.Fatalf("after step %d: %+v, want %d matched and requeued", i, got, want)
			}
		}
		// Its node died: a read after the lease takes it over, once.
		later := leaseUntil.Add(time.Second)
		if took, err := s.TakeOverRedrive(ctx, p.ID, r.ID, later, later.Add(hookgate.RedriveLease)); err != nil || !took {
			t.Fatalf("an expired redrive was not taken over (%v, %v)", took, err)
		}
		if took, _ := s.TakeOverRedrive(ctx, p.ID, r.ID, later, later.Add(hookgate.RedriveLease)); took {
			t.Fatal("a redrive was taken over twice")
		}
		if over, err := s.StepRedrive(ctx, p.ID, r.ID, later, later.Add(hookgate.RedriveLease)); err != nil || !over {
			t.Fatalf("last step = %v, %v; want over", over, err)
		}
		got, _ := s.FindRedrive(ctx, p.ID, r.ID)
		if got.Matched != n || got.Requeued != n || got.State != hookgate.RedriveFinished || got.FinishedAt.IsZero() {
			t.Fatalf("finished redrive %+v, want %d matched and requeued", got, n)
		}
		if over, err := s.StepRedrive(ctx, p.ID, r.ID, later, later); err != nil || !over {
			t.Fatalf("a step of a finished redrive = %v, %v", over, err)
		}
		if again, _ := s.FindRedrive(ctx, p.ID, r.ID); again.Matched != n {
			t.Fatalf("a finished redrive counted again: %+v", again)
		}
	})
}

// failedDeliveries makes a project with a webhook and n failed deliveries.
func failedDeliveries(t *testing.T, s *sqlstore.Store, n int) *hookgate.Project {
	t.Helper()
	ctx := context.Background()
	p := newProject(t, s, "rd")
	newWebhook(t, s, p.ID)
	in := make([]hookgate.EventInput, n)
	for i := range in {
		in[i] = hookgate.EventInput{Type: "a", Data: json.RawMessage(`1`)}
	}
	if _, err := s.CreateEvents(ctx, p.ID, in); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ds, lease, err := s.ClaimDue(ctx, "n1", now, 2*n, time.Minute)
	if err != nil || len(ds) != n {
		t.Fatalf("claimed %d, %v; want %d", len(ds), err, n)
	}
	outs := make([]hookgate.AttemptOutcome, len(ds))
	for i, d := range ds {
		outs[i] = hookgate.AttemptOutcome{Attempt: hookgate.Attempt{DeliveryID: d.ID}, ProjectID: p.ID, LeaseUntil: lease, Status: hookgate.DeliveryFailed}
	}
	if err := s.RecordAttempts(ctx, now, outs); err != nil {
		t.Fatal(err)
	}
	return p
}

// Issue 24, item 5: two nodes stepping one redrive at once (one took it
// over while the other still ran) count and requeue each delivery once.
func TestRedriveSteppedByTwoNodesCountsEachDeliveryOnce(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		const n = 3*hookgate.RedriveBatch + 7
		p := failedDeliveries(t, s, n)
		now := time.Now()
		r := &hookgate.Redrive{ID: hookgate.NewID(hookgate.PrefixRedrive, now), ProjectID: p.ID, State: hookgate.RedriveRunning,
			Selection: hookgate.RedriveSelection{Status: hookgate.DeliveryFailed}, StartedAt: now}
		if _, _, err := s.CreateRedrive(ctx, r, now); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				for {
					over, err := s.StepRedrive(ctx, p.ID, r.ID, now, now.Add(hookgate.RedriveLease))
					if err != nil {
						t.Error(err)
						return
					}
					if over {
						got, err := s.FindRedrive(ctx, p.ID, r.ID)
						if err != nil || got.State == hookgate.RedriveFinished {
							return
						}
					}
				}
			})
		}
		wg.Wait()
		got, _ := s.FindRedrive(ctx, p.ID, r.ID)
		if got.Matched != n || got.Requeued != n || got.State != hookgate.RedriveFinished {
			t.Fatalf("redrive %+v, want %d matched and requeued once", got, n)
		}
	})
}

// ExpiredRedrives lists, oldest first and up to its limit, the running
// redrives whose lease expired: not those within their lease, nor those
// that ended, nor one a node just took over.
func TestExpiredRedrivesListsOnlyAbandonedOnes(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "ex")
		now := time.Now().UTC().Truncate(time.Microsecond)
		create := func(started time.Time, leaseUntil time.Time) *hookgate.Redrive {
			t.Helper()
			r := &hookgate.Redrive{ID: hookgate.NewID(hookgate.PrefixRedrive, started), ProjectID: p.ID, State: hookgate.RedriveRunning,
				Selection: hookgate.RedriveSelection{Status: hookgate.DeliveryFailed}, StartedAt: started}
			if _, created, err := s.CreateRedrive(ctx, r, leaseUntil); err != nil || !created {
				t.Fatalf("CreateRedrive = %v, %v", created, err)
			}
			return r
		}
		older := create(now.Add(-3*time.Minute), now.Add(-time.Second))
		old := create(now.Add(-2*time.Minute), now.Add(-time.Second))
		create(now.Add(-time.Minute), now.Add(time.Second)) // its node is alive
		ended := create(now.Add(-4*time.Minute), now.Add(-time.Second))
		if err := s.FailRedrive(ctx, p.ID, ended.ID, "stopped", now); err != nil {
			t.Fatal(err)
		}
		finished := create(now.Add(-5*time.Minute), now.Add(-time.Second))
		if over, err := s.StepRedrive(ctx, p.ID, finished.ID, now, now); err != nil || !over {
			t.Fatalf("a step over no delivery = %v, %v; want finished", over, err)
		}

		ids := func(limit int) []string {
			t.Helper()
			got, err := s.ExpiredRedrives(ctx, now, limit)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, r := range got {
				if r.State != hookgate.RedriveRunning || r.ProjectID != p.ID {
					t.Fatalf("listed %+v", r)
				}
				out = append(out, r.ID)
			}
			return out
		}
		if got := ids(10); len(got) != 2 || got[0] != older.ID || got[1] != old.ID {
			t.Fatalf("expired = %v, want [%s %s]", got, older.ID, old.ID)
		}
		if got := ids(1); len(got) != 1 || got[0] != older.ID {
			t.Fatalf("expired, limit 1 = %v, want [%s]", got, older.ID)
		}
		if took, err := s.TakeOverRedrive(ctx, p.ID, older.ID, now, now.Add(hookgate.RedriveLease)); err != nil || !took {
			t.Fatalf("TakeOverRedrive = %v, %v", took, err)
		}
		if got := ids(10); len(got) != 1 || got[0] != old.ID {
			t.Fatalf("expired after a take-over = %v, want [%s]", got, old.ID)
		}
	})
}
