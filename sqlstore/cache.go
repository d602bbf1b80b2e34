package sqlstore

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/hookgate/hookgate"
)

// hookCache keeps, on the embedded store, what ingest and the dispatcher
// read of webhooks for every event: a project's subscribers and a webhook
// with its secrets opened. The embedded store has one process (serve
// locks its data dir), and every write to webhooks goes through this Store
// and calls webhooksChanged, so the cache is exact: an entry read before a
// change is never used after it. On PostgreSQL other nodes write too, so
// nothing is cached there.
type hookCache struct {
	gen   atomic.Uint64
	mu    sync.Mutex
	subs  map[string]cachedSubs
	hooks map[[2]string]cachedHook
}

type cachedSubs struct {
	gen  uint64
	list []subscriber
}

type cachedHook struct {
	gen uint64
	w   *hookgate.Webhook
}

// maxCachedHooks bounds the cache; past it, it starts again empty.
const maxCachedHooks = 10_000

// caching reports whether this store caches webhooks.
func (s *Store) caching() bool { return s.engine == EngineSQLite }

// webhooksChanged drops every cached webhook; each write to webhooks calls
// it once the write is done.
func (s *Store) webhooksChanged() {
	c := &s.hooks
	c.gen.Add(1)
	c.mu.Lock()
	c.subs, c.hooks = nil, nil
	c.mu.Unlock()
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
	if ok && e.gen == gen {
		return e.list, nil
	}
	list, err := s.subscribers(ctx, s.read, projectID)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.subs == nil || len(c.subs) >= maxCachedHooks {
		c.subs = map[string]cachedSubs{}
	}
	c.subs[projectID] = cachedSubs{gen, list}
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
	if ok && e.gen == gen {
		return e.w, nil
	}
	w, err := s.FindWebhook(ctx, projectID, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.hooks == nil || len(c.hooks) >= maxCachedHooks {
		c.hooks = map[[2]string]cachedHook{}
	}
	c.hooks[k] = cachedHook{gen, w}
	c.mu.Unlock()
	return w, nil
}
