// Package apitest runs a real Hookgate API and delivery engine on a real
// store, over HTTP on loopback, for the tests of its clients (the Go SDK,
// the CLI and the dashboard, which it serves at /ui/). Webhook URLs may point at 127.0.0.0/8, where tests run
// their receivers; the platform providers are all there, for local fakes
// of their APIs.
package apitest

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/hookgate/hookgate/api"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/internal/app"
	"github.com/hookgate/hookgate/internal/testlog"
	"github.com/hookgate/hookgate/netguard"
	"github.com/hookgate/hookgate/platforms/providers"
	"github.com/hookgate/hookgate/sqlstore"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
	"github.com/hookgate/hookgate/ui"
)

// AdminKey is the servers' admin key.
const AdminKey = "hgadmin_apitest_0123456789abcdef"

// TraceURL is the servers' dashboard link to a trace (serve --trace-url).
const TraceURL = "https://tempo.example/trace/{traceId}?span={spanId}"

// Server is a running API with a dispatcher.
type Server struct {
	// URL is the base URL, http://127.0.0.1:port.
	URL  string
	stop func()
}

// Start serves store until Close; it logs nothing.
func Start(store *sqlstore.Store) *Server {
	return start(store, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func start(store *sqlstore.Store, logger *slog.Logger) *Server {
	parts := app.New(app.Config{
		Store:     store,
		Policy:    netguard.New([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}),
		UserAgent: "Hookgate/test",
		API:       api.Config{AdminKey: AdminKey, Logger: logger, Providers: providers.All()},
		Delivery:  delivery.Config{Poll: 50 * time.Millisecond, Logger: logger},
		Dashboard: &ui.Config{Logger: logger, TraceURL: TraceURL},
	})
	h := parts.API
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { parts.Run(ctx); close(done) }()
	srv := httptest.NewServer(h)
	return &Server{URL: srv.URL, stop: func() { srv.Close(); cancel(); <-done }}
}

// Close stops the server and its dispatcher.
func (s *Server) Close() { s.stop() }

// New serves a new store of engine (sqlstore.EngineSQLite or
// EnginePostgres) for the test's length. What the server logs is printed,
// its last lines, only if the test fails.
func New(t testing.TB, engine string) *Server {
	t.Helper()
	s := start(sqltest.Open(t, engine), testlog.Logger(t))
	t.Cleanup(s.Close)
	return s
}
