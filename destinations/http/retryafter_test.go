package http_test

import (
	"net/http"
	"testing"
	"time"

	desthttp "github.com/hookgate/hookgate/destinations/http"
)

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	h := func(v string) http.Header { return http.Header{"Retry-After": {v}} }
	for _, tc := range []struct {
		status int
		header http.Header
		want   time.Duration
		ok     bool
	}{
		{429, h("120"), 2 * time.Minute, true},
		{503, h("0"), time.Second, true},            // raised to the minimum
		{503, h("999999999"), 24 * time.Hour, true}, // capped
		{429, h(now.Add(90 * time.Second).Format(http.TimeFormat)), 90 * time.Second, true},
		{429, h("soon"), 0, false},
		{429, h("-5"), 0, false},
		{429, http.Header{}, 0, false},
		{500, h("120"), 0, false}, // only 429 and 503
	} {
		got, ok := desthttp.RetryAfter(tc.status, tc.header, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("RetryAfter(%d, %v) = %v, %v; want %v, %v", tc.status, tc.header, got, ok, tc.want, tc.ok)
		}
	}
}
