package sqlstore

import (
	"context"
	"time"

	"github.com/hookgate/hookgate"
)

// ExpiringCertificates returns up to limit webhooks, in ID order after the
// ID after, whose client certificate ends before before and whose
// fingerprint was not announced yet. Only the clear tls_not_after and
// fingerprint columns are read to choose them (an index on the first):
// the sealed settings of the rest are never opened.
func (s *Store) ExpiringCertificates(ctx context.Context, before time.Time, after string, limit int) ([]*hookgate.Webhook, error) {
	rows, err := s.read.QueryContext(ctx, s.q(`SELECT `+webhookCols+` FROM webhooks
		WHERE tls_not_after > 0 AND tls_not_after < ? AND tls_announced <> tls_fingerprint AND id > ? ORDER BY id LIMIT ?`),
		micros(before), after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*hookgate.Webhook
	for rows.Next() {
		w, err := s.scanWebhook(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// AnnounceCertificate records that the expiry of a webhook's certificate
// of fingerprint was announced: a compare-and-set on tls_announced, so
// that of nodes checking at once one alone wins and sends the event.
// False when it was announced already, or the webhook has another
// certificate now (or none, or is gone).
func (s *Store) AnnounceCertificate(ctx context.Context, projectID, webhookID, fingerprint string) (bool, error) {
	res, err := s.write.ExecContext(ctx, s.q(`UPDATE webhooks SET tls_announced = ?
		WHERE project_id = ? AND id = ? AND tls_fingerprint = ? AND tls_announced <> ?`),
		fingerprint, projectID, webhookID, fingerprint, fingerprint)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
