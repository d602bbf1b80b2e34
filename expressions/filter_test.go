package expressions_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/expressions"
)

// order is a typical event.
var order = expressions.Event{
	ID:        "evt_01",
	Type:      "order.created",
	Timestamp: time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC),
	Data:      json.RawMessage(`{"total": 149.5, "count": 3, "region": "eu", "paid": true, "items": [{"sku": "B2", "qty": 1}, {"sku": "A1", "qty": 2}], "customer": {"tier": "gold"}}`),
	Metadata:  map[string]string{"tenant": "acme", "source": "shop"},
}

func TestFilterMatch(t *testing.T) {
	t.Parallel()
	tests := []matchCase{
		{`data.total > 100.0`, true},
		{`data.total > 200.0`, false},
		{`data.total > 100`, true}, // a JSON number against an int
		{`data.count == 3`, true},
		{`data.count == 3.0`, true},
		{`data.count + 1 == 4`, true},
		{`data.total * 2.0 == 299.0`, true},
		{`has(data.region)`, true},
		{`has(data.country)`, false},
		{`data.region in ['eu', 'us']`, true},
		{`data.region in ['us', 'ap']`, false},
		{`type.startsWith('order.')`, true},
		{`type == 'order.paid'`, false},
		{`id == 'evt_01'`, true},
		{`data.items.exists(i, i.sku == 'A1')`, true},
		{`data.items.exists(i, i.sku == 'Z9')`, false},
		{`data.items.all(i, i.qty > 0)`, true},
		{`size(data.items) == 2`, true},
		{`data.customer.tier == 'gold' && data.paid == true`, true},
		{`metadata['tenant'] == 'acme'`, true},
		{`metadata.source == 'shop'`, true},
		{`'region' in metadata`, false},
		{`metadata.exists(k, k == 'tenant')`, true},
		{`timestamp > timestamp('2026-11-30T00:00:00Z')`, true},
		{`timestamp < timestamp('2026-12-01T10:00:00Z')`, false},
		{`timestamp.getHours() == 10`, true},
		{strings.Repeat("(", 20) + "type == 'order.created'" + strings.Repeat(")", 20), true}, // within the nesting limit
		{`timestamp - timestamp('2026-12-01T10:00:00Z') == duration('30m')`, true},
	}
	matchAll(t, order, tests)
}

// TestFilterNoMatch: a filter that fails on an event is ErrNoMatch, told
// apart from a false result.
func TestFilterNoMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  string
		ev   expressions.Event
		want string
	}{
		{`data.country == 'fr'`, order, "no such key: country"},
		{`data.customer.address.city == 'Paris'`, order, "no such key: address"},
		{`metadata['region'] == 'eu'`, order, "no such key: region"},
		{`data.items[5].sku == 'A1'`, order, "index"},
		{`data.region > 3`, order, "no such overload"},
		{`data.total > 1.0`, expressions.Event{Type: "ping"}, ""}, // data is null
		{`data.total > 1.0`, expressions.Event{Data: json.RawMessage(`{`)}, "not JSON"},
		{`data.total > 1.0`, expressions.Event{Data: json.RawMessage(`{} {}`)}, "more than one value"},
		{`data.total > 1.0`, expressions.Event{Data: json.RawMessage(`{"total": 1e999}`)}, "beyond a double"},
		{`data.count + 1.0 > 1.0`, order, "no such overload"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			f, err := expressions.CompileFilter(tt.src)
			if err != nil {
				t.Fatalf("CompileFilter: %v", err)
			}
			got, err := f.Match(context.Background(), tt.ev)
			if !errors.Is(err, expressions.ErrNoMatch) || errors.Is(err, expressions.ErrCostLimit) {
				t.Fatalf("Match = %v, %v; want ErrNoMatch", got, err)
			}
			if got {
				t.Error("Match is true along with its error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

// TestCompileFilterErrors: what is refused names filter, with the checker's
// message and its position.
func TestCompileFilterErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, want string
	}{
		{"syntax", `data.total >`, "at line 1, column 13"},
		{"syntax second line", "type == 'a' &&\n  data.x ==", "at line 2, column 12"},
		{"undeclared", `event.type == 'a'`, "filter: undeclared reference to 'event' at line 1, column 1"},
		{"no overload", `type > 3`, "found no matching overload for '_>_' applied to '(string, int)' at line 1, column 6"},
		{"not bool", `data.total + 1.0`, "filter: the expression must evaluate to bool, not double"},
		{"string", `type`, "must evaluate to bool, not string"},
		{"dyn", `data.paid`, "must evaluate to bool, not dyn"},
		{"empty", ``, "filter: Syntax error: mismatched input '<EOF>'"},
		{"empty position", ``, "at line 1, column 1"},
		{"syntax third column", `a b`, "at line 1, column 3"},
		{"too long", `type == '` + strings.Repeat("a", expressions.MaxLength) + `'`, "filter: the expression has 10010 bytes, more than the limit of 10000"},
		{"deep nesting", strings.Repeat("(", 40) + "true" + strings.Repeat(")", 40), "filter: expression recursion limit exceeded: 32"},
		{"deep lists", "size(" + strings.Repeat("[", 40) + "1" + strings.Repeat("]", 40) + ") == 1", "recursion"},
		{"nested comprehensions over data", `data.items.exists(a, data.items.exists(b, a.sku == b.sku && a != b))`, "filter: the estimated cost of the expression is over the limit of 1000000 by a factor of"},
		{"comprehension over strings of data", `data.items.all(a, data.items.all(b, a.sku + b.sku != ''))`, "estimated cost"},
		{"string doubling", `data.items.map(i, data.name).exists(s, (s + s + s + s + s + s + s + s).size() < 0)`, "estimated cost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := expressions.CompileFilter(tt.src)
			if err == nil {
				t.Fatalf("CompileFilter(%q) = %v, want an error", tt.src, f)
			}
			var he *hookgate.Error
			if !errors.As(err, &he) || he.Code != hookgate.EInvalidParameter || he.Param != "filter" {
				t.Fatalf("error %#v is not an invalid_parameter naming filter", err)
			}
			if !strings.HasPrefix(he.Message, "filter: ") || !strings.Contains(he.Message, tt.want) {
				t.Errorf("message %q does not say %q", he.Message, tt.want)
			}
			if strings.Contains(he.Message, "line -") || strings.Contains(he.Message, "column 0") {
				t.Errorf("message %q has a position that is not one", he.Message)
			}
		})
	}
}

// TestFilterCostLimit: what the estimate lets through but an event makes
// expensive is stopped at run time with ErrCostLimit.
func TestFilterCostLimit(t *testing.T) {
	t.Parallel()
	big := make([]int, 200_000)
	for i := range big {
		big[i] = i
	}
	// Both within the 1 MiB of an event, beyond what the estimate assumes.
	bigData, err := json.Marshal(map[string]any{"items": big})
	if err != nil {
		t.Fatal(err)
	}
	longData, err := json.Marshal(map[string]any{"name": strings.Repeat("x", 900<<10)})
	if err != nil {
		t.Fatal(err)
	}
	bigEvent := expressions.Event{Type: "bulk", Data: bigData}
	longEvent := expressions.Event{Type: "long", Data: longData}
	tests := []struct {
		name, src string
		ev        expressions.Event
	}{
		// One pass over a list larger than the estimate assumes.
		{"long list", `data.items.exists(i, i < 0)`, bigEvent},
		{"long list map", `data.items.map(i, i * 2).size() > 0`, bigEvent},
		// Concatenations of a string longer than the estimate assumes, in a
		// comprehension.
		{"string concatenation", `[1, 2, 3, 4, 5, 6, 7, 8].exists(n, (data.name + data.name + data.name).size() == n)`, longEvent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := expressions.CompileFilter(tt.src)
			if err != nil {
				t.Fatalf("CompileFilter: %v", err)
			}
			got, err := f.Match(context.Background(), tt.ev)
			if !errors.Is(err, expressions.ErrCostLimit) {
				t.Fatalf("Match = %v, %v; want ErrCostLimit", got, err)
			}
			if errors.Is(err, expressions.ErrNoMatch) {
				t.Errorf("error %v is also ErrNoMatch", err)
			}
		})
	}
}

// TestFilterCancelled: a comprehension checks the context.
func TestFilterCancelled(t *testing.T) {
	t.Parallel()
	f, err := expressions.CompileFilter(`data.items.exists(i, i == 'never')`)
	if err != nil {
		t.Fatal(err)
	}
	items := make([]string, 5000)
	data, err := json.Marshal(map[string]any{"items": items})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = f.Match(ctx, expressions.Event{Data: data})
	if !errors.Is(err, context.Canceled) || errors.Is(err, expressions.ErrNoMatch) {
		t.Fatalf("Match = %v, want context.Canceled alone", err)
	}
}

// TestFilterConcurrent: one Filter serves many goroutines (run with -race).
func TestFilterConcurrent(t *testing.T) {
	t.Parallel()
	f, err := expressions.CompileFilter(`data.total > 100.0 && metadata.tenant == 'acme'`)
	if err != nil {
		t.Fatal(err)
	}
	in, err := expressions.NewInput(order)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	// One Input shared by many goroutines and filters.
	for range 8 {
		wg.Go(func() {
			for range 50 {
				got, err := f.MatchInput(context.Background(), in)
				if err != nil || !got {
					errs <- fmt.Errorf("shared input: MatchInput = %v, %v", got, err)
					return
				}
			}
		})
	}
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				ev := order
				ev.Data = fmt.Appendf(nil, `{"total": %d}`, g*50+i)
				got, err := f.Match(context.Background(), ev)
				if err != nil || got != (g*50+i > 100) {
					errs <- fmt.Errorf("total %d: Match = %v, %v", g*50+i, got, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestFilterReadsMetadata(t *testing.T) {
	for src, want := range map[string]bool{
		"data.region == metadata.region":     true,
		"'tier' in metadata":                 true,
		"metadata.size() > 0 || data.x == 1": true,
		"data.metadata == 'x'":               false,
		"data.total > 100":                   false,
		// A variable of its own named metadata counts too: the answer errs
		// on the safe side.
		"[1, 2].exists(metadata, metadata > 1)": true,
	} {
		f, err := expressions.CompileFilter(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if got := f.ReadsMetadata(); got != want {
			t.Errorf("%s: ReadsMetadata = %v, want %v", src, got, want)
		}
	}
}

// An event that holds more than the estimate assumed runs the program that
// counts its cost, and is stopped at the limit; one within it runs the
// other, and answers the same.
func TestUnboundedEventsCountTheirCost(t *testing.T) {
	f, err := expressions.CompileFilter("data.items.all(i, i > 0)")
	if err != nil {
		t.Fatal(err)
	}
	small := `{"items": [` + strings.Repeat("1,", 9_999) + `1]}`
	if ok, err := f.Match(context.Background(), expressions.Event{Data: json.RawMessage(small)}); !ok || err != nil {
		t.Fatalf("10,000 elements: %v, %v; want true", ok, err)
	}
	big := `{"items": [` + strings.Repeat("1,", 600_000) + `1]}`
	if _, err := f.Match(context.Background(), expressions.Event{Data: json.RawMessage(big)}); !errors.Is(err, expressions.ErrCostLimit) {
		t.Fatalf("600,001 elements: %v; want ErrCostLimit", err)
	}
}

// matchCase is a filter and what it answers on an event.
type matchCase struct {
	src  string
	want bool
}

// matchAll checks, in parallel subtests, that each filter of tests compiles
// and answers what it wants on ev.
func matchAll(t *testing.T, ev expressions.Event, tests []matchCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			f, err := expressions.CompileFilter(tt.src)
			if err != nil {
				t.Fatalf("CompileFilter: %v", err)
			}
			got, err := f.Match(context.Background(), ev)
			if err != nil {
				t.Fatalf("Match: %v", err)
			}
			if got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}
