package sqlstore

import (
	"testing"
	"time"

	"github.com/hookgate/hookgate"
)

// requests returns event requests queued at the given offsets from t0.
func requests(t0 time.Time, offsets ...time.Duration) []*ingestReq {
	out := make([]*ingestReq, len(offsets))
	for i, d := range offsets {
		out[i] = &ingestReq{in: make([]hookgate.EventInput, 1), at: t0.Add(d)}
	}
	return out
}

func TestGathererLearnsThePace(t *testing.T) {
	g := gatherer{window: time.Millisecond}
	t0 := time.Now()
	g.saw(requests(t0, 0, 200*time.Microsecond, 400*time.Microsecond, 600*time.Microsecond))
	if g.interval != 200*time.Microsecond {
		t.Fatalf("interval %s after requests 200µs apart, want 200µs", g.interval)
	}
	// A pause moves the average an eighth of the way.
	g.saw(requests(t0, 2600*time.Microsecond))
	if want := 200*time.Microsecond + (2000*time.Microsecond-200*time.Microsecond)/8; g.interval != want {
		t.Fatalf("interval %s after a 2ms pause, want %s", g.interval, want)
	}
	// Outcomes do not count.
	before := g.interval
	g.saw([]*ingestReq{{outcomes: make([]hookgate.AttemptOutcome, 1)}})
	if g.interval != before {
		t.Fatalf("an outcome moved the interval to %s", g.interval)
	}
}

func TestGathererWaitsOnlyWhenCompanyIsLikely(t *testing.T) {
	now := time.Now()
	paced := func() gatherer { return gatherer{window: time.Millisecond, interval: 250 * time.Microsecond} }

	g := paced()
	until, ok := g.wait(requests(now, 0))
	if !ok || !until.Equal(now.Add(time.Millisecond)) {
		t.Fatalf("a lone request with others 250µs apart: wait %v until %s, want until its arrival + 1ms", ok, until)
	}
	if g.want != 1+4 {
		t.Fatalf("want %d requests, want 5 (1 + 1ms / 250µs)", g.want)
	}

	cases := map[string]struct {
		g     gatherer
		batch []*ingestReq
	}{
		"off":                  {gatherer{interval: 250 * time.Microsecond}, requests(now, 0)},
		"no pace yet":          {gatherer{window: time.Millisecond}, requests(now, 0)},
		"events far apart":     {gatherer{window: time.Millisecond, interval: 5 * time.Millisecond}, requests(now, 0)},
		"already shared":       {paced(), requests(now, 0, 0, 0, 0, 0, 0, 0, 0)},
		"an outcome in it":     {paced(), append(requests(now, 0), &ingestReq{outcomes: make([]hookgate.AttemptOutcome, 1)})},
		"first waited already": {paced(), requests(now, -2*time.Millisecond)},
	}
	for name, c := range cases {
		if _, ok := c.g.wait(c.batch); ok {
			t.Errorf("%s: waits", name)
		}
	}
}

func TestGathererStopsWaitingForNobody(t *testing.T) {
	g := gatherer{window: time.Millisecond, interval: 250 * time.Microsecond}
	for i := range gatherFruitless {
		if _, ok := g.wait(requests(time.Now(), 0)); !ok {
			t.Fatalf("wait %d refused before %d fruitless waits", i+1, gatherFruitless)
		}
		g.gathered(0)
	}
	if _, ok := g.wait(requests(time.Now(), 0)); ok {
		t.Fatalf("still waits after %d waits that gathered nothing", gatherFruitless)
	}
	// A wait that gathers resets the count.
	g = gatherer{window: time.Millisecond, interval: 250 * time.Microsecond}
	g.gathered(0)
	g.gathered(2)
	g.gathered(0)
	g.gathered(0)
	if _, ok := g.wait(requests(time.Now(), 0)); !ok {
		t.Fatal("waiting turned off although a wait gathered company in between")
	}
}

func TestGatherUntilEndsAtAnOutcome(t *testing.T) {
	queue, records := make(chan *ingestReq, 8), make(chan *ingestReq, 8)
	q, r := queue, records
	out := &ingestReq{outcomes: make([]hookgate.AttemptOutcome, 2)}
	records <- out
	timer := time.NewTimer(time.Hour)
	batch, n := gatherUntil(timer, &q, &r, requests(time.Now(), 0), 1, 10)
	if len(batch) != 2 || batch[1] != out || n != 3 {
		t.Fatalf("gathered %d requests (%d rows), want the event and the outcome at once", len(batch), n)
	}
	for _, ev := range requests(time.Now(), 0, 0, 0) {
		queue <- ev
	}
	timer.Reset(time.Hour)
	batch, n = gatherUntil(timer, &q, &r, requests(time.Now(), 0), 1, 3)
	if len(batch) != 3 || n != 3 {
		t.Fatalf("gathered %d requests, want 3 (as many as wanted)", len(batch))
	}
	// The timer ends a wait nobody joins.
	timer.Reset(time.Millisecond)
	batch, _ = gatherUntil(timer, &q, &r, requests(time.Now(), 0), 1, 10)
	if len(batch) != 2 {
		t.Fatalf("gathered %d requests, want the one still queued", len(batch))
	}
}
