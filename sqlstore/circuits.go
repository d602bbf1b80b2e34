package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/hookgate/hookgate"
)

// A webhook's circuit is a row of circuits once one of its attempts failed;
// no row is a closed circuit with no failure counted, so successful
// deliveries to a healthy webhook never touch the table. Every change is a
// read-modify-write of the row in a transaction (the row locked FOR UPDATE
// on PostgreSQL; SQLite has one writer), applying hookgate.Circuit's rules:
// the circuit is one fact for every node.

const circuitCols = "project_id, webhook_id, state, since, opened_at, failures, cooldown_ms, next_probe_at, probe, probe_until, updated_at"

func scanCircuit(r scanner) (*hookgate.Circuit, error) {
	var c hookgate.Circuit
	var since, opened, cooldown, next, until, updated int64
	if err := r.Scan(&c.ProjectID, &c.WebhookID, &c.State, &since, &opened, &c.Failures, &cooldown, &next, &c.Probe, &until, &updated); err != nil {
		return nil, err
	}
	c.Since, c.OpenedAt, c.NextProbeAt, c.ProbeUntil, c.UpdatedAt = fromMicros(since), fromMicros(opened), fromMicros(next), fromMicros(until), fromMicros(updated)
	c.Cooldown = time.Duration(cooldown) * time.Millisecond
	return &c, nil
}

// Circuits returns every circuit that is not clean: open, half-open, or
// closed with failures counted.
func (s *Store) Circuits(ctx context.Context) ([]*hookgate.Circuit, error) {
	// The predicate of the partial index circuits_unclean, to the letter.
	rows, err := s.read.QueryContext(ctx, `SELECT `+circuitCols+` FROM circuits WHERE state <> 'closed' OR failures > 0`)
	return scanAll(rows, err, scanCircuit)
}

// FindCircuits returns the circuits of a project's webhooks named, by
// webhook ID; a webhook without a row is left out (closed, no failure).
func (s *Store) FindCircuits(ctx context.Context, projectID string, webhookIDs []string) (map[string]*hookgate.Circuit, error) {
	out := map[string]*hookgate.Circuit{}
	for chunk := range slices.Chunk(webhookIDs, 250) {
		q := `SELECT ` + circuitCols + ` FROM circuits WHERE project_id = ? AND webhook_id IN (?` + repeatParams(len(chunk)-1) + `)`
		args := []any{projectID}
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, err := s.read.QueryContext(ctx, s.q(q), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			c, err := scanCircuit(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[c.WebhookID] = c
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// repeatParams is n times ", ?".
func repeatParams(n int) string {
	b := make([]byte, 0, 3*n)
	for range n {
		b = append(b, ", ?"...)
	}
	return string(b)
}

// CircuitCounts counts the active webhooks (trigger-only ones aside) by
// the state of their circuit.
func (s *Store) CircuitCounts(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{hookgate.CircuitClosed: 0, hookgate.CircuitOpen: 0, hookgate.CircuitHalfOpen: 0}
	var active int64
	if err := s.read.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM webhooks WHERE status = ? AND trigger_only = 0`), hookgate.StatusActive).Scan(&active); err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, s.q(`SELECT c.state, COUNT(*) FROM circuits c JOIN webhooks w ON w.project_id = c.project_id AND w.id = c.webhook_id
		WHERE w.status = ? AND w.trigger_only = 0 AND c.state <> ? GROUP BY c.state`), hookgate.StatusActive, hookgate.CircuitClosed)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	notClosed := int64(0)
	for rows.Next() {
		var state string
		var n int64
		if err := rows.Scan(&state, &n); err != nil {
			return nil, err
		}
		out[state] = n
		notClosed += n
	}
	out[hookgate.CircuitClosed] = active - notClosed
	return out, rows.Err()
}

// TakeProbe makes a webhook's circuit half-open with probe in flight until
// until, when at now it may send one (hookgate.Circuit.TakeProbe): a
// compare-and-set, so that one node of the cluster wins. It returns the
// circuit as it is after, and whether the probe is the caller's.
func (s *Store) TakeProbe(ctx context.Context, projectID, webhookID, probe string, now, until time.Time) (*hookgate.Circuit, bool, error) {
	until = until.Truncate(time.Microsecond) // held deliveries are due at it, to the microsecond
	var out *hookgate.Circuit
	took := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		c, err := s.lockCircuit(ctx, tx, projectID, webhookID)
		if err != nil || c == nil {
			out = &hookgate.Circuit{ProjectID: projectID, WebhookID: webhookID, State: hookgate.CircuitClosed}
			return err
		}
		next, ok := c.TakeProbe(probe, now, until)
		out, took = &next, ok
		if !ok {
			return nil
		}
		return s.saveCircuit(ctx, tx, &next)
	})
	return out, took, err
}

// RecordCircuits applies reports to their circuits
// (hookgate.Circuit.Record) in one transaction, and returns each circuit
// after, with the transition it made. A report of successes alone to a
// webhook without a row changes nothing. Once a probe's outcome is in, the
// deliveries held for it (pending and due at its ProbeUntil, as the
// dispatcher gives them back) become due at now if the circuit closed, at
// its next probe if it opened again.
func (s *Store) RecordCircuits(ctx context.Context, now time.Time, reports []hookgate.CircuitReport) ([]hookgate.CircuitChange, error) {
	// In the order of their keys, so that two nodes never wait on each
	// other's rows.
	reports = slices.Clone(reports)
	slices.SortFunc(reports, func(a, b hookgate.CircuitReport) int {
		return cmp.Or(cmp.Compare(a.ProjectID, b.ProjectID), cmp.Compare(a.WebhookID, b.WebhookID))
	})
	var out []hookgate.CircuitChange
	err := s.tx(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		for _, r := range reports {
			if r.Failures > 0 || r.Probe != "" {
				if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO circuits (project_id, webhook_id, state, since, updated_at) VALUES (?, ?, ?, ?, ?)
					ON CONFLICT (project_id, webhook_id) DO NOTHING`), r.ProjectID, r.WebhookID, hookgate.CircuitClosed, micros(now), micros(now)); err != nil {
					return err
				}
			}
			c, err := s.lockCircuit(ctx, tx, r.ProjectID, r.WebhookID)
			if err != nil {
				return err
			}
			if c == nil {
				out = append(out, hookgate.CircuitChange{Circuit: hookgate.Circuit{ProjectID: r.ProjectID, WebhookID: r.WebhookID, State: hookgate.CircuitClosed}})
				continue
			}
			next, tr := c.Record(r, now)
			if err := s.saveCircuit(ctx, tx, &next); err != nil {
				return err
			}
			switch {
			case next.State == hookgate.CircuitClosed && c.State != hookgate.CircuitClosed:
				// Closed (a probe succeeded, the breaker was turned off): the
				// rows it held are due at once.
				if err := s.releaseHeld(ctx, tx, c, now, now); err != nil {
					return err
				}
			case c.State == hookgate.CircuitHalfOpen && next.State == hookgate.CircuitOpen:
				// The probe failed, or came back unsent: the rows held for it
				// are due at the next probe.
				if err := s.releaseHeld(ctx, tx, &hookgate.Circuit{ProjectID: c.ProjectID, WebhookID: c.WebhookID, ProbeUntil: c.ProbeUntil}, next.NextProbeAt, now); err != nil {
					return err
				}
			}
			out = append(out, hookgate.CircuitChange{Circuit: next, Transition: tr})
		}
		return nil
	})
	return out, err
}

// lockCircuit reads a circuit for a change in tx, locked on PostgreSQL;
// nil when the webhook has no row.
func (s *Store) lockCircuit(ctx context.Context, tx *sql.Tx, projectID, webhookID string) (*hookgate.Circuit, error) {
	q := `SELECT ` + circuitCols + ` FROM circuits WHERE project_id = ? AND webhook_id = ?`
	if s.engine == EnginePostgres {
		q += ` FOR UPDATE`
	}
	c, err := scanCircuit(tx.QueryRowContext(ctx, s.q(q), projectID, webhookID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return c, err
}

// saveCircuit writes c's row.
func (s *Store) saveCircuit(ctx context.Context, tx *sql.Tx, c *hookgate.Circuit) error {
	_, err := tx.ExecContext(ctx, s.q(`UPDATE circuits SET state = ?, since = ?, opened_at = ?, failures = ?, cooldown_ms = ?, next_probe_at = ?,
		probe = ?, probe_until = ?, updated_at = ? WHERE project_id = ? AND webhook_id = ?`),
		c.State, micros(c.Since), micros(c.OpenedAt), c.Failures, c.Cooldown.Milliseconds(), micros(c.NextProbeAt),
		c.Probe, micros(c.ProbeUntil), micros(c.UpdatedAt), c.ProjectID, c.WebhookID)
	return err
}

// releaseHeld makes the deliveries c holds due at due: those given back
// due at its next probe or at its probe's lease end, to the microsecond,
// as the dispatcher gives them back. Paused ones too (the webhook is being
// deactivated): they are due at due once it is active again.
func (s *Store) releaseHeld(ctx context.Context, tx *sql.Tx, c *hookgate.Circuit, due, now time.Time) error {
	for _, at := range []time.Time{c.NextProbeAt, c.ProbeUntil} {
		if at.IsZero() || at.Equal(due) {
			continue
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE deliveries SET next_attempt_at = ?, updated_at = ?
			WHERE webhook_id = ? AND status IN (?, ?) AND next_attempt_at = ? AND project_id = ?`),
			micros(due), micros(now), c.WebhookID, hookgate.DeliveryPending, hookgate.DeliveryPaused, micros(at), c.ProjectID); err != nil {
			return err
		}
	}
	return nil
}

// forgetCircuit deletes a webhook's circuit in tx, and makes the
// deliveries it held due at now: a change of the webhook's status or its
// deletion starts its circuit anew.
func (s *Store) forgetCircuit(ctx context.Context, tx *sql.Tx, projectID, webhookID string, now time.Time) error {
	c, err := s.lockCircuit(ctx, tx, projectID, webhookID)
	if err != nil || c == nil {
		return err
	}
	if err := s.releaseHeld(ctx, tx, c, now, now); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, s.q(`DELETE FROM circuits WHERE project_id = ? AND webhook_id = ?`), projectID, webhookID)
	return err
}
