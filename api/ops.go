package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hookgate/hookgate"
)

// registerOps adds the operations endpoints; they are outside the v1 API and
// need no key.
func (s *Server) registerOps() {
	s.mux.HandleFunc("GET /healthz", s.handleHealthz)
	s.mux.HandleFunc("GET /readyz", s.handleReadyz)
	s.mux.HandleFunc("GET /.well-known/hookgate/{project}/jwks.json", s.handleJWKS)
	if s.cfg.MetricsToken == "" {
		return // metrics are served on their own listener (serve --metrics-addr)
	}
	s.mux.Handle("GET /metrics", s.handleMetrics())
}

// handleHealthz answers that the process serves.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]string{"status": "ok"})
}

// Drain marks the node as stopping: /readyz answers 503 from now on, so
// that load balancers and orchestrators send it no new traffic, while
// every other route, /healthz included, is served as before. serve calls
// it on SIGTERM, before the listener closes (--drain-delay apart).
func (s *Server) Drain() { s.draining.Store(true) }

// handleReadyz answers whether this node should be sent traffic: it is
// not draining, and the database answers. serve opens its listener only
// after the schema is migrated and the keys are checked, so no node
// answers at all before then.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		// No Retry-After: this node will not be ready again. Not through
		// writeProblem, which logs a failed request: a drain is expected,
		// serve logs it once, and probes ask every few seconds.
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(newProblem(http.StatusServiceUnavailable, hookgate.EUnavailable, "this node is draining: it is stopping"))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		p := newProblem(http.StatusServiceUnavailable, hookgate.EUnavailable, "the database does not answer")
		p.cause, p.retryAfter = err, "1"
		writeProblem(w, r, p)
		return
	}
	writeJSON(w, map[string]string{"status": "ready"})
}

// handleMetrics serves the registry to requests that carry the metrics
// token.
func (s *Server) handleMetrics() http.Handler {
	metrics := promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{EnableOpenMetrics: true})
	want := sha256.Sum256([]byte("Bearer " + s.cfg.MetricsToken))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := sha256.Sum256([]byte(r.Header.Get("Authorization")))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			writeProblem(w, r, newProblem(http.StatusUnauthorized, hookgate.EUnauthorized, "metrics need Authorization: Bearer {--metrics-token}"))
			return
		}
		metrics.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
