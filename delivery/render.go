package delivery

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/expressions"
	"github.com/hookgate/hookgate/signing"
)

// MaxRequestBody is how much of a body a transform made is kept with an
// attempt, as much as of an answer (MaxResponseBody).
const MaxRequestBody = MaxResponseBody

// Body is what every destination kind sends for one delivery: the bytes,
// their content type, and the headers a webhook's transformHeaders made.
type Body struct {
	Bytes       []byte
	ContentType string
	// Header holds the headers a webhook's transformHeaders made, by the
	// names it gave them; nil without one. A Content-Type among them is
	// ContentType instead, and the names a destination sets itself for
	// every kind (traceparent, tracestate, webhook-key-id) are left out:
	// Hookgate's own win.
	Header map[string]string
	// Transformed says that the webhook's transform made Bytes: the
	// attempt keeps them (Recorded). Without one, Bytes are the event's
	// envelope, which the event keeps.
	Transformed bool
}

// Recorded is what an attempt keeps of b as its request body: the first
// MaxRequestBody bytes (cut on a character's boundary) of a body a
// transform made, "" for the envelope.
func (b Body) Recorded() string {
	if !b.Transformed {
		return ""
	}
	s := b.Bytes
	if len(s) > MaxRequestBody {
		s = s[:MaxRequestBody]
		if i := lastRuneStart(s); !utf8.FullRune(s[i:]) {
			s = s[:i]
		}
	}
	return string(s)
}

// lastRuneStart is the index of the first byte of s's last character.
func lastRuneStart(s []byte) int {
	i := len(s) - 1
	for i > 0 && i > len(s)-utf8.UTFMax && !utf8.RuneStart(s[i]) {
		i--
	}
	return i
}

// Redact hides in h, an attempt's recorded request headers, the values of
// b's headers that are credentials (an Authorization header, a name with
// "token", "key" or "secret"...), as a trigger's recorded headers hide
// them.
func (b Body) Redact(h map[string]string) {
	for k := range b.Header {
		if _, ok := h[k]; ok && hookgate.IsCredentialHeader(k) {
			h[k] = redactHeader(k, h[k])
		}
	}
}

// TransformError is the error of a delivery whose body or headers the
// webhook's transform or transformHeaders failed to make from the event
// (a field missing from data, a result of the wrong type, a run over the
// cost limit). No retry can do better: the delivery fails at once.
type TransformError struct {
	// Param is the webhook's field at fault: transform or
	// transformHeaders.
	Param string
	Err   error
}

func (e *TransformError) Error() string { return e.Param + ": " + e.Err.Error() }

func (e *TransformError) Unwrap() error { return e.Err }

// IsTransformError reports whether err is a *TransformError.
func IsTransformError(err error) bool {
	var te *TransformError
	return errors.As(err, &te)
}

// ReasonTransform is the reason of a delivery that failed for good
// because its transform failed on the event.
const ReasonTransform = "its transform failed on the event"

// UnsendableReason is the reason of a permanent failure, err, to make a
// delivery's request or message: ReasonTransform for a *TransformError,
// else reason, the kind's own.
func UnsendableReason(err error, reason string) string {
	if IsTransformError(err) {
		return ReasonTransform
	}
	return reason
}

// HeaderNames returns the names of b's headers in order, for a
// destination that sends its headers as a list.
func (b Body) HeaderNames() []string { return slices.Sorted(maps.Keys(b.Header)) }

// ownHeaders are the headers a destination sets itself, whatever its
// kind, besides those a webhook may not set at all
// (hookgate.ValidateHeaders): transformHeaders cannot replace them.
var ownHeaders = map[string]bool{"traceparent": true, "tracestate": true, signing.HeaderKeyID: true}

// Render returns the body of m for w: the result of w's transform when it
// has one, else Payload's; and the headers of its transformHeaders. The
// event is decoded once for both. Its error is a *TransformError when the
// transform or transformHeaders fails on the event, or Payload's. For a
// recovery probe (m.Probe) a failing transform or transformHeaders is left
// out, and the envelope sent, so that a webhook can always be probed.
//
// A webhook without either costs what Payload costs, and no more.
func Render(ctx context.Context, w *hookgate.Webhook, m hookgate.DeliveryMessage) (Body, error) {
	if w.Transform == "" && w.TransformHeaders == "" {
		b, ct, err := Payload(w, m)
		return Body{Bytes: b, ContentType: ct}, err
	}
	out, err := transform(ctx, w, m)
	if err != nil && m.Probe && IsTransformError(err) {
		plain := *w
		plain.Transform, plain.TransformHeaders = "", ""
		return Render(ctx, &plain, m)
	}
	return out, err
}

// transform is Render for a webhook with a transform or transformHeaders.
func transform(ctx context.Context, w *hookgate.Webhook, m hookgate.DeliveryMessage) (Body, error) {
	var out Body
	var tr *expressions.Transform
	var hd *expressions.Headers
	var err error
	if w.Transform != "" {
		if tr, err = expressions.CachedTransform(w.Transform); err != nil {
			return out, &TransformError{Param: "transform", Err: err}
		}
	}
	if w.TransformHeaders != "" {
		if hd, err = expressions.CachedHeaders(w.TransformHeaders); err != nil {
			return out, &TransformError{Param: "transformHeaders", Err: err}
		}
	}
	in, err := expressions.NewInput(expressions.Event{ID: m.EventID, Type: m.EventType, Timestamp: m.EventTime, Data: m.Data})
	if err != nil {
		param := "transform"
		if tr == nil {
			param = "transformHeaders"
		}
		return out, &TransformError{Param: param, Err: err}
	}
	in = in.WithMetadata(w.Metadata)
	if tr != nil {
		if out.Bytes, out.ContentType, err = tr.ApplyInput(ctx, in); err != nil {
			return Body{}, evalError("transform", err)
		}
		out.Transformed = true
	} else if out.Bytes, out.ContentType, err = Payload(w, m); err != nil {
		return Body{}, err
	}
	if hd != nil {
		h, err := hd.ApplyInput(ctx, in)
		if err != nil {
			return Body{}, evalError("transformHeaders", err)
		}
		for k, v := range h {
			switch lk := strings.ToLower(k); {
			case lk == "content-type":
				out.ContentType = v
			case !ownHeaders[lk]:
				if out.Header == nil {
					out.Header = make(map[string]string, len(h))
				}
				out.Header[k] = v
			}
		}
	}
	return out, nil
}

// evalError is the error of param's evaluation: a *TransformError when it
// failed on the event or ran over its cost, else (the context ended) err.
func evalError(param string, err error) error {
	if errors.Is(err, expressions.ErrTransform) || errors.Is(err, expressions.ErrCostLimit) {
		return &TransformError{Param: param, Err: err}
	}
	return err
}

// header returns the request headers of a delivery: b's, then the trace
// context's (t), which win over them. Nil when there are none.
func (b Body) header(t hookgate.TraceContext) http.Header {
	h := TraceHeaders(t)
	if len(b.Header) == 0 {
		return h
	}
	out := make(http.Header, len(b.Header)+len(h))
	for k, v := range b.Header {
		out.Set(k, v)
	}
	for k, v := range h {
		out[k] = v
	}
	return out
}
