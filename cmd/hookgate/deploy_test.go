package main_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/internal/testwait"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v2"
)

// The files operators import, from the module's root.
const (
	dashboardFile = "../../deploy/grafana/hookgate.json"
	alertsFile    = "../../deploy/prometheus/alerts.yml"
	// alertTestsFile holds promtool's unit tests of the rules.
	alertTestsFile = "../../deploy/prometheus/alerts_test.yml"
)

// TestDeployedQueriesNameExportedMetrics is issue 26, item 4: every metric
// the shipped Grafana dashboard and Prometheus alert rules name is one a
// running server exports, with the labels they select and group by. The
// server is a real one, with a webhook whose receiver answers 500, so that
// the series that exist only once something happened (HTTP routes, a
// failure streak) are there; the metrics are read from its /metrics.
func TestDeployedQueriesNameExportedMetrics(t *testing.T) {
	t.Parallel()
	metrics := scrapeRunningServer(t)
	for _, name := range []string{"hookgate_webhooks", "hookgate_nodes", "hookgate_webhook_failure_streak", "hookgate_nodes_lost_total",
		"hookgate_inbound_accepted_total", "hookgate_store_errors_total", "hookgate_delivery_outcomes_total", "hookgate_queue_oldest_due_age_seconds"} {
		if _, ok := metrics[name]; !ok {
			t.Errorf("the server does not export %s", name)
		}
	}
	// The whole list is in docs/operations.md.
	doc := readFile(t, "../../docs/operations.md")
	for name := range metrics {
		if strings.HasPrefix(name, "hookgate_") && !strings.Contains(doc, "| `"+name+"` |") {
			t.Errorf("docs/operations.md's metrics table lacks %s", name)
		}
	}
	queries := dashboardQueries(t)
	queries = append(queries, alertQueries(t)...)
	queries = append(queries, alertTestSeries(t)...)
	if len(queries) < 20 {
		t.Fatalf("only %d queries found in the files: are they read?", len(queries))
	}
	for _, q := range queries {
		for _, p := range metrics.checkPromQL(q.expr, q.legend) {
			t.Errorf("%s: %s", q.where, p)
		}
	}
}

// TestPromQLCheckerRefuses shows that the check of the shipped files can
// fail: each query names something the server does not have.
func TestPromQLCheckerRefuses(t *testing.T) {
	t.Parallel()
	e := exported{
		"hookgate_queue_due":                         {},
		"hookgate_delivery_outcomes_total":           {"outcome"},
		"hookgate_delivery_attempt_duration_seconds": {histogramMark},
	}
	for _, tc := range []struct{ query, legend, want string }{
		{"hookgate_queue_dew > 0", "", "no metric hookgate_queue_dew"},
		{`rate(hookgate_delivery_outcomes_total{status="failed"}[5m])`, "", "has no label status"},
		{"sum by (project) (rate(hookgate_delivery_outcomes_total[5m]))", "", "by (project)"},
		{"sum(rate(hookgate_delivery_outcomes_total[5m])) without (route)", "", "without (route)"},
		{"histogram_quantile(0.9, sum by (le, route) (rate(hookgate_delivery_attempt_duration_seconds_bucket[5m])))", "", "by (route)"},
		{"hookgate_delivery_attempt_duration_seconds_total", "", "no metric"},
		{"hookgate_queue_due", "{{outcome}}", "{{outcome}}"},
		{"rat(hookgate_queue_due[5m])", "", "unknown function rat"},
		{`{__name__="hookgate_queue_due"}`, "", "without a metric name"},
	} {
		got := strings.Join(e.checkPromQL(tc.query, tc.legend), "\n")
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q; want a problem naming %q", tc.query, got, tc.want)
		}
	}
	for _, ok := range []string{
		`histogram_quantile(0.99, sum by (le) (rate(hookgate_delivery_attempt_duration_seconds_bucket{job="$job"}[$__rate_interval])))`,
		`sum(rate(hookgate_delivery_outcomes_total{outcome="succeeded"}[5m])) by (instance) / sum(rate(hookgate_delivery_outcomes_total[5m])) by (instance)`,
		`up{job="hookgate"} == 0`,
		`max(hookgate_queue_due) > max(hookgate_queue_due offset 1h)`,
	} {
		if got := e.checkPromQL(ok, "{{instance}}"); len(got) > 0 {
			t.Errorf("%s: %v; want no problem", ok, got)
		}
	}
}

// TestAlertRulesPassPromtool runs Prometheus's own check of the rules when
// promtool is installed (Debian's prometheus package; .ci/run installs it).
func TestAlertRulesPassPromtool(t *testing.T) {
	t.Parallel()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool is not installed; .ci/run installs Debian's prometheus package")
		}
		skipVisibly(t, "promtool is not installed (apt-get install prometheus): the alert rules are not checked by Prometheus itself")
	}
	out, err := exec.Command(promtool, "check", "rules", alertsFile).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	// Each alert fires on the series that should fire it, after its for,
	// and not before.
	out, err = exec.Command(promtool, "test", "rules", alertTestsFile).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}

// query is one PromQL expression of a shipped file and where it is.
type query struct {
	where, expr, legend string
}

// scrapeRunningServer starts serve, makes one webhook fail once, and
// returns the metrics its /metrics exports with their labels.
func scrapeRunningServer(t *testing.T) exported {
	t.Helper()
	bin := buildBinary(t)
	dataDir := t.TempDir()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(failing.Close)
	url, _ := startWith(t, bin, dataDir, []string{"HOOKGATE_ALLOW_NETWORKS=127.0.0.0/8"}, "--metrics-token", "deploy-test-token")
	key := strings.TrimSpace(readFile(t, filepath.Join(dataDir, "admin.key")))
	if st, out := postJSON(url, key, "/projects", map[string]any{"name": "ops"}); st != 201 {
		t.Fatalf("project: %d %v", st, out)
	}
	st, wh := postJSON(url, key, "/projects/ops/webhooks", map[string]any{"url": failing.URL + "/hook"})
	if st != 201 {
		t.Fatalf("webhook: %d %v", st, wh)
	}
	webhookID, _ := wh["id"].(string)
	if st, out := postJSON(url, key, "/projects/ops/events", map[string]any{"type": "t", "data": 1}); st != 202 {
		t.Fatalf("event: %d %v", st, out)
	}
	var families map[string]*dto.MetricFamily
	testwait.For(t, "a failure streak in /metrics", func() bool {
		families = scrape(t, url, "deploy-test-token")
		f := families["hookgate_webhook_failure_streak"]
		return f != nil && len(f.GetMetric()) > 0
	})
	// The store's figures are the server's: one active webhook, this node
	// alive, and the webhook's streak.
	if got := gaugeValue(families["hookgate_webhooks"], "status", "active"); got != 1 {
		t.Errorf(`hookgate_webhooks{status="active"} = %v; want 1`, got)
	}
	if got := gaugeValue(families["hookgate_nodes"], "state", "alive"); got != 1 {
		t.Errorf(`hookgate_nodes{state="alive"} = %v; want 1`, got)
	}
	if got := gaugeValue(families["hookgate_webhook_failure_streak"], "webhook", webhookID); got < 1 {
		t.Errorf(`hookgate_webhook_failure_streak{webhook=%q} = %v; want 1 or more`, webhookID, got)
	}
	out := exported{}
	for name, f := range families {
		var labels []string
		if f.GetType() == dto.MetricType_HISTOGRAM {
			labels = append(labels, histogramMark)
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if !slices.Contains(labels, l.GetName()) {
					labels = append(labels, l.GetName())
				}
			}
		}
		out[name] = labels
	}
	return out
}

// gaugeValue returns the value of f's series whose label is value, or -1.
func gaugeValue(f *dto.MetricFamily, label, value string) float64 {
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == label && l.GetValue() == value {
				return m.GetGauge().GetValue()
			}
		}
	}
	return -1
}

// scrape reads the server's /metrics.
func scrape(t *testing.T, base, token string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("/metrics: %d %s", res.StatusCode, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return families
}

// dashboardQueries returns the dashboard's queries: every panel target's
// expr with its legend, and the label_values() of its variables. It also
// checks that every datasource is the ${datasource} variable, never a
// UID of the author's Grafana.
func dashboardQueries(t *testing.T) []query {
	t.Helper()
	var dash map[string]any
	if err := json.Unmarshal([]byte(readFile(t, dashboardFile)), &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	var out []query
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if expr, ok := v["expr"].(string); ok {
				legend, _ := v["legendFormat"].(string)
				out = append(out, query{where: dashboardFile + " " + path, expr: expr, legend: legend})
			}
			if ds, ok := v["datasource"].(map[string]any); ok {
				if uid, _ := ds["uid"].(string); uid != "${datasource}" && uid != "-- Grafana --" {
					t.Errorf("%s %s: datasource uid %q; want ${datasource}", dashboardFile, path, uid)
				}
			}
			for k, x := range v {
				walk(path+"."+k, x)
			}
		case []any:
			for i, x := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), x)
			}
		}
	}
	walk("", dash["panels"])
	templating, _ := dash["templating"].(map[string]any)
	vars, _ := templating["list"].([]any)
	for _, v := range vars {
		v, _ := v.(map[string]any)
		if v["type"] != "query" {
			continue
		}
		q, _ := v["query"].(string)
		if m, ok := v["query"].(map[string]any); ok {
			q, _ = m["query"].(string)
		}
		sel, label, ok := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(q, "label_values("), ")"), ",")
		if !ok {
			t.Errorf("%s: variable %v: query %q; want label_values(metric, label)", dashboardFile, v["name"], q)
			continue
		}
		// The label is checked as a matcher of the selector.
		out = append(out, query{where: fmt.Sprintf("%s variable %v", dashboardFile, v["name"]),
			expr: fmt.Sprintf("%s{%s=~\".+\"}", sel, strings.TrimSpace(label))})
	}
	return out
}

// alertQueries returns the alert rules' expressions, and checks that each
// rule has what an operator needs: for, severity, summary, description
// and a runbook_url to a section of docs/operations.md that exists.
func alertQueries(t *testing.T) []query {
	t.Helper()
	var rules struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert, Expr, For string
				Labels           map[string]string
				Annotations      map[string]string
			}
		}
	}
	if err := yaml.UnmarshalStrict([]byte(readFile(t, alertsFile)), &rules); err != nil {
		t.Fatalf("%s: %v", alertsFile, err)
	}
	anchors := markdownAnchors(readFile(t, "../../docs/operations.md"))
	var out []query
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			where := alertsFile + " " + g.Name + "/" + r.Alert
			out = append(out, query{where: where, expr: r.Expr})
			if r.For == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: want for, labels.severity, annotations.summary and description", where)
			}
			_, anchor, _ := strings.Cut(r.Annotations["runbook_url"], "docs/operations.md#")
			if !slices.Contains(anchors, anchor) {
				t.Errorf("%s: runbook_url %q names no section of docs/operations.md", where, r.Annotations["runbook_url"])
			}
		}
	}
	return out
}

// alertTestSeries returns the series the rules' unit tests feed
// promtool, so that they too name only what the server exports.
func alertTestSeries(t *testing.T) []query {
	t.Helper()
	var tests struct {
		Tests []struct {
			InputSeries []struct{ Series string } `yaml:"input_series"`
		}
	}
	if err := yaml.Unmarshal([]byte(readFile(t, alertTestsFile)), &tests); err != nil {
		t.Fatalf("%s: %v", alertTestsFile, err)
	}
	var out []query
	for i, tc := range tests.Tests {
		for _, in := range tc.InputSeries {
			out = append(out, query{where: fmt.Sprintf("%s test %d", alertTestsFile, i), expr: in.Series})
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no input series read", alertTestsFile)
	}
	return out
}

// markdownAnchors returns the anchors GitHub makes of a document's
// headings: lower case, spaces as dashes, punctuation dropped.
func markdownAnchors(doc string) []string {
	var out []string
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		h := strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#")))
		var b strings.Builder
		for _, r := range h {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
				b.WriteRune(r)
			}
		}
		out = append(out, b.String())
	}
	return out
}
