package sqlstore

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"time"
)

// checkpointEvery is how often the checkpointer copies the WAL into the
// database file.
const checkpointEvery = 250 * time.Millisecond

// restartFrames is the WAL size, in pages, past which a checkpoint waits
// for readers and writers so that the WAL starts again from its beginning
// (about 64 MiB): passive checkpoints alone may never catch up under a
// constant write load.
const restartFrames = 16384

// checkpointer copies SQLite's WAL into the database file on a connection
// of its own. SQLite's automatic checkpoint runs in the committing
// connection, so under load every thousandth commit of the one writer also
// copied pages and waited for an fsync; here the writer only appends. A
// passive checkpoint never blocks the writer or readers.
type checkpointer struct {
	db     *sql.DB
	log    *slog.Logger
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func startCheckpointer(db *sql.DB, log *slog.Logger) *checkpointer {
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{db: db, log: log, cancel: cancel}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		t := time.NewTicker(checkpointEvery)
		defer t.Stop()
		mode := "PASSIVE"
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			var busy, frames, done int64
			if err := db.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &frames, &done); err != nil {
				if ctx.Err() == nil {
					c.log.Warn("checkpoint the SQLite WAL", "err", err)
				}
				continue
			}
			mode = "PASSIVE"
			if frames > restartFrames {
				mode = "RESTART"
			}
		}
	}()
	return c
}

// stop ends the checkpoints; closing the last connection checkpoints the
// rest.
func (c *checkpointer) stop() {
	c.cancel()
	c.wg.Wait()
	c.db.Close()
}
