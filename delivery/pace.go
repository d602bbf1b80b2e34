package delivery

import (
	"context"
	"time"

	"golang.org/x/time/rate"

	"github.com/hookgate/hookgate"
)

// pacer is the rate limiter of one webhook with a rateLimit.
type pacer struct {
	lim   *rate.Limiter
	limit int
	used  time.Time
}

// Pace returns the limiter that spaces this node's requests to w at its
// rateLimit, or nil when it has none. Deliveries and triggers share it, so
// that rateLimit caps every request the node makes to the endpoint. A burst
// of one spaces requests evenly: no second holds more than rateLimit of
// them. Limiters unused for ten minutes are forgotten.
func (s *Sender) Pace(w *hookgate.Webhook) *rate.Limiter {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.swept) > time.Minute {
		s.swept = now
		for id, p := range s.paces {
			if now.Sub(p.used) > 10*time.Minute {
				delete(s.paces, id)
			}
		}
		// And the clients of webhooks with TLS settings, even when no
		// such webhook sends any more.
		s.sweepTLSClients(now)
	}
	p, ok := s.paces[w.ID]
	if w.RateLimit <= 0 {
		if ok {
			delete(s.paces, w.ID)
		}
		return nil
	}
	switch {
	case !ok:
		if s.paces == nil {
			s.paces = map[string]*pacer{}
		}
		p = &pacer{lim: rate.NewLimiter(rate.Limit(w.RateLimit), 1), limit: w.RateLimit}
		s.paces[w.ID] = p
	case p.limit != w.RateLimit:
		p.limit = w.RateLimit
		p.lim.SetLimitAt(now, rate.Limit(w.RateLimit))
	}
	p.used = now
	return p.lim
}

// awaitTurn waits until r, a reservation on a rate limiter, may act, and
// reports ctx's error, with r cancelled, if ctx ends first. The limiter's
// decision is read from now, the injected clock, each time a timer fires,
// never from the timer alone: a test's clock decides when a request goes.
func awaitTurn(ctx context.Context, r *rate.Reservation, now func() time.Time) error {
	for {
		wait := r.DelayFrom(now())
		if wait <= 0 {
			return nil
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			r.CancelAt(now())
			return ctx.Err()
		case <-timer.C:
		}
	}
}
