package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// Issue 22, item 3: an event sent by the CLI and then by curl with the
// same Idempotency-Key and the same JSON, spaced otherwise, is a repeat,
// not a 409; the CLI sends the JSON it was given byte for byte.
func TestCLIAndCurlShareIdempotencyKeys(t *testing.T) {
	t.Parallel()
	for _, engine := range sqltest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			srv := apitest.New(t, engine)
			c := &cli{t: t, server: srv.URL, key: apitest.AdminKey}
			c.ok("project", "create", "Shop", "--slug", "shop")
			curl := func(key, body string) *http.Response {
				t.Helper()
				req, _ := http.NewRequest("POST", srv.URL+"/api/v1/projects/shop/events", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+apitest.AdminKey)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", key)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				return res
			}
			replayed := func(what string, res *http.Response) {
				t.Helper()
				if res.StatusCode != http.StatusAccepted || res.Header.Get("Idempotent-Replayed") != "true" {
					t.Fatalf("%s: %d, Idempotent-Replayed %q; want 202 and a replay", what, res.StatusCode, res.Header.Get("Idempotent-Replayed"))
				}
			}

			c.ok("event", "send", "-p", "shop", "--type", "order.created", "--data", `{"id": 1001, "total": 9.50}`, "--idempotency-key", "order-1001")
			replayed("curl after the CLI, as typed", curl("order-1001", `{"type": "order.created", "data": {"id": 1001, "total": 9.50}}`))
			replayed("curl after the CLI, spaced otherwise", curl("order-1001", `{"data":{"total":9.50,"id":1001},"type":"order.created"}`))
			if res := curl("order-1001", `{"type":"order.created","data":{"id":1001,"total":9.5}}`); res.StatusCode != http.StatusConflict {
				t.Fatalf("another number (9.5 for 9.50) answered %d, want 409", res.StatusCode)
			}

			// The other way round, through a JSON Lines file.
			if res := curl("order-1002", "{\"type\":\"order.created\",\n \"data\":{\"id\":1002}}"); res.StatusCode != http.StatusAccepted {
				t.Fatalf("curl: %d", res.StatusCode)
			}
			file := filepath.Join(t.TempDir(), "orders.jsonl")
			if err := os.WriteFile(file, []byte(`{"type": "order.created", "data": { "id" : 1002 }, "idempotencyKey": "order-1002"}`+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			c.ok("event", "send", "-p", "shop", "--file", file)
			if n := strings.Count(c.ok("event", "list", "-p", "shop"), "order.created"); n != 2 {
				t.Fatalf("%d events, want 2", n)
			}
		})
	}
}
