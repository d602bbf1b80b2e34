package bench

import (
	"context"
	"fmt"
)

// The filters scenario (issue 29, item 4) measures what webhooks' filters
// cost ingest: the server evaluates each webhook's filter on each event
// before it writes the event's deliveries. It offers fanout's load
// (--fanout webhooks, single events from --concurrency connections) with
// realistic events of about 1 KiB, once per variant, each on a fresh
// server, so that every run starts from an empty store and an idle
// machine; the figure is the accepted events/s, and the ratio is of a
// variant's to none's in the same run.

// FilterVariants are the filters scenario's runs, in order:
//   - none: no webhook has a filter;
//   - pass-all: webhook i has FilterPassAll(i), which every event passes,
//     so that the run writes as many deliveries as none and differs from
//     it only by the filters' evaluation;
//   - pass-one: webhook i has FilterPassOne(i), which the events of shard i
//     alone pass: each event makes one delivery, and the others' filters
//     reject it.
var FilterVariants = []string{"none", "pass-all", "pass-one"}

// FilterPassAll is webhook n's filter in the pass-all variant, a filter as
// a receiver would write one: a comparison, a list membership and a pass
// over the event's items (the item that matches comes last, so the pass
// reads every item). The threshold is the webhook's number, so that each
// webhook has a program of its own, as receivers' filters differ; every
// event's amount is over 1,000, the most webhooks --fanout makes.
func FilterPassAll(n int) string {
	return fmt.Sprintf("data.amount > %d && data.region in ['eu', 'us'] && data.items.exists(i, i.sku.startsWith('A'))", n)
}

// FilterPassOne is webhook i's filter in the pass-one variant.
func FilterPassOne(i int) string { return fmt.Sprintf("data.shard == %d", i) }

// filterRuns are the indexes of FilterVariants, which Run passes to
// runScenario as its rate.
func filterRuns() []int {
	runs := make([]int, len(FilterVariants))
	for i := range runs {
		runs[i] = i
	}
	return runs
}

// filtersLabel names the filters scenario's run of variant v.
func filtersLabel(v int) string { return "filters@" + FilterVariants[v] }

// filterSpec is the filters scenario's run of variant v.
func filterSpec(cfg Config, v int) spec {
	bodies := filterBodies(cfg.Fanout)
	sp := spec{endpoints: cfg.Fanout, batch: 1, timed: true, producers: cfg.Concurrency}
	sp.drive = func(ctx context.Context, l *loader) { l.floodBodies(ctx, cfg.Concurrency, bodies) }
	switch FilterVariants[v] {
	case "pass-all":
		sp.filter = FilterPassAll
	case "pass-one":
		sp.filter, sp.passOne = FilterPassOne, true
	}
	return sp
}

// compareFilters sets the figures of r, the filters scenario's run of
// variant v, and returns the run that the others compare with: r when it
// is none's, else none (nil when none did not run).
func compareFilters(r *Result, v int, none *Result) *Result {
	r.FilterVariant = FilterVariants[v]
	switch r.FilterVariant {
	case "none":
		return r
	case "pass-all":
		r.Filter = "data.amount > <i> && data.region in ['eu', 'us'] && data.items.exists(i, i.sku.startsWith('A'))"
	case "pass-one":
		r.Filter = "data.shard == <i>"
	}
	if none != nil && none.EventsPerS > 0 {
		ratio := r.EventsPerS / none.EventsPerS
		r.VsNoFilters = &ratio
	}
	return none
}

// filterBodies returns the filters scenario's events, one for each of
// shards: an order of about 1 KiB with four items, in the region eu or us,
// for more than 1,000, with one item whose SKU starts with A (the last),
// and the shard in data.shard. Every body passes every FilterPassAll, and
// body i passes FilterPassOne(i) alone.
func filterBodies(shards int) [][]byte {
	bodies := make([][]byte, shards)
	regions := []string{"eu", "us"}
	for i := range bodies {
		bodies[i] = fmt.Appendf(nil, `{"type":"order.created","data":{`+
			`"id":"ord_01JEX%07d","shard":%d,"status":"paid","amount":%d.90,"currency":"EUR","region":%q,"channel":"web",`+
			`"createdAt":"2026-12-07T01:02:03Z","customer":{"id":"cus_%06d","email":"customer%d@example.com","name":"Customer %d","tier":"gold","newsletter":true},`+
			`"shipping":{"method":"express","street":"12 Rue de la Paix","city":"Paris","postcode":"75002","country":"FR","phone":"+33 1 23 45 67 89"},`+
			`"items":[`+
			`{"sku":"B-20417","name":"Merino wool scarf, charcoal","qty":1,"price":39.90,"tags":["winter","wool"]},`+
			`{"sku":"C-31102","name":"Leather gloves, size M","qty":2,"price":24.50,"tags":["winter","leather"]},`+
			`{"sku":"D-48830","name":"Gift wrapping","qty":1,"price":3.00,"tags":["service"]},`+
			`{"sku":"A-10293","name":"Cashmere beanie, navy","qty":1,"price":45.00,"tags":["winter","cashmere"]}],`+
			`"discount":{"code":"WINTER10","amount":13.79},"notes":"Leave the parcel with the concierge if nobody answers.",`+
			`"client":{"ip":"203.0.113.%d","userAgent":"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"}}}`,
			i, i, 1020+i, regions[i%2], i, i, i, i%256)
	}
	return bodies
}
