package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// runHealthcheck runs `hookgate healthcheck args…` in this process and
// returns its output and error.
func runHealthcheck(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"healthcheck"}, args...))
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

// healthServer answers /healthz 200 and /readyz 503, as a draining node does.
func healthServer(t *testing.T) (port string) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"status":"ok"}`)) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"detail":"this node is draining"}`))
	})
	srv := httptest.NewServer(mux) // on 127.0.0.1
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func TestHealthcheckExitsOnTheAnswer(t *testing.T) {
	port := healthServer(t)
	for _, c := range []struct {
		name   string
		args   []string
		env    string
		wantOK bool
		want   string
	}{
		{"OK", []string{"--addr", "127.0.0.1:" + port}, "", true, "/healthz: 200 OK"},
		// serve's wildcard listen address is asked on loopback.
		{"WildcardAddr", []string{"--addr", "0.0.0.0:" + port}, "", true, "http://127.0.0.1:" + port + "/healthz"},
		// With no --addr, serve's own variable names the server.
		{"AddrFromEnv", nil, ":" + port, true, "/healthz: 200 OK"},
		{"FlagBeatsEnv", []string{"--addr", "127.0.0.1:" + port}, "127.0.0.1:1", true, "200 OK"},
		{"ErrNotReady", []string{"--addr", "127.0.0.1:" + port, "--ready"}, "", false, "/readyz answered 503 Service Unavailable: {\"detail\":\"this node is draining\"}"},
		{"ErrNothingListens", []string{"--addr", "127.0.0.1:1"}, "", false, "connection refused"},
		{"ErrBadAddr", []string{"--addr", "nonsense"}, "", false, "--addr"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("HOOKGATE_ADDR", c.env)
			out, err := runHealthcheck(t, c.args...)
			if (err == nil) != c.wantOK {
				t.Fatalf("err = %v, want ok %v; output %q", err, c.wantOK, out)
			}
			got := out
			if err != nil {
				got = err.Error()
			}
			if !strings.Contains(got, c.want) {
				t.Fatalf("%q lacks %q", got, c.want)
			}
		})
	}
}
