package client_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/api"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/netguard"
	"github.com/hookgate/hookgate/platforms/providers"
	"github.com/hookgate/hookgate/secrets"
	"github.com/hookgate/hookgate/sqlstore"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

const adminKey = "hgadmin_client_test"

// server is a real Hookgate API and delivery engine on a real store, over
// real HTTP on loopback.
type server struct {
	URL  string
	stop func()
}

// serve runs the API and a dispatcher on store until stop.
func serve(store *sqlstore.Store) *server {
	policy := netguard.New([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
	sender := &delivery.Sender{Client: policy.Client(5 * time.Second), UserAgent: "Hookgate/test"}
	var disp *delivery.Dispatcher
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := api.New(api.Config{
		Store:     store,
		AdminKey:  adminKey,
		Policy:    policy,
		Logger:    quiet,
		Sender:    sender,
		Providers: providers.All(),
		OnEvents:  func() { disp.Wake() },
	})
	disp = delivery.New(delivery.Config{Queue: store, Sender: sender, Poll: 50 * time.Millisecond, Logger: quiet})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { disp.Run(ctx); close(done) }()
	srv := httptest.NewServer(h)
	return &server{URL: srv.URL, stop: func() { srv.Close(); cancel(); <-done }}
}

// setup serves a new store of engine for the test's length and returns an
// admin client of it.
func setup(t *testing.T, engine string) (*server, *client.Client) {
	t.Helper()
	s := serve(sqltest.Open(t, engine))
	t.Cleanup(s.stop)
	return s, newClient(t, s.URL, adminKey)
}

func newClient(t testing.TB, url, key string, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(url, key, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// openSQLite opens a migrated SQLite store in dir, for TestMain's examples
// server, which has no *testing.T.
func openSQLite(dir string) (*sqlstore.Store, error) {
	key := make([]byte, secrets.KeySize)
	_, _ = rand.Read(key)
	box, err := secrets.NewBox(key)
	if err != nil {
		return nil, err
	}
	s, err := sqlstore.Open(context.Background(), sqlstore.Config{DataDir: dir, Box: box})
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(context.Background()); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// eachEngine runs fn as a parallel subtest on every engine under test.
func eachEngine(t *testing.T, fn func(t *testing.T, engine string)) {
	t.Helper()
	t.Parallel()
	for _, engine := range sqltest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			fn(t, engine)
		})
	}
}

// receiver is a webhook receiver that checks every request with
// client.Verify and keeps the verified bodies; while failing it answers
// 500.
type receiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	secret  string
	failing bool
	bodies  []string
	refused int // requests whose signature did not verify
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if err := client.Verify(r.secret, req.Header, body); err != nil {
			r.refused++
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if r.failing {
			http.Error(w, "down for maintenance", http.StatusInternalServerError)
			return
		}
		r.bodies = append(r.bodies, string(body))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"ok":true,"n":%d}`, len(r.bodies))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) set(secret string, failing bool) {
	r.mu.Lock()
	r.secret, r.failing = secret, failing
	r.mu.Unlock()
}

func (r *receiver) received() (n, refused int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies), r.refused
}

const botToken = "123456789:AAFclient-test-token-0123456789abcdef"

// fakeTelegram speaks the four Bot API methods Hookgate calls.
type fakeTelegram struct {
	srv  *httptest.Server
	mu   sync.Mutex
	url  string
	sent []string
}

func newFakeTelegram(t *testing.T) *fakeTelegram {
	f := &fakeTelegram{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		method, ok := strings.CutPrefix(r.URL.Path, "/bot"+botToken+"/")
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"ok":false,"error_code":401,"description":"Unauthorized"}`))
			return
		}
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		defer f.mu.Unlock()
		switch method {
		case "setWebhook":
			f.url, _ = body["url"].(string)
			_, _ = w.Write([]byte(`{"ok":true,"result":true,"description":"Webhook was set"}`))
		case "deleteWebhook":
			f.url = ""
			_, _ = w.Write([]byte(`{"ok":true,"result":true,"description":"Webhook was deleted"}`))
		case "getWebhookInfo":
			fmt.Fprintf(w, `{"ok":true,"result":{"url":%q,"has_custom_certificate":false,"pending_update_count":0}}`, f.url)
		case "sendMessage":
			if body["chat_id"] == "blocked" {
				w.WriteHeader(http.StatusForbidden)
				_, _ = w.Write([]byte(`{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`))
				return
			}
			f.sent = append(f.sent, fmt.Sprint(body["text"]))
			fmt.Fprintf(w, `{"ok":true,"result":{"message_id":%d,"chat":{"id":42,"type":"private"}}}`, 100+len(f.sent))
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"ok":false,"error_code":404,"description":"Not Found"}`))
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// eventually polls cond until it holds, failing the test after 20 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
