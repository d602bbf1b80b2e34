package http

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/hookgate"
)

// RetryAfter reads a Retry-After header given with a 429 or 503 answer, in
// seconds or as an HTTP date, bounded to [hookgate.MinRetryAfter, hookgate.MaxRetryAfter]. It
// returns false when there is none to honour.
func RetryAfter(status int, h http.Header, now time.Time) (time.Duration, bool) {
	if status != http.StatusTooManyRequests && status != http.StatusServiceUnavailable {
		return 0, false
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(hookgate.MaxRetryAfter/time.Second) {
			secs = int64(hookgate.MaxRetryAfter / time.Second)
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	} else {
		return 0, false
	}
	return min(max(d, hookgate.MinRetryAfter), hookgate.MaxRetryAfter), true
}
