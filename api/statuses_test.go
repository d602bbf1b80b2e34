package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/hookgate/hookgate/api"
)

// sentStatuses records the status of every answer that an API started by
// setup gives, by operation, for the whole run of the package's tests.
var sentStatuses = &statusLog{seen: map[opStatus]string{}}

// TestMain runs the tests, then fails the run if any answer had a status
// that the OpenAPI document does not declare for its operation: a client
// generated from the document must know every status it can get.
func TestMain(m *testing.M) {
	code := m.Run()
	if undeclared := sentStatuses.undeclared(); len(undeclared) > 0 {
		fmt.Fprintln(os.Stderr, "FAIL: answers with statuses /openapi.json does not declare for their operation:")
		for _, u := range undeclared {
			fmt.Fprintln(os.Stderr, "  "+u)
		}
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

type opStatus struct {
	op     string
	status int
}

// statusLog gathers (operation, status) pairs with an example request of
// each, and the statuses each operation's document declares.
type statusLog struct {
	mu       sync.Mutex
	seen     map[opStatus]string // an example "METHOD path" of each
	declared map[string]map[string]bool
}

// route is one operation of the document: its method, the segments of
// its path ("{…}" matches any one segment), and its ID.
type route struct {
	method   string
	segments []string
	id       string
}

// wrap returns srv's handler recording the status of each answer to a
// request the document has an operation for.
func (l *statusLog) wrap(srv *api.Server) http.Handler {
	doc := srv.OpenAPI()
	var routes []route
	declared := map[string]map[string]bool{}
	for path, item := range doc.Paths {
		for _, o := range []*huma.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete} {
			if o == nil {
				continue
			}
			routes = append(routes, route{o.Method, strings.Split(path, "/"), o.OperationID})
			declared[o.OperationID] = map[string]bool{}
			for status := range o.Responses {
				declared[o.OperationID][status] = true
			}
		}
	}
	l.mu.Lock()
	if l.declared == nil {
		l.declared = declared
	}
	l.mu.Unlock()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusOf{ResponseWriter: w, status: http.StatusOK}
		srv.ServeHTTP(rec, r)
		if id := matchRoute(routes, r.Method, r.URL.EscapedPath()); id != "" {
			l.mu.Lock()
			k := opStatus{id, rec.status}
			if _, ok := l.seen[k]; !ok {
				l.seen[k] = r.Method + " " + r.URL.EscapedPath()
			}
			l.mu.Unlock()
		}
	})
}

// matchRoute finds the operation of a request; a literal segment is
// preferred to a parameter where both match (…/events/batch).
func matchRoute(routes []route, method, path string) string {
	segs := strings.Split(path, "/")
	best, bestLiterals := "", -1
	for _, rt := range routes {
		if rt.method != method || len(rt.segments) != len(segs) {
			continue
		}
		literals, ok := 0, true
		for i, s := range rt.segments {
			if strings.HasPrefix(s, "{") {
				continue
			}
			if s != segs[i] {
				ok = false
				break
			}
			literals++
		}
		if ok && literals > bestLiterals {
			best, bestLiterals = rt.id, literals
		}
	}
	return best
}

// undeclared lists what was answered with a status its operation does not
// declare, sorted.
func (l *statusLog) undeclared() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for k, example := range l.seen {
		if !l.declared[k.op][strconv.Itoa(k.status)] {
			out = append(out, fmt.Sprintf("%s answered %d (e.g. %s)", k.op, k.status, example))
		}
	}
	sort.Strings(out)
	return out
}

// statusOf keeps the status a handler writes.
type statusOf struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *statusOf) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusOf) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

func (w *statusOf) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusOf) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Issue 22, item 6: every status the server answers is declared for its
// operation in /openapi.json. This drives each operation through the
// answers every operation may give (no key, an unknown project, a
// malformed Content-Type, a body too large) and the answers the issue
// found undeclared (409 for test and recover on a deactivated webhook, 200
// for the retry of a trigger); every answer of the package's tests is
// checked again when they end (TestMain).
func TestOpenAPIDeclaresEveryStatusSent(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback, withPlatforms)
		_, owner, pub := e.project("st")
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
		t.Cleanup(recv.Close)

		off := e.webhook("st", owner, map[string]any{"url": "http://127.0.0.1:9/off"}).str("id")
		e.req("POST", "/api/v1/projects/st/webhooks/"+off+"/deactivate", owner, nil).must(t, 200)
		e.req("POST", "/api/v1/projects/st/webhooks/"+off+"/test", owner, nil).problem(t, 409, "conflict", "")
		since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
		e.req("POST", "/api/v1/projects/st/webhooks/"+off+"/recover", owner, map[string]any{"since": since}).problem(t, 409, "conflict", "")

		on := e.webhook("st", owner, map[string]any{"url": recv.URL, "triggerOnly": true}).str("id")
		ref := e.req("POST", "/api/v1/projects/st/webhooks/"+on+"/trigger", pub, map[string]any{"data": map[string]any{"a": 1}}).must(t, 200).str("referenceId")
		e.req("POST", "/api/v1/projects/st/deliveries/"+ref+"/retry", owner, nil).must(t, 200)

		spec := e.req("GET", "/openapi.json", "", nil).must(t, 200)
		var doc struct {
			Paths map[string]map[string]json.RawMessage `json:"paths"`
		}
		if err := json.Unmarshal(spec.Raw, &doc); err != nil {
			t.Fatal(err)
		}
		plain := strings.NewReplacer("{project}", "st", "{id}", "x1", "{name}", "n1")
		tooLarge := `{"name":"` + strings.Repeat("a", api.DefaultMaxEventBytes) + `"}`
		for path, ops := range doc.Paths {
			for method := range ops {
				method = strings.ToUpper(method)
				p := plain.Replace(path)
				e.req(method, p, "", nil)
				e.req(method, strings.Replace(path, "{project}", "nope", 1), adminKey, nil)
				if method != "GET" && method != "DELETE" {
					e.reqH(method, p, map[string]string{"Authorization": "Bearer " + owner, "Content-Type": ";;;=="}, `{}`)
					e.req(method, p, owner, tooLarge)
				}
			}
		}
		if undeclared := sentStatuses.undeclared(); len(undeclared) > 0 {
			t.Fatalf("answers with statuses /openapi.json does not declare for their operation:\n%s", strings.Join(undeclared, "\n"))
		}
	})
}
