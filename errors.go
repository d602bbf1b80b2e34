// Package hookgate is the domain of the Hookgate webhook gateway: its types,
// the store interface every engine implements, and the error codes that the
// HTTP layer maps to problem+json. It imports nothing of the project's own.
package hookgate

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. They are stable and part of the API contract: clients switch on
// them, so never rename one.
const (
	EInvalidParameter     = "invalid_parameter"
	EMissingParameter     = "missing_parameter"
	EInvalidJSON          = "invalid_json"
	EUnsupportedMediaType = "unsupported_media_type"
	EUnauthorized         = "unauthorized"
	EForbidden            = "forbidden"
	ENotFound             = "not_found"
	// EMethodNotAllowed answers a known path with a method it does not take.
	EMethodNotAllowed = "method_not_allowed"
	EConflict         = "conflict"
	// EIdempotencyConflict: an Idempotency-Key was used within its window
	// for a different request (409).
	EIdempotencyConflict = "idempotency_conflict"
	EPayloadTooLarge     = "payload_too_large"
	ERateLimited         = "rate_limited"
	EUnavailable         = "unavailable"
	// EProviderError: a messaging provider refused a call Hookgate made for
	// the client, or could not be reached (502).
	EProviderError = "provider_error"
	EInternal      = "internal"
)

// Error is the one error type that crosses package boundaries with a meaning
// for the client. Message is shown to the client; Err, when set, is the cause
// that is logged but never shown.
type Error struct {
	Code    string
	Message string
	// Param names the parameter at fault, when there is one.
	Param string
	// Value is the offending value of Param, echoed back to the client.
	Value any
	// RetryAfter, for ERateLimited and EUnavailable, is when to try again;
	// 0 means one second.
	RetryAfter time.Duration
	// Err is the underlying cause, for logs only.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// InvalidParam reports that parameter name has the unacceptable value.
func InvalidParam(name string, value any, format string, args ...any) *Error {
	return &Error{Code: EInvalidParameter, Message: fmt.Sprintf(format, args...), Param: name, Value: value}
}

// MissingParam reports that the required parameter name is absent.
func MissingParam(name string) *Error {
	return &Error{Code: EMissingParameter, Message: name + " is required", Param: name}
}

// NotFound reports that the named kind of resource does not exist (or is not
// visible to the caller, which the caller cannot tell apart).
func NotFound(kind string) *Error {
	return &Error{Code: ENotFound, Message: kind + " not found"}
}

// ErrorCode returns the code of err when it is, or wraps, an *Error, and
// EInternal otherwise.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the message meant for the client when err is, or
// wraps, an *Error, and err's text otherwise.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}
