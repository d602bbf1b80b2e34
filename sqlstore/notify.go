package sqlstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// wakeChannel is the PostgreSQL notification channel that tells every node
// that deliveries may be due.
const wakeChannel = "hookgate_wake"

// Listen calls wake whenever any node commits events, until ctx ends. On
// PostgreSQL it holds a connection that LISTENs, and reconnects after
// errors; on SQLite there are no other nodes and it returns at once.
func (s *Store) Listen(ctx context.Context, wake func()) {
	if s.engine != EnginePostgres {
		return
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, wake)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("listen for wake-ups; reconnecting", "err", err, "in", backoff.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

func (s *Store) listenOnce(ctx context.Context, wake func()) error {
	conn, err := pgx.Connect(ctx, s.url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+wakeChannel); err != nil {
		return err
	}
	wake() // something may have been committed while no one listened
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		wake()
	}
}
