package api

import (
	"sync"

	"golang.org/x/sync/semaphore"
)

// inboundLimits bound what unauthenticated inbound posts can hold: bytes
// in flight (a budget apart from the API's, so that neither starves the
// other), posts in flight per platform and per client address, and
// failed verifications per platform and address.
type inboundLimits struct {
	bytes       *semaphore.Weighted
	perPlatform int
	perAddress  int

	mu        sync.Mutex
	platforms map[string]int
	addrs     map[string]int

	// fails counts failed verifications by platform ID and address, as
	// authFailures counts wrong API keys: past its burst a post that fails
	// is answered 429, while a post that verifies always passes, so that
	// a genuine provider's retries are never held up.
	fails authFailures
}

func newInboundLimits(cfg Config) inboundLimits {
	return inboundLimits{
		bytes:       semaphore.NewWeighted(cfg.InboundBytesInFlight),
		perPlatform: cfg.InboundPerPlatform,
		perAddress:  cfg.InboundPerAddress,
		platforms:   map[string]int{},
		addrs:       map[string]int{},
		fails:       authFailures{burst: cfg.AuthFailureBurst},
	}
}

// enter counts a post of platform from addr in flight; false when either
// is at its cap. leave undoes it.
func (l *inboundLimits) enter(platform, addr string) (leave func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.platforms[platform] >= l.perPlatform || l.addrs[addr] >= l.perAddress {
		return nil, false
	}
	l.platforms[platform]++
	l.addrs[addr]++
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		// Entries at zero go, so the maps hold only what is in flight.
		if l.platforms[platform]--; l.platforms[platform] == 0 {
			delete(l.platforms, platform)
		}
		if l.addrs[addr]--; l.addrs[addr] == 0 {
			delete(l.addrs, addr)
		}
	}, true
}
