package delivery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/netguard"
)

func newSender() *delivery.Sender {
	p := netguard.New([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
	return &delivery.Sender{Client: p.Client(5 * time.Second), UserAgent: "Hookgate/test"}
}

func webhook(url string) *hookgate.Webhook {
	w := &hookgate.Webhook{ID: "wh_1", URL: url, Secret: hookgate.NewSecret(), UpdatedAt: time.Now()}
	w.ApplyDefaults()
	return w
}

var msg = hookgate.DeliveryMessage{ID: "msg_abc", EventType: "order.created", EventTime: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), Data: json.RawMessage(`{"id":1}`)}

func TestSendSignedEnvelope(t *testing.T) {
	t.Parallel()
	type got struct {
		method, user, pass, custom, ua, ct string
		body                               []byte
		verr                               error
	}
	seen := make(chan got, 1)
	var w *hookgate.Webhook
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		wh, _ := standardwebhooks.NewWebhook(w.Secret)
		u, p, _ := r.BasicAuth()
		seen <- got{r.Method, u, p, r.Header.Get("X-Team"), r.Header.Get("User-Agent"), r.Header.Get("Content-Type"), b, wh.Verify(b, r.Header)}
		rw.Header().Set("X-Answer", "yes")
		rw.WriteHeader(http.StatusAccepted)
		_, _ = rw.Write([]byte(strings.Repeat("a", delivery.MaxResponseBody+100)))
	}))
	defer srv.Close()
	w = webhook(srv.URL + "/hook")
	w.Method = http.MethodPut
	w.Auth = hookgate.WebhookAuth{Type: hookgate.AuthBasic, Username: "u", Password: "p"}
	w.Headers = map[string]string{"X-Team": "billing"}

	res := newSender().Send(context.Background(), w, msg)
	if !res.OK() || res.StatusCode != 202 || res.Header.Get("X-Answer") != "yes" || len(res.Body) != delivery.MaxResponseBody {
		t.Fatalf("result = %d %v %q (%d bytes), %v", res.StatusCode, res.OK(), res.Header, len(res.Body), res.Err)
	}
	g := <-seen
	if g.verr != nil {
		t.Fatalf("standardwebhooks does not verify: %v", g.verr)
	}
	if g.method != "PUT" || g.user != "u" || g.pass != "p" || g.custom != "billing" || g.ua != "Hookgate/test" || g.ct != "application/json" {
		t.Fatalf("request = %+v", g)
	}
	if string(g.body) != `{"type":"order.created","timestamp":"2026-11-23T12:00:00Z","data":{"id":1}}` {
		t.Fatalf("body = %s", g.body)
	}
}

func TestSendBase64Payload(t *testing.T) {
	t.Parallel()
	var body atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		body.Store(r.Header.Get("Content-Type") + "|" + string(b))
	}))
	defer srv.Close()
	w := webhook(srv.URL)
	w.PayloadEncoding = hookgate.EncodingBase64
	w.Headers = map[string]string{"Content-Type": "image/jpeg"}
	m := msg
	m.Data = json.RawMessage(`"/9j/4AAQ"`) // base64 of the JPEG magic bytes
	if res := newSender().Send(context.Background(), w, m); !res.OK() {
		t.Fatalf("send: %d %v", res.StatusCode, res.Err)
	}
	if got := body.Load().(string); got != "image/jpeg|\xff\xd8\xff\xe0\x00\x10" {
		t.Fatalf("received %q", got)
	}
	m.Data = json.RawMessage(`{"not":"a string"}`)
	if res := newSender().Send(context.Background(), w, m); res.Err == nil || res.StatusCode != 0 {
		t.Fatal("non-string data with base64 encoding was sent")
	}
}

func TestSendFailures(t *testing.T) {
	t.Parallel()
	// A closed port: nothing answers.
	res := newSender().Send(context.Background(), webhook("http://127.0.0.1:9/"), msg)
	if res.StatusCode != 0 || res.Err == nil || res.OK() {
		t.Fatalf("closed port: %+v", res)
	}
	// The default policy refuses loopback when connecting.
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("a denied address was reached") }))
	defer srv.Close()
	strict := &delivery.Sender{Client: netguard.New(nil).Client(time.Second)}
	if res := strict.Send(context.Background(), webhook(srv.URL), msg); res.Err == nil || !strings.Contains(res.Err.Error(), "network policy") {
		t.Fatalf("policy: %+v", res)
	}
	// A 500 is an answer, not an error, and not OK.
	srv500 := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) { rw.WriteHeader(500) }))
	defer srv500.Close()
	if res := newSender().Send(context.Background(), webhook(srv500.URL), msg); res.StatusCode != 500 || res.Err != nil || res.OK() {
		t.Fatalf("500: %+v", res)
	}
}

func TestSendTwoSignaturesDuringRotation(t *testing.T) {
	t.Parallel()
	sig := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { sig <- r.Header.Get("webhook-signature") }))
	defer srv.Close()
	w := webhook(srv.URL)
	w.PreviousSecret, w.PreviousSecretExpiresAt = hookgate.NewSecret(), time.Now().Add(time.Hour)
	newSender().Send(context.Background(), w, msg)
	if n := len(strings.Fields(<-sig)); n != 2 {
		t.Fatalf("%d signatures during the grace period, want 2", n)
	}
	w.PreviousSecretExpiresAt = time.Now().Add(-time.Second)
	newSender().Send(context.Background(), w, msg)
	if n := len(strings.Fields(<-sig)); n != 1 {
		t.Fatalf("%d signatures after the grace period, want 1", n)
	}
}

// A local OAuth2 token server: the token is fetched once, cached, and fetched
// again after the receiver answers 401.
func TestSendClientCredentials(t *testing.T) {
	t.Parallel()
	var fetches atomic.Int32
	tokens := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		id, secret, _ := r.BasicAuth()
		if r.Form.Get("grant_type") != "client_credentials" || id != "cid" || secret != "csecret" || r.Form.Get("scope") != "hooks" {
			rw.WriteHeader(http.StatusUnauthorized)
			return
		}
		n := fetches.Add(1)
		rw.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(rw, `{"access_token":"tok%d","token_type":"Bearer","expires_in":3600}`, n)
	}))
	defer tokens.Close()
	var reject atomic.Bool
	recv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if reject.Load() && r.Header.Get("Authorization") == "Bearer tok1" {
			rw.WriteHeader(http.StatusUnauthorized)
			return
		}
		rw.Header().Set("X-Token", r.Header.Get("Authorization"))
	}))
	defer recv.Close()
	w := webhook(recv.URL)
	w.Auth = hookgate.WebhookAuth{Type: hookgate.AuthClientCredential, ClientID: "cid", ClientSecret: "csecret", TokenURL: tokens.URL, Scopes: []string{"hooks"}}
	s := newSender()
	for range 3 {
		if res := s.Send(context.Background(), w, msg); !res.OK() || res.Header.Get("X-Token") != "Bearer tok1" {
			t.Fatalf("send: %+v", res)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Fatalf("%d token fetches for 3 sends, want 1 (cached)", n)
	}
	reject.Store(true)
	if res := s.Send(context.Background(), w, msg); !res.OK() || res.Header.Get("X-Token") != "Bearer tok2" {
		t.Fatalf("after a 401: %+v", res)
	}
	if n := fetches.Load(); n != 2 {
		t.Fatalf("%d token fetches, want 2 (fetched again after the 401)", n)
	}
}

// Do appends the query to the registered URL's own, adds the request's
// headers under the registration's, and says when it cut the answer.
func TestDoQueryHeadersAndBound(t *testing.T) {
	t.Parallel()
	type got struct{ query, team, extra, ct string }
	seen := make(chan got, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		seen <- got{r.URL.RawQuery, r.Header.Get("X-Team"), r.Header.Get("X-Extra"), r.Header.Get("Content-Type")}
		_, _ = rw.Write([]byte(strings.Repeat("b", delivery.MaxResponseBody+1)))
	}))
	defer srv.Close()
	w := webhook(srv.URL + "/api?fixed=1")
	w.Headers = map[string]string{"X-Team": "billing"}
	res := newSender().Do(context.Background(), w, delivery.Request{ID: "msg_q", Body: []byte("x"), ContentType: "text/plain",
		Header: http.Header{"X-Team": {"intruder"}, "X-Extra": {"e"}}, Query: url.Values{"page": {"2 3"}}})
	if !res.OK() || !res.Truncated || len(res.Body) != delivery.MaxResponseBody {
		t.Fatalf("result = %d truncated=%v %d bytes, %v", res.StatusCode, res.Truncated, len(res.Body), res.Err)
	}
	if g := <-seen; g != (got{"fixed=1&page=2+3", "billing", "e", "text/plain"}) {
		t.Fatalf("request = %+v", g)
	}
	if a := res.Attempt("msg_q", 3); a.Attempt != 3 || a.DeliveryID != "msg_q" || a.StatusCode != 200 || a.ResponseHeaders["Content-Type"] == "" {
		t.Fatalf("attempt = %+v", a)
	}
}

// What is recorded of a request hides credentials: in headers, in query
// values named like them, and in the error text that quotes the URL.
func TestAttemptRedactsCredentials(t *testing.T) {
	t.Parallel()
	w := webhook("http://127.0.0.1:9/x?api_key=abc123&page=1")
	w.Headers = map[string]string{"X-Api-Key": "k-secret", "X-Team": "billing", "X-Auth": "supersecretvalue"}
	w.PublicHeaders = []string{"X-Team"}
	w.Auth = hookgate.WebhookAuth{Type: hookgate.AuthBasic, Username: "u", Password: "p"}
	res := newSender().Do(context.Background(), w, delivery.Request{ID: "msg_r", Query: url.Values{"access_token": {"zzz-secret"}}, RecordHeaders: true})
	a := res.Attempt("msg_r", 1)
	if a.RequestURL != "http://127.0.0.1:9/x?api_key=********&page=1&access_token=********" {
		t.Fatalf("requestUrl = %q", a.RequestURL)
	}
	if a.RequestHeaders["X-Api-Key"] != "********" || a.RequestHeaders["Authorization"] != "Basic ********" || a.RequestHeaders["X-Team"] != "billing" ||
		a.RequestHeaders["X-Auth"] != "********" {
		t.Fatalf("requestHeaders = %v", a.RequestHeaders)
	}
	for _, secret := range []string{"abc123", "zzz-secret", "k-secret", "supersecretvalue"} {
		if strings.Contains(a.Error, secret) || strings.Contains(a.RequestURL, secret) {
			t.Fatalf("%q recorded: %q", secret, a.Error)
		}
	}
	if a.Error == "" || a.StatusCode != 0 {
		t.Fatalf("attempt = %+v", a)
	}

	// A chat service's incoming-webhook URL has its secret in the path.
	const pathToken = "vNQ4b7DbHyIaOXzsm8s5SvZZ"
	res = newSender().Do(context.Background(), webhook("http://127.0.0.1:9/services/T0123ABCD/B0456EFGH/"+pathToken), delivery.Request{ID: "msg_s"})
	a = res.Attempt("msg_s", 1)
	if a.RequestURL != "http://127.0.0.1:9/services/T0123ABCD/B0456EFGH/********" || strings.Contains(a.Error, pathToken) || a.Error == "" {
		t.Fatalf("attempt keeps the path token: %q, %q", a.RequestURL, a.Error)
	}
}

// The event's data goes out as it was stored, byte for byte: no HTML
// escaping, no re-indentation.
func TestPayloadKeepsDataBytes(t *testing.T) {
	t.Parallel()
	w := webhook("http://127.0.0.1:9/")
	m := msg
	m.Data = json.RawMessage("{ \"s\": \"<&> é\",\n  \"n\": 1.50 }")
	b, ct, err := delivery.Payload(w, m)
	want := "{\"type\":\"order.created\",\"timestamp\":\"2026-11-23T12:00:00Z\",\"data\":{ \"s\": \"<&> é\",\n  \"n\": 1.50 }}"
	if err != nil || ct != "application/json" || string(b) != want {
		t.Fatalf("payload = %s (%v), want %s", b, err, want)
	}
	m.EventTime = time.Date(2026, 11, 23, 12, 0, 0, 123456000, time.FixedZone("X", 3600))
	b, _, _ = delivery.Payload(w, m)
	if !strings.Contains(string(b), `"timestamp":"2026-11-23T11:00:00.123456Z"`) {
		t.Fatalf("timestamp in %s", b)
	}
}

// A receiver's headers are kept up to 16 KiB, marked when cut, and read
// up to 64 KiB at all: a flood of them costs an error, not memory.
func TestResponseHeadersBounded(t *testing.T) {
	t.Parallel()
	n := 40
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		for i := range n {
			rw.Header().Set(fmt.Sprintf("X-H%03d", i), strings.Repeat("v", 1000))
		}
		if r.URL.Path == "/flood" {
			for i := range 150 {
				rw.Header().Set(fmt.Sprintf("X-F%03d", i), strings.Repeat("f", 60000))
			}
		}
	}))
	defer srv.Close()
	res := newSender().Send(context.Background(), webhook(srv.URL+"/many"), msg)
	a := res.Attempt("msg_h", 1)
	size := 0
	for k, v := range a.ResponseHeaders {
		size += len(k) + len(v)
	}
	if res.StatusCode != 200 || size > delivery.MaxResponseHeaders+100 || a.ResponseHeaders[delivery.TruncatedHeader] != "true" {
		t.Fatalf("status %d, %d bytes of headers kept, marker %q", res.StatusCode, size, a.ResponseHeaders[delivery.TruncatedHeader])
	}
	flood := newSender().Send(context.Background(), webhook(srv.URL+"/flood"), msg)
	if flood.StatusCode != 0 || flood.Err == nil {
		t.Fatalf("a 9 MB header flood was read: status %d", flood.StatusCode)
	}
}

// A connection the policy refuses is recorded without the address the
// name resolved to: attempts are no oracle for internal names.
func TestBlockedAttemptNamesNoAddress(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("reached") }))
	defer srv.Close()
	strict := &delivery.Sender{Client: netguard.New(nil).Client(time.Second)}
	res := strict.Send(context.Background(), webhook(srv.URL), msg)
	a := res.Attempt("msg_b", 1)
	host := strings.TrimPrefix(srv.URL, "http://")
	if a.Error != "blocked by the network policy" || strings.Contains(a.Error, host) {
		t.Fatalf("attempt error %q", a.Error)
	}
}

// The token cache holds one entry per webhook, however often it changes.
func TestTokenCacheOneEntryPerWebhook(t *testing.T) {
	t.Parallel()
	tokens := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		_, _ = rw.Write([]byte(`{"access_token":"t","token_type":"Bearer","expires_in":3600}`))
	}))
	defer tokens.Close()
	recv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer recv.Close()
	s := newSender()
	w := webhook(recv.URL)
	w.Auth = hookgate.WebhookAuth{Type: hookgate.AuthClientCredential, ClientID: "c", ClientSecret: "s", TokenURL: tokens.URL}
	for i := range 20 {
		w.UpdatedAt = time.Unix(int64(i), 0) // an update of the webhook
		if res := s.Send(context.Background(), w, msg); !res.OK() {
			t.Fatalf("send %d: %+v", i, res)
		}
	}
	if n := s.TokenSources(); n != 1 {
		t.Fatalf("%d cached token sources for one webhook updated 20 times", n)
	}
}
