package ui

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hookgate/hookgate/client"
)

// The live view: the project's last hour, minute by minute, as two charts
// drawn on the server in SVG (no chart library, no script), the page
// reloading itself every 10 seconds.

const (
	chartW, chartH = 600.0, 160.0
	livePoints     = 60
)

type bar struct {
	X, Y, W, H float64
	Title      string
}

type dot struct {
	X, Y  float64
	Title string
}

type chart struct {
	Dots50    []dot // the lines' points, so that a lone one shows too
	Dots95    []dot
	Bars      []bar // successes
	FailBars  []bar // failures, stacked on the successes
	P50, P95  string
	Max       string // the y axis' top, as text
	From, To  string
	HasPoints bool
}

type liveView struct {
	Stats      *client.Stats
	Throughput chart
	Latency    chart
	PerSecond  string
}

func (u *UI) livePage(w http.ResponseWriter, r *http.Request, se *session) error {
	project := r.PathValue("project")
	st, err := se.c.GetProjectStats(r.Context(), project, &client.StatsOptions{Window: time.Hour, Interval: time.Minute})
	if err != nil {
		return err
	}
	v := liveView{Stats: st, Throughput: throughputChart(st.Series), Latency: latencyChart(st.Series)}
	if n := len(st.Series); n > 1 {
		last := st.Series[n-2] // the last whole minute
		v.PerSecond = fmt.Sprintf("%.1f", float64(last.Attempts)/60)
	}
	u.render(w, http.StatusOK, "live", view{Title: "Live: the last hour", Session: se, Project: project, Refresh: 10, Data: v})
	return nil
}

func span(points []client.StatsPoint) (string, string) {
	if len(points) == 0 {
		return "", ""
	}
	return points[0].At.UTC().Format("15:04"), points[len(points)-1].At.UTC().Format("15:04")
}

// throughputChart draws attempts a minute: successes, and failures above.
func throughputChart(points []client.StatsPoint) chart {
	c := chart{}
	c.From, c.To = span(points)
	top := 1
	for _, p := range points {
		top = max(top, p.Attempts)
	}
	c.Max = fmt.Sprint(top)
	bw := chartW / float64(max(len(points), 1))
	for i, p := range points {
		x := float64(i) * bw
		okH := chartH * float64(p.Successes) / float64(top)
		failH := chartH * float64(p.Attempts-p.Successes) / float64(top)
		at := p.At.UTC().Format("15:04")
		c.Bars = append(c.Bars, bar{X: x, Y: chartH - okH, W: bw * 0.8, H: okH, Title: fmt.Sprintf("%s: %d succeeded", at, p.Successes)})
		if failH > 0 {
			c.FailBars = append(c.FailBars, bar{X: x, Y: chartH - okH - failH, W: bw * 0.8, H: failH, Title: fmt.Sprintf("%s: %d failed", at, p.Attempts-p.Successes)})
		}
		c.HasPoints = c.HasPoints || p.Attempts > 0
	}
	return c
}

// latencyChart draws p50 and p95 a minute, as two lines.
func latencyChart(points []client.StatsPoint) chart {
	c := chart{}
	c.From, c.To = span(points)
	top := time.Millisecond
	for _, p := range points {
		top = max(top, p.P95)
	}
	c.Max = fmt.Sprintf("%d ms", top.Milliseconds())
	step := chartW / float64(max(len(points)-1, 1))
	var p50, p95 []string
	for i, p := range points {
		if p.Attempts == 0 {
			continue
		}
		x := float64(i) * step
		y50, y95 := chartH-chartH*float64(p.P50)/float64(top), chartH-chartH*float64(p.P95)/float64(top)
		p50 = append(p50, fmt.Sprintf("%.1f,%.1f", x, y50))
		p95 = append(p95, fmt.Sprintf("%.1f,%.1f", x, y95))
		at := p.At.UTC().Format("15:04")
		c.Dots50 = append(c.Dots50, dot{X: x, Y: y50, Title: fmt.Sprintf("%s: p50 %d ms", at, p.P50.Milliseconds())})
		c.Dots95 = append(c.Dots95, dot{X: x, Y: y95, Title: fmt.Sprintf("%s: p95 %d ms", at, p.P95.Milliseconds())})
		c.HasPoints = true
	}
	c.P50, c.P95 = strings.Join(p50, " "), strings.Join(p95, " ")
	return c
}
