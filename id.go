package hookgate

import (
	"crypto/rand"
	"encoding/binary"
	"strings"
	"sync"
	"time"
)

// ID prefixes tell a reader what an ID names.
const (
	PrefixProject  = "proj_"
	PrefixKey      = "key_"
	PrefixWebhook  = "wh_"
	PrefixEvent    = "evt_"
	PrefixDelivery = "msg_"
	PrefixAttempt  = "atmpt_"
)

const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// idState makes the IDs of one process strictly increasing: within one
// millisecond the random part of the last ID is incremented instead of drawn
// anew (as ULID's monotonic mode does). It is process state by nature.
var idState struct {
	sync.Mutex
	ms   uint64
	last [10]byte
}

// NewID returns prefix followed by 26 characters: 48 bits of milliseconds and
// 80 random bits, in Crockford base32. IDs sort by creation time, strictly
// within one process, which lets lists page on the ID alone.
func NewID(prefix string, now time.Time) string {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	idState.Lock()
	if ms <= idState.ms {
		ms = idState.ms // the clock went back or stood still: keep the order
		for i := len(idState.last) - 1; i >= 0; i-- {
			idState.last[i]++
			if idState.last[i] != 0 {
				break
			}
		}
	} else {
		idState.ms = ms
		_, _ = rand.Read(idState.last[:]) // crypto/rand.Read never fails on supported platforms.
		idState.last[0] &= 0x7f           // leave room to increment without overflow
	}
	binary.BigEndian.PutUint64(b[:8], ms<<16)
	copy(b[6:], idState.last[:])
	idState.Unlock()
	out := make([]byte, len(prefix)+26)
	copy(out, prefix)
	// 128 bits as 26 base32 digits, most significant first (the top two bits
	// of the first digit are always zero).
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	for i := 25; i >= 0; i-- {
		out[len(prefix)+i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out)
}

// DeliveryID returns the ID of the delivery of an event to a webhook:
// "msg_", the event's 26 characters, then the webhook's. It is the same
// however often it is computed, so a delivery can never be created twice, and
// the deliveries of one event sort together, in the order of events.
func DeliveryID(eventID, webhookID string) string {
	return PrefixDelivery + idSuffix(eventID) + idSuffix(webhookID)
}

// DeliveryIDPrefix is the prefix shared by the IDs of an event's deliveries.
func DeliveryIDPrefix(eventID string) string {
	return PrefixDelivery + idSuffix(eventID)
}

func idSuffix(id string) string {
	if i := strings.IndexByte(id, '_'); i >= 0 {
		return id[i+1:]
	}
	return id
}
