package hookgate

import (
	"crypto/rand"
	"encoding/binary"
	"math/bits"
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
	PrefixRedrive  = "rdr_"
	// PrefixPortalLink names a consumer portal link.
	PrefixPortalLink = "prtl_"
)

const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// idStepBits is how many fresh random bits each ID made in the same
// millisecond as the one before it adds to that one's random part; a
// multiple of 8.
const idStepBits = 48

// idGen makes the time and random parts of one process's IDs (see NewID).
type idGen struct {
	mu sync.Mutex
	ms uint64 // the millisecond of the last ID
	// hi and lo are the last ID's 80 random bits: the top 16 and the low 64.
	hi, lo uint64
	// read fills b with random bytes.
	read func(b []byte)
}

// ids is the process's generator: IDs are strictly increasing within one
// process, which takes one state per process.
var ids = idGen{read: func(b []byte) { _, _ = rand.Read(b) }} // crypto/rand.Read never fails on supported platforms.

// next returns the millisecond and the random part (top 16 and low 64 bits)
// of a new ID made at ms, greater than every ID it returned before.
func (g *idGen) next(ms uint64) (uint64, uint64, uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if ms <= g.ms {
		// The clock stood still or went back: keep the last millisecond and
		// step forward by 1 plus idStepBits fresh random bits, so the
		// order holds and no ID is its predecessor plus a known amount.
		var b [8]byte
		g.read(b[8-idStepBits/8:])
		lo, carry := bits.Add64(g.lo, binary.BigEndian.Uint64(b[:])+1, 0)
		if hi := g.hi + carry; hi <= 0xffff {
			g.hi, g.lo = hi, lo
			return g.ms, g.hi, g.lo
		}
		// The 80 bits are spent, after at least 2^(79-idStepBits) IDs in
		// one millisecond: take the next millisecond, ahead of the clock.
		ms = g.ms + 1
	}
	var b [10]byte
	g.read(b[:])
	// The top bit starts clear, which leaves at least 2^79 of room: 2^31
	// steps of at most 2^idStepBits each.
	g.ms, g.hi, g.lo = ms, uint64(binary.BigEndian.Uint16(b[:2])&0x7fff), binary.BigEndian.Uint64(b[2:])
	return g.ms, g.hi, g.lo
}

// NewID returns prefix followed by 26 characters in Crockford base32: 48
// bits of milliseconds and 80 random bits. The first ID of a millisecond
// draws 79 random bits; each further one in the same millisecond is the
// last one plus 1 plus idStepBits fresh random bits. IDs sort by creation
// time, strictly within one process, which lets lists page on the ID alone,
// and none can be worked out from another.
func NewID(prefix string, now time.Time) string {
	ms, rhi, rlo := ids.next(uint64(now.UnixMilli()))
	return encodeID(prefix, ms<<16|rhi, rlo)
}

// IDFloor returns the smallest ID NewID can make with prefix at t's
// millisecond: every ID made at t or later sorts at or after it, and every
// one made before t sorts before it. Time-partitioned tables take their
// bounds from it.
func IDFloor(prefix string, t time.Time) string {
	return encodeID(prefix, uint64(t.UnixMilli())<<16, 0)
}

// encodeID returns prefix followed by the 128 bits hi, lo as 26 base32
// digits, most significant first (the top two bits of the first digit are
// always zero).
func encodeID(prefix string, hi, lo uint64) string {
	out := make([]byte, len(prefix)+26)
	copy(out, prefix)
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
