package sqlstore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/sqlstore"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// pgOnly opens the configuration of a PostgreSQL store for t, or skips t
// when no PostgreSQL is under test: partitions are PostgreSQL's alone.
func pgOnly(t *testing.T) sqlstore.Config {
	t.Helper()
	t.Parallel()
	if !slices.Contains(sqltest.Engines(t), sqlstore.EnginePostgres) {
		t.Skip("attempts are partitioned on PostgreSQL only")
	}
	return sqltest.Config(t, sqlstore.EnginePostgres)
}

// partitionsOf lists the partitions of attempts: name, and its bounds as
// PostgreSQL prints them.
func partitionsOf(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	rows, err := db.Query(`SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'attempts'::regclass`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, bound string
		if err := rows.Scan(&name, &bound); err != nil {
			t.Fatal(err)
		}
		out[name] = bound
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// partitionOf names the partition that holds the attempt id.
func partitionOf(t *testing.T, db *sql.DB, id string) string {
	t.Helper()
	var name string
	if err := db.QueryRow(`SELECT tableoid::regclass::text FROM attempts WHERE id = $1`, id).Scan(&name); err != nil {
		t.Fatalf("the partition of %s: %v", id, err)
	}
	return name
}

// recordAt makes one event per start in starts, each with one delivery
// to a webhook of p, claims them at claimAt and records one failed attempt
// started at each start. It returns the deliveries and attempts, in the
// order of starts.
func recordAt(t *testing.T, s *sqlstore.Store, p *hookgate.Project, claimAt time.Time, starts ...time.Time) (deliveries, attempts []string) {
	t.Helper()
	ctx := context.Background()
	in := make([]hookgate.EventInput, len(starts))
	for i := range in {
		in[i] = hookgate.EventInput{Type: "a", Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))}
	}
	if _, err := s.CreateEvents(ctx, p.ID, in); err != nil {
		t.Fatal(err)
	}
	got, lease, err := s.ClaimDue(ctx, "test-node", claimAt, len(starts), time.Minute)
	if err != nil || len(got) != len(starts) {
		t.Fatalf("claim = %d, %v; want %d", len(got), err, len(starts))
	}
	var outs []hookgate.AttemptOutcome
	for i, d := range got {
		a := hookgate.Attempt{ID: hookgate.NewID(hookgate.PrefixAttempt, starts[i]), DeliveryID: d.ID, Attempt: 1, StartedAt: starts[i], StatusCode: 500, DurationMs: int64(10 * (i + 1))}
		outs = append(outs, hookgate.AttemptOutcome{ProjectID: p.ID, WebhookID: d.WebhookID, LeaseUntil: lease, Status: hookgate.DeliveryFailed, Attempt: a})
		deliveries, attempts = append(deliveries, d.ID), append(attempts, a.ID)
	}
	if err := s.RecordAttempts(ctx, claimAt, outs); err != nil {
		t.Fatal(err)
	}
	return deliveries, attempts
}

// day is the start of a UTC day of the tests' clock, years after the
// migration's cutover, so that no partition covers it until made.
func day(offset int) time.Time {
	return time.Date(2031, 5, 4+offset, 0, 0, 0, 0, time.UTC)
}

func TestPartitionsMadeAheadByConcurrentNodes(t *testing.T) {
	cfg := pgOnly(t)
	ctx := context.Background()
	a := sqltest.OpenConfig(t, cfg)
	b := sqltest.OpenConfig(t, cfg)
	db := rawDB(t, a, cfg)
	now := day(0).Add(15 * time.Hour)
	for round := range 2 { // the second finds every partition made
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := range 8 {
			s := []*sqlstore.Store{a, b}[i%2]
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- s.MaintainPartitions(ctx, now)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		parts := partitionsOf(t, db)
		for d := range 8 {
			name := "attempts_d" + day(d).Format("20060102")
			want := fmt.Sprintf("FOR VALUES FROM ('%d') TO ('%d')", day(d).UnixMicro(), day(d+1).UnixMicro())
			if got := parts[name]; got != want {
				t.Errorf("round %d: %s = %q; want %q", round, name, got, want)
			}
		}
		if _, ok := parts["attempts_d"+day(8).Format("20060102")]; ok {
			t.Errorf("a partition 8 days ahead was made")
		}
		if parts["attempts_default"] != "DEFAULT" || parts["attempts_legacy"] == "" {
			t.Errorf("partitions = %v; want the default and legacy ones", parts)
		}
	}
}

func TestAttemptsAcrossADayBoundary(t *testing.T) {
	cfg := pgOnly(t)
	midnight := day(1)
	cfg.Now = func() time.Time { return midnight.Add(-time.Minute) }
	s := sqltest.OpenConfig(t, cfg) // Migrate makes the partitions of the store's today onwards
	db := rawDB(t, s, cfg)
	p := newProject(t, s, "days")
	newWebhook(t, s, p.ID)
	last, first := midnight.Add(-time.Microsecond), midnight
	deliveries, ids := recordAt(t, s, p, midnight.Add(time.Second), last, first)
	if got := partitionOf(t, db, ids[0]); got != "attempts_d"+day(0).Format("20060102") {
		t.Errorf("the last microsecond of a day is in %s", got)
	}
	if got := partitionOf(t, db, ids[1]); got != "attempts_d"+day(1).Format("20060102") {
		t.Errorf("the first microsecond of a day is in %s", got)
	}
	for i, d := range deliveries {
		atts, _, err := s.ListAttempts(context.Background(), p.ID, d, hookgate.Page{})
		if err != nil || len(atts) != 1 || atts[0].ID != ids[i] {
			t.Errorf("ListAttempts(%s) = %d, %v; want %s", d, len(atts), err, ids[i])
		}
	}
}

func TestDefaultPartitionEmptiedIntoTheDays(t *testing.T) {
	cfg := pgOnly(t)
	ctx := context.Background()
	s := sqltest.OpenConfig(t, cfg)
	db := rawDB(t, s, cfg)
	p := newProject(t, s, "dflt")
	newWebhook(t, s, p.ID)
	at := day(0).Add(3 * time.Hour) // no partition covers it yet
	deliveries, ids := recordAt(t, s, p, at.Add(time.Second), at)
	if got := partitionOf(t, db, ids[0]); got != "attempts_default" {
		t.Fatalf("an attempt of a day without a partition is in %s; want attempts_default", got)
	}
	if err := s.MaintainPartitions(ctx, at); err != nil {
		t.Fatal(err)
	}
	if got := partitionOf(t, db, ids[0]); got != "attempts_d"+day(0).Format("20060102") {
		t.Errorf("after maintenance the attempt is in %s; want its day's partition", got)
	}
	var left int
	if err := db.QueryRow(`SELECT count(*) FROM attempts_default`).Scan(&left); err != nil || left != 0 {
		t.Errorf("the default partition holds %d rows (%v); want 0", left, err)
	}
	atts, _, err := s.ListAttempts(ctx, p.ID, deliveries[0], hookgate.Page{})
	if err != nil || len(atts) != 1 || !atts[0].StartedAt.Equal(at) {
		t.Errorf("ListAttempts = %d, %v; want the moved attempt", len(atts), err)
	}
}

func TestPurgeDropsPartitionsOlderThanRetention(t *testing.T) {
	cfg := pgOnly(t)
	ctx := context.Background()
	s := sqltest.OpenConfig(t, cfg)
	db := rawDB(t, s, cfg)
	p := newProject(t, s, "drop")
	newWebhook(t, s, p.ID)
	if err := s.MaintainPartitions(ctx, day(0)); err != nil {
		t.Fatal(err)
	}
	deliveries, ids := recordAt(t, s, p, day(2), day(0).Add(time.Hour), day(1).Add(time.Hour))
	before := day(1).Add(12 * time.Hour) // day 0 wholly older; day 1 partly
	if _, err := s.Purge(ctx, before, before.Add(30*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	parts := partitionsOf(t, db)
	if _, ok := parts["attempts_d"+day(0).Format("20060102")]; ok {
		t.Errorf("the partition wholly older than the retention is kept")
	}
	if _, ok := parts["attempts_d"+day(1).Format("20060102")]; !ok {
		t.Errorf("the partition partly inside the retention is dropped")
	}
	if _, ok := parts["attempts_legacy"]; ok {
		t.Errorf("the legacy partition, wholly older than the retention, is kept")
	}
	if atts, _, _ := s.ListAttempts(ctx, p.ID, deliveries[0], hookgate.Page{}); len(atts) != 0 {
		t.Errorf("%d attempts of the dropped day are left", len(atts))
	}
	if atts, _, _ := s.ListAttempts(ctx, p.ID, deliveries[1], hookgate.Page{}); len(atts) != 1 || atts[0].ID != ids[1] {
		t.Errorf("the attempt of the kept day is gone")
	}
	if _, err := s.Purge(ctx, before, before); err != nil {
		t.Fatalf("a second purge: %v", err)
	}
}

func TestMigrationToPartitionsKeepsAttempts(t *testing.T) {
	cfg := pgOnly(t)
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.MigrateTo(ctx, 30); err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, s, cfg)
	p := newProject(t, s, "mig")
	w := newWebhook(t, s, p.ID)
	now := time.Now().UTC().Truncate(time.Microsecond)
	starts := []time.Time{now.Add(-50 * time.Hour), now.Add(-3 * time.Hour), now.Add(-time.Minute)}
	deliveries, ids := recordAt(t, s, p, now.Add(time.Second), starts...)
	since, until := now.Add(-72*time.Hour), now.Add(time.Hour)
	statsBefore, err := s.AttemptStats(ctx, p.ID, w.ID, since, until, 0)
	if err != nil {
		t.Fatal(err)
	}
	var listsBefore [][]*hookgate.Attempt
	for _, d := range deliveries {
		atts, _, err := s.ListAttempts(ctx, p.ID, d, hookgate.Page{})
		if err != nil {
			t.Fatal(err)
		}
		listsBefore = append(listsBefore, atts)
	}

	// A check a run that failed after its first step left, with a cutover
	// long past: the migration makes it again.
	if _, err := db.Exec(`ALTER TABLE attempts ADD CONSTRAINT attempts_before_cutover CHECK (started_at < 1) NOT VALID`); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var kind string
	if err := db.QueryRow(`SELECT relkind::text FROM pg_class WHERE oid = 'attempts'::regclass`).Scan(&kind); err != nil || kind != "p" {
		t.Fatalf("attempts is of kind %q (%v); want p, partitioned", kind, err)
	}
	for _, id := range ids {
		if got := partitionOf(t, db, id); got != "attempts_legacy" {
			t.Errorf("attempt %s is in %s; want attempts_legacy", id, got)
		}
	}
	statsAfter, err := s.AttemptStats(ctx, p.ID, w.ID, since, until, 0)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(*statsAfter.LastFailure) != fmt.Sprint(*statsBefore.LastFailure) {
		t.Errorf("last failure after the migration %+v; before %+v", *statsAfter.LastFailure, *statsBefore.LastFailure)
	}
	statsAfter.LastFailure, statsBefore.LastFailure = nil, nil
	if fmt.Sprint(*statsAfter) != fmt.Sprint(*statsBefore) {
		t.Errorf("stats after the migration:\n%+v\nbefore:\n%+v", *statsAfter, *statsBefore)
	}
	for i, d := range deliveries {
		atts, _, err := s.ListAttempts(ctx, p.ID, d, hookgate.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := fmt.Sprint(derefAll(atts)), fmt.Sprint(derefAll(listsBefore[i])); got != want {
			t.Errorf("attempts of %s after the migration:\n%s\nbefore:\n%s", d, got, want)
		}
	}
	// New attempts are recorded, after the cutover into the days'
	// partitions.
	_, more := recordAt(t, s, p, now.Add(2*time.Second), now)
	if got := partitionOf(t, db, more[0]); got != "attempts_legacy" {
		t.Errorf("an attempt of today is in %s; want attempts_legacy until the cutover", got)
	}
	parts := partitionsOf(t, db)
	for d := 2; d <= 7; d++ {
		name := "attempts_d" + now.AddDate(0, 0, d).Format("20060102")
		if _, ok := parts[name]; !ok {
			t.Errorf("no partition %s after the migration: %v", name, parts)
		}
	}
}

func derefAll(as []*hookgate.Attempt) []hookgate.Attempt {
	out := make([]hookgate.Attempt, len(as))
	for i, a := range as {
		out[i] = *a
	}
	return out
}
