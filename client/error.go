package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Error is an answer of the API other than the expected success: its
// problem+json body (RFC 9457), as the server sent it.
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Code is the machine code, such as CodeNotFound.
	Code Code
	// Type, Title and Detail are the problem's; Detail says what was wrong.
	Type, Title, Detail string
	// Parameter names the request parameter at fault, if one is: a body
	// field as a JSON path ("url", "auth.tokenURL"), a query parameter or a
	// header.
	Parameter string
	// Value is the offending value, when the server echoes it.
	Value any
	// ErrorID identifies the failure in the server's log.
	ErrorID string
	// RetryAfter is the server's Retry-After, when it sent one.
	RetryAfter time.Duration
}

// Code is a problem's machine code.
type Code string

// The API's problem codes.
const (
	CodeInvalidParameter     Code = "invalid_parameter"
	CodeMissingParameter     Code = "missing_parameter"
	CodeInvalidJSON          Code = "invalid_json"
	CodeUnsupportedMediaType Code = "unsupported_media_type"
	CodeUnauthorized         Code = "unauthorized"
	CodeForbidden            Code = "forbidden"
	CodeNotFound             Code = "not_found"
	CodeMethodNotAllowed     Code = "method_not_allowed"
	CodeConflict             Code = "conflict"
	CodeIdempotencyConflict  Code = "idempotency_conflict"
	CodePayloadTooLarge      Code = "payload_too_large"
	CodeRateLimited          Code = "rate_limited"
	CodeUnavailable          Code = "unavailable"
	CodeProviderError        Code = "provider_error"
	CodeInternal             Code = "internal"
)

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "hookgate: %d", e.Status)
	if e.Title != "" {
		b.WriteString(" " + e.Title)
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	if e.Parameter != "" {
		b.WriteString(" (parameter " + e.Parameter + ")")
	}
	return b.String()
}

// IsCode reports whether err is an *Error with the code.
func IsCode(err error, code Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// problem is the wire form of a problem+json body.
type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Code      Code   `json:"code"`
	ErrorID   string `json:"errorId"`
	Parameter string `json:"parameter_name"`
	Value     any    `json:"parameter_value"`
}

// newError reads an error answer; a body that is not a problem keeps its
// first 200 bytes as the detail.
func newError(res *http.Response, raw []byte) *Error {
	e := &Error{Status: res.StatusCode, RetryAfter: parseRetryAfter(res.Header.Get("Retry-After"), time.Now())}
	var p problem
	if err := json.Unmarshal(raw, &p); err == nil && (p.Title != "" || p.Code != "") {
		e.Code, e.Type, e.Title, e.Detail = p.Code, p.Type, p.Title, p.Detail
		e.Parameter, e.Value, e.ErrorID = p.Parameter, p.Value, p.ErrorID
		return e
	}
	e.Title = http.StatusText(res.StatusCode)
	e.Detail = strings.TrimSpace(string(raw[:min(len(raw), 200)]))
	return e
}
