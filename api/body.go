package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/hookgate/hookgate"
)

// Request bodies are read under a budget of bytes in flight, counted as
// they arrive: a client that declares a large Content-Length and sends
// nothing holds nothing. A body must arrive within the body timeout, far
// below the listener's read timeout, so that a slow client cannot keep
// what it has sent for long. API bodies are read only once the request has
// authenticated (see ServeHTTP), inbound posts once their headers passed
// their provider's checks (see inbound).

// errBudget says that the body budget is spent.
var errBudget = errors.New("the server is reading as many request bodies as it takes at once")

// budgetReader takes from sem what it reads, as it reads it; release
// gives it all back, and what is read after takes nothing. release runs
// when the request's context ends, which may be while a read is under way
// (the client went away).
type budgetReader struct {
	r   io.Reader
	sem *semaphore.Weighted
	// end, when set, is called once, when the body ends or fails.
	end func()

	mu       sync.Mutex
	held     int64
	released bool
}

func (b *budgetReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 && !b.take(int64(n)) {
		n, err = 0, errBudget
	}
	if err != nil && b.end != nil {
		b.end()
		b.end = nil
	}
	return n, err
}

func (b *budgetReader) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.released {
		return true // the request is over; nothing is held for it
	}
	if !b.sem.TryAcquire(n) {
		return false
	}
	b.held += n
	return true
}

func (b *budgetReader) release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.released = true
	if b.held > 0 {
		b.sem.Release(b.held)
		b.held = 0
	}
}

// readBody reads r's body, at most limit bytes, under the budget sem and
// the body timeout. What it read stays counted until the request is done,
// for the request holds it until then. On failure it returns the problem
// to answer: 413 past limit, 503 with Retry-After when the budget is
// spent, 408 when the body came too slowly.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, limit int64, sem *semaphore.Weighted) ([]byte, *Problem) {
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	br, deadline := s.budgeted(w, r, http.MaxBytesReader(w, r.Body, limit), sem)
	body, err := io.ReadAll(br)
	if err == nil {
		return body, nil
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, tooLarge(limit)
	case errors.Is(err, errBudget):
		s.metrics.bodyRefusals.WithLabelValues("budget").Inc()
		p := newProblem(http.StatusServiceUnavailable, hookgate.EUnavailable, errBudget.Error()+"; try again shortly")
		p.retryAfter = "1"
		return nil, p
	case !deadline.IsZero() && time.Now().After(deadline):
		s.metrics.bodyRefusals.WithLabelValues("timeout").Inc()
		// The client was too slow, or sent nothing more: it will not
		// read an answer either, but a proxy in between may.
		w.Header().Set("Connection", "close")
		return nil, newProblem(http.StatusRequestTimeout, hookgate.EInvalidParameter,
			fmt.Sprintf("the body did not arrive within %s", s.cfg.BodyReadTimeout))
	default:
		return nil, newProblem(http.StatusBadRequest, hookgate.EInvalidJSON, "the body could not be read")
	}
}

func tooLarge(limit int64) *Problem {
	return newProblem(http.StatusRequestEntityTooLarge, hookgate.EPayloadTooLarge, fmt.Sprintf("the body is larger than %d bytes", limit))
}

// budgetBody makes r's body, read later by its handler, count against
// the API's budget as it arrives and arrive within the body timeout. For
// routes that read their own bodies (the dashboard's forms).
func (s *Server) budgetBody(w http.ResponseWriter, r *http.Request) *http.Request {
	br, _ := s.budgeted(w, r, r.Body, s.bodies)
	r2 := r.Clone(r.Context())
	r2.Body = struct {
		io.Reader
		io.Closer
	}{br, r.Body}
	return r2
}

// budgeted wraps body, r's, so that it counts against sem as it arrives,
// until r is done, and must arrive within the body timeout from now. The
// deadline is cleared once the body ends: the rest of the request (a
// trigger may wait on its receiver) is bounded by the write timeout, and a
// read deadline left behind would cancel it when it passed. deadline is
// zero when the connection takes none (an in-process request).
func (s *Server) budgeted(w http.ResponseWriter, r *http.Request, body io.Reader, sem *semaphore.Weighted) (br *budgetReader, deadline time.Time) {
	br = &budgetReader{r: body, sem: sem}
	rc := http.NewResponseController(w)
	if d := time.Now().Add(s.cfg.BodyReadTimeout); rc.SetReadDeadline(d) == nil {
		deadline = d
		br.end = func() { _ = rc.SetReadDeadline(time.Time{}) }
	}
	// Released when the request is done: its body is held until then.
	context.AfterFunc(r.Context(), br.release)
	return br, deadline
}
