package sqlstore_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// Issue 28: a destination's configuration (its broker address, fields and
// credentials) is sealed at rest, bound to its row, and resealed by a key
// rotation; its kind stays in the clear in destination.
func TestDestinationConfigSealedAtRest(t *testing.T) {
	t.Parallel()
	for _, engine := range sqltest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			cfg := sqltest.Config(t, engine)
			s := sqltest.OpenConfig(t, cfg)
			ctx := context.Background()
			p := newProject(t, s, "sealdest")
			w := newWebhook(t, s, p.ID)
			w.Destination, w.URL = "redis-stream", "redis://127.0.0.1:6379/0"
			w.DestinationConfig = hookgate.DestinationConfig{
				URL:    w.URL,
				Fields: map[string]json.RawMessage{"stream": json.RawMessage(`"orders"`), "maxLen": json.RawMessage(`1000`)},
				Auth:   hookgate.DestinationAuth{Username: "hookgate", Password: "broker-pass-123"},
			}
			if err := s.UpdateWebhook(ctx, w); err != nil {
				t.Fatal(err)
			}
			db := rawDB(t, s, cfg)
			var raw, kind string
			if err := db.QueryRow(q(engine, `SELECT destination_config, destination FROM webhooks WHERE id = ?`), w.ID).Scan(&raw, &kind); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(raw, "v2:"+s.KeyID()+":") || strings.Contains(raw, "broker-pass-123") || strings.Contains(raw, "orders") || kind != "redis-stream" {
				t.Fatalf("stored %q (kind %q)", raw, kind)
			}
			got, err := s.FindWebhook(ctx, p.ID, w.ID)
			if err != nil || !reflect.DeepEqual(got.DestinationConfig, w.DestinationConfig) || got.Destination != w.Destination {
				t.Fatalf("FindWebhook: %+v, %v", got, err)
			}
			// Copied into another webhook's row, the sealed configuration opens no more.
			sealedStaysInItsRow(t, s, db, engine, p.ID, "destination_config", raw)

			// Key rotation (rotate-key): the configuration is resealed too.
			newCfg := cfg
			newCfg.Box = sqltest.Box(t)
			s2 := sqltest.OpenConfig(t, newCfg)
			n, err := s2.Reseal(ctx, cfg.Box)
			if err != nil || n != 5 { // url, secret, auth, headers, destination_config
				t.Fatalf("resealed %d, %v", n, err)
			}
			got, err = s2.FindWebhook(ctx, p.ID, w.ID)
			if err != nil || !reflect.DeepEqual(got.DestinationConfig, w.DestinationConfig) {
				t.Fatalf("after rotation: %+v, %v", got, err)
			}

			// Back to HTTP: nothing left.
			w.Destination, w.URL, w.DestinationConfig = "", "https://example.com/hook", hookgate.DestinationConfig{}
			if err := s2.UpdateWebhook(ctx, w); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRow(q(engine, `SELECT destination_config FROM webhooks WHERE id = ?`), w.ID).Scan(&raw); err != nil || raw != "" {
				t.Fatalf("after removal: %q, %v", raw, err)
			}
		})
	}
}
