package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

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

func (s *Server) inbound(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, err := s.store.FindPlatformByID(ctx, r.PathValue("platformId"))
	if err != nil {
		if hookgate.ErrorCode(err) == hookgate.ENotFound {
			// The same answer whether the ID exists in no project or was
			// deleted: nothing tells a prober more.
			writeProblem(w, r, newProblem(http.StatusNotFound, hookgate.ENotFound, "platform not found"))
			return
		}
		writeProblem(w, r, problemFrom(err))
		return
	}
	prov, ok := s.cfg.Providers[p.Provider]
	if !ok {
		writeProblem(w, r, newProblem(http.StatusNotFound, hookgate.ENotFound, "platform not found"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxEventBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeProblem(w, r, newProblem(http.StatusRequestEntityTooLarge, hookgate.EPayloadTooLarge, "the body is larger than the server takes"))
			return
		}
		writeProblem(w, r, newProblem(http.StatusBadRequest, hookgate.EInvalidParameter, "the body could not be read"))
		return
	}
	in := &platforms.Inbound{Method: r.Method, Header: r.Header, Query: r.URL.Query(), Body: body, Now: s.now(), Platform: p}
	reply, err := prov.Verify(in)
	if err != nil {
		pr := newProblem(http.StatusUnauthorized, hookgate.EUnauthorized, "the request is not signed by the platform")
		pr.cause = err
		writeProblem(w, r, pr)
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
		inputs := make([]hookgate.EventInput, len(events))
		for i := range events {
			e := &events[i]
			inputs[i] = hookgate.EventInput{Type: e.Type, Data: e.Data(p)}
			if e.DedupKey != "" {
				// A provider retries until it is answered: the same key
				// within the idempotency window creates nothing new.
				inputs[i].IdempotencyKey = "inbound:" + p.ID + ":" + e.DedupKey
			}
		}
		got, err := s.store.CreateEvents(ctx, p.ProjectID, inputs)
		if err != nil {
			writeProblem(w, r, problemFrom(err))
			return
		}
		s.countAccepted(got)
	}
	s.touch(p.ID)
	if ack, ok := prov.(platforms.Acknowledger); ok {
		if reply := ack.Ack(in); reply != nil {
			writeReply(w, reply)
			return
		}
	}
	writeJSON(w, map[string]bool{"ok": true})
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
