package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
)

// The bodies of sendEvent and sendEvents are decoded once (issue 30). Huma
// would decode each body twice: into an any for its JSON Schema validation,
// then into the struct. These operations skip huma's validation
// (SkipValidateBody); their types decode themselves instead, with a quick
// check that takes a body only when the schema would take it and the
// struct would hold what it says. Any other body, and so every bad one, is
// kept and checked by a resolver as huma checked it: decoded into an any,
// validated against the operation's schema, then decoded into the struct.
// Bad input gets the answer it got before, word for word.

// metaOnce is the operation metadata key of the onceCheck of an operation
// whose body is decoded once.
const metaOnce = "hookgate.once"

// onceBody is what a body decoded once leaves for its resolver.
type onceBody struct {
	// decoded is set when encoding/json handed the body over: it is JSON.
	decoded bool
	// raw is the body, kept when the quick check did not take it.
	raw []byte
}

// keep records that the body was handed over, and keeps it when ok is
// false. b belongs to huma's pool of buffers, and is copied.
func (o *onceBody) keep(b []byte, ok bool) {
	o.decoded = true
	if !ok {
		o.raw = bytes.Clone(b)
	}
}

// onceCheck checks, as huma did, the bodies that the quick check refused.
type onceCheck struct {
	api huma.API
}

// resolve answers for a body decoded once: nothing when the quick check
// took it; otherwise the errors huma's validation gave, or none after
// decode, which decodes the body as huma did.
func (c onceCheck) resolve(ctx huma.Context, o *onceBody, decode func([]byte) error) []error {
	if o.decoded && o.raw == nil {
		return nil
	}
	if !o.decoded {
		// Huma could not decode the body and has said why, as its own
		// validation did, but under the status of a failed validation.
		// Its validation answered 400 for a body that is not JSON, and 415
		// for a Content-Type that it has no format for.
		status := http.StatusBadRequest
		if err := c.api.Unmarshal(ctx.Header("Content-Type"), []byte("{}"), new(any)); errors.Is(err, huma.ErrUnknownContentType) {
			status = http.StatusUnsupportedMediaType
		}
		return []error{onlyStatus(status)}
	}
	var parsed any
	if err := json.Unmarshal(o.raw, &parsed); err != nil {
		return []error{&huma.ErrorDetail{Location: "body", Message: err.Error(), Value: string(o.raw)}}
	}
	res := &huma.ValidateResult{}
	pb := huma.NewPathBuffer([]byte{}, 0)
	pb.Push("body")
	schema := ctx.Operation().RequestBody.Content["application/json"].Schema
	huma.Validate(c.api.OpenAPI().Components.Schemas, schema, pb, huma.ModeWriteToServer, parsed, res)
	if len(res.Errors) > 0 {
		return res.Errors
	}
	if err := decode(o.raw); err != nil {
		return []error{&huma.ErrorDetail{Location: "body", Message: err.Error(), Value: string(o.raw)}}
	}
	return nil
}

// onlyStatus is an error that sets the status of huma's answer, and says
// nothing else: humaError reads only errors that are huma.ErrorDetailers.
type onlyStatus int

func (s onlyStatus) Error() string  { return http.StatusText(int(s)) }
func (s onlyStatus) GetStatus() int { return int(s) }

// sendEventInput is sendEvent's input.
type sendEventInput struct {
	ProjectRef
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"256" doc:"Makes retries of this request safe for 24 hours"`
	TraceHeaders
	Body eventIn
}

// Resolve implements huma.Resolver: see onceCheck.
func (in *sendEventInput) Resolve(ctx huma.Context) []error {
	c, _ := ctx.Operation().Metadata[metaOnce].(onceCheck)
	return c.resolve(ctx, &in.Body.once, in.Body.decodePlain)
}

// UnmarshalJSON implements json.Unmarshaler: see onceCheck.
func (e *eventIn) UnmarshalJSON(b []byte) error {
	e.once.keep(b, e.quick(b))
	return nil
}

// plainEventIn is eventIn without its UnmarshalJSON.
type plainEventIn struct {
	Type           string  `json:"type"`
	Data           rawJSON `json:"data"`
	IdempotencyKey string  `json:"idempotencyKey,omitempty"`
}

// decodePlain decodes b as encoding/json decodes an eventIn without
// UnmarshalJSON.
func (e *eventIn) decodePlain(b []byte) error {
	// Named as the type it stands for, so that errors name it as they
	// did: "Go struct field eventIn.type".
	type eventIn plainEventIn
	var p eventIn
	err := json.Unmarshal(b, &p)
	e.Type, e.Data, e.IdempotencyKey = p.Type, p.Data, p.IdempotencyKey
	return err
}

// sendEventsRequest is sendEvents' body. Its schema keeps the name huma
// gave the anonymous struct it replaces.
type sendEventsRequest struct {
	Events []eventIn `json:"events" minItems:"1" maxItems:"1000"`

	once onceBody
}

// sendEventsInput is sendEvents' input.
type sendEventsInput struct {
	ProjectRef
	TraceHeaders
	Body sendEventsRequest
}

// Resolve implements huma.Resolver: see onceCheck.
func (in *sendEventsInput) Resolve(ctx huma.Context) []error {
	c, _ := ctx.Operation().Metadata[metaOnce].(onceCheck)
	return c.resolve(ctx, &in.Body.once, in.Body.decodePlain)
}

// UnmarshalJSON implements json.Unmarshaler: see onceCheck.
func (r *sendEventsRequest) UnmarshalJSON(b []byte) error {
	r.once.keep(b, r.quick(b))
	return nil
}

// decodePlain decodes b as encoding/json decodes a sendEventsRequest
// without UnmarshalJSON.
func (r *sendEventsRequest) decodePlain(b []byte) error {
	type eventIn plainEventIn // as in eventIn.decodePlain
	var p struct {
		Events []eventIn `json:"events"`
	}
	err := json.Unmarshal(b, &p)
	// The events the quick check left are reused, cleared.
	r.Events = slices.Grow(r.Events[:0], len(p.Events))[:len(p.Events)]
	clear(r.Events)
	for i, e := range p.Events {
		r.Events[i].Type, r.Events[i].Data, r.Events[i].IdempotencyKey = e.Type, e.Data, e.IdempotencyKey
	}
	return err
}

// maxEventText is the maxLength of an event's type and idempotencyKey.
const maxEventText = 256

// quick decodes b, valid JSON, into e when the schema takes it and plain
// decoding would give the same: an object with each of type and data
// once, idempotencyKey at most once, and no other property; its names and
// strings without escapes; and type and idempotencyKey strings of at most
// maxEventText characters. It reports whether it did.
func (e *eventIn) quick(b []byte) bool {
	if len(b) == 0 || b[0] != '{' {
		return false
	}
	var seen [3]bool
	i := skipSpace(b, 1)
	for i < len(b) && b[i] != '}' {
		name, ok := plainString(b, i)
		if !ok {
			return false
		}
		i = skipSpace(b, i+len(name)+2)
		i = skipSpace(b, i+1) // the colon
		end := skipValue(b, i)
		v := b[i:end]
		var field int
		switch string(name) {
		case "type":
			field = 0
			s, ok := plainString(v, 0)
			if !ok || utf8.RuneCount(s) > maxEventText {
				return false
			}
			e.Type = string(s)
		case "data":
			field = 1
			e.Data = append(e.Data[:0], v...)
		case "idempotencyKey":
			field = 2
			s, ok := plainString(v, 0)
			if !ok || utf8.RuneCount(s) > maxEventText {
				return false
			}
			e.IdempotencyKey = string(s)
		default:
			return false
		}
		if seen[field] {
			return false
		}
		seen[field] = true
		i = skipSpace(b, end)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return seen[0] && seen[1]
}

// quick decodes b, valid JSON, into r when the schema takes it and plain
// decoding would give the same: an object with events once and no other
// property, an array of 1 to MaxBatchEvents events that eventIn.quick
// takes. It reports whether it did.
func (r *sendEventsRequest) quick(b []byte) bool {
	if len(b) == 0 || b[0] != '{' {
		return false
	}
	i := skipSpace(b, 1)
	name, ok := plainString(b, i)
	if !ok || string(name) != "events" {
		return false
	}
	i = skipSpace(b, i+len(name)+2)
	i = skipSpace(b, i+1) // the colon
	if i >= len(b) || b[i] != '[' {
		return false
	}
	for i = skipSpace(b, i+1); i < len(b) && b[i] != ']'; {
		if len(r.Events) == MaxBatchEvents {
			return false
		}
		end := skipValue(b, i)
		r.Events = append(r.Events, eventIn{})
		if !r.Events[len(r.Events)-1].quick(b[i:end]) {
			return false
		}
		i = skipSpace(b, end)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	// Only the object's end may follow the array.
	return len(r.Events) > 0 && skipSpace(b, i+1) == len(b)-1
}

// skipSpace returns the index of the first byte of b from i that is not
// JSON whitespace.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index just past the JSON value that begins at
// b[i]. b is valid JSON.
func skipValue(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if depth == 0 {
				return i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
			if depth < 0 {
				return i // the end of the enclosing object
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i // the end of a number or literal
			}
		}
	}
	return i
}

// plainString returns the content of the JSON string that begins at b[i],
// when it has no escape and is valid UTF-8, so that it is its own value.
func plainString(b []byte, i int) ([]byte, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, false
	}
	end := bytes.IndexByte(b[i+1:], '"')
	if end < 0 {
		return nil, false
	}
	s := b[i+1 : i+1+end]
	if bytes.IndexByte(s, '\\') >= 0 || !utf8.Valid(s) {
		return nil, false
	}
	return s, true
}
