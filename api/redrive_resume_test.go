package api_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/api"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/sqlstore"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// watchedStore is a real store that counts RunRedrives' looks for expired
// redrives (once answered), the take-overs that succeeded and the steps
// begun; beforeStep, when set, is called with the step's number (1 for the
// first) before each step.
type watchedStore struct {
	*sqlstore.Store
	looks, takes, steps atomic.Int64
	beforeStep          func(n int64)
}

func (w *watchedStore) StepRedrive(ctx context.Context, projectID, id string, now, leaseUntil time.Time) (bool, error) {
	n := w.steps.Add(1)
	if w.beforeStep != nil {
		w.beforeStep(n)
	}
	return w.Store.StepRedrive(ctx, projectID, id, now, leaseUntil)
}

func (w *watchedStore) ExpiredRedrives(ctx context.Context, now time.Time, limit int) ([]*hookgate.Redrive, error) {
	defer w.looks.Add(1)
	return w.Store.ExpiredRedrives(ctx, now, limit)
}

func (w *watchedStore) TakeOverRedrive(ctx context.Context, projectID, id string, now, leaseUntil time.Time) (bool, error) {
	took, err := w.Store.TakeOverRedrive(ctx, projectID, id, now, leaseUntil)
	if took {
		w.takes.Add(1)
	}
	return took, err
}

// startRedriveNode starts an API server on st that looks for expired
// redrives every 10 ms (RunRedrives), reading the time from now. It serves
// no HTTP: nobody reads the redrives. cancel ends RunRedrives' context, as
// serve's drain does, and done is closed once RunRedrives returned; the
// node is stopped when t ends too.
func startRedriveNode(t *testing.T, st *watchedStore, now func() time.Time) (cancel func(), done <-chan struct{}) {
	t.Helper()
	cfg := apiConfig(t, st.Store)
	cfg.Store, cfg.Now, cfg.RedrivePoll = st, now, 10*time.Millisecond
	srv := api.New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { srv.RunRedrives(ctx); close(ran) }()
	t.Cleanup(func() { cancel(); <-ran })
	return cancel, ran
}

// abandonedRedrive makes a project with a webhook and n failed event
// deliveries, and a redrive of them that a node accepted at now and died
// before its first batch: running, leased until now+RedriveLease, never
// stepped.
func abandonedRedrive(t *testing.T, st *sqlstore.Store, slug string, n int, now time.Time) *hookgate.Redrive {
	t.Helper()
	ctx := context.Background()
	p := &hookgate.Project{ID: hookgate.NewID(hookgate.PrefixProject, now), Slug: slug, Name: slug, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateProject(ctx, p); err != nil {
		t.Fatal(err)
	}
	w := &hookgate.Webhook{ID: hookgate.NewID(hookgate.PrefixWebhook, now), ProjectID: p.ID, URL: "http://127.0.0.1:9/h",
		Secret: hookgate.NewSecret(), CreatedAt: now, UpdatedAt: now}
	w.ApplyDefaults()
	if err := st.CreateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	in := make([]hookgate.EventInput, n)
	for i := range in {
		in[i] = hookgate.EventInput{Type: "order.created", Data: json.RawMessage(`1`)}
	}
	if _, err := st.CreateEvents(ctx, p.ID, in); err != nil {
		t.Fatal(err)
	}
	claimed := time.Now()
	ds, lease, err := st.ClaimDue(ctx, "dead-node", claimed, 2*n, time.Minute)
	if err != nil || len(ds) != n {
		t.Fatalf("claimed %d (%v), want %d", len(ds), err, n)
	}
	outs := make([]hookgate.AttemptOutcome, len(ds))
	for i, d := range ds {
		outs[i] = hookgate.AttemptOutcome{Attempt: hookgate.Attempt{DeliveryID: d.ID}, ProjectID: p.ID, LeaseUntil: lease, Status: hookgate.DeliveryFailed}
	}
	if err := st.RecordAttempts(ctx, claimed, outs); err != nil {
		t.Fatal(err)
	}
	r := &hookgate.Redrive{ID: hookgate.NewID(hookgate.PrefixRedrive, now), ProjectID: p.ID, State: hookgate.RedriveRunning,
		Selection: hookgate.RedriveSelection{Status: hookgate.DeliveryFailed}, StartedAt: now}
	if _, created, err := st.CreateRedrive(ctx, r, now.Add(hookgate.RedriveLease)); err != nil || !created {
		t.Fatalf("CreateRedrive = %v, %v", created, err)
	}
	return r
}

// waitFinished waits, reading the store (a read through the API would
// take the redrive over itself), until the redrive is no longer running,
// and checks it finished with n matched and requeued.
func waitFinished(t *testing.T, st *sqlstore.Store, r *hookgate.Redrive, n int64) {
	t.Helper()
	var got *hookgate.Redrive
	testwait.For(t, "the abandoned redrive to end", func() bool {
		var err error
		got, err = st.FindRedrive(context.Background(), r.ProjectID, r.ID)
		return err == nil && got.State != hookgate.RedriveRunning
	})
	if got.State != hookgate.RedriveFinished || got.Matched != n || got.Requeued != n || got.FinishedAt.IsZero() {
		t.Fatalf("redrive %+v; want finished with %d matched and requeued", got, n)
	}
}

// A redrive whose node died and that nobody reads is resumed by a node
// started afterwards, once its lease expired, and finished with the right
// counts: before, it stayed running until someone read it.
func TestAbandonedRedriveIsFinishedWithoutARead(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		st := &watchedStore{Store: sqltest.Open(t, engine)}
		clk := &stillClock{now: time.Now().UTC().Truncate(time.Microsecond)}
		const n = 2*hookgate.RedriveBatch + 7
		r := abandonedRedrive(t, st.Store, "gone", n, clk.Now())

		startRedriveNode(t, st, clk.Now)
		// Looks made since the redrive exists leave it alone while its
		// lease holds.
		testwait.For(t, "two looks for expired redrives", func() bool { return st.looks.Load() >= 2 })
		if got, err := st.FindRedrive(context.Background(), r.ProjectID, r.ID); err != nil || got.State != hookgate.RedriveRunning ||
			got.Matched != 0 || st.takes.Load() != 0 {
			t.Fatalf("a redrive within its lease was taken over: %+v, %v, %d take-overs", got, err, st.takes.Load())
		}

		clk.Advance(hookgate.RedriveLease + time.Second)
		waitFinished(t, st.Store, r, n)
		if took := st.takes.Load(); took != 1 {
			t.Fatalf("%d take-overs, want 1", took)
		}
		due, _, _, err := st.QueueStats(context.Background(), clk.Now().Add(time.Minute))
		if err != nil || due != n {
			t.Fatalf("%d deliveries due after the redrive (%v), want %d", due, err, n)
		}
	})
}

// Two nodes on one PostgreSQL database, started together after their
// redrives' nodes died, resume each abandoned redrive once (one take-over
// each) and finish it with each delivery counted and requeued once.
func TestTwoNodesResumeAnAbandonedRedriveOnce(t *testing.T) {
	t.Parallel()
	if len(sqltest.Engines(t)) < 2 {
		t.Skip("PostgreSQL only: SQLite has no other nodes")
	}
	cfg := sqltest.Config(t, sqlstore.EnginePostgres)
	a := &watchedStore{Store: sqltest.OpenConfig(t, cfg)}
	b := &watchedStore{Store: sqltest.OpenConfig(t, cfg)}
	// Accepted a minute ago by a node that died: their leases expired.
	accepted := time.Now().UTC().Add(-time.Minute)
	const n = 3*hookgate.RedriveBatch + 7
	var rs []*hookgate.Redrive
	for _, slug := range []string{"r1", "r2", "r3"} {
		rs = append(rs, abandonedRedrive(t, a.Store, slug, n, accepted))
	}

	startRedriveNode(t, a, time.Now)
	startRedriveNode(t, b, time.Now)
	for _, r := range rs {
		waitFinished(t, a.Store, r, n)
	}
	if took := a.takes.Load() + b.takes.Load(); took != int64(len(rs)) {
		t.Fatalf("%d take-overs (%d on a, %d on b), want %d: one per redrive", took, a.takes.Load(), b.takes.Load(), len(rs))
	}
	due, _, _, err := b.QueueStats(context.Background(), time.Now().Add(time.Minute))
	if err != nil || due != int64(len(rs))*n {
		t.Fatalf("%d deliveries due after the redrives (%v), want %d", due, err, int64(len(rs))*n)
	}
}

// A node that stops (RunRedrives ends, as serve's drain ends it) lets the
// batch in progress commit, takes no step after it, and leaves the redrive
// running; the next node resumes it once its lease expired, from the last
// batch, and it finishes with each delivery counted once.
func TestStoppingNodeLeavesItsRedriveToTheNext(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		st := &watchedStore{Store: sqltest.Open(t, engine)}
		clk := &stillClock{now: time.Now().UTC().Truncate(time.Microsecond)}
		const n = 4*hookgate.RedriveBatch + 7
		r := abandonedRedrive(t, st.Store, "stop", n, clk.Now().Add(-time.Minute))

		second := make(chan struct{})
		release := make(chan struct{})
		st.beforeStep = func(step int64) {
			if step == 2 {
				close(second)
				<-release
			}
		}
		cancel, stopped := startRedriveNode(t, st, clk.Now)
		testwait.Recv(t, "the second step to begin", (<-chan struct{})(second))
		cancel()
		select {
		case <-stopped:
			t.Fatal("RunRedrives returned before the step in progress ended")
		default:
		}
		close(release)
		testwait.Recv(t, "RunRedrives to return", stopped)
		got, err := st.FindRedrive(context.Background(), r.ProjectID, r.ID)
		if err != nil || got.State != hookgate.RedriveRunning || got.Matched != 2*hookgate.RedriveBatch || st.steps.Load() != 2 {
			t.Fatalf("after the stop: %+v (%v), %d steps; want running with 2 batches walked in 2 steps", got, err, st.steps.Load())
		}

		next := &watchedStore{Store: st.Store}
		clk.Advance(hookgate.RedriveLease + time.Second)
		startRedriveNode(t, next, clk.Now)
		waitFinished(t, st.Store, r, n)
		if next.takes.Load() != 1 {
			t.Fatalf("the next node took the redrive over %d times, want 1", next.takes.Load())
		}
	})
}
