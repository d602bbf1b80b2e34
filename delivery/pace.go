package delivery

import (
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
