package hookgate

import (
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"strings"
)

// TraceContext is a W3C Trace Context (https://www.w3.org/TR/trace-context/):
// the trace a request belongs to and the span it comes from. An event keeps
// the one of the request that accepted it, whose SpanID is Hookgate's
// ingest span; each attempt to deliver it is a child of that span, and the
// receiver gets a traceparent naming the attempt's span.
type TraceContext struct {
	TraceID [16]byte
	SpanID  [8]byte
	// Sampled is the traceparent's sampled flag.
	Sampled bool
	// State is the tracestate header as the producer sent it, for the
	// receivers; "" for none.
	State string
}

// MaxTraceState bounds a kept tracestate, in bytes (W3C: 32 members of at
// most 256 characters; vendors keep 512).
const MaxTraceState = 512

// IsZero reports whether t names no trace.
func (t TraceContext) IsZero() bool { return t.TraceID == [16]byte{} }

// TraceIDString is the trace ID in lower-case hex, "" for none.
func (t TraceContext) TraceIDString() string {
	if t.IsZero() {
		return ""
	}
	return hex.EncodeToString(t.TraceID[:])
}

// SpanIDString is the span ID in lower-case hex, "" for none.
func (t TraceContext) SpanIDString() string {
	if t.SpanID == [8]byte{} {
		return ""
	}
	return hex.EncodeToString(t.SpanID[:])
}

// Traceparent formats t as a traceparent header (version 00); "" when t
// names no trace or no span.
func (t TraceContext) Traceparent() string {
	if t.IsZero() || t.SpanID == [8]byte{} {
		return ""
	}
	flags := "00"
	if t.Sampled {
		flags = "01"
	}
	return "00-" + hex.EncodeToString(t.TraceID[:]) + "-" + hex.EncodeToString(t.SpanID[:]) + "-" + flags
}

// ParseTraceparent reads a traceparent header, and tracestate with it
// when it is valid; ok is false for a header that is not a valid
// traceparent, which is then ignored (W3C: start a new trace). A version
// above 00 is read by its first four fields, as the specification asks.
func ParseTraceparent(traceparent, tracestate string) (t TraceContext, ok bool) {
	h := strings.TrimSpace(traceparent)
	if len(h) < 55 || (len(h) > 55 && h[55] != '-') {
		return t, false
	}
	version, rest := h[:2], h[2:]
	if !isLowerHex(version) || version == "ff" || (version == "00" && len(h) != 55) {
		return t, false
	}
	if rest[0] != '-' || rest[33] != '-' || rest[50] != '-' {
		return t, false
	}
	tid, sid, flags := rest[1:33], rest[34:50], rest[51:53]
	if !isLowerHex(tid) || !isLowerHex(sid) || !isLowerHex(flags) {
		return t, false
	}
	_, _ = hex.Decode(t.TraceID[:], []byte(tid))
	_, _ = hex.Decode(t.SpanID[:], []byte(sid))
	if t.IsZero() || t.SpanID == [8]byte{} {
		return TraceContext{}, false
	}
	var f [1]byte
	_, _ = hex.Decode(f[:], []byte(flags))
	t.Sampled = f[0]&1 == 1
	if s := strings.TrimSpace(tracestate); len(s) <= MaxTraceState && isHeaderText(s) {
		t.State = s
	}
	return t, true
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// isHeaderText reports whether s is printable ASCII, safe to send back as
// a header value.
func isHeaderText(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// NewTraceID returns a random trace ID.
func NewTraceID() [16]byte {
	var id [16]byte
	for id == [16]byte{} {
		putUint64(id[:8], rand.Uint64())
		putUint64(id[8:], rand.Uint64())
	}
	return id
}

// NewSpanID returns a random span ID.
func NewSpanID() [8]byte {
	var id [8]byte
	for id == [8]byte{} {
		putUint64(id[:], rand.Uint64())
	}
	return id
}

func putUint64(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (56 - 8*i))
	}
}

// TraceOfEvent is the trace of an event that kept none (accepted before
// Hookgate kept traces): its trace ID is derived from the event's ID, so
// that every attempt of the event is in one trace, and it has no parent
// span.
func TraceOfEvent(eventID string) TraceContext {
	sum := sha256.Sum256([]byte("hookgate trace\x00" + eventID))
	var t TraceContext
	copy(t.TraceID[:], sum[:16])
	t.Sampled = true
	return t
}

// ChildOf returns a new span of parent's trace (a new trace when parent
// names none, sampled): the trace context an attempt, or a span Hookgate
// does not export, sends on.
func ChildOf(parent TraceContext) TraceContext {
	t := parent
	if t.IsZero() {
		t = TraceContext{TraceID: NewTraceID(), Sampled: true}
	}
	t.SpanID = NewSpanID()
	return t
}
