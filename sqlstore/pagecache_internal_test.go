package sqlstore

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"modernc.org/sqlite"

	"github.com/hookgate/hookgate/secrets"
)

// pageCacheChild, set to a directory, makes TestSQLiteWriterCacheResident
// the child process that fills a store's writer cache there.
const pageCacheChild = "HOOKGATE_TEST_PAGE_CACHE_DIR"

// maxWriterCacheResident bounds what the writer's page cache, once full,
// adds to the process's anonymous resident memory. The driver's allocator
// holds each cached page in an 8 KiB slot, so the cache costs about twice
// writerCacheKiB: the bound fails when the cache is set back to 32 MiB
// (about 70 MiB resident), which took the server over its 150 MB goal
// (docs/performance.md).
const maxWriterCacheResident = 48 << 20

// The writer's page cache, filled past its size, stays within
// maxWriterCacheResident of resident memory. It is measured in a process
// of its own, so that no other test's memory counts.
func TestSQLiteWriterCacheResident(t *testing.T) {
	if dir := os.Getenv(pageCacheChild); dir != "" {
		fillWriterCache(t, dir)
		return
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("the resident set is read from /proc/self/status:", err)
	}
	t.Parallel()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestSQLiteWriterCacheResident$", "-test.v")
	cmd.Env = append(os.Environ(), pageCacheChild+"="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var cached, grew int64 = -1, -1
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 5 && f[0] == "writer-cache:" {
			cached, _ = strconv.ParseInt(f[2], 10, 64)
			grew, _ = strconv.ParseInt(f[4], 10, 64)
		}
	}
	if cached < 0 || grew < 0 {
		t.Fatalf("no measure in the child's output:\n%s", out)
	}
	// The cache must have been filled for the bound to mean anything.
	if cached < writerCacheKiB<<10*9/10 {
		t.Fatalf("the writer's cache held %d bytes, want at least 90 %% of %d KiB", cached, writerCacheKiB)
	}
	if grew > maxWriterCacheResident {
		t.Fatalf("the writer's full cache (%d bytes by SQLite's count) added %d bytes resident, want at most %d", cached, grew, maxWriterCacheResident)
	}
	t.Logf("the writer's full cache (%d bytes by SQLite's count) added %d bytes resident", cached, grew)
}

// fillWriterCache opens a store in dir, writes a table twice the size of
// the writer's cache and reads it back through the writer, then prints
// what SQLite counts in the writer's cache and how much anonymous
// resident memory the process gained.
func fillWriterCache(t *testing.T, dir string) {
	ctx := context.Background()
	key := make([]byte, secrets.KeySize)
	_, _ = rand.Read(key)
	box, err := secrets.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, Config{DataDir: dir, Box: box})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before := residentAnon(t)
	rows := 2 * writerCacheKiB << 10 / 700
	for _, q := range []string{
		"CREATE TABLE cache_fill (k INTEGER PRIMARY KEY, v BLOB)",
		fmt.Sprintf("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) INSERT INTO cache_fill (v) SELECT randomblob(700) FROM n", rows),
	} {
		if _, err := s.write.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := s.write.QueryRowContext(ctx, "SELECT count(*) FROM cache_fill WHERE length(v) > 0").Scan(&n); err != nil || n != rows {
		t.Fatalf("read back %d rows, %v; want %d", n, err, rows)
	}
	cached := cacheUsed(t, s)
	fmt.Printf("writer-cache: used %d grew %d\n", cached, residentAnon(t)-before)
}

// cacheUsed is what SQLite counts in the writer's page cache, in bytes.
func cacheUsed(t *testing.T, s *Store) int64 {
	conn, err := s.write.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var used int
	err = conn.Raw(func(c any) error {
		st, ok := c.(sqlite.DBStatus)
		if !ok {
			return fmt.Errorf("the driver's connection %T has no Status", c)
		}
		used, _, err = st.Status(sqlite.DBStatusCacheUsed, false)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return int64(used)
}

// residentAnon is the process's anonymous resident memory, in bytes.
func residentAnon(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "RssAnon:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no RssAnon in /proc/self/status")
	return 0
}
