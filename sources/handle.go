package sources

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hookgate/hookgate"
)

// IdempotencyKey is the idempotency key of the event a source's message
// with ID id becomes: a message taken again within the idempotency window
// answers the event it became, and makes none.
func IdempotencyKey(sourceID, id string) string {
	return "source:" + sourceID + ":" + id
}

// handle turns one message into an event of the source's project: its
// body (JSON) the data, its type as the source's eventType says. A
// message that cannot become one is rejected (ErrMessageRejected,
// counted, logged, kept as the last error); a failed commit is a plain
// error, and the message comes again.
func (c *consumer) handle(ctx context.Context, m hookgate.SourceMessage) error {
	now := c.r.cfg.Now().UTC()
	c.update(func(st *hookgate.SourceState) {
		st.Received++
		st.LastMessageAt = now
	})
	in, why := c.event(m)
	if why == "" {
		_, err := c.r.cfg.Ingest.Ingest(ctx, c.src.ProjectID, in, m.Headers["traceparent"], m.Headers["tracestate"])
		switch {
		case errors.Is(err, hookgate.ErrMessageRejected):
			why = strings.TrimPrefix(err.Error(), hookgate.ErrMessageRejected.Error()+": ")
		case err != nil:
			c.update(func(st *hookgate.SourceState) {
				st.LastError, st.LastErrorAt = fmt.Sprintf("message %s: its event could not be committed; it comes again: %s", m.ID, err), now
			})
			return err
		default:
			c.update(func(st *hookgate.SourceState) { st.Accepted++ })
			return nil
		}
	}
	c.update(func(st *hookgate.SourceState) {
		st.Rejected++
		st.LastError, st.LastErrorAt = fmt.Sprintf("message %s rejected: %s", m.ID, why), now
	})
	c.r.cfg.Logger.Warn("source message rejected", "source", c.src.ID, "project", c.src.ProjectID, "message", m.ID, "why", why)
	return fmt.Errorf("%w: %s", hookgate.ErrMessageRejected, why)
}

// event is m as an event's input, or why it cannot be one.
func (c *consumer) event(m hookgate.SourceMessage) (hookgate.EventInput, string) {
	if len(m.Body) == 0 {
		return hookgate.EventInput{}, "the message has no body"
	}
	if !json.Valid(m.Body) {
		return hookgate.EventInput{}, "the body is not JSON"
	}
	typ, err := c.src.EventType.TypeOf(m, m.Body)
	if err != nil {
		return hookgate.EventInput{}, err.Error()
	}
	in := hookgate.EventInput{Type: typ, Data: m.Body}
	if m.ID != "" {
		in.IdempotencyKey = IdempotencyKey(c.src.ID, m.ID)
	}
	return in, ""
}
