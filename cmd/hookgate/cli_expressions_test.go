package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
)

// Issue 29, item 3: webhook test-expression prints each result, answers
// JSON with -o json, and takes the event from a file.
func TestCLITestExpression(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t, "sqlite")
	c := &cli{t: t, server: srv.URL, key: apitest.AdminKey}
	c.ok("project", "create", "E", "--slug", "e")
	file := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(file, []byte(`{"type": "order.created", "data": {"total": 20, "note": "hi"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out := c.ok("webhook", "test-expression", "-p", "e", "--filter", "data.total > 100", "--transform", "data.note + '!'", "--event", "@"+file)
	for _, want := range []string{"filter matched  false", "transform body  hi!", "content type    text/plain; charset=utf-8", "transform cost"} {
		if !strings.Contains(out, want) {
			t.Errorf("printed\n%s\nwithout %q", out, want)
		}
	}
	var r client.ExpressionTest
	c.json(&r, "webhook", "test-expression", "-p", "e", "--transform-headers", `{"X-Note": data.note}`, "--event", "@"+file)
	if r.TransformHeaders == nil || r.TransformHeaders.Headers["X-Note"] != "hi" || r.Filter != nil {
		t.Fatalf("-o json: %+v", r)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--filter", "true"}, "give the event with --event"},
		{[]string{"--filter", "true", "--event", "@" + file, "--event-id", "evt_x"}, "give the event with --event"},
		{[]string{"--filter", "true", "--event", "{not json"}, "--event: not valid JSON"},
		{[]string{"--filter", "data.", "--event", "@" + file}, "parameter: filter"},
		{[]string{"--event", "@" + file}, "give at least one of filter, transform and transformHeaders"},
	} {
		args := append([]string{"webhook", "test-expression", "-p", "e"}, tc.args...)
		if out := c.fails(args...); !strings.Contains(out, tc.want) {
			t.Errorf("hookgate %s printed %q, want %q", strings.Join(args, " "), out, tc.want)
		}
	}
}
