package delivery_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/internal/testwait"
)

// lockedBuffer is a log destination the test reads while workers write.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the JSON log lines naming webhook.
func (l *lockedBuffer) lines(t *testing.T, webhook string) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(l.b.Bytes()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if line["webhook"] == webhook {
			out = append(out, line)
		}
	}
	return out
}

// Issue 22, item 14: a dead endpoint made a warn line per failed attempt.
// 100 failures of one webhook now make its first failure's line and a
// summary every FailureLogEvery (25 here) failures; a success after them
// makes one recovery line. Every attempt is still in the attempts table
// and the metrics.
func TestDeadEndpointLogsItsStreakNotEachAttempt(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		logs := &lockedBuffer{}
		h := runDispatcher(t, engine, hookgate.Schedule{time.Hour}, func(c *delivery.Config) {
			c.Logger = slog.New(slog.NewJSONHandler(logs, nil))
			// No summary falls due by time while the test runs, however slow.
			c.FailureLogEvery, c.FailureLogInterval = 25, 24*time.Hour
			c.Breaker = hookgate.Breaker{Failures: hookgate.BreakerOff} // 100 failures in a row
		})
		var up atomic.Bool
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			if !up.Load() {
				http.Error(w, "down", http.StatusServiceUnavailable)
			}
		}))
		t.Cleanup(recv.Close)
		w := h.webhook(t, recv.URL)
		h.send(t, 100)
		testwait.For(t, "100 failed first attempts", func() bool {
			list, _, err := h.store.ListDeliveries(context.Background(), h.proj, hookgate.DeliveryFilter{Page: hookgate.Page{Limit: 250}, Status: hookgate.DeliveryPending})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, dl := range list {
				n += dl.Attempts
			}
			return n == 100
		})
		lines := logs.lines(t, w.ID)
		if len(lines) != 4 {
			t.Fatalf("%d log lines for 100 failures, want 4 (the first, then a summary every 25):\n%v", len(lines), lines)
		}
		if lines[0]["level"] != "WARN" || lines[0]["msg"] != "webhook failing: delivery attempt failed; retrying" || lines[0]["status"] != float64(503) {
			t.Fatalf("first line: %v", lines[0])
		}
		for _, l := range lines[1:] {
			if l["msg"] != "webhook still failing" || l["failures"] != float64(25) || l["lastStatus"] != float64(503) {
				t.Fatalf("summary: %v", l)
			}
		}
		if got := h.metric(t, "retry"); got != 100 {
			t.Fatalf("hookgate_delivery_outcomes_total{outcome=retry} %v, want 100", got)
		}
		list, _, err := h.store.ListDeliveries(context.Background(), h.proj, hookgate.DeliveryFilter{Page: hookgate.Page{Limit: 250}})
		if err != nil {
			t.Fatal(err)
		}
		attempts := 0
		for _, dl := range list {
			atts, _, err := h.store.ListAttempts(context.Background(), h.proj, dl.ID, hookgate.Page{})
			if err != nil {
				t.Fatal(err)
			}
			attempts += len(atts)
		}
		if attempts != 100 {
			t.Fatalf("%d attempts in the attempts table, want 100", attempts)
		}

		up.Store(true)
		h.send(t, 1)
		testwait.For(t, "a success", func() bool { return h.status(t, hookgate.DeliverySucceeded) == 1 })
		testwait.For(t, "the recovery line", func() bool { return len(logs.lines(t, w.ID)) > 4 })
		lines = logs.lines(t, w.ID)
		if len(lines) != 5 {
			t.Fatalf("%d lines after the success, want 5:\n%v", len(lines), lines)
		}
		if r := lines[4]; r["level"] != "INFO" || r["msg"] != "webhook recovered: an attempt succeeded after a failure streak" ||
			r["streak"] != float64(100) || r["failuresSinceLastLine"] != float64(24) {
			t.Fatalf("recovery line: %v", r)
		}
	})
}
