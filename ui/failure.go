package ui

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/client"
)

// How the pages tell a failed attempt: what kind of failure it was and a
// short sentence, instead of Go's error text ("Post \"…\": dial tcp
// 127.0.0.1:9: connect: connection refused") or a bare status code.

const (
	// bodySnippet is how many characters of a receiver's answer a failure
	// shows, its whitespace collapsed.
	bodySnippet = 120
	// detailLength bounds the sentence told of an error.
	detailLength = 160
)

// outcome is a failed attempt told for a person: Class is the kind of
// failure ("Connection refused", "HTTP 404 Not Found"), Detail a short
// sentence, or the beginning of the receiver's answer (Quoted).
type outcome struct {
	Class, Detail string
	Quoted        bool
}

// answered tells a failure that got an answer: its status and the
// beginning of its body.
func answered(status int, body, encoding string) outcome {
	o := outcome{Class: fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))}
	switch {
	case encoding != "":
		o.Detail = "a body that is not text"
	case strings.TrimSpace(body) == "":
		o.Detail = "an empty body"
	default:
		o.Detail, o.Quoted = clip(strings.Join(strings.Fields(body), " "), bodySnippet), true
	}
	return o
}

var (
	// requestPrefix is the start of Go's client errors: `Post "URL": `.
	requestPrefix = regexp.MustCompile(`^[A-Za-z]+ "[^"]*": `)
	// dialAddr finds the address of a failed dial.
	dialAddr = regexp.MustCompile(`dial tcp ([^ ]+): `)
	// noSuchHost is a failed lookup as netguard.Describe tells it.
	noSuchHost = regexp.MustCompile(`dns: no such host (\S+)`)
)

// unanswered tells a failure that got no answer, from its recorded error.
func unanswered(err string) outcome {
	rest := requestPrefix.ReplaceAllString(strings.TrimSpace(err), "")
	low := strings.ToLower(rest)
	at := ""
	if m := dialAddr.FindStringSubmatch(rest); m != nil {
		at = " at " + m[1]
	}
	switch {
	case rest == "":
		return outcome{Class: "No answer"}
	case strings.Contains(low, "blocked by the network policy"):
		return outcome{Class: "Blocked", Detail: "the network policy does not let Hookgate connect to this address (a private, loopback or link-local one)"}
	case noSuchHost.MatchString(rest):
		return outcome{Class: "Unknown host", Detail: noSuchHost.FindStringSubmatch(rest)[1] + " is not in DNS"}
	case strings.Contains(low, "dns: "):
		return outcome{Class: "DNS lookup failed", Detail: clip(rest[strings.Index(low, "dns: ")+len("dns: "):], detailLength)}
	case strings.Contains(low, "connection refused"):
		return outcome{Class: "Connection refused", Detail: "nothing accepts connections" + at}
	case strings.HasPrefix(low, "oauth2 token"):
		return outcome{Class: "OAuth2 token refused", Detail: clip(rest, detailLength)}
	case strings.Contains(low, "timeout") || strings.Contains(low, "deadline exceeded"):
		if strings.HasPrefix(low, "reading the answer") {
			return outcome{Class: "Timed out", Detail: "the answer's body did not arrive in time"}
		}
		return outcome{Class: "Timed out", Detail: "no answer" + at + " within the time allowed"}
	case strings.Contains(low, "connection reset"):
		return outcome{Class: "Connection reset", Detail: "the receiver closed the connection before answering"}
	case low == "eof" || strings.HasSuffix(low, ": eof") || strings.Contains(low, "unexpected eof"):
		return outcome{Class: "Connection closed", Detail: "the receiver closed the connection without an answer"}
	case strings.Contains(low, "tls: ") || strings.Contains(low, "x509: "):
		i := strings.Index(low, "tls: ")
		if i < 0 {
			i = strings.Index(low, "x509: ")
		}
		return outcome{Class: "TLS failed", Detail: clip(rest[i:], detailLength)}
	case strings.Contains(low, "no route to host") || strings.Contains(low, "unreachable"):
		return outcome{Class: "Unreachable", Detail: "no route" + at}
	case strings.HasPrefix(low, "not sent: "):
		return outcome{Class: "Not sent", Detail: clip(rest[len("not sent: "):], detailLength)}
	case strings.HasPrefix(low, "signing secret") || strings.HasPrefix(low, "payloadencoding"):
		return outcome{Class: "Not sent", Detail: clip(rest, detailLength)}
	}
	return outcome{Class: "Request failed", Detail: clip(rest, detailLength)}
}

// describe tells an attempt's failure; ok is false for a success.
func describe(a client.Attempt) (outcome, bool) {
	switch {
	case a.StatusCode >= 200 && a.StatusCode < 300 && a.Error == "":
		return outcome{}, false
	case a.StatusCode != 0:
		return answered(a.StatusCode, a.ResponseBody, a.ResponseBodyEncoding), true
	}
	return unanswered(a.Error), true
}

// clip shortens s to n characters, an ellipsis marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// failure is a webhook's last failed attempt as the pages show it.
type failure struct {
	outcome
	At         time.Time
	DeliveryID string
	// Error is the recorded error, in full.
	Error string
}

// failureOf tells the last failure of stats: an answer's beginning comes
// from its attempt, found among its delivery's. Nil without a failure.
func failureOf(ctx context.Context, se *session, project string, f *client.FailedAttempt) (*failure, error) {
	if f == nil {
		return nil, nil
	}
	out := &failure{At: f.At, DeliveryID: f.DeliveryID, Error: f.Error}
	if f.StatusCode == 0 {
		out.outcome = unanswered(f.Error)
		return out, nil
	}
	out.outcome = answered(f.StatusCode, "", "")
	out.Detail = "" // unknown until the attempt is found
	if !se.Can(hookgate.CapDeliveries) {
		return out, nil // a portal session that may not read attempts
	}
	for a, err := range se.c.Attempts(ctx, project, f.DeliveryID) {
		if isNotFound(err) {
			break // the delivery is gone: its status is all there is
		}
		if err != nil {
			return nil, err
		}
		if !a.StartedAt.After(f.At) && a.StatusCode == f.StatusCode {
			out.outcome = answered(a.StatusCode, a.ResponseBody, a.ResponseBodyEncoding)
			break
		}
	}
	return out, nil
}

// Sentence is the outcome in one line: "Connection refused: nothing
// accepts connections at 127.0.0.1:9", `HTTP 404 Not Found: “no such
// page”`.
func (o outcome) Sentence() string {
	switch {
	case o.Detail == "":
		return o.Class
	case o.Quoted:
		return o.Class + ": “" + o.Detail + "”"
	}
	return o.Class + ": " + o.Detail
}
