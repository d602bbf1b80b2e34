package bench

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable writes the results as a table.
func WriteTable(w io.Writer, rs []*Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tstore\tevents/s\tdeliveries/s\tbaseline req/s\tratio\tp50 ms\tp90 ms\tp99 ms\tmax ms\tRSS MB\terrors\tlost\tdups\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.0f\t%.0f\t%.3f\t%.1f\t%.1f\t%.1f\t%.1f\t%.0f\t%d\t%d\t%d\t\n",
			r.Scenario, r.Store, r.EventsPerS, r.DeliveriesPerS, r.BaselineRequestsPerS, r.RatioToBaseline,
			r.LatencyMs.P50, r.LatencyMs.P90, r.LatencyMs.P99, r.LatencyMs.Max, r.RSSMBPeak, r.Errors, r.Lost, r.Duplicates)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "ratio: deliveries/s over the baseline's requests/s, the baseline being a plain HTTP client posting to the same kind of receiver at the same concurrency in the same run")
	for _, r := range rs {
		if r.OthersVsThroughput != nil {
			fmt.Fprintf(w, "slow-receiver: the healthy endpoint got %.2f× the throughput scenario's deliveries/s\n", *r.OthersVsThroughput)
		}
		if r.DrainS != nil {
			fmt.Fprintf(w, "backlog: drained in %.1f s after the receiver came back (%.0f deliveries/s)\n", *r.DrainS, r.DeliveriesPerS)
		}
	}
	return nil
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

var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"}

// WriteSVG draws two charts: the distribution of accept-to-receipt latency
// (share of deliveries within x ms, log scale) and deliveries per second
// over time, one line per scenario.
func WriteSVG(w io.Writer, rs []*Result, title string) error {
	const width, height, pad = 900, 360, 60
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", width, 2*height+40)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/><text x="%d" y="20" font-size="15">%s</text>`+"\n", pad, html.EscapeString(title))

	// Latency CDF, x = log10(ms) from 0.1 ms to the largest max.
	top := 40
	maxMs := 1.0
	for _, r := range rs {
		maxMs = max(maxMs, r.LatencyMs.Max)
	}
	lo, hi := math.Log10(0.1), math.Log10(maxMs*1.1)
	x := func(ms float64) float64 {
		return pad + (math.Log10(max(ms, 0.1))-lo)/(hi-lo)*(width-2*pad)
	}
	y := func(share float64) float64 { return float64(top+height-pad) - share*float64(height-2*pad) }
	axes(&b, top, width, height, pad, "accept → receipt latency (ms, log scale)", "share of deliveries")
	for ms := 0.1; ms <= maxMs*1.1; ms *= 10 {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%g</text>`+"\n", x(ms), top+height-pad+16, ms)
	}
	for _, s := range []float64{0, 0.5, 0.9, 0.99, 1} {
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%g</text><line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n",
			pad-6, y(s)+4, s, pad, width-pad, y(s), y(s))
	}
	for i, r := range rs {
		lat := r.latencies
		if len(lat) == 0 {
			continue
		}
		var pts []string
		step := max(1, len(lat)/400)
		for j := 0; j < len(lat); j += step {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(ms(lat[j])), y(float64(j+1)/float64(len(lat)))))
		}
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(ms(lat[len(lat)-1])), y(1)))
		line(&b, pts, palette[i%len(palette)])
		legend(&b, i, width, top, r, palette[i%len(palette)])
	}

	// Deliveries per second over time.
	top = 40 + height
	maxN, maxT := 1, 1
	for _, r := range rs {
		maxT = max(maxT, len(r.DeliveriesSeries))
		for _, n := range r.DeliveriesSeries {
			maxN = max(maxN, n)
		}
	}
	tx := func(s int) float64 { return pad + float64(s)/float64(maxT)*(width-2*pad) }
	ty := func(n int) float64 { return float64(top+height-pad) - float64(n)/float64(maxN)*float64(height-2*pad) }
	axes(&b, top, width, height, pad, "seconds from the start of load", "deliveries/s")
	fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%d</text><text x="%d" y="%.1f" text-anchor="end">0</text>`+"\n", pad-6, ty(maxN)+4, maxN, pad-6, ty(0)+4)
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%d</text>`+"\n", tx(maxT), top+height-pad+16, maxT)
	for i, r := range rs {
		var pts []string
		for s, n := range r.DeliveriesSeries {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", tx(s), ty(n)), fmt.Sprintf("%.1f,%.1f", tx(s+1), ty(n)))
		}
		line(&b, pts, palette[i%len(palette)])
		legend(&b, i, width, top, r, palette[i%len(palette)])
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func axes(b *strings.Builder, top, width, height, pad int, xlabel, ylabel string) {
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/><line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n",
		pad, top+height-pad, width-pad, top+height-pad, pad, top+pad/2, pad, top+height-pad)
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`+"\n", width/2, top+height-pad+34, html.EscapeString(xlabel))
	fmt.Fprintf(b, `<text x="%d" y="%d">%s</text>`+"\n", pad, top+pad/2-6, html.EscapeString(ylabel))
}

func line(b *strings.Builder, pts []string, color string) {
	if len(pts) == 0 {
		return
	}
	fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`+"\n", color, strings.Join(pts, " "))
}

func legend(b *strings.Builder, i, width, top int, r *Result, color string) {
	y := top + 40 + 16*i
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">%s (%s)</text>`+"\n",
		width-230, y-9, color, width-215, y, html.EscapeString(r.Scenario), html.EscapeString(r.Store))
}
