package sqlstore

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookgate/hookgate"
)

// hookCache keeps what ingest and the dispatcher read of webhooks for every
// event: a project's subscribers and a webhook with its secrets opened.
//
// On the embedded store there is one process (serve locks its data dir),
// and every write to webhooks goes through this Store and calls
// webhooksChanged, so the cache is exact: an entry read before a change is
// never used after it.
//
// On PostgreSQL other nodes write too. A node caches only while Listen
// hears the other nodes (live): each write to webhooks is followed by a
// notification on the change channel, and every node that hears it drops its
// entries. An entry is also never older than hookTTL, for a notification
// that was not sent (the writer lost its connection after the write).
// Listen drops everything when it connects and when it loses its
// connection, so nothing read while no one listened survives.
type hookCache struct {
	gen   atomic.Uint64
	live  atomic.Bool
	mu    sync.Mutex
	subs  map[string]cachedSubs
	hooks map[[2]string]cachedHook
}

type cachedSubs struct {
	gen  uint64
	at   time.Time
	list []subscriber
}

type cachedHook struct {
	gen uint64
	at  time.Time
	w   *hookgate.Webhook
}

// maxCachedHooks bounds the cache; past it, it starts again empty.
const maxCachedHooks = 10_000

// hookTTL bounds the age of an entry on PostgreSQL.
const hookTTL = 10 * time.Second

// caching reports whether this store caches webhooks now.
func (s *Store) caching() bool { return s.engine == EngineSQLite || s.hooks.live.Load() }

// fresh reports whether an entry of generation gen, read at at, may be used.
func (s *Store) fresh(gen uint64, at time.Time) bool {
	return gen == s.hooks.gen.Load() && (s.engine == EngineSQLite || s.now().Sub(at) < hookTTL)
}

// webhooksChanged drops every cached webhook, and on PostgreSQL tells the
// other nodes to drop theirs; each write to webhooks calls it once the
// write is done.
func (s *Store) webhooksChanged(ctx context.Context) {
	s.dropHooks()
	s.notifyChange(context.WithoutCancel(ctx), "webhooks", "")
}

// dropHooks forgets every cached webhook.
func (s *Store) dropHooks() {
	c := &s.hooks
	c.gen.Add(1)
	c.mu.Lock()
	c.subs, c.hooks = nil, nil
	c.mu.Unlock()
}

// hearing tells the cache whether Listen hears other nodes' changes; either
// way what was cached before is dropped.
func (s *Store) hearing(live bool) {
	s.hooks.live.Store(live)
	s.dropHooks()
}

// cachedSubscribers returns a project's subscribers.
func (s *Store) cachedSubscribers(ctx context.Context, projectID string) ([]subscriber, error) {
	if !s.caching() {
		return s.subscribers(ctx, s.read, projectID)
	}
	c := &s.hooks
	gen := c.gen.Load() // before the read: a change during it makes the entry stale
	c.mu.Lock()
	e, ok := c.subs[projectID]
	c.mu.Unlock()
	if ok && s.fresh(e.gen, e.at) {
		return e.list, nil
	}
	at := s.now()
	list, err := s.subscribers(ctx, s.read, projectID)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.subs == nil || len(c.subs) >= maxCachedHooks {
		c.subs = map[string]cachedSubs{}
	}
	c.subs[projectID] = cachedSubs{gen, at, list}
	c.mu.Unlock()
	return list, nil
}

// DeliveryWebhook finds a webhook for sending, with its secrets opened; on
// the embedded store from the cache. The webhook is shared: callers must
// not change it.
func (s *Store) DeliveryWebhook(ctx context.Context, projectID, id string) (*hookgate.Webhook, error) {
	if !s.caching() {
		return s.FindWebhook(ctx, projectID, id)
	}
	c := &s.hooks
	k := [2]string{projectID, id}
	gen := c.gen.Load()
	c.mu.Lock()
	e, ok := c.hooks[k]
	c.mu.Unlock()
	if ok && s.fresh(e.gen, e.at) {
		return e.w, nil
	}
	at := s.now()
	w, err := s.FindWebhook(ctx, projectID, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.hooks == nil || len(c.hooks) >= maxCachedHooks {
		c.hooks = map[[2]string]cachedHook{}
	}
	c.hooks[k] = cachedHook{gen, at, w}
	c.mu.Unlock()
	return w, nil
}
