package redisstream_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/destinations/redisstream"
	"github.com/hookgate/hookgate/internal/testredis"
)

// lockedBuffer is a buffer that the logger and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// go-redis's own lines (a pool that cannot dial) go to the logger given,
// at debug level, and not to stderr. Not parallel: the logger is the
// process's.
func TestLogTo(t *testing.T) {
	var buf lockedBuffer
	redisstream.LogTo(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	srv := testredis.Start(t)
	d := newDestination(t)
	w := webhook(srv, "orders", 0)
	srv.Stop()
	if o := d.Send(context.Background(), w, message("dlv_1")); o.Class != hookgate.OutcomeRetryable {
		t.Fatalf("outcome %+v", o)
	}
	if out := buf.String(); !strings.Contains(out, "level=DEBUG") || !strings.Contains(out, "component=go-redis") {
		t.Fatalf("logged %q", out)
	}
}
