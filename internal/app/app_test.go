package app_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/api"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/internal/app"
	"github.com/hookgate/hookgate/internal/testlog"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/netguard"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// Issue 23, step 5: one composition root. An event accepted by the API
// that New makes is delivered by its dispatcher, woken by the API, through
// the one Sender both share.
func TestNewWiresAPIAndDispatcher(t *testing.T) {
	sqltest.EachEngine(t, func(t *testing.T, engine string) {
		got := make(chan string, 1)
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			select {
			case got <- r.Header.Get("User-Agent") + " " + string(b):
			default:
			}
		}))
		t.Cleanup(rcv.Close)
		log := testlog.Logger(t)
		parts := app.New(app.Config{
			Store:     sqltest.Open(t, engine),
			Policy:    netguard.New([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}),
			UserAgent: "Hookgate/apptest",
			API:       api.Config{AdminKey: "hgadmin_apptest_0123456789abcdef", Logger: log},
			// A long poll: the delivery comes from the API's wake-up.
			Delivery: delivery.Config{Poll: time.Hour, Logger: log},
		})
		if parts.API.UserAgent() != "Hookgate/apptest" {
			t.Fatalf("the API's sender is not the one New made: %q", parts.API.UserAgent())
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { parts.Dispatcher.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		srv := httptest.NewServer(parts.API)
		t.Cleanup(srv.Close)

		post := func(path, key, body string) string {
			t.Helper()
			req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			if res.StatusCode >= 300 {
				t.Fatalf("POST %s: %d %s", path, res.StatusCode, b)
			}
			return string(b)
		}
		field := func(body, name string) string {
			_, rest, _ := strings.Cut(body, `"`+name+`":"`)
			v, _, _ := strings.Cut(rest, `"`)
			return v
		}
		proj := post("/api/v1/projects", "hgadmin_apptest_0123456789abcdef", `{"name":"App","slug":"app"}`)
		key := field(post("/api/v1/projects/app/keys", "hgadmin_apptest_0123456789abcdef", `{"name":"k","role":"owner"}`), "key")
		if field(proj, "slug") != "app" || key == "" {
			t.Fatalf("project %s, key %q", proj, key)
		}
		post("/api/v1/projects/app/webhooks", key, `{"url":"`+rcv.URL+`/hook"}`)
		post("/api/v1/projects/app/events", key, `{"type":"order.paid","data":{"id":1}}`)
		delivered := testwait.Recv(t, "the event's delivery", got)
		if !strings.HasPrefix(delivered, "Hookgate/apptest ") || !strings.Contains(delivered, `"order.paid"`) {
			t.Fatalf("delivered %s", delivered)
		}
	})
}

// Validate applies delivery's rules to the Sender New would make.
func TestConfigValidate(t *testing.T) {
	t.Parallel()
	err := app.Config{SendTimeout: time.Minute, Delivery: delivery.Config{Lease: 30 * time.Second}}.Validate(map[string]string{"Lease": "--lease", "SendTimeout": "--send-timeout"})
	if err == nil || err.Error() != "--lease (30s) must be longer than --send-timeout (1m0s)" {
		t.Fatalf("Validate = %v", err)
	}
	if err := (app.Config{}).Validate(nil); err != nil {
		t.Fatalf("the defaults: %v", err)
	}
}
