package api

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/validation"

	"github.com/hookgate/hookgate"
)

// Problem is an RFC 9457 problem document with the contract's extensions.
// Every 4xx and 5xx answer is one.
type Problem struct {
	Type           string `json:"type" doc:"A URI naming the problem type"`
	Title          string `json:"title" doc:"Short summary of the problem type"`
	Status         int    `json:"status" doc:"HTTP status code"`
	Detail         string `json:"detail" doc:"What went wrong, for a person"`
	Code           string `json:"code" doc:"Stable machine code, snake_case" enum:"invalid_parameter,missing_parameter,invalid_json,unsupported_media_type,unauthorized,forbidden,not_found,method_not_allowed,conflict,idempotency_conflict,payload_too_large,rate_limited,unavailable,provider_error,internal"`
	ErrorID        string `json:"errorId" doc:"ID of this error in the server's logs; quote it to support"`
	ParameterName  string `json:"parameter_name,omitempty" doc:"The parameter at fault"`
	ParameterValue any    `json:"parameter_value,omitempty" doc:"The value given for parameter_name"`

	cause      error  // logged, never shown
	retryAfter string // Retry-After header for 429 and 503
	// fromStore marks a cause that is not the request's: the database did
	// not answer, or failed in a way no error code names. It is counted in
	// hookgate_store_errors_total.
	fromStore bool
}

func (p *Problem) Error() string { return p.Code + ": " + p.Detail }

// GetStatus implements huma.StatusError.
func (p *Problem) GetStatus() int { return p.Status }

// ContentType implements huma.ContentTypeFilter: problems are sent as
// application/problem+json.
func (p *Problem) ContentType(string) string { return "application/problem+json" }

// GetHeaders implements huma.HeadersError.
func (p *Problem) GetHeaders() http.Header {
	if p.retryAfter == "" {
		return nil
	}
	return http.Header{"Retry-After": {p.retryAfter}}
}

var codeStatus = map[string]int{
	hookgate.EInvalidParameter:     http.StatusBadRequest,
	hookgate.EMissingParameter:     http.StatusBadRequest,
	hookgate.EInvalidJSON:          http.StatusBadRequest,
	hookgate.EUnsupportedMediaType: http.StatusUnsupportedMediaType,
	hookgate.EUnauthorized:         http.StatusUnauthorized,
	hookgate.EForbidden:            http.StatusForbidden,
	hookgate.ENotFound:             http.StatusNotFound,
	hookgate.EMethodNotAllowed:     http.StatusMethodNotAllowed,
	hookgate.EConflict:             http.StatusConflict,
	hookgate.EIdempotencyConflict:  http.StatusConflict,
	hookgate.EPayloadTooLarge:      http.StatusRequestEntityTooLarge,
	hookgate.ERateLimited:          http.StatusTooManyRequests,
	hookgate.EUnavailable:          http.StatusServiceUnavailable,
	hookgate.EProviderError:        http.StatusBadGateway,
	hookgate.EInternal:             http.StatusInternalServerError,
}

var statusCode = map[int]string{
	http.StatusBadRequest:            hookgate.EInvalidParameter,
	http.StatusUnprocessableEntity:   hookgate.EInvalidParameter,
	http.StatusUnsupportedMediaType:  hookgate.EUnsupportedMediaType,
	http.StatusUnauthorized:          hookgate.EUnauthorized,
	http.StatusForbidden:             hookgate.EForbidden,
	http.StatusNotFound:              hookgate.ENotFound,
	http.StatusMethodNotAllowed:      hookgate.EMethodNotAllowed,
	http.StatusConflict:              hookgate.EConflict,
	http.StatusRequestEntityTooLarge: hookgate.EPayloadTooLarge,
	http.StatusTooManyRequests:       hookgate.ERateLimited,
	http.StatusServiceUnavailable:    hookgate.EUnavailable,
}

func newErrorID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "err_" + hex.EncodeToString(b)
}

// problemFrom builds the problem for err, the one place where errors become
// HTTP statuses.
func problemFrom(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	var he *hookgate.Error
	if errors.As(err, &he) {
		status := codeStatus[he.Code]
		if status == 0 {
			status = http.StatusInternalServerError
		}
		p := newProblem(status, he.Code, he.Message)
		p.ParameterName, p.ParameterValue, p.cause = he.Param, he.Value, he.Err
		if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
			p.retryAfter = "1"
			if secs := int64(math.Ceil(he.RetryAfter.Seconds())); secs > 1 {
				p.retryAfter = strconv.FormatInt(secs, 10)
			}
		}
		return p
	}
	if storeUnavailable(err) {
		p := newProblem(http.StatusServiceUnavailable, hookgate.EUnavailable, "the database does not answer; try again shortly")
		p.cause, p.retryAfter, p.fromStore = err, "1", true
		return p
	}
	if errors.Is(err, context.DeadlineExceeded) {
		p := newProblem(http.StatusServiceUnavailable, hookgate.EUnavailable, "the request timed out; try again")
		p.cause, p.retryAfter = err, "1"
		return p
	}
	p = newProblem(http.StatusInternalServerError, hookgate.EInternal, "internal error; quote the errorId to support")
	p.cause, p.fromStore = err, true
	return p
}

func problemType(code string) string {
	return "https://hookgate.dev/problems/" + strings.ReplaceAll(code, "_", "-")
}

func newProblem(status int, code, detail string) *Problem {
	return &Problem{
		Type:    problemType(code),
		Title:   http.StatusText(status),
		Status:  status,
		Detail:  detail,
		Code:    code,
		ErrorID: newErrorID(),
	}
}

// humaError converts huma's own errors (validation, body parsing, size
// limits) and handler errors into problems with the contract's codes.
func humaError(status int, msg string, errs ...error) *Problem {
	p := humaProblem(status, msg, errs...)
	p.Type = problemType(p.Code) // the code may have been refined
	return p
}

func humaProblem(status int, msg string, errs ...error) *Problem {
	if len(errs) == 1 && status == http.StatusInternalServerError {
		return problemFrom(errs[0]) // an error returned by a handler
	}
	// The first failure is the one answered, but an unknown field comes
	// before the fields it leaves missing: {"eventType": …} is told that
	// eventType is unknown, and then that type is required.
	var detail *huma.ErrorDetail
	var missing []string
	for _, e := range errs {
		d, ok := e.(huma.ErrorDetailer)
		if !ok {
			continue
		}
		ed := d.ErrorDetail()
		if name, ok := requiredProperty(ed.Message); ok {
			if param := paramName(ed.Location); param != "" {
				name = param + "." + name
			}
			missing = append(missing, name)
		}
		if detail == nil || (ed.Message == validation.MsgUnexpectedProperty && detail.Message != validation.MsgUnexpectedProperty) {
			detail = ed
		}
	}
	code := statusCode[status]
	if code == "" {
		code = hookgate.EInternal
		if status < 500 {
			code = hookgate.EInvalidParameter
		}
	}
	orig := status
	if status == http.StatusUnprocessableEntity {
		status = http.StatusBadRequest // the contract answers 400 for bad input
	}
	p := newProblem(status, code, msg)
	if detail == nil {
		if status == http.StatusBadRequest && strings.Contains(msg, "body is required") {
			p.Code, p.ParameterName, p.Detail = hookgate.EMissingParameter, "body", "a JSON request body is required"
		}
		return p
	}
	p.Detail = detail.Message
	switch {
	case orig == http.StatusBadRequest && detail.Location == "body":
		// The body could not be parsed at all.
		p.Code, p.Detail = hookgate.EInvalidJSON, "the request body is not valid JSON: "+detail.Message
		return p
	case orig == http.StatusUnsupportedMediaType:
		p.Detail = "send the body as application/json"
		return p
	}
	param := paramName(detail.Location)
	if name, ok := requiredProperty(detail.Message); ok {
		p.Code = hookgate.EMissingParameter
		if param != "" {
			param += "."
		}
		param += name
		p.Detail = param + " is required"
	} else {
		if param == "" {
			param = "body"
		}
		p.ParameterValue = detail.Value
		// For an unexpected property huma gives the enclosing object; echo
		// just the property's own value.
		if m, ok := detail.Value.(map[string]any); ok {
			if v, ok := m[param[strings.LastIndexByte(param, '.')+1:]]; ok {
				p.ParameterValue = v
			}
		}
		p.Detail = param + ": " + detail.Message
		if detail.Message == validation.MsgUnexpectedProperty {
			p.Detail = param + " is not a field of this request"
			if len(missing) > 0 {
				p.Detail += "; " + strings.Join(missing, ", ") + " " + isOrAre(len(missing)) + " required"
			}
		}
	}
	p.ParameterName = param
	return p
}

func isOrAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// paramName turns a huma location such as "body.auth.type" or "query.limit"
// into the parameter name a client used ("auth.type", "limit").
func paramName(loc string) string {
	for _, prefix := range []string{"body", "query", "path", "header"} {
		if loc == prefix {
			return ""
		}
		if strings.HasPrefix(loc, prefix+".") {
			return loc[len(prefix)+1:]
		}
	}
	return loc
}

func requiredProperty(msg string) (string, bool) {
	const pre, post = "expected required property ", " to be present"
	if strings.HasPrefix(msg, pre) && strings.HasSuffix(msg, post) {
		return msg[len(pre) : len(msg)-len(post)], true
	}
	return "", false
}

var hookErrorsOnce sync.Once

// useProblems makes huma build every error as a *Problem. Huma reads these
// hooks from package variables, so they are set once per process; they hold
// no state of any one server.
func useProblems() {
	hookErrorsOnce.Do(func() {
		// Lists are never null in answers ([] when empty), so the document
		// must not say they may be: generated clients would take *[]T.
		huma.DefaultArrayNullable = false
		huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
			return humaError(status, msg, errs...)
		}
		huma.NewErrorWithContext = func(ctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
			p := humaError(status, msg, errs...)
			if ctx != nil {
				hintReadOnly(ctx, p)
				noteProblem(ctx.Context(), p)
				// Huma takes headers only from an error that a handler
				// returns as one; a problem made here sets its own.
				if p.retryAfter != "" {
					ctx.SetHeader("Retry-After", p.retryAfter)
				}
			}
			return p
		}
	})
}

// reqInfo carries what the outer handler logs about a request.
type reqInfo struct {
	problem *Problem
	// principal is who ServeHTTP authenticated the request as, from its
	// headers, before reading its body.
	principal *principal
	// trace is the request's span, when it started one (serverSpan).
	trace hookgate.TraceContext
}

type reqInfoKey struct{}

func noteProblem(ctx context.Context, p *Problem) {
	if info, ok := ctx.Value(reqInfoKey{}).(*reqInfo); ok {
		info.problem = p
	}
}

// writeProblem writes p outside of huma (unknown routes, operations endpoints).
func writeProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	noteProblem(r.Context(), p)
	for k, v := range p.GetHeaders() {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeHumaProblem writes p from huma middleware.
func writeHumaProblem(ctx huma.Context, p *Problem) {
	noteProblem(ctx.Context(), p)
	for k, v := range p.GetHeaders() {
		for _, x := range v {
			ctx.AppendHeader(k, x)
		}
	}
	ctx.SetHeader("Content-Type", "application/problem+json")
	ctx.SetStatus(p.Status)
	_ = json.NewEncoder(ctx.BodyWriter()).Encode(p)
}

// readOnly names, for a PATCH operation, the fields it refuses and where
// they are changed instead, so that the 400 says what to do.
var readOnly = map[string]map[string]string{
	"updateWebhook": {
		"status": "a webhook's status is changed with POST …/webhooks/{id}/activate and …/deactivate",
		"secret": "a webhook's secret is changed with POST …/webhooks/{id}/secret/rotate",
		"id":     "a webhook's ID never changes; set uid for an ID of your own",
	},
}

func hintReadOnly(ctx huma.Context, p *Problem) {
	if op := ctx.Operation(); op != nil && p.Status == http.StatusBadRequest {
		if hint, ok := readOnly[op.OperationID][p.ParameterName]; ok {
			p.Detail += "; " + hint
		}
	}
}

// unavailableText are fragments of the errors the database drivers give
// when the database is down, restarting, full or busy: a client should try
// again, not report a bug.
var unavailableText = []string{
	"sql: database is closed", "connection refused", "failed to connect", "conn closed", "broken pipe",
	"the database system is", "terminating connection", "SQLSTATE 57P0", "SQLSTATE 53", "SQLSTATE 08",
	"database or disk is full", "SQLITE_FULL", "disk I/O error", "SQLITE_IOERR", "database is locked", "SQLITE_BUSY",
}

// storeUnavailable reports whether err says the database cannot serve now.
func storeUnavailable(err error) bool {
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	msg := err.Error()
	for _, s := range unavailableText {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
