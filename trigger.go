package hookgate

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// MaxChainSteps is the most calls one trigger makes, its chain included.
const MaxChainSteps = 5

// Chain is the next step of a trigger chain: after a 2xx answer, the
// webhook Webhook (in the same project) is triggered with what Map selects
// from that answer.
type Chain struct {
	// Webhook is the next webhook's ID (a uid given at registration is
	// stored as the ID it names).
	Webhook string   `json:"webhook"`
	Map     ChainMap `json:"map"`
}

// ChainMap selects, with JSON Pointers (RFC 6901) into a JSON answer, the
// next call's input.
type ChainMap struct {
	// Data points at the next call's data; empty passes the whole answer.
	// A GET or DELETE webhook is sent no data.
	Data string `json:"data,omitempty"`
	// Headers maps a header name to the pointer of its value.
	Headers map[string]string `json:"headers,omitempty"`
	// QueryParams maps a query parameter to the pointer of its value.
	QueryParams map[string]string `json:"queryParams,omitempty"`
}

// CheckChain refuses a chain from w that comes back to a webhook already
// in it, or that makes more than MaxChainSteps calls, with an
// EInvalidParameter error naming then. w.Then.Webhook is an ID; find
// returns the webhook of w's project with an ID, of which only ID and Then
// are read, or an ENotFound error: a chain ends where a webhook is gone. ref
// is how the caller named w.Then.Webhook, for the error.
func CheckChain(w *Webhook, ref string, find func(id string) (*Webhook, error)) error {
	if w.Then == nil {
		return nil
	}
	seen := map[string]bool{w.ID: true}
	id := w.Then.Webhook
	for steps := 2; ; steps++ {
		if seen[id] {
			return InvalidParam("then", ref, "then makes a cycle: the chain from %s comes back to %s", ref, id)
		}
		if steps > MaxChainSteps {
			return InvalidParam("then", ref, "then makes a chain of more than %d steps", MaxChainSteps)
		}
		seen[id] = true
		next, err := find(id)
		if ErrorCode(err) == ENotFound {
			return nil
		}
		if err != nil {
			return err
		}
		if next.Then == nil {
			return nil
		}
		id = next.Then.Webhook
	}
}

func (c *Chain) validate() error {
	if c.Webhook == "" {
		return MissingParam("then.webhook")
	}
	if err := checkPointer("then.map.data", c.Map.Data); err != nil {
		return err
	}
	if len(c.Map.Headers) > MaxHeaders || len(c.Map.QueryParams) > MaxQueryParams {
		return InvalidParam("then.map", nil, "then.map holds at most %d headers and %d query parameters", MaxHeaders, MaxQueryParams)
	}
	for k, p := range c.Map.Headers {
		if !validHeaderName(k) {
			return InvalidParam("then.map.headers", k, "%q is not a valid header name", k)
		}
		if callerMayNotSet(k) {
			return InvalidParam("then.map.headers."+k, k, "header %s is set by Hookgate or the registration and cannot be mapped", k)
		}
		if err := checkPointer("then.map.headers."+k, p); err != nil {
			return err
		}
	}
	for k, p := range c.Map.QueryParams {
		if !paramNamePattern.MatchString(k) {
			return InvalidParam("then.map.queryParams", k, "a query parameter name is 1-128 letters, digits or any of _ . - [ ]")
		}
		if err := checkPointer("then.map.queryParams."+k, p); err != nil {
			return err
		}
	}
	return nil
}

func checkPointer(param, p string) error {
	if p != "" && !strings.HasPrefix(p, "/") {
		return InvalidParam(param, p, "%s is a JSON Pointer: empty, or beginning with '/'", param)
	}
	if len(p) > 1024 {
		return InvalidParam(param, p, "%s is at most 1024 bytes", param)
	}
	return nil
}

// TriggerInput is what a caller passes to a trigger. Data is sent as the
// body: the JSON itself, or for payloadEncoding base64 the bytes its string
// encodes.
type TriggerInput struct {
	Data        json.RawMessage   `json:"data,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
	QueryParams map[string]string `json:"queryParams,omitempty"`
	// Timeout bounds the request; 0 means the server's send timeout.
	Timeout time.Duration `json:"timeout,omitempty"`
	// Traceparent and Tracestate are the trace context of the call that
	// made the trigger (Hookgate's span of it): each step, and each retry
	// by hand, is a child of that span. Kept with the step's record.
	Traceparent string `json:"traceparent,omitempty"`
	Tracestate  string `json:"tracestate,omitempty"`
}

// HasData reports whether the input carries data (JSON null counts as none).
func (in *TriggerInput) HasData() bool { return len(in.Data) > 0 && string(in.Data) != "null" }

// callerMayNotSet reports whether a trigger's caller may not set header
// name whatever the registration: the reserved headers (hop-by-hop,
// framing and encoding, forwarding), the Standard Webhooks headers, and
// credentials, which only the registration holds (Authorization, Cookie).
func callerMayNotSet(name string) bool {
	n := strings.ToLower(name)
	return isReservedHeader(n) || strings.HasPrefix(n, "webhook-") || strings.HasPrefix(n, "proxy-") ||
		n == "authorization" || n == "cookie" || n == "user-agent"
}

// CheckTrigger checks a trigger's input against w's registration: its
// method (GET and DELETE take no data), its payload encoding, the headers
// it fixes and the query parameters it lists. The JSON Schema of the data is
// checked elsewhere. The returned *Error names the parameter at fault; a
// webhook of another destination kind than http is a conflict: it has no
// answer to give.
func (w *Webhook) CheckTrigger(in *TriggerInput) error {
	if w.DestinationKind() != DestinationHTTP {
		return Errorf(EConflict, "a webhook of kind %s cannot be triggered: a trigger is an HTTP request and its answer", w.Destination)
	}
	if in.HasData() {
		if w.Method == http.MethodGet || w.Method == http.MethodDelete {
			return InvalidParam("data", nil, "the webhook's method is %s, which sends no body: leave data out", w.Method)
		}
		if w.PayloadEncoding == EncodingBase64 {
			if _, err := DecodeBase64Data(in.Data); err != nil {
				return InvalidParam("data", nil, "the webhook's payloadEncoding is base64: data must be a string of standard base64 (%v)", err)
			}
		}
	}
	if len(in.Headers) > MaxHeaders {
		return InvalidParam("headers", len(in.Headers), "at most %d headers", MaxHeaders)
	}
	for k, v := range in.Headers {
		if !validHeaderName(k) {
			return InvalidParam("headers", k, "%q is not a valid header name", k)
		}
		if callerMayNotSet(k) {
			return InvalidParam("headers."+k, k, "header %s is set by Hookgate and cannot be passed", k)
		}
		for fixed := range w.Headers {
			if strings.EqualFold(fixed, k) {
				return InvalidParam("headers."+k, k, "header %s is fixed by the webhook's registration and cannot be passed", k)
			}
		}
		if !validHeaderValue(v) || len(v) > 4096 {
			return InvalidParam("headers."+k, v, "header %s has an invalid value", k)
		}
	}
	for k, v := range in.QueryParams {
		if !slices.Contains(w.QueryParams, k) {
			allowed := "none"
			if len(w.QueryParams) > 0 {
				allowed = strings.Join(w.QueryParams, ", ")
			}
			return InvalidParam("queryParams."+k, k, "query parameter %s is not in the webhook's queryParams (allowed: %s)", k, allowed)
		}
		if len(v) > MaxURLLength {
			return InvalidParam("queryParams."+k, v, "query parameter %s is longer than %d bytes", k, MaxURLLength)
		}
	}
	return nil
}

// TriggerBody returns the request body of a trigger and its content type:
// data as sent for payloadEncoding json, or the bytes it encodes for base64;
// no body when there is no data.
func (w *Webhook) TriggerBody(in *TriggerInput) ([]byte, string, error) {
	if !in.HasData() {
		return nil, "", nil
	}
	if w.PayloadEncoding == EncodingBase64 {
		b, err := DecodeBase64Data(in.Data)
		return b, "application/octet-stream", err
	}
	return in.Data, "application/json", nil
}
