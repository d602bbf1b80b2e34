package expressions

import (
	"reflect"
	"sync"
)

var mapOfStrings = reflect.TypeFor[map[string]string]()

// MaxCached bounds each cache of compiled expressions; past it, the cache
// starts again empty.
const MaxCached = 10_000

// cache keeps compiled expressions by their source. An expression is
// compiled when a webhook is registered or changed; the webhooks read back
// from the store name theirs by source, so that a node compiles each
// expression once, whichever node registered it, and a changed expression
// is a new entry: nothing is ever stale.
type cache[T any] struct {
	mu      sync.Mutex
	m       map[string]T
	compile func(string) (T, error)
}

func (c *cache[T]) get(src string) (T, error) {
	c.mu.Lock()
	v, ok := c.m[src]
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := c.compile(src)
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= MaxCached {
		c.m = map[string]T{}
	}
	c.m[src] = v
	c.mu.Unlock()
	return v, nil
}

var (
	filters    = cache[*Filter]{compile: CompileFilter}
	transforms = cache[*Transform]{compile: CompileTransform}
	headers    = cache[*Headers]{compile: CompileHeaders}
)

// CachedFilter is CompileFilter, compiling each source once per process.
func CachedFilter(src string) (*Filter, error) { return filters.get(src) }

// CachedTransform is CompileTransform, compiling each source once per
// process.
func CachedTransform(src string) (*Transform, error) { return transforms.get(src) }

// CachedHeaders is CompileHeaders, compiling each source once per process.
func CachedHeaders(src string) (*Headers, error) { return headers.get(src) }
