package sqlstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// wakeChannel is the PostgreSQL notification channel that tells every node
// that deliveries may be due.
const wakeChannel = "hookgate_wake"

// changeChannel tells every node that something it caches changed: its
// payload is "key:{id}" (a key was revoked), "project:{id}" (a project was
// changed or deleted, with its keys), "schemas:{project id}" or
// "webhooks:" (a webhook was written; the store's own cache).
const changeChannel = "hookgate_changes"

// plainName is a schema name that channel names may carry as it is.
var plainName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,39}$`)

// channels returns the names of the wake and change channels of the nodes
// whose tables are in schema. A notification is heard by every session of
// the database that listens on its channel, whatever its search_path: the
// nodes of two installations on two schemas of one database (or two tests)
// must not wake each other, nor empty each other's caches. On public, the
// names are wakeChannel and changeChannel; on another schema, they end in
// _ and its name, or a digest of it when the name is long or unusual.
func channels(schema string) (wake, change string) {
	if schema == "" || schema == "public" {
		return wakeChannel, changeChannel
	}
	suffix := schema
	if !plainName.MatchString(schema) {
		sum := sha256.Sum256([]byte(schema))
		suffix = hex.EncodeToString(sum[:8])
	}
	return wakeChannel + "_" + suffix, changeChannel + "_" + suffix
}

// Listeners are what Listen calls.
type Listeners struct {
	// Wake: any node committed events.
	Wake func()
	// Changed: another node changed what caches hold; kind is "key",
	// "project" or "schemas", or "all" when Listen has (re)connected and
	// may have missed changes. Nil ignores changes.
	Changed func(kind, id string)
}

// notifyChange tells every node's Listen of a change, on PostgreSQL.
func (s *Store) notifyChange(ctx context.Context, kind, id string) {
	if s.engine != EnginePostgres {
		return
	}
	if _, err := s.write.ExecContext(ctx, "SELECT pg_notify($1, $2)", s.changeCh, kind+":"+id); err != nil {
		// The other nodes' caches expire within their TTL anyway.
		s.log.Warn("notify other nodes of a change", "kind", kind, "err", err)
	}
}

// Listen calls l.Wake whenever any node commits events, and l.Changed when
// another node changes what caches hold, until ctx ends. On PostgreSQL it
// holds a connection that LISTENs, and reconnects after errors; on SQLite
// there are no other nodes and it returns at once.
func (s *Store) Listen(ctx context.Context, l Listeners) {
	if s.engine != EnginePostgres {
		return
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, l)
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

func (s *Store) listenOnce(ctx context.Context, l Listeners) error {
	conn, err := pgx.Connect(ctx, s.url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+s.wakeCh+"; LISTEN "+s.changeCh); err != nil {
		return err
	}
	// Webhooks are cached while changes are heard, and only then.
	s.hearing(true)
	defer s.hearing(false)
	// Something may have been committed or changed while no one listened.
	if l.Changed != nil {
		l.Changed("all", "")
	}
	l.Wake()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Channel == s.changeCh {
			kind, id, ok := strings.Cut(n.Payload, ":")
			if kind == "webhooks" {
				s.dropHooks()
			} else if ok && l.Changed != nil {
				l.Changed(kind, id)
			}
			continue
		}
		l.Wake()
	}
}
