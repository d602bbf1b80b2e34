package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookgate/hookgate"
)

// redriveFilterIn selects the deliveries of a redrive by filter.
type redriveFilterIn struct {
	Webhook   string `json:"webhook,omitempty" maxLength:"64" doc:"Only deliveries to this webhook (ID or uid)"`
	EventType string `json:"eventType,omitempty" maxLength:"256" doc:"Only deliveries of events of this type"`
	Status    string `json:"status,omitempty" enum:"exhausted,failed,succeeded" doc:"Only deliveries in this status; exhausted (the default) is failed"`
	Since     string `json:"since,omitempty" doc:"Only deliveries created at or after this RFC 3339 time"`
	Until     string `json:"until,omitempty" doc:"Only deliveries created before this RFC 3339 time"`
}

// redriveIn is the body of redriveDeliveries: exactly one of ids and filter.
type redriveIn struct {
	IDs    []string         `json:"ids,omitempty" maxItems:"1000" doc:"The deliveries to queue again, at most 1,000"`
	Filter *redriveFilterIn `json:"filter,omitempty" doc:"The event deliveries to queue again"`
}

type redriveOut struct {
	ID         string     `json:"id"`
	State      string     `json:"state" enum:"running,finished,failed"`
	Matched    int64      `json:"matched" doc:"Deliveries found so far"`
	Requeued   int64      `json:"requeued" doc:"Of those, the ones queued again; the others' webhook is not active, or they were pending"`
	StartedAt  time.Time  `json:"startedAt"`
	FinishedAt *time.Time `json:"finishedAt"`
	Error      string     `json:"error,omitempty" doc:"Why a failed redrive stopped"`
}

func toRedrive(r *hookgate.Redrive) redriveOut {
	out := redriveOut{ID: r.ID, State: r.State, Matched: r.Matched, Requeued: r.Requeued, StartedAt: utc(r.StartedAt), Error: r.Error}
	if !r.FinishedAt.IsZero() {
		t := utc(r.FinishedAt)
		out.FinishedAt = &t
	}
	return out
}

// redriveRoutes are the operations on redrives: start one and follow it.
func (s *Server) redriveRoutes() []route {
	tags := "Deliveries"
	path := base + "/projects/{project}"
	return []route{
		{op: also(op("redriveDeliveries", http.MethodPost, path+"/deliveries/redrive", "Queue again, in the background, the deliveries named or matching a filter", accessOwner, http.StatusAccepted, tags), http.StatusConflict), handle: handle(s.handleRedriveDeliveries)},
		{op: op("getRedrive", http.MethodGet, path+"/redrives/{id}", "Read a redrive's progress", accessOwner, http.StatusOK, tags), handle: handle(s.handleGetRedrive)},
	}
}

// handleRedriveDeliveries handles redriveDeliveries: Queue again, in the background, the deliveries named or matching a filter.
func (s *Server) handleRedriveDeliveries(ctx context.Context, in *struct {
	ProjectRef
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"256" doc:"The same key and body answer the redrive they started; another body is a 409"`
	Body           redriveIn
}) (*struct{ Body redriveOut }, error) {
	sel, err := s.redriveSelection(ctx, &in.Body)
	if err != nil {
		return nil, err
	}
	now := s.now()
	sum := sha256.Sum256([]byte(fmt.Sprintf("%q|%q|%q|%q|%d|%d", sel.IDs, sel.WebhookID, sel.EventType, sel.Status, sel.Since.UnixMicro(), sel.Until.UnixMicro())))
	r := &hookgate.Redrive{ID: hookgate.NewID(hookgate.PrefixRedrive, now), ProjectID: projectID(ctx), State: hookgate.RedriveRunning,
		Selection: sel, StartedAt: now, IdempotencyKey: in.IdempotencyKey, BodyHash: hex.EncodeToString(sum[:])}
	got, created, err := s.store.CreateRedrive(ctx, r, now.Add(hookgate.RedriveLease))
	if err != nil {
		return nil, err
	}
	if !created && got.BodyHash != r.BodyHash {
		return nil, &hookgate.Error{Code: hookgate.EIdempotencyConflict, Param: "Idempotency-Key", Value: in.IdempotencyKey,
			Message: "this Idempotency-Key started a redrive with another body; use a new key for a new redrive"}
	}
	if created {
		s.goRedrive(s.redrives.done, got.ProjectID, got.ID)
	}
	return &struct{ Body redriveOut }{Body: toRedrive(got)}, nil
}

// redriveSelection checks a redrive's body: exactly one of ids and filter.
func (s *Server) redriveSelection(ctx context.Context, in *redriveIn) (hookgate.RedriveSelection, error) {
	var sel hookgate.RedriveSelection
	switch {
	case in.IDs != nil && in.Filter != nil:
		return sel, hookgate.InvalidParam("filter", "", "give ids or filter, not both")
	case in.IDs == nil && in.Filter == nil:
		return sel, hookgate.MissingParam("ids")
	case in.IDs != nil:
		if len(in.IDs) == 0 {
			return sel, hookgate.InvalidParam("ids", in.IDs, "ids names no delivery")
		}
		for i, id := range in.IDs {
			if id == "" || len(id) > 64 {
				return sel, hookgate.InvalidParam(fmt.Sprintf("ids[%d]", i), id, "a delivery ID has 1 to 64 characters")
			}
		}
		sel.IDs = in.IDs
		return sel, nil
	}
	f := in.Filter
	sel.EventType, sel.Status = f.EventType, f.Status
	if sel.Status == "" || sel.Status == statusExhausted {
		sel.Status = hookgate.DeliveryFailed
	}
	if f.Webhook != "" {
		id, err := s.webhookID(ctx, f.Webhook)
		if hookgate.ErrorCode(err) == hookgate.ENotFound {
			return sel, hookgate.InvalidParam("filter.webhook", f.Webhook, "no such webhook")
		}
		if err != nil {
			return sel, err
		}
		sel.WebhookID = id
	}
	var err error
	if sel.Since, err = queryTime("filter.since", f.Since); err != nil {
		return sel, err
	}
	if sel.Until, err = queryTime("filter.until", f.Until); err != nil {
		return sel, err
	}
	return sel, nil
}

// redriveRuns are the redrives a node runs in the background, so that
// RunRedrives, when it ends, stops them between two batches and waits for
// them.
type redriveRuns struct {
	mu      sync.Mutex
	stopped bool
	// done is closed once RunRedrives ends.
	done chan struct{}
	wg   sync.WaitGroup
}

// goRedrive runs a redrive leased to this node in the background until it
// is over or stop is closed, unless the node is stopping: then the redrive
// is left to the next node that finds its lease expired.
func (s *Server) goRedrive(stop <-chan struct{}, projectID, id string) {
	s.redrives.mu.Lock()
	defer s.redrives.mu.Unlock()
	if s.redrives.stopped {
		return
	}
	s.redrives.wg.Go(func() { s.runRedrive(stop, projectID, id) })
}

// runRedrive walks a redrive leased to this node to its end, a batch at a
// time, waking the delivery engine after each batch. It runs apart from
// the request that started it, and stops between two batches once stop is
// closed (the node is stopping: RunRedrives ended, or is ending), leaving
// the redrive running for another node.
func (s *Server) runRedrive(stop <-chan struct{}, projectID, id string) {
	ctx := context.Background()
	for {
		select {
		case <-stop:
			return
		case <-s.redrives.done:
			return
		default:
		}
		now := s.now()
		// Each batch is a span of its own: a redrive outlives any request.
		_, span := s.cfg.Tracer.Start(ctx, "hookgate.redrive.batch", hookgate.TraceContext{}, trace.SpanKindInternal,
			attribute.String("hookgate.project.id", projectID), attribute.String("hookgate.redrive.id", id))
		over, err := s.store.StepRedrive(ctx, projectID, id, now, now.Add(hookgate.RedriveLease))
		if err != nil {
			span.Fail(hookgate.ErrorCode(err))
		}
		span.End()
		s.wake()
		if err != nil {
			s.log.Error("redrive failed", "project", projectID, "redrive", id, "err", err)
			if ferr := s.store.FailRedrive(ctx, projectID, id, err.Error(), s.now()); ferr != nil {
				s.log.Error("could not record the redrive's failure", "redrive", id, "err", ferr)
			}
			return
		}
		if over {
			return
		}
	}
}

// takeOverRedrive takes over a running redrive whose lease expired, and
// runs it on this node until it is over or stop is closed; it reports
// whether it did. The compare-and-set of the store gives each expired
// lease to one node.
func (s *Server) takeOverRedrive(ctx context.Context, stop <-chan struct{}, projectID, id string) (bool, error) {
	now := s.now()
	took, err := s.store.TakeOverRedrive(ctx, projectID, id, now, now.Add(hookgate.RedriveLease))
	if err != nil || !took {
		return false, err
	}
	s.goRedrive(stop, projectID, id)
	return true, nil
}

// expiredRedrivesPerLook bounds the redrives one look of RunRedrives takes
// over; the next look finds the rest.
const expiredRedrivesPerLook = 100

// RunRedrives resumes the redrives that stopped nodes left running (their
// lease expired), at once and then every RedrivePoll, until ctx is done, so
// that a redrive is finished even if nobody reads it again. Then it stops
// the redrives this node runs after their current batch, leaving them to
// the next node once their lease expired, and returns when they stopped.
// A node runs it once, beside its dispatcher (internal/app's App.Run).
func (s *Server) RunRedrives(ctx context.Context) {
	defer s.stopRedrives()
	t := time.NewTicker(s.cfg.RedrivePoll)
	defer t.Stop()
	for {
		s.resumeRedrives(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// resumeRedrives takes over and runs the running redrives whose lease
// expired.
func (s *Server) resumeRedrives(ctx context.Context) {
	expired, err := s.store.ExpiredRedrives(ctx, s.now(), expiredRedrivesPerLook)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("look for redrives left by a stopped node", "err", err)
		}
		return
	}
	for _, r := range expired {
		took, err := s.takeOverRedrive(ctx, ctx.Done(), r.ProjectID, r.ID)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("take over a redrive left by a stopped node", "project", r.ProjectID, "redrive", r.ID, "err", err)
			}
			return
		}
		if took {
			s.log.Info("resuming a redrive whose node stopped", "project", r.ProjectID, "redrive", r.ID,
				"matched", r.Matched, "requeued", r.Requeued)
		}
	}
}

// stopRedrives stops the redrives this node runs after their current
// batch and waits for them; no redrive starts on this node afterwards.
func (s *Server) stopRedrives() {
	s.redrives.mu.Lock()
	s.redrives.stopped = true
	close(s.redrives.done)
	s.redrives.mu.Unlock()
	s.redrives.wg.Wait()
}

// handleGetRedrive handles getRedrive: Read a redrive's progress. A running
// redrive whose node stopped (its lease expired) is taken over here, unless
// RunRedrives took it over first.
func (s *Server) handleGetRedrive(ctx context.Context, in *struct {
	ProjectRef
	ID string `path:"id" maxLength:"64"`
}) (*struct{ Body redriveOut }, error) {
	pid := projectID(ctx)
	r, err := s.store.FindRedrive(ctx, pid, in.ID)
	if err != nil {
		return nil, err
	}
	if r.State == hookgate.RedriveRunning {
		if _, err := s.takeOverRedrive(ctx, s.redrives.done, pid, r.ID); err != nil {
			return nil, err
		}
	}
	return &struct{ Body redriveOut }{Body: toRedrive(r)}, nil
}
