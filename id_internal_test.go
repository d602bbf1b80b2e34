package hookgate

import (
	"math/big"
	"testing"
)

func idBits(ms, hi, lo uint64) *big.Int {
	v := new(big.Int).SetUint64(ms<<16 | hi)
	return v.Lsh(v, 64).Or(v, new(big.Int).SetUint64(lo))
}

// When the 80 random bits of a millisecond would overflow, the generator
// takes the next millisecond: the order holds however many IDs are made.
func TestIDGenOverflowTakesTheNextMillisecond(t *testing.T) {
	t.Parallel()
	g := idGen{read: func(b []byte) {
		for i := range b {
			b[i] = 0xff
		}
	}}
	ms, hi, lo := g.next(1000)
	if ms != 1000 || hi != 0x7fff || lo != ^uint64(0) {
		t.Fatalf("first id of the millisecond = %d %x %x, want the top bit clear", ms, hi, lo)
	}
	// Three of the largest steps (2^48) from the top fill the 80 bits.
	g.hi, g.lo = 0xffff, ^uint64(0)-3<<idStepBits
	prev := idBits(g.ms, g.hi, g.lo)
	steps := 0
	for ms == 1000 {
		ms, hi, lo = g.next(1000)
		v := idBits(ms, hi, lo)
		if v.Cmp(prev) <= 0 {
			t.Fatalf("step %d: %x after %x", steps, v, prev)
		}
		prev = v
		steps++
	}
	if ms != 1001 || hi != 0x7fff || steps != 4 {
		t.Fatalf("after %d steps: millisecond %d, top bits %x", steps, ms, hi)
	}
	// The clock going back keeps the millisecond and the order.
	if ms2, hi2, lo2 := g.next(5); ms2 != 1001 || idBits(ms2, hi2, lo2).Cmp(prev) <= 0 {
		t.Fatalf("clock back: %d %x %x", ms2, hi2, lo2)
	}
}
