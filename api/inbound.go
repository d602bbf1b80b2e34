package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/platforms"
)

// registerInbound adds the public inbound endpoint: what a provider posts
// there is verified by the platform's provider, turned into events and
// committed before the answer; the delivery engine fans them out after.
// It takes no API key: the provider's signature is the authentication.
func (s *Server) registerInbound() {
	s.mux.HandleFunc("POST /inbound/{platformId}", s.inbound)
	s.mux.HandleFunc("GET /inbound/{platformId}", s.inbound)
}

// inbound answers a provider's post. What it may cost before it proves
// its origin is bounded: the provider's header checks come before any of
// the body is read; then the post takes a slot of its platform's and its
// address's (503 past either cap) and reads its body, at most the
// provider's MaxBody, under the inbound byte budget and the body timeout.
// An ID that names no platform is answered exactly as a post that fails
// verification, so that probing learns nothing of which IDs exist.
func (s *Server) inbound(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, addr := r.PathValue("platformId"), clientAddr(r.RemoteAddr)
	in := &platforms.Inbound{Method: r.Method, Header: r.Header, Query: r.URL.Query(), Now: s.now()}
	p, err := s.store.FindPlatformByID(ctx, id)
	if err != nil && hookgate.ErrorCode(err) != hookgate.ENotFound {
		writeProblem(w, r, problemFrom(err))
		return
	}
	var prov platforms.Provider
	if err == nil {
		prov, _ = s.cfg.Providers.Get(p.Provider)
	}
	if prov == nil {
		s.refuseInbound(w, r, id, addr, errors.New("no platform has this ID"))
		return
	}
	in.Platform = p
	if err := prov.CheckHeader(in); err != nil {
		s.refuseInbound(w, r, id, addr, err)
		return
	}
	leave, ok := s.inboundLim.enter(p.ID, addr)
	if !ok {
		s.metrics.inboundRefusals.WithLabelValues("busy").Inc()
		pr := newProblem(http.StatusServiceUnavailable, hookgate.EUnavailable, "too many posts to this platform, or from this address, are in flight; try again shortly")
		pr.retryAfter = "1"
		writeProblem(w, r, pr)
		return
	}
	defer leave()
	body, pr := s.readBody(w, r, prov.MaxBody(), s.inboundLim.bytes)
	if pr != nil {
		writeProblem(w, r, pr)
		return
	}
	in.Body = body
	reply, err := prov.Verify(in)
	if err != nil {
		s.refuseInbound(w, r, id, addr, err)
		return
	}
	if reply != nil {
		writeReply(w, reply)
		return
	}
	events, err := prov.Normalize(in)
	if err != nil {
		pr := newProblem(http.StatusBadRequest, hookgate.EInvalidJSON, "the platform's payload could not be read")
		pr.cause = err
		writeProblem(w, r, pr)
		return
	}
	if len(events) > 0 {
		// A verified post's events are one trace, under the platform's
		// traceparent if it sent one.
		ctx, span := s.serverSpan(ctx, "hookgate.inbound", r.Header.Get("traceparent"), r.Header.Get("tracestate"),
			attribute.String("hookgate.project.id", p.ProjectID), attribute.String("hookgate.platform.id", p.ID),
			attribute.String("hookgate.platform.provider", p.Provider), attribute.Int("hookgate.events", len(events)))
		defer span.End()
		inputs := make([]hookgate.EventInput, len(events))
		for i := range events {
			e := &events[i]
			inputs[i] = hookgate.EventInput{Type: e.Type, Data: e.Data(p), Trace: span.Trace}
			if e.DedupKey != "" {
				// A provider retries until it is answered: the same key
				// within the idempotency window creates nothing new.
				inputs[i].IdempotencyKey = "inbound:" + p.ID + ":" + e.DedupKey
			}
		}
		var got []*hookgate.Event
		err := s.commit(ctx, "hookgate.commit", func(ctx context.Context) (err error) {
			got, err = s.store.CreateEvents(ctx, p.ProjectID, inputs)
			return err
		})
		if err != nil {
			writeProblem(w, r, problemFrom(err))
			return
		}
		s.countAccepted(got)
	}
	s.metrics.inboundAccepted.WithLabelValues(p.Provider).Inc()
	s.touch(p.ID)
	if ack, ok := prov.(platforms.Acknowledger); ok {
		if reply := ack.Ack(in); reply != nil {
			writeReply(w, reply)
			return
		}
	}
	writeJSON(w, map[string]bool{"ok": true})
}

// refuseInbound answers a post that did not prove its origin: 401, or
// 429 with Retry-After once its address has failed too often at this
// platform ID. cause is logged, never answered.
func (s *Server) refuseInbound(w http.ResponseWriter, r *http.Request, id, addr string, cause error) {
	var pr *Problem
	if wait := s.inboundLim.fails.fail(id + " " + addr); wait > 0 {
		s.metrics.inboundRefusals.WithLabelValues("throttled").Inc()
		pr = newProblem(http.StatusTooManyRequests, hookgate.ERateLimited, "too many unverified posts from this address; try again after Retry-After")
		pr.retryAfter = strconv.Itoa(int(wait.Seconds()) + 1)
	} else {
		s.metrics.inboundRefusals.WithLabelValues("unverified").Inc()
		pr = newProblem(http.StatusUnauthorized, hookgate.EUnauthorized, "the request is not signed by the platform")
	}
	pr.cause = cause
	writeProblem(w, r, pr)
}

// touches coalesces the lastInboundAt stamps: at most one write per
// platform per second, off the request's path, however busy the platform.
type touches struct {
	mu      sync.Mutex
	pending map[string]time.Time
}

// touch records the platform's last post without holding up the answer;
// a lost stamp costs nothing but its freshness.
func (s *Server) touch(id string) {
	t := &s.touched
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pending == nil {
		t.pending = map[string]time.Time{}
	}
	if len(t.pending) == 0 {
		time.AfterFunc(time.Second, s.flushTouches)
	}
	t.pending[id] = s.now()
}

func (s *Server) flushTouches() {
	t := &s.touched
	t.mu.Lock()
	batch := t.pending
	t.pending = map[string]time.Time{}
	t.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for id, at := range batch {
		if err := s.store.TouchPlatform(ctx, id, at); err != nil {
			s.log.Warn("record a platform's last post", "platform", id, "err", err)
		}
	}
}

func writeReply(w http.ResponseWriter, r *platforms.Reply) {
	if r.ContentType != "" {
		w.Header().Set("Content-Type", r.ContentType)
	}
	status := r.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(r.Body)
}
