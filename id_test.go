package hookgate_test

import (
	"testing"
	"time"

	"github.com/hookgate/hookgate"
)

// IDAt bounds the IDs made at and after a time from those made before.
func TestIDAt(t *testing.T) {
	t.Parallel()
	now := time.Now()
	id := hookgate.NewID("evt_", now) // NewID never goes back: this one is of now or later
	if bound := hookgate.IDAt("evt_", now); !(bound <= id) || len(bound) != len(id) {
		t.Fatalf("IDAt(now) = %s, not at or before %s", bound, id)
	}
	if after := hookgate.IDAt("evt_", time.Now().Add(time.Hour)); !(id < after) {
		t.Fatalf("%s does not sort before IDAt(an hour on) = %s", id, after)
	}
	if a, b := hookgate.IDAt("evt_", now), hookgate.IDAt("evt_", now.Add(time.Millisecond)); !(a < b) {
		t.Fatalf("IDAt does not grow with time: %s, %s", a, b)
	}
}
