//go:build linux

package sqlstore_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// processCPU is this process's CPU time, user and system.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSQLiteCommitFloor measures what SQLite itself costs for the
// least a durable ingest does: one transaction inserting one row of about
// 300 bytes into a table with 0 or 4 secondary indexes, committed with
// synchronous=full or normal, one commit every millisecond (a ticker) as
// under moderate load (the idle gap is not counted as CPU). cpu-ms/commit is
// the process's CPU time per commit. It is the floor below which no
// change to Hookgate brings the CPU per event at rates too low for
// commits to be shared (docs/performance.md).
func BenchmarkSQLiteCommitFloor(b *testing.B) {
	for _, sync := range []string{"full", "normal"} {
		for _, indexes := range []int{0, 4} {
			b.Run(fmt.Sprintf("synchronous=%s/indexes=%d", sync, indexes), func(b *testing.B) {
				path := filepath.Join(b.TempDir(), "floor.db")
				db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous("+strings.ToUpper(sync)+")&_pragma=wal_autocheckpoint(0)&_txlock=immediate")
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				db.SetMaxOpenConns(1)
				if _, err := db.Exec(`CREATE TABLE rows (id TEXT PRIMARY KEY, webhook TEXT, status TEXT, due INTEGER, created INTEGER, data TEXT)`); err != nil {
					b.Fatal(err)
				}
				for i := range indexes {
					if _, err := db.Exec(fmt.Sprintf(`CREATE INDEX rows_%d ON rows (webhook, due, id)`, i)); err != nil {
						b.Fatal(err)
					}
				}
				data := strings.Repeat("x", 300)
				var cpu time.Duration
				// A commit a millisecond: the ticker paces them, so that
				// each meets an idle writer as under moderate load.
				tick := time.NewTicker(time.Millisecond)
				defer tick.Stop()
				b.ResetTimer()
				for i := range b.N {
					start := processCPU(b)
					tx, err := db.Begin()
					if err != nil {
						b.Fatal(err)
					}
					if _, err := tx.Exec(`INSERT INTO rows VALUES (?, ?, ?, ?, ?, ?)`, fmt.Sprintf("row%09d", i), "webhook", "pending", i, i, data); err != nil {
						b.Fatal(err)
					}
					if err := tx.Commit(); err != nil {
						b.Fatal(err)
					}
					cpu += processCPU(b) - start
					b.StopTimer()
					<-tick.C
					b.StartTimer()
				}
				b.ReportMetric(float64(cpu)/float64(b.N)/1e6, "cpu-ms/commit")
			})
		}
	}
}
