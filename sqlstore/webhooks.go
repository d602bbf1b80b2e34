package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hookgate/hookgate"
)

const webhookCols = "id, project_id, url, description, events, secret, previous_secret, previous_secret_expires_at, auth, headers, method, query_params, payload_encoding, rate_limit, metadata, status, created_at, updated_at, uid, trigger_schema, then_step, trigger_only, public_headers, destination, retry_schedule, timeout_ms, max_attempts, ordering, ordering_key, auto_recover, breaker_failures, breaker_cooldown_ms, signature, signing_public, tls, destination_config, cel_filter, cel_transform, cel_transform_headers"

// webhookRow is a webhook as stored: secrets and the URL (which may itself
// be a bearer credential: a Slack or Discord webhook URL, a ?token=)
// sealed, lists as JSON.
type webhookRow struct {
	url, events, secret, prevSecret, auth, headers, queryParams, metadata, then string
	signature, signingPublic                                                    string
	// tls is the sealed JSON of the TLS settings ('' for none);
	// tlsFingerprint and tlsNotAfter describe its client certificate in
	// the clear, for the expiry check.
	tls, tlsFingerprint string
	tlsNotAfter         int64
	// destination is the sealed JSON of the destination's configuration
	// ('' for an HTTP webhook).
	destination string
}

func (s *Store) sealWebhook(w *hookgate.Webhook) (webhookRow, error) {
	auth, err := json.Marshal(w.Auth)
	if err != nil {
		return webhookRow{}, err
	}
	sig, public := signatureColumns(w.Signature)
	r := webhookRow{
		signature:     s.box.SealFor(sig, where("webhooks.signature", w.ProjectID, w.ID)),
		signingPublic: public,
		url:           s.box.SealFor(w.URL, where("webhooks.url", w.ProjectID, w.ID)),
		events:        jsonText(w.Events),
		secret:        s.box.SealFor(w.Secret, where("webhooks.secret", w.ProjectID, w.ID)),
		prevSecret:    s.box.SealFor(w.PreviousSecret, where("webhooks.previous_secret", w.ProjectID, w.ID)),
		auth:          s.box.SealFor(string(auth), where("webhooks.auth", w.ProjectID, w.ID)),
		headers:       s.box.SealFor(jsonText(w.Headers), where("webhooks.headers", w.ProjectID, w.ID)),
		queryParams:   jsonText(w.QueryParams),
		metadata:      jsonText(w.Metadata),
		then:          thenText(w.Then),
	}
	if !w.TLS.IsZero() {
		b, err := json.Marshal(w.TLS)
		if err != nil {
			return webhookRow{}, err
		}
		r.tls = s.box.SealFor(string(b), where("webhooks.tls", w.ProjectID, w.ID))
	}
	if c := w.ClientCertificateInfo(); c != nil {
		r.tlsFingerprint, r.tlsNotAfter = c.SHA256, micros(c.NotAfter)
	}
	if !w.DestinationConfig.IsZero() {
		r.destination = s.box.SealFor(jsonText(w.DestinationConfig), where("webhooks.destination_config", w.ProjectID, w.ID))
	}
	return r, nil
}

func emptyList(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func thenText(c *hookgate.Chain) string {
	if c == nil {
		return ""
	}
	return jsonText(c)
}

func jsonText(v any) string {
	b, _ := json.Marshal(v) // strings, string slices and maps always marshal
	return string(b)
}

// execer runs a statement on the database or in a transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// CreateWebhook stores w, encrypting its secrets. A webhook with a chain is
// stored in a transaction that checks the chain first (see lockChains).
func (s *Store) CreateWebhook(ctx context.Context, w *hookgate.Webhook) error {
	defer s.webhooksChanged(ctx)
	r, err := s.sealWebhook(w)
	if err != nil {
		return err
	}
	if w.Then == nil {
		return s.insertWebhook(ctx, s.write, w, r)
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.lockChains(ctx, tx, w.ProjectID); err != nil {
			return err
		}
		if err := s.checkChainTx(ctx, tx, w); err != nil {
			return err
		}
		return s.insertWebhook(ctx, tx, w, r)
	})
}

func (s *Store) insertWebhook(ctx context.Context, db execer, w *hookgate.Webhook, r webhookRow) error {
	_, err := db.ExecContext(ctx, s.q(`INSERT INTO webhooks (`+webhookCols+`, tls_fingerprint, tls_not_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		w.ID, w.ProjectID, r.url, w.Description, r.events, r.secret, r.prevSecret, micros(w.PreviousSecretExpiresAt),
		r.auth, r.headers, w.Method, r.queryParams, w.PayloadEncoding, w.RateLimit, r.metadata, w.Status,
		micros(w.CreatedAt), micros(w.UpdatedAt), w.UID, string(w.Schema), r.then, boolInt(w.TriggerOnly), jsonText(emptyList(w.PublicHeaders)), w.Destination,
		w.RetrySchedule.String(), w.Timeout.Milliseconds(), w.MaxAttempts, orderingOf(w), w.OrderingKey, nullBool(w.AutoRecover), w.Breaker.Failures, w.Breaker.Cooldown.Milliseconds(),
		r.signature, r.signingPublic, r.tls, r.destination, w.Filter, w.Transform, w.TransformHeaders, r.tlsFingerprint, r.tlsNotAfter)
	return uidConflict(err)
}

// lockChains serializes the writes of a project's webhooks that have a
// chain, in tx: SQLite's single writer runs one transaction at a time, and
// on PostgreSQL tx takes an advisory lock keyed on the project until it
// ends (a lock of the project's row would deadlock with a deletion of the
// project, which deletes its webhooks first). A write checks
// the chain it stores (checkChainTx) only once it holds the lock, so two
// writes that together close a cycle (a.then = b and b.then = a at once)
// cannot both pass: the second sees the first's link and is refused as a
// sequential one is. Writes that leave a webhook without a chain take no
// lock: removing a link cannot close a cycle.
func (s *Store) lockChains(ctx context.Context, tx *sql.Tx, projectID string) error {
	if s.engine != EnginePostgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, s.q(`SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`), "hookgate.chains:"+projectID)
	return err
}

// checkChainTx checks w's chain (hookgate.CheckChain) in tx, under
// lockChains, against the links committed before.
func (s *Store) checkChainTx(ctx context.Context, tx *sql.Tx, w *hookgate.Webhook) error {
	return hookgate.CheckChain(w, w.Then.Webhook, func(id string) (*hookgate.Webhook, error) {
		var then string
		err := tx.QueryRowContext(ctx, s.q(`SELECT then_step FROM webhooks WHERE project_id = ? AND id = ?`), w.ProjectID, id).Scan(&then)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, hookgate.NotFound("webhook")
		}
		if err != nil {
			return nil, err
		}
		next := &hookgate.Webhook{ID: id}
		next.Then, err = parseThen(id, then)
		return next, err
	})
}

// parseThen reads the then_step column of webhook id.
func parseThen(id, text string) (*hookgate.Chain, error) {
	if text == "" {
		return nil, nil
	}
	c := &hookgate.Chain{}
	if err := json.Unmarshal([]byte(text), c); err != nil {
		return nil, fmt.Errorf("webhook %s then: %w", id, err)
	}
	return c, nil
}

// uidConflict turns the unique violation of a webhook's uid into EConflict.
func uidConflict(err error) error {
	if isUniqueViolation(err) {
		return &hookgate.Error{Code: hookgate.EConflict, Message: "another webhook of the project has this uid", Param: "uid"}
	}
	return err
}

// FindWebhook finds a webhook by its ID or its uid, with its secrets
// decrypted.
func (s *Store) FindWebhook(ctx context.Context, projectID, ref string) (*hookgate.Webhook, error) {
	st, err := s.prepare(ctx, s.read, findWebhookSQL(ref))
	if err != nil {
		return nil, err
	}
	return s.scanFoundWebhook(st.QueryRowContext(ctx, projectID, ref))
}

// findWebhookSQL selects a webhook by its ID, or by its uid when ref is not
// an ID.
func findWebhookSQL(ref string) string {
	col := "uid"
	if hookgate.IsWebhookID(ref) {
		col = "id"
	}
	return `SELECT ` + webhookCols + ` FROM webhooks WHERE project_id = ? AND ` + col + ` = ?`
}

func (s *Store) scanFoundWebhook(r scanner) (*hookgate.Webhook, error) {
	w, err := s.scanWebhook(r)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookgate.NotFound("webhook")
	}
	return w, err
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) findWebhook(ctx context.Context, db queryer, projectID, ref string) (*hookgate.Webhook, error) {
	return s.scanFoundWebhook(db.QueryRowContext(ctx, s.q(findWebhookSQL(ref)), projectID, ref))
}

// ListWebhooks lists a project's webhooks, newest first.
func (s *Store) ListWebhooks(ctx context.Context, projectID string, page hookgate.Page) ([]*hookgate.Webhook, string, error) {
	limit := pageLimit(page)
	return queryPage(ctx, s.read, s.q(`SELECT `+webhookCols+` FROM webhooks WHERE project_id = ? AND (? = '' OR id < ?) ORDER BY id DESC LIMIT ?`),
		limit, s.scanWebhook, func(w *hookgate.Webhook) string { return w.ID }, projectID, page.Cursor, page.Cursor, limit+1)
}

// UpdateWebhook saves every field of w but its status. A chain that w
// changes is checked in the same transaction (see lockChains); one it
// keeps as stored is not checked again.
func (s *Store) UpdateWebhook(ctx context.Context, w *hookgate.Webhook) error {
	defer s.webhooksChanged(ctx)
	r, err := s.sealWebhook(w)
	if err != nil {
		return err
	}
	if w.Then == nil && w.Ordered() {
		return s.updateWebhook(ctx, s.write, w, r)
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if !w.Ordered() {
			// Ordered no longer: the rows waiting in line go now.
			if err := s.releaseOrdering(ctx, tx, w.ProjectID, w.ID, s.now()); err != nil {
				return err
			}
		}
		if w.Then == nil {
			return s.updateWebhook(ctx, tx, w, r)
		}
		if err := s.lockChains(ctx, tx, w.ProjectID); err != nil {
			return err
		}
		// A chain kept as stored adds no link to what this transaction
		// read, and under the lock no other write adds one before it
		// commits: what it writes back was part of an acyclic whole.
		var stored string
		err := tx.QueryRowContext(ctx, s.q(`SELECT then_step FROM webhooks WHERE project_id = ? AND id = ?`), w.ProjectID, w.ID).Scan(&stored)
		if errors.Is(err, sql.ErrNoRows) {
			return hookgate.NotFound("webhook")
		}
		if err != nil {
			return err
		}
		if stored != r.then {
			if err := s.checkChainTx(ctx, tx, w); err != nil {
				return err
			}
		}
		return s.updateWebhook(ctx, tx, w, r)
	})
}

func (s *Store) updateWebhook(ctx context.Context, db execer, w *hookgate.Webhook, r webhookRow) error {
	res, err := db.ExecContext(ctx, s.q(`UPDATE webhooks SET url = ?, description = ?, events = ?, secret = ?, previous_secret = ?,
		previous_secret_expires_at = ?, auth = ?, headers = ?, method = ?, query_params = ?, payload_encoding = ?, rate_limit = ?,
		metadata = ?, updated_at = ?, uid = ?, trigger_schema = ?, then_step = ?, trigger_only = ?, public_headers = ?, destination = ?,
		retry_schedule = ?, timeout_ms = ?, max_attempts = ?, ordering = ?, ordering_key = ?, auto_recover = ?, breaker_failures = ?, breaker_cooldown_ms = ?,
		signature = ?, signing_public = ?, tls = ?, destination_config = ?, cel_filter = ?, cel_transform = ?, cel_transform_headers = ?, tls_fingerprint = ?, tls_not_after = ? WHERE project_id = ? AND id = ?`),
		r.url, w.Description, r.events, r.secret, r.prevSecret, micros(w.PreviousSecretExpiresAt), r.auth, r.headers,
		w.Method, r.queryParams, w.PayloadEncoding, w.RateLimit, r.metadata, micros(w.UpdatedAt), w.UID, string(w.Schema), r.then, boolInt(w.TriggerOnly), jsonText(emptyList(w.PublicHeaders)), w.Destination,
		w.RetrySchedule.String(), w.Timeout.Milliseconds(), w.MaxAttempts, orderingOf(w), w.OrderingKey, nullBool(w.AutoRecover), w.Breaker.Failures, w.Breaker.Cooldown.Milliseconds(),
		r.signature, r.signingPublic, r.tls, r.destination, w.Filter, w.Transform, w.TransformHeaders, r.tlsFingerprint, r.tlsNotAfter, w.ProjectID, w.ID)
	return mustAffect(res, uidConflict(err), "webhook")
}

// SetWebhookStatus changes a webhook's status and pauses or resumes its
// deliveries in the same transaction; disabling starts its recovery, any
// other status ends it.
func (s *Store) SetWebhookStatus(ctx context.Context, projectID, id, status string, now time.Time) (*hookgate.Webhook, error) {
	defer s.webhooksChanged(ctx)
	var w *hookgate.Webhook
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.setWebhookStatus(ctx, tx, projectID, id, "", status, now); err != nil {
			return err
		}
		var err error
		w, err = s.findWebhook(ctx, tx, projectID, id)
		return err
	})
	return w, err
}

// setWebhookStatus changes a webhook's status in tx, when it is from (any
// status when from is empty), pauses or resumes its deliveries, and
// starts or ends its recovery; it returns the deliveries resumed.
// ENotFound when no webhook changed.
func (s *Store) setWebhookStatus(ctx context.Context, tx *sql.Tx, projectID, id, from, status string, now time.Time) (int64, error) {
	if status == hookgate.StatusActive {
		// Before any row: every holder of the ordering lock takes it first
		// (resume puts ordered deliveries back in line).
		if err := s.lockOrdering(ctx, tx); err != nil {
			return 0, err
		}
	}
	var was string
	if status == hookgate.StatusDisabled {
		// A webhook a person deactivated is never probed, even if a 410
		// of a request in flight disables it.
		err := tx.QueryRowContext(ctx, s.q(`SELECT status FROM webhooks WHERE project_id = ? AND id = ?`), projectID, id).Scan(&was)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, err
		}
	}
	// Any change of status starts the failure streak anew.
	q, args := `UPDATE webhooks SET status = ?, failing_since = 0, updated_at = ? WHERE project_id = ? AND id = ?`, []any{status, micros(now), projectID, id}
	if from != "" {
		q, args = q+` AND status = ?`, append(args, from)
	}
	res, err := tx.ExecContext(ctx, s.q(q), args...)
	if err := mustAffect(res, err, "webhook"); err != nil {
		return 0, err
	}
	// And its circuit breaker: closed, no failure counted.
	if err := s.forgetCircuit(ctx, tx, projectID, id, now); err != nil {
		return 0, err
	}
	// The lease stays: an attempt in flight when the webhook is paused
	// still records its outcome (a success is not sent again after
	// the webhook is activated), and a lease that has ended leaves the
	// row claimable at once.
	var resumed int64
	if status == hookgate.StatusActive {
		if resumed, err = s.resume(ctx, tx, id, now); err != nil {
			return 0, err
		}
	} else if _, err := tx.ExecContext(ctx, s.q(`UPDATE deliveries SET status = ?, updated_at = ? WHERE webhook_id = ? AND status = ?`),
		hookgate.DeliveryPaused, micros(now), id, hookgate.DeliveryPending); err != nil {
		return 0, err
	}
	if was == hookgate.StatusDeactivated {
		return resumed, nil
	}
	return resumed, s.startOrEndRecovery(ctx, tx, projectID, id, status, now)
}

// DeleteWebhook deletes a webhook and cancels its unfinished deliveries.
func (s *Store) DeleteWebhook(ctx context.Context, projectID, id string) error {
	defer s.webhooksChanged(ctx)
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM webhooks WHERE project_id = ? AND id = ?`), projectID, id)
		if err := mustAffect(res, err, "webhook"); err != nil {
			return err
		}
		if err := s.startOrEndRecovery(ctx, tx, projectID, id, "", time.Time{}); err != nil {
			return err
		}
		if err := s.forgetCircuit(ctx, tx, projectID, id, s.now()); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`UPDATE deliveries SET status = ?, lease_until = 0, updated_at = ? WHERE webhook_id = ? AND status IN (?, ?)`),
			hookgate.DeliveryCancelled, micros(s.now()), id, hookgate.DeliveryPending, hookgate.DeliveryPaused)
		return err
	})
}

func (s *Store) scanWebhook(r scanner) (*hookgate.Webhook, error) {
	var w hookgate.Webhook
	var row webhookRow
	var prevExp, created, updated int64
	var schema string
	var triggerOnly int64
	var public, sched string
	var timeoutMS, cooldownMS int64
	var autoRecover sql.NullInt64
	if err := r.Scan(&w.ID, &w.ProjectID, &row.url, &w.Description, &row.events, &row.secret, &row.prevSecret, &prevExp,
		&row.auth, &row.headers, &w.Method, &row.queryParams, &w.PayloadEncoding, &w.RateLimit, &row.metadata, &w.Status,
		&created, &updated, &w.UID, &schema, &row.then, &triggerOnly, &public, &w.Destination,
		&sched, &timeoutMS, &w.MaxAttempts, &w.Ordering, &w.OrderingKey, &autoRecover, &w.Breaker.Failures, &cooldownMS,
		&row.signature, &row.signingPublic, &row.tls, &row.destination, &w.Filter, &w.Transform, &w.TransformHeaders); err != nil {
		return nil, err
	}
	w.RetrySchedule = parseSchedule(sched)
	w.AutoRecover = boolOf(autoRecover)
	w.Timeout = time.Duration(timeoutMS) * time.Millisecond
	w.Breaker.Cooldown = time.Duration(cooldownMS) * time.Millisecond
	w.TriggerOnly = triggerOnly != 0
	_ = json.Unmarshal([]byte(public), &w.PublicHeaders)
	if schema != "" {
		w.Schema = json.RawMessage(schema)
	}
	var err error
	if w.Then, err = parseThen(w.ID, row.then); err != nil {
		return nil, err
	}
	w.PreviousSecretExpiresAt, w.CreatedAt, w.UpdatedAt = fromMicros(prevExp), fromMicros(created), fromMicros(updated)
	if w.URL, err = s.box.OpenFor(row.url, where("webhooks.url", w.ProjectID, w.ID)); err != nil {
		return nil, fmt.Errorf("webhook %s url: %w", w.ID, err)
	}
	if w.Secret, err = s.box.OpenFor(row.secret, where("webhooks.secret", w.ProjectID, w.ID)); err != nil {
		return nil, fmt.Errorf("webhook %s secret: %w", w.ID, err)
	}
	if w.PreviousSecret, err = s.box.OpenFor(row.prevSecret, where("webhooks.previous_secret", w.ProjectID, w.ID)); err != nil {
		return nil, fmt.Errorf("webhook %s previous secret: %w", w.ID, err)
	}
	sig, err := s.box.OpenFor(row.signature, where("webhooks.signature", w.ProjectID, w.ID))
	if err != nil {
		return nil, fmt.Errorf("webhook %s signature: %w", w.ID, err)
	}
	if w.Signature, err = signatureOf(sig); err != nil {
		return nil, fmt.Errorf("webhook %s signature: %w", w.ID, err)
	}
	auth, err := s.box.OpenFor(row.auth, where("webhooks.auth", w.ProjectID, w.ID))
	if err != nil {
		return nil, fmt.Errorf("webhook %s auth: %w", w.ID, err)
	}
	headers, err := s.box.OpenFor(row.headers, where("webhooks.headers", w.ProjectID, w.ID))
	if err != nil {
		return nil, fmt.Errorf("webhook %s headers: %w", w.ID, err)
	}
	if row.tls != "" {
		text, err := s.box.OpenFor(row.tls, where("webhooks.tls", w.ProjectID, w.ID))
		if err != nil {
			return nil, fmt.Errorf("webhook %s tls: %w", w.ID, err)
		}
		if err := json.Unmarshal([]byte(text), &w.TLS); err != nil {
			return nil, fmt.Errorf("webhook %s tls: %w", w.ID, err)
		}
	}
	if row.destination != "" {
		text, err := s.box.OpenFor(row.destination, where("webhooks.destination_config", w.ProjectID, w.ID))
		if err != nil {
			return nil, fmt.Errorf("webhook %s destination: %w", w.ID, err)
		}
		if err := json.Unmarshal([]byte(text), &w.DestinationConfig); err != nil {
			return nil, fmt.Errorf("webhook %s destination: %w", w.ID, err)
		}
	}
	for _, f := range []struct {
		text string
		dst  any
	}{{auth, &w.Auth}, {headers, &w.Headers}, {row.events, &w.Events}, {row.queryParams, &w.QueryParams}, {row.metadata, &w.Metadata}} {
		if err := json.Unmarshal([]byte(f.text), f.dst); err != nil {
			return nil, fmt.Errorf("webhook %s: %w", w.ID, err)
		}
	}
	return &w, nil
}
