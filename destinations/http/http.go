// Package http is the HTTP destination kind: a delivery is a signed
// request to the webhook's URL (delivery.Sender makes it), and the
// receiver's status code decides the outcome. It is the kind of every
// webhook that names no other.
package http

import (
	"context"
	"net/http"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/delivery"
)

// Kind describes the HTTP kind to the registry: its configuration is the
// webhook's request fields, and its credentials are the signing secrets,
// the receiver's auth and the headers not named public.
var Kind = hookgate.DestinationKind{
	Name:   hookgate.DestinationHTTP,
	Fields: []string{"url", "method", "headers", "queryParams", "payloadEncoding", "auth", "secret", "rateLimit"},
	Secret: []string{"secret", "previousSecret", "auth.password", "auth.clientSecret", "headers"},
}

// Register registers the HTTP kind in r, sending with s.
func Register(r *hookgate.Destinations, s *delivery.Sender) error {
	return r.Register(Kind, &Destination{Sender: s})
}

// Destination sends deliveries as signed HTTP requests.
type Destination struct {
	Sender *delivery.Sender
}

// Check checks w's registration.
func (d *Destination) Check(w *hookgate.Webhook) error { return w.Validate() }

// Send makes one request for m to w and classifies the answer.
func (d *Destination) Send(ctx context.Context, w *hookgate.Webhook, m hookgate.DeliveryMessage) hookgate.Outcome {
	res := d.Sender.Send(ctx, w, m)
	now := time.Now
	if d.Sender.Now != nil {
		now = d.Sender.Now
	}
	return Classify(res, now)
}

// Timeout is the sender's.
func (d *Destination) Timeout() time.Duration { return d.Sender.Timeout() }

// Pace returns the rate limiter that the dispatcher and triggers share for
// w (delivery.Sender.Pace).
func (d *Destination) Pace(w *hookgate.Webhook) *rate.Limiter { return d.Sender.Pace(w) }

// Close closes the sender's idle connections.
func (d *Destination) Close() error {
	d.Sender.Client.CloseIdleConnections()
	return nil
}

// Reasons of the HTTP kind's permanent failures.
const (
	ReasonGone       = "the receiver answered 410 Gone"
	ReasonUnsendable = "its request cannot be made"
)

// Classify turns the result of one request into an outcome: a 2xx is a
// success; 410 Gone a permanent failure that disables the webhook; a
// request that could not be built (data that is not base64 for a base64
// webhook, a transform that fails on the event) a permanent failure, since
// no retry will build one; any
// other answer or none is retryable, after the Retry-After of a 429 or 503
// when the schedule's delay is shorter. now reads the clock for an HTTP
// date in Retry-After.
func Classify(res delivery.Result, now func() time.Time) hookgate.Outcome {
	a := res.Attempt("", 0)
	var o hookgate.Outcome
	switch {
	case res.OK():
		return hookgate.Succeeded(a)
	case res.StatusCode == http.StatusGone:
		o = hookgate.Permanent(a, ReasonGone)
		o.Disable = true
	case res.Err != nil && res.Method == "":
		o = hookgate.Permanent(a, delivery.UnsendableReason(res.Err, ReasonUnsendable))
	default:
		ra, _ := RetryAfter(res.StatusCode, res.Header, now())
		o = hookgate.Retryable(a, ra)
	}
	if res.Err != nil {
		// The full cause, for the operator's log; the attempt keeps what a
		// tenant may see (Go's errors quote the URL: the recorded one is
		// redacted).
		o.Cause = strings.ReplaceAll(res.Err.Error(), res.URL, a.RequestURL)
	}
	return o
}
