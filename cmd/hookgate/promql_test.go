package main_test

import (
	"fmt"
	"slices"
	"strings"
)

// This file reads the metric and label names out of PromQL, enough to
// check the shipped dashboard and alert rules against what the server
// exports (TestDeployedQueriesNameExportedMetrics). It is not a PromQL
// parser: it knows selectors, matchers, functions, aggregations with
// by/without on either side, vector matching (on, ignoring, group_left,
// group_right), ranges, offsets, strings and Grafana's $variables, and
// refuses what it does not know (a bare {…} selector, an unknown
// function), so that a query it cannot read fails instead of passing
// unchecked.

// exported is what the server exports: each metric's labels.
type exported map[string][]string

// scrapeLabels are the labels Prometheus adds to every series it scrapes.
var scrapeLabels = []string{"job", "instance"}

// builtinMetrics are the series Prometheus makes for every target itself.
var builtinMetrics = []string{"up", "scrape_duration_seconds", "scrape_samples_scraped"}

// promFunctions are the PromQL functions and aggregations the files may
// call; another name followed by "(" is refused as a typo.
var promFunctions = []string{
	"sum", "min", "max", "avg", "count", "topk", "bottomk", "quantile", "group", "stddev", "stdvar",
	"rate", "irate", "increase", "delta", "idelta", "deriv", "changes", "resets",
	"histogram_quantile", "clamp_min", "clamp_max", "clamp", "abs", "round", "ceil", "floor",
	"max_over_time", "min_over_time", "avg_over_time", "sum_over_time", "last_over_time", "present_over_time",
	"absent", "absent_over_time", "vector", "scalar", "time", "sort", "sort_desc", "label_values",
}

// promKeywords are the words that are neither metrics nor functions.
var promKeywords = []string{"by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and", "or", "unless"}

// token is one lexical piece of a query: kind is one of ident, string,
// number, range, var, or the punctuation itself.
type token struct {
	kind, text string
}

// lexPromQL splits a query into tokens.
func lexPromQL(q string) ([]token, error) {
	var out []token
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#':
			for i < len(q) && q[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			for j < len(q) && q[j] != c {
				if q[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			if j >= len(q) {
				return nil, fmt.Errorf("unterminated string at %d", i)
			}
			out = append(out, token{"string", q[i+1 : j]})
			i = j + 1
		case c == '[':
			j := strings.IndexByte(q[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("unterminated range at %d", i)
			}
			out = append(out, token{"range", q[i : i+j+1]})
			i += j + 1
		case c == '$':
			j := i + 1
			if j < len(q) && q[j] == '{' {
				k := strings.IndexByte(q[j:], '}')
				if k < 0 {
					return nil, fmt.Errorf("unterminated variable at %d", i)
				}
				j += k + 1
			} else {
				for j < len(q) && isIdentByte(q[j], false) {
					j++
				}
			}
			out = append(out, token{"var", q[i:j]})
			i = j
		case isIdentByte(c, true):
			j := i
			for j < len(q) && isIdentByte(q[j], false) {
				j++
			}
			out = append(out, token{"ident", q[i:j]})
			i = j
		case c >= '0' && c <= '9' || c == '.':
			j := i
			for j < len(q) && (q[j] >= '0' && q[j] <= '9' || q[j] == '.' || q[j] >= 'a' && q[j] <= 'z' || q[j] >= 'A' && q[j] <= 'Z') {
				j++
			}
			out = append(out, token{"number", q[i:j]})
			i = j
		case strings.ContainsRune("(){},", rune(c)):
			out = append(out, token{string(c), string(c)})
			i++
		case strings.ContainsRune("=!<>~+-*/%^", rune(c)):
			j := i + 1
			for j < len(q) && strings.ContainsRune("=~", rune(q[j])) {
				j++
			}
			out = append(out, token{"op", q[i:j]})
			i = j
		default:
			return nil, fmt.Errorf("unexpected %q at %d", c, i)
		}
	}
	return out, nil
}

func isIdentByte(c byte, first bool) bool {
	return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || !first && c >= '0' && c <= '9'
}

// selector is a metric named in a query, with the labels its matchers name.
type selector struct {
	at     int // its token's index
	metric string
	labels []string
}

// grouping is a clause naming labels (by, without, on, ignoring,
// group_left, group_right) and the tokens whose metrics it applies to.
type grouping struct {
	clause   string
	labels   []string
	from, to int
}

// readPromQL returns the selectors and grouping clauses of a query.
func readPromQL(q string) ([]selector, []grouping, error) {
	toks, err := lexPromQL(q)
	if err != nil {
		return nil, nil, err
	}
	// match[i] is the index of the parenthesis matching toks[i].
	match := map[int]int{}
	var open []int
	for i, t := range toks {
		switch t.kind {
		case "(":
			open = append(open, i)
		case ")":
			if len(open) == 0 {
				return nil, nil, fmt.Errorf("unbalanced )")
			}
			o := open[len(open)-1]
			open = open[:len(open)-1]
			match[o], match[i] = i, o
		}
	}
	if len(open) > 0 {
		return nil, nil, fmt.Errorf("unbalanced (")
	}
	var sels []selector
	var groups []grouping
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		next := func(k int) token {
			if i+k < len(toks) {
				return toks[i+k]
			}
			return token{}
		}
		switch {
		case t.kind == "{":
			return nil, nil, fmt.Errorf("a selector without a metric name is not checked; name the metric")
		case t.kind != "ident":
			continue
		case slices.Contains(promKeywords, t.text):
			if t.text == "offset" || t.text == "bool" || t.text == "and" || t.text == "or" || t.text == "unless" {
				continue
			}
			if next(1).kind != "(" {
				if t.text == "group_left" || t.text == "group_right" {
					continue
				}
				return nil, nil, fmt.Errorf("%s without a label list", t.text)
			}
			end := match[i+1]
			g := grouping{clause: t.text, from: 0, to: len(toks)}
			for _, l := range toks[i+2 : end] {
				if l.kind == "ident" {
					g.labels = append(g.labels, l.text)
				}
			}
			if t.text == "by" || t.text == "without" {
				switch {
				case i > 0 && toks[i-1].kind == ")":
					g.from, g.to = match[i-1], i-1 // sum(…) by (…)
				case end+1 < len(toks) && toks[end+1].kind == "(":
					g.from, g.to = end+1, match[end+1] // sum by (…) (…)
				default:
					return nil, nil, fmt.Errorf("%s applies to no parenthesised expression", t.text)
				}
			}
			groups = append(groups, g)
			i = end
		case next(1).kind == "(":
			if !slices.Contains(promFunctions, t.text) {
				return nil, nil, fmt.Errorf("unknown function %s", t.text)
			}
		case slices.Contains(promFunctions, t.text) && (next(1).text == "by" || next(1).text == "without"):
			// sum by (…) (…): the aggregation's name.
		default:
			s := selector{at: i, metric: t.text}
			if next(1).kind == "{" {
				j := i + 2
				for ; j < len(toks) && toks[j].kind != "}"; j++ {
					if toks[j].kind == "ident" && j+1 < len(toks) && toks[j+1].kind == "op" {
						s.labels = append(s.labels, toks[j].text)
					}
				}
				i = j
			}
			sels = append(sels, s)
		}
	}
	return sels, groups, nil
}

// labelsOf returns the labels a series of metric may have, and whether the
// server (or Prometheus, for its own series) exports it. A histogram's
// _bucket, _sum and _count series are its own; _bucket adds le.
func (e exported) labelsOf(metric string) ([]string, bool) {
	if slices.Contains(builtinMetrics, metric) {
		return scrapeLabels, true
	}
	if ls, ok := e[metric]; ok {
		return append(slices.Clone(ls), scrapeLabels...), true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(metric, suffix)
		if ls, found := e[base]; ok && found && slices.Contains(ls, histogramMark) {
			ls = append(slices.Clone(ls), scrapeLabels...)
			if suffix == "_bucket" {
				ls = append(ls, "le")
			}
			return ls, true
		}
	}
	return nil, false
}

// histogramMark is put among a histogram's labels by the scrape's reader,
// so that labelsOf knows its series; no label has this name.
const histogramMark = " histogram"

// checkPromQL returns what in query names a metric the server does not
// export, or a label that metric does not have. legend is a Grafana
// legend whose {{label}}s must be labels of the query's metrics.
func (e exported) checkPromQL(query, legend string) []string {
	sels, groups, err := readPromQL(query)
	if err != nil {
		return []string{fmt.Sprintf("cannot read %q: %v", query, err)}
	}
	var problems []string
	labelsAt := map[int][]string{}
	for _, s := range sels {
		ls, ok := e.labelsOf(s.metric)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: the server exports no metric %s", query, s.metric))
			continue
		}
		labelsAt[s.at] = ls
		for _, l := range s.labels {
			if !slices.Contains(ls, l) {
				problems = append(problems, fmt.Sprintf("%s: %s has no label %s (it has %v)", query, s.metric, l, ls))
			}
		}
	}
	inScope := func(from, to int) []string {
		var ls []string
		for at, l := range labelsAt {
			if at >= from && at <= to {
				ls = append(ls, l...)
			}
		}
		return ls
	}
	for _, g := range groups {
		scope := inScope(g.from, g.to)
		if len(scope) == 0 {
			continue // its metrics were reported above
		}
		for _, l := range g.labels {
			if !slices.Contains(scope, l) {
				problems = append(problems, fmt.Sprintf("%s: %s (%s) names a label none of its metrics has", query, g.clause, l))
			}
		}
	}
	all := inScope(0, 1<<30)
	for rest := legend; ; {
		_, after, ok := strings.Cut(rest, "{{")
		if !ok {
			break
		}
		name, tail, _ := strings.Cut(after, "}}")
		rest = tail
		if name = strings.TrimSpace(name); len(all) > 0 && !slices.Contains(all, name) {
			problems = append(problems, fmt.Sprintf("%s: the legend names {{%s}}, a label none of its metrics has", query, name))
		}
	}
	return problems
}
