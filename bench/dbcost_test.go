package bench

import (
	"strings"
	"testing"
	"time"
)

func TestProcsSince(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	r0 := map[int]procCost{1: {cpu: 5 * ms, write: 100}, 2: {cpu: 7 * ms, write: 50}}
	// 2 ended, 3 began.
	r1 := map[int]procCost{1: {cpu: 9 * ms, write: 400}, 3: {cpu: 2 * ms, write: 30}}
	cpu, written, ok := procsSince(r0, r1)
	if cpu != 6*ms || written != 330 || !ok {
		t.Fatalf("procsSince = %s, %d, %v; want 6ms, 330, true", cpu, written, ok)
	}
	r1[1] = procCost{cpu: 9 * ms, write: -1}
	if _, _, ok := procsSince(r0, r1); ok {
		t.Fatal("an unreadable /proc/{pid}/io should make the writes unknown")
	}
}

func TestParseWriteBytes(t *testing.T) {
	t.Parallel()
	io := "rchar: 1885520\nwchar: 389788\nread_bytes: 1024000\nwrite_bytes: 528384\ncancelled_write_bytes: 98304\n"
	if got := parseWriteBytes(io); got != 528384 {
		t.Fatalf("parseWriteBytes = %d", got)
	}
	if got := parseWriteBytes("rchar: 1\n"); got != -1 {
		t.Fatalf("parseWriteBytes without the line = %d; want -1", got)
	}
}

func TestIsLocalDB(t *testing.T) {
	t.Parallel()
	for u, want := range map[string]bool{
		"postgres://postgres@127.0.0.1:5432/test":          true,
		"postgres://postgres@localhost/test":               true,
		"postgres://postgres@[::1]:5432/test":              true,
		"postgres:///test?host=/var/run/postgresql":        true,
		"postgres://postgres@db.invalid:5432/test":         false,
		"postgres://postgres@192.0.2.1:5432/test":          false,
		"postgres://u@h.invalid/test?host=/tmp/socket-dir": true,
	} {
		if got := isLocalDB(u); got != want {
			t.Errorf("isLocalDB(%q) = %v; want %v", u, got, want)
		}
	}
}

func TestShortQuery(t *testing.T) {
	t.Parallel()
	if got := shortQuery("SELECT a,\n\t  b FROM   t"); got != "SELECT a, b FROM t" {
		t.Fatalf("shortQuery = %q", got)
	}
	long := shortQuery("SELECT " + strings.Repeat("x", 300))
	if r := []rune(long); len(r) != 120 || r[119] != '…' {
		t.Fatalf("a long statement is cut to %d runes: %q", len(r), long)
	}
}
