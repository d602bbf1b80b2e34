package http_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/delivery"
	desthttp "github.com/hookgate/hookgate/destinations/http"
)

// Issue 23, step 1: the status codes the dispatcher once read itself are
// classed here: 2xx succeeds; 410 fails for good and disables; a request
// never made fails for good; anything else, an answer or none, is
// retried, after a 429's or 503's Retry-After.
func TestClassify(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	ra := http.Header{"Retry-After": {"120"}}
	for _, tc := range []struct {
		name    string
		res     delivery.Result
		class   hookgate.OutcomeClass
		disable bool
		after   time.Duration
		reason  string
	}{
		{"OK", delivery.Result{StatusCode: 204, Method: "POST"}, hookgate.OutcomeSuccess, false, 0, ""},
		{"Gone", delivery.Result{StatusCode: 410, Method: "POST"}, hookgate.OutcomePermanent, true, 0, desthttp.ReasonGone},
		{"Unsendable", delivery.Result{Err: errors.New("bad base64")}, hookgate.OutcomePermanent, false, 0, desthttp.ReasonUnsendable},
		{"ServerError", delivery.Result{StatusCode: 500, Method: "POST", Header: ra}, hookgate.OutcomeRetryable, false, 0, ""},
		{"TooMany", delivery.Result{StatusCode: 429, Method: "POST", Header: ra}, hookgate.OutcomeRetryable, false, 2 * time.Minute, ""},
		{"Refused", delivery.Result{Err: errors.New("connection refused"), Method: "POST"}, hookgate.OutcomeRetryable, false, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := desthttp.Classify(tc.res, clock)
			if o.Class != tc.class || o.Disable != tc.disable || o.RetryAfter != tc.after || o.Reason != tc.reason {
				t.Fatalf("Classify = class %d, disable %v, retry after %s, reason %q; want %d, %v, %s, %q",
					o.Class, o.Disable, o.RetryAfter, o.Reason, tc.class, tc.disable, tc.after, tc.reason)
			}
			if tc.res.Err != nil && o.Cause == "" {
				t.Error("no cause for the operator's log")
			}
		})
	}
}
