package delivery

import (
	"context"
	"encoding/json"
	"time"

	"github.com/hookgate/hookgate"
)

// DefaultCertificateCheck is how often the client certificates about to
// expire are looked for, when Config.CertificateCheck is not set.
const DefaultCertificateCheck = time.Hour

// certificateBatch bounds the webhooks read at once by CheckCertificates.
const certificateBatch = 100

// certificateLoop checks the client certificates at start, then every
// CertificateCheck, until ctx ends.
func (d *Dispatcher) certificateLoop(ctx context.Context) {
	t := time.NewTicker(d.cfg.CertificateCheck)
	defer t.Stop()
	for {
		if _, err := d.CheckCertificates(ctx); err != nil && ctx.Err() == nil {
			d.cfg.Logger.Error("check the client certificates about to expire", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// CheckCertificates sends hookgate.webhook.certificate_expiring for each
// webhook whose client certificate ends within
// hookgate.CertificateExpiryNotice of now and was not announced yet, and
// returns how many it sent. Each certificate is announced once, by one
// node: the store's compare-and-set (Queue.AnnounceCertificate) picks the
// node that sends the event; a new certificate is announced anew.
func (d *Dispatcher) CheckCertificates(ctx context.Context) (int, error) {
	before := d.cfg.Now().Add(hookgate.CertificateExpiryNotice)
	sent, after := 0, ""
	for {
		ws, err := d.cfg.Queue.ExpiringCertificates(ctx, before, after, certificateBatch)
		if err != nil {
			return sent, err
		}
		for _, w := range ws {
			ok, err := d.announceCertificate(ctx, w)
			if err != nil {
				return sent, err
			}
			if ok {
				sent++
			}
		}
		if len(ws) < certificateBatch {
			return sent, nil
		}
		after = ws[len(ws)-1].ID
	}
}

// announceCertificate sends the expiry event of w's certificate if this
// node wins its announcement.
func (d *Dispatcher) announceCertificate(ctx context.Context, w *hookgate.Webhook) (bool, error) {
	c := w.TLS.ClientCertificateInfo()
	if c == nil {
		return false, nil
	}
	won, err := d.cfg.Queue.AnnounceCertificate(ctx, w.ProjectID, w.ID, c.SHA256)
	if err != nil || !won {
		return false, err
	}
	data, _ := json.Marshal(map[string]any{
		"webhookId": w.ID, "url": hookgate.RedactURL(w.URL), "notAfter": c.NotAfter, "subject": c.Subject,
		"issuer": c.Issuer, "fingerprint": c.SHA256,
	})
	if _, err := d.cfg.Queue.CreateEvents(ctx, w.ProjectID, []hookgate.EventInput{{Type: hookgate.EventCertificateExpiring, Data: data}}); err != nil {
		return false, err
	}
	d.cfg.Logger.Warn("a webhook's client certificate expires soon", "project", w.ProjectID, "webhook", w.ID,
		"notAfter", c.NotAfter, "fingerprint", c.SHA256)
	d.Wake()
	return true, nil
}
