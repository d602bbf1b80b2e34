package bench

import (
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// WriteTable writes the results as a table, with notes on what its
// figures compare.
func WriteTable(w io.Writer, rs []*Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tstore\tevents/s\tdeliveries/s\tbaseline req/s\tratio\trelay dlv/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\t202 p50 ms\t202 p99 ms\tCPU ms/dlv\trelay CPU ms/dlv\tcores\tRSS MB\terrors\tlost\tdups\t")
	for _, r := range rs {
		if r.Skipped != "" {
			continue // told below the table
		}
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.0f\t%.0f\t%.3f\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.3f\t%s\t%.2f\t%.0f\t%d\t%d\t%d\t\n",
			rowName(r), r.Store, r.EventsPerS, r.DeliveriesPerS, r.BaselineRequestsPerS, r.RatioToBaseline, optional(r.RelayDeliveriesPerS, "%.0f"),
			r.LatencyMs.P50, r.LatencyMs.P90, r.LatencyMs.P99, r.LatencyMs.Max, r.AcceptMs.P50, r.AcceptMs.P99, r.CPUMsPerDelivery, optional(r.RelayCPUMsPerDelivery, "%.3f"),
			r.CPUCores, r.RSSMBPeak, r.Errors, r.Lost, r.Duplicates)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "ratio: deliveries/s over the baseline's requests/s, the baseline being a plain HTTP client posting to the same kind of receiver at the same concurrency in the same run")
	fmt.Fprintln(w, "p50…max ms: from each 202 to the delivery's arrival; 202 p50/p99 ms: from sending a request to its 202, the commit included")
	fmt.Fprintln(w, "CPU ms/dlv: the server process's CPU time (user+system) from the start of load to the last delivery, per delivery; cores: that CPU time over the wall time")
	fmt.Fprintln(w, "per delivery (below): server disk is the server processes' write_bytes; PostgreSQL CPU is every postgres process on this machine, WAL the server's WAL position's advance, disk its processes' write_bytes, statements the calls pg_stat_statements counted in the bench's database for its user; cores: CPU time over wall time of the servers, of PostgreSQL, and of this process (the load generator and the receiver)")
	fmt.Fprintln(w, "relay: a plain Go relay (HTTP in, 202, HTTP out; no store, no signing) under the same load in the same run; relay CPU ms/dlv is its process's CPU measured the same way")
	if hasBroker(rs) {
		fmt.Fprintln(w, "broker-*: the row is the kind's run under the throughput scenario's flood; its errors, lost and dups add those of its three other runs (HTTP under the same flood, HTTP and the kind at --rate); send→arrival is from the time in the event's data to the message read from the broker, or the request at the HTTP receiver")
	}
	for _, r := range rs {
		writeNotes(w, r)
	}
	return nil
}

// rowName is a result's scenario, with the offered rate where it has one.
func rowName(r *Result) string {
	if r.OfferedPerS != nil {
		return fmt.Sprintf("%s@%.0f/s", r.Scenario, *r.OfferedPerS)
	}
	if r.FIFOKeys != nil {
		return fifoLabel(*r.FIFOKeys)
	}
	if r.FilterVariant != "" {
		return r.Scenario + "@" + r.FilterVariant
	}
	return r.Scenario
}

// optional formats v, or "-" for a figure not measured.
func optional(v *float64, format string) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf(format, *v)
}

// hasBroker reports whether rs hold a broker scenario that ran.
func hasBroker(rs []*Result) bool {
	for _, r := range rs {
		if r.Broker != nil {
			return true
		}
	}
	return false
}

// writeNotes writes the figures of r that fit no column.
func writeNotes(w io.Writer, r *Result) {
	if r.Skipped != "" {
		fmt.Fprintf(w, "%s: skipped: %s\n", r.Scenario, r.Skipped)
	}
	if b := r.Broker; b != nil {
		fmt.Fprintf(w, "%s: %.0f deliveries/s, %.2f× HTTP's %.0f/s under the same flood (CPU %.3f vs %.3f ms/dlv); send→arrival at %.0f/s p50 %.1f ms, p99 %.1f ms (HTTP p50 %.1f ms, p99 %.1f ms)\n",
			r.Scenario, b.DeliveriesPerS, b.RatioToHTTP, b.HTTPDeliveriesPerS, b.CPUMsPerDelivery, b.HTTPCPUMsPerDelivery, b.OfferedPerS,
			b.SendToArrivalMs.P50, b.SendToArrivalMs.P99, b.HTTPSendToArrivalMs.P50, b.HTTPSendToArrivalMs.P99)
	}
	if r.RatioToRelay != nil {
		fmt.Fprintf(w, "%s: %.2f× the relay's deliveries/s\n", rowName(r), *r.RatioToRelay)
		writeMachineCost(w, r)
	}
	if r.CPUVsRelay != nil {
		fmt.Fprintf(w, "%s: %.2f× the relay's CPU per delivery\n", rowName(r), *r.CPUVsRelay)
	}
	if r.OthersVsThroughput != nil {
		fmt.Fprintf(w, "slow-receiver: the healthy endpoint got %.2f× the throughput scenario's deliveries/s\n", *r.OthersVsThroughput)
	}
	if r.OthersVsPair != nil {
		fmt.Fprintf(w, "slow-receiver: the healthy endpoint got %.2f× its deliveries/s beside a second healthy endpoint instead of the slow one (%.0f/s)\n",
			*r.OthersVsPair, *r.PairDeliveriesPerS)
	}
	if r.IdleCPUPct != nil {
		fmt.Fprintf(w, "cpu: the idle server used %.2f %% of a core\n", *r.IdleCPUPct)
	}
	if r.VsThroughput != nil {
		fmt.Fprintf(w, "%s: %.2f× the throughput scenario's deliveries/s (one webhook delivering in order over %d key(s))\n", rowName(r), *r.VsThroughput, *r.FIFOKeys)
	}
	writeFilterNotes(w, r)
	writeCostNotes(w, r)
	if r.DrainS != nil {
		fmt.Fprintf(w, "backlog: drained in %.1f s after the receiver came back (%.0f deliveries/s)\n", *r.DrainS, r.DeliveriesPerS)
	}
}

// writeMachineCost writes, for throughput, what the whole machine spent on
// a delivery and on a relayed event: the server's (or the relay's) CPU,
// PostgreSQL's, and the bench's own (load and receiver). Flat out, both
// runs keep the machine's cores busy, so the ratio of deliveries/s is about
// the inverse ratio of these sums; the ceiling is the ratio a server that
// cost no more than the relay would reach beside the same database and
// load.
func writeMachineCost(w io.Writer, r *Result) {
	if r.RelayCPUMsPerDelivery == nil || r.RelayLoadCores == nil || r.RelayDeliveriesPerS == nil || r.DeliveriesPerS <= 0 {
		return
	}
	bench := 1000 * r.LoadCores / r.DeliveriesPerS
	relay, relayBench := *r.RelayCPUMsPerDelivery, 1000**r.RelayLoadCores / *r.RelayDeliveriesPerS
	db, dbText := 0.0, ""
	if p := r.Postgres; p != nil && p.CPUMsPerDelivery != nil {
		db, dbText = *p.CPUMsPerDelivery, fmt.Sprintf(", PostgreSQL %.3f", *p.CPUMsPerDelivery)
	}
	fmt.Fprintf(w, "%s: machine CPU per delivery %.3f ms (server %.3f%s, bench %.3f) against the relay's run's %.3f ms (relay %.3f, bench %.3f); a server costing the relay's CPU would reach at most %.2f× here\n",
		rowName(r), r.CPUMsPerDelivery+db+bench, r.CPUMsPerDelivery, dbText, bench, relay+relayBench, relay, relayBench, (relay+relayBench)/(relay+db+bench))
}

// writeCostNotes writes what a delivery cost beside the server's CPU: its
// disk writes, PostgreSQL's CPU, WAL, disk writes and statements, and the
// cores each kind of process kept busy; and, with several nodes, each
// one's attempts.
func writeCostNotes(w io.Writer, r *Result) {
	if r.Skipped != "" {
		return
	}
	line := fmt.Sprintf("%s: per delivery: server disk %s B", rowName(r), optional(r.DiskBytesPerDelivery, "%.0f"))
	cores := fmt.Sprintf("cores: server %.2f", r.CPUCores)
	if p := r.Postgres; p != nil {
		line += fmt.Sprintf("; PostgreSQL CPU %s ms, WAL %.0f B, disk %s B, statements %s",
			optional(p.CPUMsPerDelivery, "%.3f"), p.WALBytesPerDelivery, optional(p.DiskBytesPerDelivery, "%.0f"), optional(p.StatementsPerDelivery, "%.2f"))
		cores += ", PostgreSQL " + optional(p.CPUCores, "%.2f")
	}
	fmt.Fprintf(w, "%s; %s, bench (load and receiver) %.2f\n", line, cores, r.LoadCores)
	if len(r.AttemptsByNode) > 0 {
		names := make([]string, 0, len(r.AttemptsByNode))
		for n := range r.AttemptsByNode {
			names = append(names, n)
		}
		slices.Sort(names)
		parts := make([]string, len(names))
		for i, n := range names {
			parts[i] = fmt.Sprintf("%s %d", n, r.AttemptsByNode[n])
		}
		fmt.Fprintf(w, "%s: %d nodes; attempts by node: %s\n", rowName(r), r.Nodes, strings.Join(parts, ", "))
	}
}

// WriteStatements writes each result's n statements that took PostgreSQL
// the most time, and notes on what could not be measured, once.
func WriteStatements(w io.Writer, rs []*Result, n int) {
	noted := map[string]bool{}
	for _, r := range rs {
		p := r.Postgres
		if p == nil {
			continue
		}
		for _, note := range p.Notes {
			if !noted[note] {
				noted[note] = true
				fmt.Fprintf(w, "not measured: %s\n", note)
			}
		}
		if n <= 0 || len(p.TopStatements) == 0 {
			continue
		}
		fmt.Fprintf(w, "%s: PostgreSQL's top statements by total time (calls/dlv, mean ms, total ms):\n", rowName(r))
		for _, s := range p.TopStatements[:min(n, len(p.TopStatements))] {
			fmt.Fprintf(w, "  %6.2f  %7.3f  %9.1f  %s\n", s.CallsPerDelivery, s.MeanMs, s.TotalMs, s.Query)
		}
	}
}

// writeFilterNotes writes how a run of the filters scenario compares with
// its run without filters, and, for pass-one, whether the filters kept the
// events from the webhooks they reject.
func writeFilterNotes(w io.Writer, r *Result) {
	if r.FilterVariant == "" || r.FilterVariant == "none" {
		return
	}
	if r.VsNoFilters != nil {
		fmt.Fprintf(w, "%s: %.3f× filters@none's events/s (%d webhooks, each with the filter %s)\n", rowName(r), *r.VsNoFilters, r.Endpoints, r.Filter)
	}
	if u := r.Unfiltered; u != nil {
		if *u == 0 {
			fmt.Fprintf(w, "%s: each event reached the one webhook whose filter it passes, and no other\n", rowName(r))
		} else {
			fmt.Fprintf(w, "%s: %d deliveries reached a webhook whose filter the event fails: this server does not evaluate filters at ingest\n", rowName(r), *u)
		}
	}
	if r.FilterRejected != nil && r.FilterFailed != nil {
		fmt.Fprintf(w, "%s: the project's stats count %d events rejected by a filter (each accepted event by %d webhooks) and %d failed\n",
			rowName(r), *r.FilterRejected, max(0, r.Endpoints-1), *r.FilterFailed)
	}
}

// WriteJSON writes {"parameters": …, "results": [one object per scenario]}.
func WriteJSON(w io.Writer, p Parameters, rs []*Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Parameters Parameters `json:"parameters"`
		Results    []*Result  `json:"results"`
	}{p, rs})
}

// Lost sums the lost events of all results.
func Lost(rs []*Result) int {
	n := 0
	for _, r := range rs {
		n += r.Lost
	}
	return n
}

// Check fails when an accepted event was lost: a run that lost one must not
// pass, whatever its speed.
func Check(rs []*Result) error {
	if n := Lost(rs); n > 0 {
		return fmt.Errorf("%d events got a 202 and never reached the receiver", n)
	}
	return nil
}

// WriteSVG draws two charts with gonum/plot, one above the other: the
// distribution of accept-to-receipt latency (the share of deliveries
// within x ms, x on a log scale) and deliveries per second over time, one
// line per scenario, with the same-run baseline's requests per second as a
// dashed line.
func WriteSVG(w io.Writer, rs []*Result, title string) error {
	c := vgsvg.New(plotWidth, plotHeight)
	if err := drawPlots(draw.New(c), rs, title); err != nil {
		return err
	}
	_, err := c.WriteTo(w)
	return err
}

// The plot's size: two charts of 9 by 4 inches.
const plotWidth, plotHeight = 9 * vg.Inch, 8 * vg.Inch

// drawPlots draws the two charts of WriteSVG on dc.
func drawPlots(dc draw.Canvas, rs []*Result, title string) error {
	cdf := plot.New()
	cdf.Title.Text = title
	cdf.X.Label.Text = "accept → receipt latency (ms, log scale)"
	cdf.Y.Label.Text = "share of deliveries"
	cdf.X.Scale, cdf.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	cdf.Y.Min, cdf.Y.Max = 0, 1
	cdf.Y.Tick.Marker = plot.ConstantTicks(shareTicks())
	cdf.Add(plotter.NewGrid())
	cdf.Legend.Top, cdf.Legend.Left = true, true

	rate := plot.New()
	rate.X.Label.Text = "seconds from the start of load"
	rate.Y.Label.Text = "deliveries/s"
	rate.Y.Min = 0
	rate.Add(plotter.NewGrid())
	rate.Legend.Top = true

	base, top := 0.0, 0.0
	for i, r := range rs {
		color := plotutil.Color(i)
		name := r.Scenario + " (" + r.Store + ")"
		if pts := cdfPoints(r.latencies); len(pts) > 0 {
			l, err := plotter.NewLine(pts)
			if err != nil {
				return err
			}
			l.Color = color
			cdf.Add(l)
			cdf.Legend.Add(name, l)
		}
		for _, n := range r.DeliveriesSeries {
			top = max(top, float64(n)/max(r.SeriesStepS, 1e-9))
		}
		if pts := stepPoints(r.DeliveriesSeries, r.SeriesStepS); len(pts) > 0 {
			l, err := plotter.NewLine(pts)
			if err != nil {
				return err
			}
			l.Color = color
			rate.Add(l)
			rate.Legend.Add(name, l)
		}
		base = max(base, r.BaselineRequestsPerS)
	}
	if base > 0 {
		b := plotter.NewFunction(func(float64) float64 { return base })
		b.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		b.Color = color.Gray{Y: 90}
		rate.Add(b)
		rate.Legend.Add(fmt.Sprintf("baseline: plain client, %.0f req/s", base), b)
	}
	// Room above the highest line, the baseline's included, for the legend.
	rate.Y.Max = 1.3 * max(top, base, 1)
	for _, p := range []*plot.Plot{cdf, rate} {
		p.Legend.TextStyle.Font.Size = vg.Points(9)
	}
	if cdfEmpty(rs) {
		// Nothing measured latencies: a log axis needs a range anyway.
		cdf.X.Min, cdf.X.Max = 0.1, 1
	}

	tiles := draw.Tiles{Rows: 2, Cols: 1, PadTop: vg.Points(8), PadBottom: vg.Points(8), PadLeft: vg.Points(8), PadRight: vg.Points(8), PadY: vg.Points(16)}
	canvases := plot.Align([][]*plot.Plot{{cdf}, {rate}}, tiles, dc)
	cdf.Draw(canvases[0][0])
	rate.Draw(canvases[1][0])
	return nil
}

// shareTicks labels the shares that matter for a latency distribution.
func shareTicks() []plot.Tick {
	var t []plot.Tick
	for _, v := range []float64{0, 0.25, 0.5, 0.75, 0.9, 1} {
		t = append(t, plot.Tick{Value: v, Label: fmt.Sprint(v)})
	}
	return t
}

func cdfEmpty(rs []*Result) bool {
	for _, r := range rs {
		if len(r.latencies) > 0 {
			return false
		}
	}
	return true
}

// cdfPoints is the distribution of sorted latencies, at most about 400
// points, each latency floored at 0.01 ms for the log axis.
func cdfPoints(lat []time.Duration) plotter.XYs {
	if len(lat) == 0 {
		return nil
	}
	step := max(1, len(lat)/400)
	var pts plotter.XYs
	for j := 0; j < len(lat); j += step {
		pts = append(pts, plotter.XY{X: max(ms(lat[j]), 0.01), Y: float64(j+1) / float64(len(lat))})
	}
	return append(pts, plotter.XY{X: max(ms(lat[len(lat)-1]), 0.01), Y: 1})
}

// stepPoints draws a series of counts per step as steps, in units per
// second.
func stepPoints(series []int, stepS float64) plotter.XYs {
	if stepS <= 0 {
		stepS = 1
	}
	var pts plotter.XYs
	for i, n := range series {
		perS := float64(n) / stepS
		pts = append(pts, plotter.XY{X: float64(i) * stepS, Y: perS}, plotter.XY{X: float64(i+1) * stepS, Y: perS})
	}
	return pts
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
