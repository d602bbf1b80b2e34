package servertest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

const adminKey = apitest.AdminKey

// setup serves a new store of engine for the test's length and returns an
// admin client of it.
func setup(t *testing.T, engine string) (*apitest.Server, *client.Client) {
	t.Helper()
	s := apitest.New(t, engine)
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

// eachEngine runs fn on every engine under test (sqltest.EachEngine).
func eachEngine(t *testing.T, fn func(t *testing.T, engine string)) { sqltest.EachEngine(t, fn) }

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
