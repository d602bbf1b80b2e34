package hookgate_test

import (
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
)

// idValue decodes the 26 base32 characters of an ID into its 128 bits.
func idValue(t *testing.T, id string) *big.Int {
	t.Helper()
	const crockford = "0123456789abcdefghjkmnpqrstvwxyz"
	_, digits, _ := strings.Cut(id, "_")
	if len(digits) != 26 {
		t.Fatalf("id %q: %d characters after the prefix, want 26", id, len(digits))
	}
	v := new(big.Int)
	for _, c := range digits {
		d := strings.IndexRune(crockford, c)
		if d < 0 {
			t.Fatalf("id %q: %q is not Crockford base32", id, c)
		}
		v.Lsh(v, 5).Or(v, big.NewInt(int64(d)))
	}
	return v
}

// Issue 21, item 8: IDs made in one millisecond incremented by one, so that
// one project's event IDs told another project's platform IDs. Consecutive
// IDs of one millisecond still increase strictly, by random steps.
func TestNewIDSameMillisecondStepsAreRandom(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		at   time.Time
	}{
		{"now", time.Now()},
		{"fixed past", time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)},
		{"epoch millisecond", time.UnixMilli(1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			prev := idValue(t, hookgate.NewID(hookgate.PrefixEvent, tc.at))
			steps := map[string]bool{}
			one := big.NewInt(1)
			for i := range 2000 {
				id := hookgate.NewID(hookgate.PrefixEvent, tc.at) // the same millisecond every time
				v := idValue(t, id)
				step := new(big.Int).Sub(v, prev)
				if step.Sign() <= 0 {
					t.Fatalf("id %d %s does not sort after the one before", i, id)
				}
				if step.Cmp(one) == 0 {
					t.Fatalf("id %d %s is the one before plus 1", i, id)
				}
				steps[step.String()] = true
				prev = v
			}
			if len(steps) < 1900 {
				t.Fatalf("2000 consecutive IDs differ by only %d distinct steps", len(steps))
			}
		})
	}
}

// IDFloor is the bound time-partitioned tables split IDs at: an ID made at
// the floor's millisecond or later sorts at or after it, one made a
// millisecond earlier before it, and its value is the millisecond shifted
// past the 80 random bits.
func TestIDFloor(t *testing.T) {
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	floor := hookgate.IDFloor(hookgate.PrefixDelivery, at)
	want := new(big.Int).Lsh(big.NewInt(at.UnixMilli()), 80)
	if got := idValue(t, floor); got.Cmp(want) != 0 {
		t.Fatalf("IDFloor(%v) = %s, value %v, want %v", at, floor, got, want)
	}
	// IDs made now sort between the floors of now and of a minute ahead
	// (the process's IDs never go back, so none is made in the past).
	for range 100 {
		now := time.Now()
		id := hookgate.NewID(hookgate.PrefixEvent, now)
		d := hookgate.DeliveryID(id, hookgate.NewID(hookgate.PrefixWebhook, now.Add(-48*time.Hour)))
		lo, hi := hookgate.IDFloor(hookgate.PrefixDelivery, now), hookgate.IDFloor(hookgate.PrefixDelivery, now.Add(time.Minute))
		if d < lo || d >= hi {
			t.Fatalf("delivery %s made at %v: not within [%s, %s)", d, now, lo, hi)
		}
	}
}
