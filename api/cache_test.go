package api_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/hookgate/hookgate/api"
)

// hammer runs fn on 4 goroutines until the returned stop is called, which
// waits for them.
func hammer(fn func()) (stop func()) {
	var wg sync.WaitGroup
	done := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
					fn()
				}
			}
		}()
	}
	return func() { close(done); wg.Wait() }
}

// TestRevokedKeyRefusedDuringConcurrentUse revokes keys that are being used
// at the same moment: once DELETE has answered, the key must be refused.
// The race is probabilistic; the test tries many times.
func TestRevokedKeyRefusedDuringConcurrentUse(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		// Thousands of refused keys from one address: no failure limit.
		e := setup(t, engine, func(c *api.Config) { c.AuthFailureBurst = -1 })
		_, owner, _ := e.project("acme")
		for i := range 150 {
			k := e.req("POST", "/api/v1/projects/acme/keys", owner, map[string]any{"name": "k", "role": "owner"}).must(t, 201)
			stop := hammer(func() { e.req("GET", "/api/v1/projects/acme", k.str("key"), nil) })
			e.req("DELETE", "/api/v1/projects/acme/keys/"+k.str("id"), owner, nil).must(t, 204)
			stop()
			if r := e.req("GET", "/api/v1/projects/acme", k.str("key"), nil); r.Status != 401 {
				t.Fatalf("try %d: a revoked key answered %d after its DELETE", i, r.Status)
			}
		}
	})
}

// TestSchemaChangeAppliesDuringConcurrentEvents changes an event type's
// schema while events of that type are being sent: once PATCH has answered,
// the new schema must apply.
func TestSchemaChangeAppliesDuringConcurrentEvents(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, owner, pub := e.project("acme")
		obj, arr := map[string]any{"type": "object"}, map[string]any{"type": "array"}
		e.req("POST", "/api/v1/projects/acme/event-types", owner, map[string]any{"name": "a.b", "schema": obj}).must(t, 201)
		for i := range 150 {
			to, fits := arr, any([]any{})
			if i%2 == 1 {
				to, fits = obj, map[string]any{}
			}
			stop := hammer(func() {
				e.req("POST", "/api/v1/projects/acme/events", pub, map[string]any{"type": "a.b", "data": 1})
			})
			// Another catalog change empties the cache, so that loads run
			// concurrently with the PATCH.
			e.req("POST", "/api/v1/projects/acme/event-types", owner, map[string]any{"name": fmt.Sprintf("x.%d", i)}).must(t, 201)
			e.req("PATCH", "/api/v1/projects/acme/event-types/a.b", owner, map[string]any{"schema": to}).must(t, 200)
			stop()
			if r := e.req("POST", "/api/v1/projects/acme/events", pub, map[string]any{"type": "a.b", "data": fits}); r.Status != 202 {
				t.Fatalf("try %d: data fitting the new schema answered %d: %s", i, r.Status, r.Raw)
			}
		}
	})
}
