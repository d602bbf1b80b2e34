package sqlstore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/sqlstore"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// historyFixture makes a project with one webhook and n events of type
// "a", claims their deliveries and records an outcome for each, in ID
// order: the status statuses[i%len(statuses)] (a pending one is due again
// in an hour). It returns the project, the webhook and the deliveries'
// IDs in order.
func historyFixture(t *testing.T, s *sqlstore.Store, n int, statuses ...string) (*hookgate.Project, *hookgate.Webhook, []string) {
	t.Helper()
	ctx := context.Background()
	p := newProject(t, s, "hist")
	w := newWebhook(t, s, p.ID, "a")
	in := make([]hookgate.EventInput, n)
	for i := range in {
		in[i] = hookgate.EventInput{Type: "a", Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))}
	}
	if _, err := s.CreateEvents(ctx, p.ID, in); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	got, lease, err := s.ClaimDue(ctx, "test-node", now, n, time.Minute)
	if err != nil || len(got) != n {
		t.Fatalf("claim = %d, %v; want %d", len(got), err, n)
	}
	slices.SortFunc(got, func(a, b *hookgate.Delivery) int { return strings.Compare(a.ID, b.ID) })
	var outs []hookgate.AttemptOutcome
	var ids []string
	for i, d := range got {
		st := statuses[i%len(statuses)]
		code := 200
		if st != hookgate.DeliverySucceeded {
			code = 500
		}
		a := hookgate.Attempt{ID: hookgate.NewID(hookgate.PrefixAttempt, now), DeliveryID: d.ID, Attempt: 1, StartedAt: now, StatusCode: code, DurationMs: 5}
		outs = append(outs, hookgate.AttemptOutcome{ProjectID: p.ID, WebhookID: d.WebhookID, LeaseUntil: lease, Status: st,
			NextAttemptAt: now.Add(time.Hour), Attempt: a})
		ids = append(ids, d.ID)
	}
	if err := s.RecordAttempts(ctx, now, outs); err != nil {
		t.Fatal(err)
	}
	return p, w, ids
}

// idTime is the millisecond an ID was made at (its first 10 digits). A
// test's clock for what moves by ID age starts from it, not from
// time.Now(): the process's IDs never go back, so once a test in it made
// an ID at a later time, every ID after it is at least that late.
func idTime(t *testing.T, id string) time.Time {
	t.Helper()
	const crockford = "0123456789abcdefghjkmnpqrstvwxyz"
	_, digits, _ := strings.Cut(id, "_")
	var ms int64
	for _, c := range digits[:10] {
		d := strings.IndexRune(crockford, c)
		if d < 0 {
			t.Fatalf("id %q is not Crockford base32", id)
		}
		ms = ms<<5 | int64(d)
	}
	return time.UnixMilli(ms)
}

// pages reads every page of a list, asking list for the page after each
// cursor in turn (the first with none).
func pages[T any](t *testing.T, list func(cursor string) ([]*T, string, error)) []T {
	t.Helper()
	var out []T
	cursor := ""
	for {
		page, next, err := list(cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range page {
			out = append(out, *v)
		}
		if next == "" {
			return out
		}
		cursor = next
	}
}

// listAll reads every page of f, pages of two.
func listAll(t *testing.T, s *sqlstore.Store, projectID string, f hookgate.DeliveryFilter) []hookgate.Delivery {
	t.Helper()
	return pages(t, func(cursor string) ([]*hookgate.Delivery, string, error) {
		f.Page = hookgate.Page{Limit: 2, Cursor: cursor}
		return s.ListDeliveries(context.Background(), projectID, f)
	})
}

// Issue 30, item 2: on PostgreSQL finished deliveries move into their
// partitioned history a day after their creation. Every read by ID or
// list answers the same before and after the move, and on both engines;
// a retry, a webhook's recovery and a redrive of a moved delivery queue it
// again as if it had not moved, and a recovery makes no second delivery
// where one moved.
func TestDeliveryHistoryKeepsReadsAndWrites(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		statuses := []string{hookgate.DeliverySucceeded, hookgate.DeliveryFailed, hookgate.DeliveryPending, hookgate.DeliveryFailed}
		p, w, ids := historyFixture(t, s, 12, statuses...)
		filters := []hookgate.DeliveryFilter{{}, {Status: hookgate.DeliveryFailed}, {Status: hookgate.DeliverySucceeded},
			{WebhookID: w.ID}, {EventType: "a"}, {Kind: hookgate.KindEvent}}
		before := make([][]hookgate.Delivery, len(filters))
		for i, f := range filters {
			before[i] = listAll(t, s, p.ID, f)
		}
		one := make(map[string]hookgate.Delivery)
		for _, id := range ids {
			d, err := s.FindDelivery(ctx, p.ID, id)
			if err != nil {
				t.Fatal(err)
			}
			one[id] = *d
		}
		// Two days on: everything finished is over a day old. (Nothing
		// is old enough for the retention.)
		later := idTime(t, ids[len(ids)-1]).Add(48 * time.Hour)
		keepAll := time.Now().Add(-time.Hour)
		if err := s.MaintainPartitions(ctx, later.Add(-48*time.Hour)); err != nil {
			t.Fatal(err)
		}
		moved := int64(0)
		if s.Engine() == sqlstore.EnginePostgres {
			moved = 9 // the finished ones
		}
		if n, err := s.Purge(ctx, keepAll, later); err != nil || n != moved {
			t.Fatalf("Purge = %d, %v; want %d moved", n, err, moved)
		}
		for i, f := range filters {
			if after := listAll(t, s, p.ID, f); !slices.Equal(after, before[i]) {
				t.Errorf("filter %+v: after the move %d deliveries, before %d (or they differ)", f, len(after), len(before[i]))
			}
		}
		for _, id := range ids {
			d, err := s.FindDelivery(ctx, p.ID, id)
			if err != nil || *d != one[id] {
				t.Errorf("FindDelivery(%s) after the move = %+v, %v; before %+v", id, d, err, one[id])
			}
		}
		ev := one[ids[5]].EventID
		if got := listAll(t, s, p.ID, hookgate.DeliveryFilter{EventID: ev}); len(got) != 1 || got[0].ID != ids[5] {
			t.Errorf("the deliveries of event %s after the move = %+v", ev, got)
		}

		// A retry by hand of a moved failed delivery.
		now := time.Now()
		d, err := s.RetryDelivery(ctx, p.ID, ids[1], now)
		if err != nil || d.Status != hookgate.DeliveryPending {
			t.Fatalf("RetryDelivery(%s) = %+v, %v; want pending", ids[1], d, err)
		}
		// A recovery: the failed ones come back, and no delivery is made
		// twice for the events whose delivery moved.
		requeued, created, err := s.RecoverWebhook(ctx, p.ID, w.ID, now.Add(-time.Hour), now)
		if err != nil || requeued != 5 || created != 0 {
			t.Fatalf("RecoverWebhook = %d requeued, %d created, %v; want 5 (the failed ones but the retried one) and 0", requeued, created, err)
		}
		// A redrive of the succeeded ones, which moved.
		r := &hookgate.Redrive{ID: hookgate.NewID(hookgate.PrefixRedrive, now), ProjectID: p.ID, State: hookgate.RedriveRunning,
			Selection: hookgate.RedriveSelection{Status: hookgate.DeliverySucceeded}, StartedAt: now}
		if _, _, err := s.CreateRedrive(ctx, r, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if over, err := s.StepRedrive(ctx, p.ID, r.ID, now, now.Add(time.Minute)); err != nil || !over {
			t.Fatalf("StepRedrive = %v, %v", over, err)
		}
		if got, _ := s.FindRedrive(ctx, p.ID, r.ID); got.Matched != 3 || got.Requeued != 3 {
			t.Fatalf("redrive %+v; want 3 matched and requeued", got)
		}
		all := listAll(t, s, p.ID, hookgate.DeliveryFilter{})
		if len(all) != len(ids) {
			t.Fatalf("%d deliveries after the requeues, want %d", len(all), len(ids))
		}
		for _, d := range all {
			if d.Status != hookgate.DeliveryPending {
				t.Errorf("delivery %s is %s after the requeues, want pending", d.ID, d.Status)
			}
		}
		// They are all due again: a claim finds them all.
		got, _, err := s.ClaimDue(ctx, "test-node", now.Add(2*time.Hour), 100, time.Minute)
		if err != nil || len(got) != len(ids) {
			t.Fatalf("claim after the requeues = %d, %v; want %d", len(got), err, len(ids))
		}

		// A project's deletion takes its history with it.
		if err := s.DeleteProject(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.FindDelivery(ctx, p.ID, ids[0]); err == nil {
			t.Fatal("a delivery of a deleted project was found")
		}
	})
}

// historyOf reads which table holds each delivery of ids (deliveries or
// a partition of deliveries_history).
func historyOf(t *testing.T, db *sql.DB, ids []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	rows, err := db.Query(`SELECT id, tableoid::regclass::text FROM deliveries WHERE id = ANY($1)
		UNION ALL SELECT id, tableoid::regclass::text FROM deliveries_history WHERE id = ANY($1)`, ids)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, table string
		if err := rows.Scan(&id, &table); err != nil {
			t.Fatal(err)
		}
		if _, twice := out[id]; twice {
			t.Errorf("delivery %s is in two tables", id)
		}
		out[id] = table
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// On PostgreSQL the finished deliveries, and only they, move to this
// month's partition of deliveries_history a day after their creation; a
// retry moves one back.
func TestFinishedDeliveriesMoveToTheirMonth(t *testing.T) {
	cfg := pgOnly(t)
	ctx := context.Background()
	s := sqltest.OpenConfig(t, cfg)
	db := rawDB(t, s, cfg)
	statuses := []string{hookgate.DeliverySucceeded, hookgate.DeliveryFailed, hookgate.DeliveryPending}
	p, _, ids := historyFixture(t, s, 9, statuses...)
	month := "deliveries_history_m" + idTime(t, ids[0]).UTC().Format("200601")
	// Not yet a day old: nothing moves. (Nothing is old enough for the
	// retention: only the move counts.)
	made, keepAll := idTime(t, ids[0]), time.Now().Add(-time.Hour)
	if err := s.MaintainPartitions(ctx, made); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Purge(ctx, keepAll, made.Add(time.Hour)); err != nil || n != 0 {
		t.Fatalf("Purge within the day = %d, %v; want nothing changed", n, err)
	}
	for id, table := range historyOf(t, db, ids) {
		if table != "deliveries" {
			t.Errorf("delivery %s is in %s within its first day", id, table)
		}
	}
	later := idTime(t, ids[len(ids)-1]).Add(25 * time.Hour)
	if n, err := s.Purge(ctx, keepAll, later); err != nil || n != 6 {
		t.Fatalf("Purge a day on = %d, %v; want the 6 finished deliveries moved", n, err)
	}
	where := historyOf(t, db, ids)
	for i, id := range ids {
		want := month
		if statuses[i%3] == hookgate.DeliveryPending {
			want = "deliveries"
		}
		if where[id] != want {
			t.Errorf("%s delivery %s is in %s, want %s", statuses[i%3], id, where[id], want)
		}
	}
	if _, err := s.RetryDelivery(ctx, p.ID, ids[1], time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := historyOf(t, db, ids[1:2])[ids[1]]; got != "deliveries" {
		t.Errorf("a retried delivery is in %s, want deliveries", got)
	}
	// Purging again moves nothing more (the retried one is pending).
	if n, err := s.Purge(ctx, keepAll, later); err != nil || n != 0 {
		t.Fatalf("a second purge = %d, %v; want 0", n, err)
	}
}

// A history table takes its table's rows as SELECT *: its columns must be
// the table's own, in the same order, and the view must read them all. A
// migration that adds a column to deliveries or events adds it to both.
func TestHistoryColumns(t *testing.T) {
	cfg := pgOnly(t)
	s := sqltest.OpenConfig(t, cfg)
	db := rawDB(t, s, cfg)
	cols := func(table string) []string {
		rows, err := db.Query(`SELECT column_name || ' ' || data_type || ' ' || is_nullable FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, table)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				t.Fatal(err)
			}
			out = append(out, c)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	names := func(cs []string) (out []string) {
		for _, c := range cs {
			out = append(out, c[:strings.LastIndexByte(c, ' ')])
		}
		return out
	}
	for _, tc := range [][3]string{{"deliveries", "deliveries_history", "delivery_rows"}, {"events", "events_history", "event_rows"}} {
		want := cols(tc[0])
		if len(want) == 0 {
			t.Fatalf("%s has no columns", tc[0])
		}
		if got := cols(tc[1]); !slices.Equal(got, want) {
			t.Errorf("%s columns\n%v\nwant %s'\n%v", tc[1], got, tc[0], want)
		}
		// A view's columns are all nullable: compare names and types.
		if got := names(cols(tc[2])); !slices.Equal(got, names(want)) {
			t.Errorf("%s columns\n%v\nwant\n%v", tc[2], got, names(want))
		}
	}
}

// Maintenance makes this month's and the next month's history
// partitions, and empties the default partition's rows of a month into
// the partition it makes for it.
func TestHistoryPartitionsMadeAhead(t *testing.T) {
	cfg := pgOnly(t)
	ctx := context.Background()
	s := sqltest.OpenConfig(t, cfg)
	db := rawDB(t, s, cfg)
	far := time.Date(2031, 5, 17, 12, 0, 0, 0, time.UTC)
	// A delivery of May 2031 moved before its month had a partition.
	// (An ID made by the floor, not NewID: the process's IDs would never
	// come back from 2031.)
	id := hookgate.DeliveryID(hookgate.IDFloor(hookgate.PrefixEvent, far), "wh_x")
	if _, err := db.Exec(`INSERT INTO deliveries_history (id, project_id, event_id, webhook_id, event_type, status, attempts, next_attempt_at,
		lease_until, last_status_code, last_error, created_at, updated_at) VALUES ($1, 'proj_x', 'evt_x', 'wh_x', 'a', 'succeeded', 1, 0, 0, 200, '', 0, 0)`, id); err != nil {
		t.Fatal(err)
	}
	if got := historyOf(t, db, []string{id})[id]; got != "deliveries_history_default" {
		t.Fatalf("a delivery of a month without a partition is in %s", got)
	}
	if err := s.MaintainPartitions(ctx, far); err != nil {
		t.Fatal(err)
	}
	if got := historyOf(t, db, []string{id})[id]; got != "deliveries_history_m203105" {
		t.Errorf("after maintenance the delivery is in %s, want deliveries_history_m203105", got)
	}
	var bound string
	if err := db.QueryRow(`SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = 'deliveries_history_m203106' AND relnamespace = current_schema()::regnamespace`).Scan(&bound); err != nil {
		t.Fatalf("the next month's partition: %v", err)
	}
	lo := hookgate.IDFloor(hookgate.PrefixDelivery, time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC))
	hi := hookgate.IDFloor(hookgate.PrefixDelivery, time.Date(2031, 7, 1, 0, 0, 0, 0, time.UTC))
	if want := fmt.Sprintf("FOR VALUES FROM ('%s') TO ('%s')", lo, hi); bound != want {
		t.Errorf("June 2031's bound = %q, want %q", bound, want)
	}
	// Again: nothing more is made.
	if err := s.MaintainPartitions(ctx, far); err != nil {
		t.Fatal(err)
	}
}

// Issue 30, item 2: on PostgreSQL an event whose data retention purged
// moves to events_history a day after its creation. Reads answer the same
// before and after, on both engines, and a delivery of it queued again
// still finds its event when claimed.
func TestEventHistoryKeepsReads(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p, _, ids := historyFixture(t, s, 6, hookgate.DeliverySucceeded, hookgate.DeliveryFailed)
		made := idTime(t, ids[len(ids)-1])
		if err := s.MaintainPartitions(ctx, made); err != nil {
			t.Fatal(err)
		}
		// The retention purges every event's data (none has a pending
		// delivery); within their first day nothing moves.
		if _, err := s.Purge(ctx, time.Now().Add(time.Hour), made.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		listEvents := func() []hookgate.Event {
			return pages(t, func(cursor string) ([]*hookgate.Event, string, error) {
				return s.ListEvents(ctx, p.ID, hookgate.EventFilter{Page: hookgate.Page{Limit: 4, Cursor: cursor}})
			})
		}
		before := listEvents()
		if len(before) != 6 || string(before[0].Data) != "null" {
			t.Fatalf("events before the move: %d, the first's data %s; want 6 purged", len(before), before[0].Data)
		}
		moved := int64(0)
		if s.Engine() == sqlstore.EnginePostgres {
			moved = 12 // 6 deliveries and 6 events
		}
		if n, err := s.Purge(ctx, time.Now().Add(-time.Hour), made.Add(48*time.Hour)); err != nil || n != moved {
			t.Fatalf("Purge two days on = %d, %v; want %d moved", n, err, moved)
		}
		after := listEvents()
		if len(after) != len(before) {
			t.Fatalf("%d events after the move, %d before", len(after), len(before))
		}
		for i := range after {
			if after[i].ID != before[i].ID || string(after[i].Data) != string(before[i].Data) || !after[i].CreatedAt.Equal(before[i].CreatedAt) || after[i].Type != before[i].Type {
				t.Errorf("event %d after the move %+v, before %+v", i, after[i], before[i])
			}
			e, err := s.FindEvent(ctx, p.ID, before[i].ID)
			if err != nil || e.ID != before[i].ID {
				t.Errorf("FindEvent(%s) after the move = %+v, %v", before[i].ID, e, err)
			}
		}
		// A failed delivery queued again: its claim finds its event.
		if _, err := s.RetryDelivery(ctx, p.ID, ids[1], time.Now()); err != nil {
			t.Fatal(err)
		}
		got, _, err := s.ClaimDue(ctx, "test-node", time.Now().Add(time.Minute), 10, time.Minute)
		if err != nil || len(got) != 1 || got[0].ID != ids[1] {
			t.Fatalf("claim after the retry = %v, %v; want %s", got, err, ids[1])
		}
		evs, err := s.FindEventsForDelivery(ctx, got)
		if e := evs[[2]string{p.ID, got[0].EventID}]; err != nil || e == nil || e.ID != got[0].EventID || string(e.Data) != "null" {
			t.Fatalf("FindEventsForDelivery = %v, %v; want the moved event %s", e, err, got[0].EventID)
		}
	})
}

// A purge moving deliveries while retries queue the same ones again: every
// retried delivery ends pending, in deliveries, and none is lost or made
// twice, whichever of the two reaches a row first.
func TestRetriesRaceTheMove(t *testing.T) {
	cfg := pgOnly(t)
	ctx := context.Background()
	s := sqltest.OpenConfig(t, cfg)
	db := rawDB(t, s, cfg)
	const n = 300
	p, _, ids := historyFixture(t, s, n, hookgate.DeliveryFailed)
	later := idTime(t, ids[n-1]).Add(25 * time.Hour)
	if err := s.MaintainPartitions(ctx, idTime(t, ids[0])); err != nil {
		t.Fatal(err)
	}
	retried := make(chan error, 1)
	moved := make(chan error, 1)
	go func() {
		for _, id := range ids {
			d, err := s.RetryDelivery(ctx, p.ID, id, time.Now())
			if err == nil && d.Status != hookgate.DeliveryPending {
				err = fmt.Errorf("retry of %s left it %s", id, d.Status)
			}
			if err != nil {
				retried <- err
				return
			}
		}
		retried <- nil
	}()
	go func() {
		_, err := s.Purge(ctx, time.Now().Add(-time.Hour), later)
		moved <- err
	}()
	if err := <-moved; err != nil {
		t.Fatal(err)
	}
	if err := <-retried; err != nil {
		t.Fatal(err)
	}
	where := historyOf(t, db, ids)
	if len(where) != n {
		t.Fatalf("%d of %d deliveries found after the race", len(where), n)
	}
	for _, id := range ids {
		if where[id] != "deliveries" {
			t.Errorf("retried delivery %s is in %s", id, where[id])
		}
	}
}
