// Package testlog keeps what a test's servers log, and prints it only when
// the test fails: a failing test shows its own failure and the last lines
// logged before it, not every line of every test in its package.
package testlog

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// Lines is how many of the last lines logged a failing test prints.
const Lines = 50

// Logger returns a logger whose records, debug included, are kept and
// printed (the last Lines of them) when t fails.
func Logger(t testing.TB) *slog.Logger {
	t.Helper()
	return slog.New(slog.NewTextHandler(Writer(t, "log"), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Writer returns a writer, safe for concurrent use, that keeps the last
// Lines lines written to it and prints them, under name, when t fails: for
// a child process's output, say. Writes after t has ended are kept and
// dropped with the rest.
func Writer(t testing.TB, name string) io.Writer {
	t.Helper()
	w := &tail{}
	t.Cleanup(func() {
		if t.Failed() {
			if s := w.String(); s != "" {
				t.Logf("%s%s", name, s)
			}
		}
	})
	return w
}

// tail keeps the last Lines complete lines written, and the line being
// written.
type tail struct {
	mu      sync.Mutex
	lines   []string
	partial []byte
	dropped int
}

func (w *tail) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.lines = append(w.lines, string(w.partial[:i]))
		w.partial = w.partial[i+1:]
		if len(w.lines) > Lines {
			w.dropped += len(w.lines) - Lines
			w.lines = append(w.lines[:0], w.lines[len(w.lines)-Lines:]...)
		}
	}
	return len(p), nil
}

// String is what a failing test prints: how many lines were left out, and
// the last lines.
func (w *tail) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	lines := w.lines
	if len(w.partial) > 0 {
		lines = append(lines[:len(lines):len(lines)], string(w.partial))
	}
	if len(lines) == 0 {
		return ""
	}
	head := fmt.Sprintf(" (%d lines):\n", len(lines))
	if w.dropped > 0 {
		head = fmt.Sprintf(" (the last %d of %d lines):\n", len(lines), len(lines)+w.dropped)
	}
	return head + strings.Join(lines, "\n")
}
