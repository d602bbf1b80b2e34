package main_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hookgate/hookgate/internal/testwait"
)

// The server's circuit breaker from serve's flags and their environment
// twins: a server started with --breaker-failures 3 and
// HOOKGATE_BREAKER_COOLDOWN=1m answers them as the webhook's breaker in
// force, from the server, and opens the circuit of a failing webhook after
// 3 failed attempts, for 1m; one started with --breaker-failures 0 answers
// the breaker off.
func TestServeBreakerFlags(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	var calls atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		rw.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(recv.Close)
	// server starts a server with args and returns its URL and admin key,
	// with a project "b" and a webhook to recv; and the webhook's ID.
	server := func(env []string, args ...string) (string, string, string) {
		t.Helper()
		dir := t.TempDir()
		url, _ := startWith(t, bin, dir, append([]string{"HOOKGATE_ALLOW_NETWORKS=127.0.0.0/8"}, env...), args...)
		key := strings.TrimSpace(readFile(t, filepath.Join(dir, "admin.key")))
		if st, _ := postJSON(url, key, "/projects", map[string]any{"name": "b"}); st != 201 {
			t.Fatalf("project: %d", st)
		}
		st, wh := postJSON(url, key, "/projects/b/webhooks", map[string]any{"url": recv.URL + "/hook"})
		if st != 201 {
			t.Fatalf("webhook: %d", st)
		}
		return url, key, wh["id"].(string)
	}
	inForce := func(wh map[string]any) string {
		b, _ := json.Marshal(wh["delivery"].(map[string]any)["breaker"])
		return string(b)
	}

	// One request at a time to the webhook: the count is exact.
	url, key, id := server([]string{"HOOKGATE_BREAKER_COOLDOWN=1m"}, "--breaker-failures", "3", "--endpoint-concurrency", "1", "--max-endpoint-concurrency", "1")
	wh := getJSON(t, url, key, "/projects/b/webhooks/"+id)
	if got, want := inForce(wh), `{"cooldown":{"from":"server","value":"1m"},"failures":{"from":"server","value":3}}`; got != want {
		t.Fatalf("delivery.breaker = %s, want %s", got, want)
	}
	for range 5 {
		if st, _ := postJSON(url, key, "/projects/b/events", map[string]any{"type": "a", "data": map[string]any{}}); st != 202 {
			t.Fatalf("event: %d", st)
		}
	}
	var circuit map[string]any
	testwait.For(t, "the circuit open", func() bool {
		circuit = getJSON(t, url, key, "/projects/b/webhooks/"+id)["circuit"].(map[string]any)
		return circuit["state"] == "open"
	})
	if circuit["consecutiveFailures"] != 3.0 || circuit["cooldown"] != "1m" || calls.Load() != 3 {
		t.Fatalf("circuit %v after %d requests; want open after 3 failures, for 1m", circuit, calls.Load())
	}

	url, key, id = server(nil, "--breaker-failures", "0")
	if got, want := inForce(getJSON(t, url, key, "/projects/b/webhooks/"+id)), `{"cooldown":{"from":"server","value":"30s"},"failures":{"from":"server","value":0}}`; got != want {
		t.Fatalf("with --breaker-failures 0: delivery.breaker = %s, want %s", got, want)
	}
}
