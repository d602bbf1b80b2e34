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
// returns how many it sent. Each certificate is announced once: once its
// event is in, the store records its fingerprint as announced
// (Queue.AnnounceCertificate), and the event's idempotency key keeps
// nodes checking at once to one event; a new certificate is announced
// anew.
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

// announceCertificate sends the expiry event of w's certificate unless it
// was sent already, and records it as announced. The event goes first,
// under an idempotency key of the webhook and the fingerprint, then the
// compare-and-set: nodes checking at once make one event (the store's
// idempotency claim), and a node that stops between the two leaves the
// certificate unannounced, so that the next check announces it, and
// finds the same event (within the key's 24 hours) instead of sending
// another. It reports whether this call created the event.
func (d *Dispatcher) announceCertificate(ctx context.Context, w *hookgate.Webhook) (bool, error) {
	c := w.ClientCertificateInfo()
	if c == nil {
		return false, nil
	}
	data, _ := json.Marshal(map[string]any{
		"webhookId": w.ID, "url": hookgate.RedactURL(w.URL), "notAfter": c.NotAfter, "subject": c.Subject,
		"issuer": c.Issuer, "fingerprint": c.SHA256,
	})
	in := hookgate.EventInput{Type: hookgate.EventCertificateExpiring, Data: data,
		IdempotencyKey: hookgate.EventCertificateExpiring + "/" + w.ID + "/" + c.SHA256}
	evs, err := d.cfg.Queue.CreateEvents(ctx, w.ProjectID, []hookgate.EventInput{in})
	if err == nil && len(evs) == 1 && evs[0].Replayed && evs[0].Type != hookgate.EventCertificateExpiring {
		// A producer's event holds the key (producers choose theirs
		// freely): it may not silence the announcement.
		in.IdempotencyKey = ""
		evs, err = d.cfg.Queue.CreateEvents(ctx, w.ProjectID, []hookgate.EventInput{in})
	}
	if err != nil {
		return false, err
	}
	if _, err := d.cfg.Queue.AnnounceCertificate(ctx, w.ProjectID, w.ID, c.SHA256); err != nil {
		return false, err
	}
	created := len(evs) == 1 && !evs[0].Replayed
	if created {
		d.cfg.Logger.Warn("a webhook's client certificate expires soon", "project", w.ProjectID, "webhook", w.ID,
			"notAfter", c.NotAfter, "fingerprint", c.SHA256)
		d.Wake()
	}
	return created, nil
}
