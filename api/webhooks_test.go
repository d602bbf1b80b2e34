package api_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
)

var generatedSecret = regexp.MustCompile(`^whsec_[A-Za-z0-9+/]{43}=$`)

// newSecret returns a valid signing secret of n random bytes.
func newSecret(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// checkGeneratedSecret fails unless s is whsec_ and the base64 of 32 bytes.
func checkGeneratedSecret(t testing.TB, s string) {
	t.Helper()
	if !generatedSecret.MatchString(s) {
		t.Fatalf("secret %q is not whsec_ + base64 of 32 bytes", s)
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
	if err != nil || len(b) != 32 {
		t.Fatalf("secret %q decodes to %d bytes, %v", s, len(b), err)
	}
}

// find reads a webhook straight from the store, with its secrets in clear.
func (e *env) find(projectID, id string) *hookgate.Webhook {
	e.t.Helper()
	w, err := e.store.FindWebhook(context.Background(), projectID, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return w
}

// jsonEq fails unless got and want are equal as JSON.
func jsonEq(t testing.TB, what string, got, want any) {
	t.Helper()
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	var g, w any
	_ = json.Unmarshal(gb, &g)
	_ = json.Unmarshal(wb, &w)
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s = %s, want %s", what, gb, wb)
	}
}

func TestWebhookCreateAllFields(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		pid, owner, _ := e.project("acme")
		secret := newSecret(32)
		in := map[string]any{
			"url":         "http://127.0.0.1:9/hooks/orders?x=1",
			"description": "Orders to the warehouse",
			"events":      []string{"order.*", "user.created"},
			"secret":      secret,
			"auth":        map[string]any{"type": "basic", "username": "warehouse", "password": "hunter2"},
			"headers": map[string]string{
				"Proxy-Authorization": "Bearer abc", "X-Api-Key": "k-123", "X-Token": "t-123", "X-Secret": "s-123",
				"X-Custom": "in clear", "Accept-Language": "fr",
			},
			"publicHeaders":   []string{"X-Custom", "Accept-Language"},
			"method":          "PUT",
			"queryParams":     []string{"page", "filter[status]"},
			"payloadEncoding": "base64",
			"rateLimit":       25,
			"metadata":        map[string]string{"team": "core", "tier": "gold"},
		}
		r := e.webhook("acme", owner, in)
		if !strings.HasPrefix(r.str("id"), "wh_") || r.str("projectId") != pid || r.str("status") != "active" {
			t.Fatalf("bad webhook: %s", r.Raw)
		}
		for _, f := range []string{"url", "description", "events", "method", "queryParams", "payloadEncoding", "rateLimit", "metadata", "secret", "publicHeaders"} {
			jsonEq(t, f, r.Body[f], in[f])
		}
		jsonEq(t, "auth", r.Body["auth"], map[string]any{"type": "basic", "username": "warehouse", "password": "********"})
		jsonEq(t, "headers", r.Body["headers"], map[string]string{
			"Proxy-Authorization": "********", "X-Api-Key": "********", "X-Token": "********", "X-Secret": "********",
			"X-Custom": "in clear", "Accept-Language": "fr",
		})
		c, u := parseTime(t, r, "createdAt"), parseTime(t, r, "updatedAt")
		if !c.Equal(u) || time.Since(c) > time.Minute {
			t.Fatalf("createdAt %v updatedAt %v", c, u)
		}
		for _, leak := range []string{"hunter2", "Bearer abc", "k-123", "t-123", "s-123"} {
			if strings.Contains(string(r.Raw), leak) {
				t.Fatalf("answer leaks %q: %s", leak, r.Raw)
			}
		}
		// The store has the real values.
		w := e.find(pid, r.str("id"))
		if w.Secret != secret || w.Auth.Password != "hunter2" || w.Headers["Proxy-Authorization"] != "Bearer abc" || w.Headers["X-Api-Key"] != "k-123" {
			t.Fatalf("stored %+v", w)
		}

		// GET answers the same but the secret.
		g := e.req("GET", "/api/v1/projects/acme/webhooks/"+r.str("id"), owner, nil).must(t, 200)
		if _, ok := g.Body["secret"]; ok {
			t.Fatalf("GET shows the secret: %s", g.Raw)
		}
		want := maps.Clone(r.Body)
		delete(want, "secret")
		delete(want, "createdAt")
		delete(want, "updatedAt")
		got := maps.Clone(g.Body)
		delete(got, "createdAt")
		delete(got, "updatedAt")
		jsonEq(t, "GET", got, want)

		// OAuth2 client credentials.
		cc := e.webhook("acme", owner, map[string]any{
			"url": "https://receiver.example.invalid/hook",
			"auth": map[string]any{"type": "client_credential", "clientID": "cid", "clientSecret": "very-secret",
				"tokenURL": "https://auth.example.invalid/oauth/token", "scopes": []string{"events:write", "read"}},
		})
		jsonEq(t, "auth", cc.Body["auth"], map[string]any{"type": "client_credential", "clientID": "cid", "clientSecret": "********",
			"tokenURL": "https://auth.example.invalid/oauth/token", "scopes": []string{"events:write", "read"}})
		if strings.Contains(string(cc.Raw), "very-secret") {
			t.Fatalf("answer leaks the client secret: %s", cc.Raw)
		}
		if w := e.find(pid, cc.str("id")); w.Auth.ClientSecret != "very-secret" {
			t.Fatalf("stored client secret %q", w.Auth.ClientSecret)
		}
		g = e.req("GET", "/api/v1/projects/acme/webhooks/"+cc.str("id"), owner, nil).must(t, 200)
		if strings.Contains(string(g.Raw), "very-secret") || g.Body["secret"] != nil {
			t.Fatalf("GET leaks: %s", g.Raw)
		}
	})
}

// serverDelivery is the delivery settings answered for a webhook that
// takes the server's defaults.
var serverDelivery = map[string]any{
	"retrySchedule": map[string]any{"value": []string{"5s", "5m", "30m", "2h", "5h", "10h", "10h"}, "from": "server"},
	"timeout":       map[string]any{"value": "15s", "from": "server"},
	"maxAttempts":   map[string]any{"value": 8, "from": "server"},
	"autoRecover":   map[string]any{"value": true, "from": "server"},
	"breaker":       serverBreaker,
}

// serverBreaker is the circuit breaker settings answered for a webhook
// that takes the server's.
var serverBreaker = map[string]any{"failures": map[string]any{"value": 10, "from": "server"}, "cooldown": map[string]any{"value": "30s", "from": "server"}}

// closedCircuit is the circuit of a webhook that never failed.
var closedCircuit = map[string]any{"state": "closed", "since": nil, "consecutiveFailures": 0, "nextProbeAt": nil, "openedAt": nil, "cooldown": nil}

func TestWebhookDefaults(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		pid, owner, _ := e.project("acme")
		r := e.webhook("acme", owner, map[string]any{"url": "https://receiver.example.invalid/h"})
		want := map[string]any{
			"id": r.str("id"), "projectId": pid, "url": "https://receiver.example.invalid/h", "description": "",
			"events": []string{}, "auth": map[string]any{"type": "none"}, "headers": map[string]string{}, "method": "POST",
			"queryParams": []string{}, "payloadEncoding": "json", "rateLimit": 0, "metadata": map[string]string{},
			"publicHeaders": []string{}, "triggerOnly": false, "status": "active", "createdAt": r.str("createdAt"), "updatedAt": r.str("updatedAt"), "secret": r.str("secret"),
			"retrySchedule": []string{}, "timeout": nil, "maxAttempts": nil, "autoRecover": nil, "ordering": "none", "orderingKey": "", "delivery": serverDelivery, "breaker": nil, "circuit": closedCircuit, "signature": map[string]any{"scheme": "v1"}, "tls": nil,
			"destination": map[string]any{"kind": "http"}, "filter": "", "transform": "", "transformHeaders": "",
		}
		jsonEq(t, "webhook", r.Body, want)
		checkGeneratedSecret(t, r.str("secret"))
		if w := e.find(pid, r.str("id")); w.Secret != r.str("secret") {
			t.Fatalf("stored secret %q, answered %q", w.Secret, r.str("secret"))
		}
		// Two webhooks never share a generated secret.
		r2 := e.webhook("acme", owner, map[string]any{"url": "https://receiver.example.invalid/h", "auth": map[string]any{"type": "none"}, "events": []string{}})
		checkGeneratedSecret(t, r2.str("secret"))
		if r2.str("secret") == r.str("secret") {
			t.Fatal("same secret twice")
		}
	})
}

func TestWebhookGivenSecret(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		pid, owner, _ := e.project("acme")
		for _, n := range []int{24, 32, 64} {
			s := newSecret(n)
			r := e.webhook("acme", owner, map[string]any{"url": "https://receiver.example.invalid/h", "secret": s})
			if r.str("secret") != s {
				t.Fatalf("secret %q, want %q", r.str("secret"), s)
			}
			g := e.req("GET", "/api/v1/projects/acme/webhooks/"+r.str("id")+"/secret", owner, nil).must(t, 200)
			if g.str("secret") != s || g.Body["previousSecretExpiresAt"] != nil {
				t.Fatalf("GET secret: %s", g.Raw)
			}
			if w := e.find(pid, r.str("id")); w.Secret != s {
				t.Fatalf("stored %q", w.Secret)
			}
		}
	})
}

func TestWebhookInvalid(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, _ := e.project("acme")
		const ok = "http://127.0.0.1:9/h"
		with := func(kv ...any) map[string]any {
			m := map[string]any{"url": ok}
			for i := 0; i < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1]
			}
			return m
		}
		many := func(n int, kv func(i int) (string, string)) map[string]string {
			m := map[string]string{}
			for i := range n {
				k, v := kv(i)
				m[k] = v
			}
			return m
		}
		manyStrings := func(n int) []string {
			s := make([]string, n)
			for i := range s {
				s[i] = fmt.Sprintf("e%d", i)
			}
			return s
		}
		for _, c := range []struct {
			name  string
			body  any
			code  string
			param string
		}{
			{"51 headers", with("headers", many(51, func(i int) (string, string) { return fmt.Sprintf("X-H%d", i), "v" })), "invalid_parameter", "headers"},
			{"51 metadata", with("metadata", many(51, func(i int) (string, string) { return fmt.Sprintf("k%d", i), "v" })), "invalid_parameter", "metadata"},
			{"257 events", with("events", manyStrings(257)), "invalid_parameter", "events"},
			{"51 queryParams", with("queryParams", manyStrings(51)), "invalid_parameter", "queryParams"},
			{"url missing", map[string]any{"description": "x"}, "missing_parameter", "url"},
			{"url empty", with("url", ""), "missing_parameter", "url"},
			{"url not a string", with("url", 5), "invalid_parameter", "url"},
			{"url ftp", with("url", "ftp://receiver.example.invalid/h"), "invalid_parameter", "url"},
			{"url javascript", with("url", "javascript:alert(1)"), "invalid_parameter", "url"},
			{"url user info", with("url", "http://user:pass@receiver.example.invalid/h"), "invalid_parameter", "url"},
			{"url relative", with("url", "/relative/path"), "invalid_parameter", "url"},
			{"url no host", with("url", "http:///path"), "invalid_parameter", "url"},
			{"url fragment", with("url", "http://receiver.example.invalid/h#frag"), "invalid_parameter", "url"},
			{"url unparsable", with("url", "http://[::1"), "invalid_parameter", "url"},
			{"url too long", with("url", "http://receiver.example.invalid/"+strings.Repeat("a", 2048)), "invalid_parameter", "url"},
			{"description too long", with("description", strings.Repeat("d", 1025)), "invalid_parameter", "description"},
			{"events entry with a space", with("events", []string{"order.created", "order created"}), "invalid_parameter", "events"},
			{"events entry empty", with("events", []string{""}), "invalid_parameter", "events"},
			{"events not strings", with("events", []any{1}), "invalid_parameter", "events[0]"},
			{"secret no prefix", with("secret", "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"), "invalid_parameter", "secret"},
			{"secret not base64", with("secret", "whsec_!!!notbase64!!!"), "invalid_parameter", "secret"},
			{"secret too short", with("secret", newSecret(23)), "invalid_parameter", "secret"},
			{"secret too long", with("secret", newSecret(65)), "invalid_parameter", "secret"},
			{"auth type bad", with("auth", map[string]any{"type": "digest"}), "invalid_parameter", "auth.type"},
			{"auth type missing", with("auth", map[string]any{"username": "u"}), "missing_parameter", "auth.type"},
			{"auth none with fields", with("auth", map[string]any{"type": "none", "username": "u"}), "invalid_parameter", "auth"},
			{"basic without password", with("auth", map[string]any{"type": "basic", "username": "u"}), "missing_parameter", "auth.password"},
			{"basic without username", with("auth", map[string]any{"type": "basic", "password": "p"}), "missing_parameter", "auth.username"},
			{"basic username with colon", with("auth", map[string]any{"type": "basic", "username": "a:b", "password": "p"}), "invalid_parameter", "auth.username"},
			{"basic with client fields", with("auth", map[string]any{"type": "basic", "username": "u", "password": "p", "clientID": "c"}), "invalid_parameter", "auth"},
			{"client_credential without tokenURL", with("auth", map[string]any{"type": "client_credential", "clientID": "c", "clientSecret": "s"}), "missing_parameter", "auth.tokenURL"},
			{"client_credential without clientID", with("auth", map[string]any{"type": "client_credential", "clientSecret": "s", "tokenURL": ok}), "missing_parameter", "auth.clientID"},
			{"client_credential without clientSecret", with("auth", map[string]any{"type": "client_credential", "clientID": "c", "tokenURL": ok}), "missing_parameter", "auth.clientSecret"},
			{"client_credential tokenURL relative", with("auth", map[string]any{"type": "client_credential", "clientID": "c", "clientSecret": "s", "tokenURL": "/token"}), "invalid_parameter", "auth.tokenURL"},
			{"client_credential bad scope", with("auth", map[string]any{"type": "client_credential", "clientID": "c", "clientSecret": "s", "tokenURL": ok, "scopes": []string{"a b"}}), "invalid_parameter", "auth.scopes"},
			{"auth unknown field", with("auth", map[string]any{"type": "none", "token": "x"}), "invalid_parameter", "auth.token"},
			{"header name invalid", with("headers", map[string]string{"Bad Header": "x"}), "invalid_parameter", "headers"},
			{"header name empty", with("headers", map[string]string{"": "x"}), "invalid_parameter", "headers"},
			{"header reserved webhook-signature", with("headers", map[string]string{"webhook-signature": "v1,forged"}), "invalid_parameter", "headers.webhook-signature"},
			{"header reserved Webhook-Id", with("headers", map[string]string{"Webhook-Id": "x"}), "invalid_parameter", "headers.Webhook-Id"},
			{"header reserved Host", with("headers", map[string]string{"Host": "evil.invalid"}), "invalid_parameter", "headers.Host"},
			{"header reserved Content-Length", with("headers", map[string]string{"Content-Length": "1"}), "invalid_parameter", "headers.Content-Length"},
			{"header value with newline", with("headers", map[string]string{"X-A": "a\r\nX-B: b"}), "invalid_parameter", "headers.X-A"},
			{"header value not a string", with("headers", map[string]any{"X-A": 1}), "invalid_parameter", "headers.X-A"},
			{"method TRACE", with("method", "TRACE"), "invalid_parameter", "method"},
			{"method lower case", with("method", "post"), "invalid_parameter", "method"},
			{"queryParams bad name", with("queryParams", []string{"a b"}), "invalid_parameter", "queryParams"},
			{"payloadEncoding xml", with("payloadEncoding", "xml"), "invalid_parameter", "payloadEncoding"},
			{"rateLimit -1", with("rateLimit", -1), "invalid_parameter", "rateLimit"},
			{"rateLimit too high", with("rateLimit", 100001), "invalid_parameter", "rateLimit"},
			{"rateLimit fraction", with("rateLimit", 1.5), "invalid_parameter", "rateLimit"},
			{"metadata not strings", with("metadata", map[string]any{"n": 1}), "invalid_parameter", "metadata.n"},
			{"metadata value too long", with("metadata", map[string]string{"k": strings.Repeat("v", 1025)}), "invalid_parameter", "metadata.k"},
			{"unknown field", with("colour", "red"), "invalid_parameter", "colour"},
			{"status is not settable", with("status", "disabled"), "invalid_parameter", "status"},
			{"id is not settable", with("id", "wh_x"), "invalid_parameter", "id"},
		} {
			r := e.req("POST", "/api/v1/projects/acme/webhooks", owner, c.body)
			if r.Status != 400 || r.Body["code"] != c.code || r.Body["parameter_name"] != c.param {
				t.Errorf("%s: %d %v %v, want 400 %s %s: %s", c.name, r.Status, r.Body["code"], r.Body["parameter_name"], c.code, c.param, r.Raw)
				continue
			}
			r.problem(t, 400, c.code, c.param)
		}
		// A bad secret is never echoed back.
		bad := "whsec_" + base64.StdEncoding.EncodeToString([]byte("short but secret"))
		r := e.req("POST", "/api/v1/projects/acme/webhooks", owner, with("secret", bad)).problem(t, 400, "invalid_parameter", "secret")
		if strings.Contains(string(r.Raw), bad) {
			t.Fatalf("a refused secret is echoed: %s", r.Raw)
		}
		if n := len(e.req("GET", "/api/v1/projects/acme/webhooks", owner, nil).must(t, 200).items(t)); n != 0 {
			t.Fatalf("%d webhooks made by bad requests", n)
		}
		// Every method of the contract is taken.
		for _, m := range []string{"POST", "PUT", "PATCH", "GET", "DELETE"} {
			if r := e.webhook("acme", owner, with("method", m)); r.str("method") != m {
				t.Fatalf("method %s: %s", m, r.Raw)
			}
		}
	})
}

func TestWebhookSSRF(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine) // the default policy: no loopback
		_, owner, _ := e.project("acme")
		path := "/api/v1/projects/acme/webhooks"
		for _, u := range []string{
			"http://127.0.0.1:9/x",
			"http://127.1.2.3/",
			"http://10.1.2.3/",
			"http://172.16.0.1/",
			"http://192.168.1.1/",
			"http://169.254.169.254/latest/meta-data/",
			"http://100.64.0.1/",
			"http://0.0.0.0/",
			"http://224.0.0.1/",
			"http://[::1]/",
			"http://[::1]:8080/",
			"http://[::ffff:127.0.0.1]/",
			"http://[::ffff:10.0.0.1]/",
			"http://[fe80::1]/",
			"http://[fc00::1]/",
			"http://[::]/",
			"http://[::7f00:1]/",
			"http://[64:ff9b::7f00:1]/",
			"http://[2002:7f00:1::1]/",
			"http://[fe80::1%25eth0]/",
			"http://198.18.0.1/",
			"http://255.255.255.255/",
			"http://localhost/",
			"http://LOCALHOST:8080/",
			"http://localhost./",
			"http://api.localhost/",
			"http://127.0.0.1./",
			"https://10.0.0.1:443/",
		} {
			r := e.req("POST", path, owner, map[string]any{"url": u})
			r.problem(t, 400, "invalid_parameter", "url")
			if r.Body["parameter_value"] != u {
				t.Fatalf("%s: parameter_value %v", u, r.Body["parameter_value"])
			}
		}
		for _, tok := range []string{"http://192.168.1.1/t", "http://127.0.0.1/t", "http://[::1]/t", "http://localhost/t", "http://169.254.169.254/t"} {
			e.req("POST", path, owner, map[string]any{"url": "https://receiver.example.invalid/h",
				"auth": map[string]any{"type": "client_credential", "clientID": "c", "clientSecret": "s", "tokenURL": tok}}).
				problem(t, 400, "invalid_parameter", "auth.tokenURL")
		}
		if n := len(e.req("GET", path, owner, nil).must(t, 200).items(t)); n != 0 {
			t.Fatalf("%d webhooks to forbidden networks", n)
		}
		// Public literals and names are accepted: registration never dials.
		for _, u := range []string{"http://93.184.216.34/", "https://93.184.216.34:8443/h", "http://[2606:2800:220:1:248:1893:25c8:1946]/", "https://receiver.example.invalid/h"} {
			if r := e.webhook("acme", owner, map[string]any{"url": u}); r.str("url") != u {
				t.Fatalf("url %s: %s", u, r.Raw)
			}
		}
		// A PATCH is judged the same way.
		id := e.webhook("acme", owner, map[string]any{"url": "https://receiver.example.invalid/h"}).str("id")
		e.req("PATCH", path+"/"+id, owner, map[string]any{"url": "http://10.1.2.3/"}).problem(t, 400, "invalid_parameter", "url")
		e.req("PATCH", path+"/"+id, owner, map[string]any{"auth": map[string]any{"type": "client_credential", "clientID": "c", "clientSecret": "s", "tokenURL": "http://192.168.1.1/t"}}).
			problem(t, 400, "invalid_parameter", "auth.tokenURL")
		if g := e.req("GET", path+"/"+id, owner, nil).must(t, 200); g.str("url") != "https://receiver.example.invalid/h" || g.Body["auth"].(map[string]any)["type"] != "none" {
			t.Fatalf("changed by refused patches: %s", g.Raw)
		}
	})
}

func TestWebhookLoopbackAllowed(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, _ := e.project("acme")
		for _, u := range []string{"http://127.0.0.1:9/x", "http://127.0.0.2/", "http://[::1]:9/", "http://localhost:9/"} {
			e.webhook("acme", owner, map[string]any{"url": u})
		}
		e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/x",
			"auth": map[string]any{"type": "client_credential", "clientID": "c", "clientSecret": "s", "tokenURL": "http://127.0.0.1:9/token"}})
		// Only the allowed networks are opened.
		for _, u := range []string{"http://10.1.2.3/", "http://169.254.169.254/", "http://192.168.1.1/"} {
			e.req("POST", "/api/v1/projects/acme/webhooks", owner, map[string]any{"url": u}).problem(t, 400, "invalid_parameter", "url")
		}
	})
}

func TestWebhookList(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, _ := e.project("acme")
		_, ownerB, _ := e.project("beta")
		e.webhook("beta", ownerB, map[string]any{"url": "http://127.0.0.1:9/beta"})
		var want []string
		for range 5 {
			want = append(want, e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/h", "auth": map[string]any{"type": "basic", "username": "u", "password": "pw-secret"}}).str("id"))
		}
		slices.Reverse(want)
		path := "/api/v1/projects/acme/webhooks"
		all := e.req("GET", path, owner, nil).must(t, 200)
		if got := all.ids(t); !slices.Equal(got, want) || all.next(t) != "" {
			t.Fatalf("list %v next %q, want %v", got, all.next(t), want)
		}
		for _, it := range all.items(t) {
			if _, ok := it["secret"]; ok {
				t.Fatalf("a list shows secrets: %s", all.Raw)
			}
		}
		if strings.Contains(string(all.Raw), "pw-secret") || strings.Contains(string(all.Raw), "whsec_") {
			t.Fatalf("a list leaks credentials: %s", all.Raw)
		}
		var got []string
		cursor := ""
		for i := 0; ; i++ {
			q := path + "?limit=2"
			if cursor != "" {
				q += "&cursor=" + cursor
			}
			r := e.req("GET", q, owner, nil).must(t, 200)
			got = append(got, r.ids(t)...)
			if cursor = r.next(t); cursor == "" {
				break
			}
			if i > 5 {
				t.Fatal("endless pages")
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("paged %v, want %v", got, want)
		}
		e.req("GET", path+"?limit=0", owner, nil).problem(t, 400, "invalid_parameter", "limit")
		e.req("GET", path+"?limit=251", owner, nil).problem(t, 400, "invalid_parameter", "limit")
		e.req("GET", path+"?cursor="+strings.Repeat("x", 129), owner, nil).problem(t, 400, "invalid_parameter", "cursor")
	})
}

func TestWebhookPatchPartial(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		pid, owner, _ := e.project("acme")
		c := e.webhook("acme", owner, map[string]any{
			"url": "http://127.0.0.1:9/h", "description": "before", "events": []string{"order.*"},
			"headers": map[string]string{"X-Custom": "c"}, "method": "PUT", "queryParams": []string{"q"},
			"rateLimit": 5, "metadata": map[string]string{"a": "1"},
			"auth": map[string]any{"type": "basic", "username": "u", "password": "p"},
		})
		id := c.str("id")
		path := "/api/v1/projects/acme/webhooks/" + id
		clockPast(t, parseTime(t, c, "updatedAt"))
		r := e.req("PATCH", path, owner, map[string]any{"description": "after"}).must(t, 200)
		want := maps.Clone(c.Body)
		delete(want, "secret")
		want["description"] = "after"
		want["updatedAt"] = r.Body["updatedAt"]
		want["createdAt"] = r.Body["createdAt"]
		jsonEq(t, "patched", r.Body, want)
		if !parseTime(t, r, "updatedAt").After(parseTime(t, c, "updatedAt")) {
			t.Fatalf("updatedAt did not move: %s", r.Raw)
		}
		g := e.req("GET", path, owner, nil).must(t, 200)
		if !parseTime(t, g, "updatedAt").Equal(parseTime(t, r, "updatedAt").Truncate(time.Microsecond)) {
			t.Fatalf("updatedAt read back %s, answered %s", g.str("updatedAt"), r.str("updatedAt"))
		}
		g.Body["updatedAt"] = r.Body["updatedAt"] // the exact stamp is TestTimestampsStableOnReadBack's
		jsonEq(t, "read back", g.Body, r.Body)
		if w := e.find(pid, id); w.Secret != c.str("secret") || w.Auth.Password != "p" {
			t.Fatalf("secret or password lost: %+v", w)
		}

		// Each field alone.
		r = e.req("PATCH", path, owner, map[string]any{
			"url": "http://127.0.0.1:9/new", "events": []string{}, "method": "POST", "queryParams": []string{},
			"payloadEncoding": "base64", "rateLimit": 0, "metadata": map[string]string{}, "headers": map[string]string{},
			"auth": map[string]any{"type": "none"},
		}).must(t, 200)
		jsonEq(t, "cleared", r.Body, map[string]any{
			"id": id, "projectId": pid, "url": "http://127.0.0.1:9/new", "description": "after", "events": []string{},
			"auth": map[string]any{"type": "none"}, "headers": map[string]string{}, "method": "POST", "queryParams": []string{},
			"payloadEncoding": "base64", "rateLimit": 0, "metadata": map[string]string{}, "publicHeaders": []string{}, "triggerOnly": false, "status": "active",
			"retrySchedule": []string{}, "timeout": nil, "maxAttempts": nil, "autoRecover": nil, "ordering": "none", "orderingKey": "", "delivery": serverDelivery, "breaker": nil, "circuit": closedCircuit, "signature": map[string]any{"scheme": "v1"}, "tls": nil, "destination": map[string]any{"kind": "http"},
			"filter": "", "transform": "", "transformHeaders": "",
			"createdAt": r.Body["createdAt"], "updatedAt": r.Body["updatedAt"],
		})
		if w := e.find(pid, id); w.Auth.Password != "" || len(w.Headers) != 0 || w.Secret != c.str("secret") {
			t.Fatalf("stored after clearing: %+v", w)
		}
		e.req("PATCH", "/api/v1/projects/acme/webhooks/wh_01aaaaaaaaaaaaaaaaaaaaaaaa", owner, map[string]any{"description": "x"}).problem(t, 404, "not_found", "")
	})
}

func TestWebhookPatchKeepsRedactedCredentials(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		pid, owner, _ := e.project("acme")
		b := e.webhook("acme", owner, map[string]any{
			"url":           "http://127.0.0.1:9/h",
			"auth":          map[string]any{"type": "basic", "username": "u", "password": "p4ss"},
			"headers":       map[string]string{"X-Auth-Token": "Bearer abc", "X-Api-Key": "k-1", "X-Custom": "c"},
			"publicHeaders": []string{"X-Custom", "X-New"},
		})
		path := "/api/v1/projects/acme/webhooks/" + b.str("id")
		// A client sends back what it read, changing what it means to.
		read := e.req("GET", path, owner, nil).must(t, 200)
		body := map[string]any{"auth": read.Body["auth"], "headers": read.Body["headers"]}
		body["auth"].(map[string]any)["username"] = "u2"
		body["headers"].(map[string]any)["X-Custom"] = "c2"
		body["headers"].(map[string]any)["X-New"] = "n"
		r := e.req("PATCH", path, owner, body).must(t, 200)
		jsonEq(t, "auth", r.Body["auth"], map[string]any{"type": "basic", "username": "u2", "password": "********"})
		jsonEq(t, "headers", r.Body["headers"], map[string]string{"X-Auth-Token": "********", "X-Api-Key": "********", "X-Custom": "c2", "X-New": "n"})
		w := e.find(pid, b.str("id"))
		if w.Auth.Password != "p4ss" || w.Auth.Username != "u2" {
			t.Fatalf("stored auth %+v", w.Auth)
		}
		jsonEq(t, "stored headers", w.Headers, map[string]string{"X-Auth-Token": "Bearer abc", "X-Api-Key": "k-1", "X-Custom": "c2", "X-New": "n"})

		// A new value replaces the stored one; a header left out is removed.
		e.req("PATCH", path, owner, map[string]any{
			"auth":    map[string]any{"type": "basic", "username": "u2", "password": "new-pass"},
			"headers": map[string]string{"X-Auth-Token": "Bearer xyz"},
		}).must(t, 200)
		w = e.find(pid, b.str("id"))
		if w.Auth.Password != "new-pass" {
			t.Fatalf("password %q", w.Auth.Password)
		}
		jsonEq(t, "stored headers", w.Headers, map[string]string{"X-Auth-Token": "Bearer xyz"})

		// client_credential: the client secret sent back redacted is kept.
		cc := e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/h",
			"auth": map[string]any{"type": "client_credential", "clientID": "cid", "clientSecret": "cs-1", "tokenURL": "http://127.0.0.1:9/t"}})
		cpath := "/api/v1/projects/acme/webhooks/" + cc.str("id")
		r = e.req("PATCH", cpath, owner, map[string]any{"auth": map[string]any{"type": "client_credential", "clientID": "cid2",
			"clientSecret": "********", "tokenURL": "http://127.0.0.1:9/t2", "scopes": []string{"s"}}}).must(t, 200)
		jsonEq(t, "auth", r.Body["auth"], map[string]any{"type": "client_credential", "clientID": "cid2", "clientSecret": "********",
			"tokenURL": "http://127.0.0.1:9/t2", "scopes": []string{"s"}})
		if w := e.find(pid, cc.str("id")); w.Auth.ClientSecret != "cs-1" || w.Auth.ClientID != "cid2" {
			t.Fatalf("stored auth %+v", w.Auth)
		}
	})
}

func TestWebhookPatchInvalidChangesNothing(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		pid, owner, _ := e.project("acme")
		c := e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/h", "events": []string{"a.*"},
			"auth": map[string]any{"type": "basic", "username": "u", "password": "p"}, "headers": map[string]string{"X-A": "a"}})
		path := "/api/v1/projects/acme/webhooks/" + c.str("id")
		before := e.req("GET", path, owner, nil).must(t, 200)
		stored := e.find(pid, c.str("id"))
		for _, x := range []struct {
			body        any
			code, param string
		}{
			{map[string]any{"url": "ftp://receiver.example.invalid/"}, "invalid_parameter", "url"},
			{map[string]any{"url": ""}, "missing_parameter", "url"},
			{map[string]any{"description": "ok", "url": "http://10.0.0.1/"}, "invalid_parameter", "url"},
			{map[string]any{"description": "ok", "method": "TRACE"}, "invalid_parameter", "method"},
			{map[string]any{"description": "ok", "events": []string{"a b"}}, "invalid_parameter", "events"},
			{map[string]any{"description": "ok", "headers": map[string]string{"webhook-signature": "v1,x"}}, "invalid_parameter", "headers.webhook-signature"},
			{map[string]any{"description": "ok", "auth": map[string]any{"type": "basic", "username": "u"}}, "missing_parameter", "auth.password"},
			{map[string]any{"description": "ok", "payloadEncoding": "xml"}, "invalid_parameter", "payloadEncoding"},
			{map[string]any{"description": "ok", "rateLimit": -1}, "invalid_parameter", "rateLimit"},
			{map[string]any{"description": "ok", "secret": newSecret(32)}, "invalid_parameter", "secret"},
			{map[string]any{"description": "ok", "status": "deactivated"}, "invalid_parameter", "status"},
		} {
			e.req("PATCH", path, owner, x.body).problem(t, 400, x.code, x.param)
		}
		e.req("PATCH", path, owner, "{not json").problem(t, 400, "invalid_json", "")
		after := e.req("GET", path, owner, nil).must(t, 200)
		jsonEq(t, "after refused patches", after.Body, before.Body)
		if w := e.find(pid, c.str("id")); !reflect.DeepEqual(w, stored) {
			t.Fatalf("stored webhook changed:\n%+v\n%+v", w, stored)
		}
	})
}

func TestWebhookDelete(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, _ := e.project("acme")
		keep := e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/keep"}).str("id")
		id := e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/h"}).str("id")
		path := "/api/v1/projects/acme/webhooks/" + id
		e.req("DELETE", path, owner, nil).must(t, 204)
		e.req("GET", path, owner, nil).problem(t, 404, "not_found", "")
		e.req("DELETE", path, owner, nil).problem(t, 404, "not_found", "")
		e.req("PATCH", path, owner, map[string]any{"description": "x"}).problem(t, 404, "not_found", "")
		e.req("GET", path+"/secret", owner, nil).problem(t, 404, "not_found", "")
		e.req("POST", path+"/secret/rotate", owner, nil).problem(t, 404, "not_found", "")
		e.req("POST", path+"/activate", owner, nil).problem(t, 404, "not_found", "")
		e.req("POST", path+"/deactivate", owner, nil).problem(t, 404, "not_found", "")
		if ids := e.req("GET", "/api/v1/projects/acme/webhooks", owner, nil).must(t, 200).ids(t); !slices.Equal(ids, []string{keep}) {
			t.Fatalf("webhooks left %v, want %s", ids, keep)
		}
		e.req("DELETE", "/api/v1/projects/acme/webhooks/nope", owner, nil).problem(t, 404, "not_found", "")
	})
}

func TestWebhookActivateDeactivate(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, _ := e.project("acme")
		c := e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/h", "description": "d"})
		path := "/api/v1/projects/acme/webhooks/" + c.str("id")
		r := e.req("POST", path+"/deactivate", owner, nil).must(t, 200)
		if r.str("status") != "deactivated" || r.str("description") != "d" || r.str("id") != c.str("id") || r.Body["secret"] != nil {
			t.Fatalf("deactivate: %s", r.Raw)
		}
		if g := e.req("GET", path, owner, nil).must(t, 200); g.str("status") != "deactivated" {
			t.Fatalf("GET after deactivate: %s", g.Raw)
		}
		e.req("POST", path+"/deactivate", owner, nil).must(t, 200) // idempotent
		// A PATCH does not reactivate it.
		if p := e.req("PATCH", path, owner, map[string]any{"description": "d2"}).must(t, 200); p.str("status") != "deactivated" {
			t.Fatalf("PATCH changed the status: %s", p.Raw)
		}
		r = e.req("POST", path+"/activate", owner, nil).must(t, 200)
		if r.str("status") != "active" || r.str("description") != "d2" {
			t.Fatalf("activate: %s", r.Raw)
		}
		if g := e.req("GET", path, owner, nil).must(t, 200); g.str("status") != "active" {
			t.Fatalf("GET after activate: %s", g.Raw)
		}
		e.req("POST", path+"/activate", owner, nil).must(t, 200)
		e.req("POST", "/api/v1/projects/acme/webhooks/wh_01aaaaaaaaaaaaaaaaaaaaaaaa/activate", owner, nil).problem(t, 404, "not_found", "")
	})
}

func TestWebhookSecretRotation(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		pid, owner, _ := e.project("acme")
		c := e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/h"})
		id, old := c.str("id"), c.str("secret")
		path := "/api/v1/projects/acme/webhooks/" + id + "/secret"

		g := e.req("GET", path, owner, nil).must(t, 200)
		if g.str("secret") != old || g.Body["previousSecretExpiresAt"] != nil {
			t.Fatalf("GET secret: %s", g.Raw)
		}
		if _, ok := g.Body["previousSecretExpiresAt"]; !ok {
			t.Fatalf("previousSecretExpiresAt absent, want null: %s", g.Raw)
		}

		// No body: a new secret, the old one signs for 24 hours.
		r := e.req("POST", path+"/rotate", owner, nil).must(t, 200)
		next := r.str("secret")
		checkGeneratedSecret(t, next)
		if next == old {
			t.Fatal("rotation kept the secret")
		}
		exp := parseTime(t, r, "previousSecretExpiresAt")
		if d := time.Until(exp); d < 24*time.Hour-time.Minute || d > 24*time.Hour+time.Minute {
			t.Fatalf("previousSecretExpiresAt %v is %v ahead, want 24h", exp, d)
		}
		w := e.find(pid, id)
		if w.Secret != next || w.PreviousSecret != old || !w.PreviousSecretExpiresAt.Equal(exp.Truncate(time.Microsecond)) {
			t.Fatalf("stored secret %q previous %q until %v; want %q, %q, %v", w.Secret, w.PreviousSecret, w.PreviousSecretExpiresAt, next, old, exp)
		}
		g = e.req("GET", path, owner, nil).must(t, 200)
		if g.str("secret") != next || !parseTime(t, g, "previousSecretExpiresAt").Equal(exp.Truncate(time.Microsecond)) {
			t.Fatalf("GET after rotate: %s, rotate answered %s", g.Raw, r.Raw)
		}
		// The webhook itself is unchanged but for its secret.
		if wh := e.req("GET", "/api/v1/projects/acme/webhooks/"+id, owner, nil).must(t, 200); wh.Body["secret"] != nil || wh.str("url") != "http://127.0.0.1:9/h" {
			t.Fatalf("webhook after rotate: %s", wh.Raw)
		}

		// An empty object and a custom grace period.
		r = e.req("POST", path+"/rotate", owner, map[string]any{"gracePeriod": "90m"}).must(t, 200)
		if d := time.Until(parseTime(t, r, "previousSecretExpiresAt")); d < 89*time.Minute || d > 91*time.Minute {
			t.Fatalf("90m grace is %v", d)
		}
		if w := e.find(pid, id); w.PreviousSecret != next || w.Secret != r.str("secret") {
			t.Fatalf("second rotation stored %q / %q", w.Secret, w.PreviousSecret)
		}
		e.req("POST", path+"/rotate", owner, map[string]any{}).must(t, 200)

		// A given secret with no grace: the old one stops at once.
		given := newSecret(48)
		r = e.req("POST", path+"/rotate", owner, map[string]any{"secret": given, "gracePeriod": "0s"}).must(t, 200)
		if r.str("secret") != given || r.Body["previousSecretExpiresAt"] != nil {
			t.Fatalf("rotate with 0s: %s", r.Raw)
		}
		if _, ok := r.Body["previousSecretExpiresAt"]; !ok {
			t.Fatalf("previousSecretExpiresAt absent, want null: %s", r.Raw)
		}
		if w := e.find(pid, id); w.Secret != given || w.PreviousSecret != "" {
			t.Fatalf("stored %q previous %q", w.Secret, w.PreviousSecret)
		}
		e.req("POST", path+"/rotate", owner, map[string]any{"gracePeriod": "720h"}).must(t, 200)

		// Refused rotations change nothing.
		cur := e.find(pid, id)
		for _, x := range []struct {
			body  any
			param string
		}{
			{map[string]any{"gracePeriod": "forever"}, "gracePeriod"},
			{map[string]any{"gracePeriod": "-1h"}, "gracePeriod"},
			{map[string]any{"gracePeriod": "721h"}, "gracePeriod"},
			{map[string]any{"gracePeriod": 3600}, "gracePeriod"},
			{map[string]any{"secret": "not-a-secret"}, "secret"},
			{map[string]any{"secret": newSecret(8)}, "secret"},
			{map[string]any{"secret": newSecret(32), "other": 1}, "other"},
		} {
			e.req("POST", path+"/rotate", owner, x.body).problem(t, 400, "invalid_parameter", x.param)
		}
		if w := e.find(pid, id); !reflect.DeepEqual(w, cur) {
			t.Fatalf("refused rotation changed the webhook:\n%+v\n%+v", w, cur)
		}
	})
}

// A PATCH of a field that is changed elsewhere says where.
func TestWebhookPatchReadOnlyFieldsSayWhere(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, owner, _ := e.project("ro")
		id := e.webhook("ro", owner, map[string]any{"url": "https://a.example.invalid/"}).str("id")
		r := e.req("PATCH", "/api/v1/projects/ro/webhooks/"+id, owner, map[string]any{"status": "deactivated"}).problem(t, 400, "invalid_parameter", "status")
		if !strings.Contains(r.str("detail"), "/deactivate") {
			t.Fatalf("detail = %q", r.str("detail"))
		}
		r = e.req("PATCH", "/api/v1/projects/ro/webhooks/"+id, owner, map[string]any{"secret": hookgateSecret}).problem(t, 400, "invalid_parameter", "secret")
		if !strings.Contains(r.str("detail"), "secret/rotate") {
			t.Fatalf("detail = %q", r.str("detail"))
		}
	})
}

const hookgateSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// Stored credentials never follow a webhook to a new host: an owner who
// cannot read them cannot point the URL elsewhere and be sent them.
func TestCredentialsDoNotFollowANewHost(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		pid, owner, _ := e.project("cred")
		id := e.webhook("cred", owner, map[string]any{"url": "https://a.example.invalid/h",
			"auth": map[string]any{"type": "basic", "username": "u", "password": "hunter2"}, "headers": map[string]string{"X-Api-Key": "k1", "X-Env": "prod"},
			"publicHeaders": []string{"X-Env"}}).str("id")
		path := "/api/v1/projects/cred/webhooks/" + id
		e.req("PATCH", path, owner, map[string]any{"url": "https://evil.example.invalid/h"}).problem(t, 400, "invalid_parameter", "auth.password")
		e.req("PATCH", path, owner, map[string]any{"url": "https://evil.example.invalid/h",
			"auth": map[string]any{"type": "basic", "username": "u", "password": "********"}}).problem(t, 400, "invalid_parameter", "auth.password")
		e.req("PATCH", path, owner, map[string]any{"url": "https://evil.example.invalid/h",
			"auth": map[string]any{"type": "basic", "username": "u", "password": "new"}}).problem(t, 400, "invalid_parameter", "headers.X-Api-Key")
		e.req("PATCH", path, owner, map[string]any{"url": "https://evil.example.invalid/h", "auth": map[string]any{"type": "basic", "username": "u", "password": "new"},
			"headers": map[string]string{"X-Api-Key": "k2", "X-Env": "prod"}}).must(t, 200)
		if w := e.find(pid, id); w.Auth.Password != "new" || w.Headers["X-Api-Key"] != "k2" {
			t.Fatalf("stored %+v", w)
		}
		// The same host keeps what is sent back redacted.
		e.req("PATCH", path, owner, map[string]any{"url": "https://evil.example.invalid/other"}).must(t, 200)
		// An Authorization header would lose to auth.
		e.req("PATCH", path, owner, map[string]any{"headers": map[string]string{"Authorization": "Bearer x"}}).problem(t, 400, "invalid_parameter", "headers.Authorization")
		// A new token URL needs the client secret again.
		oid := e.webhook("cred", owner, map[string]any{"url": "https://a.example.invalid/h",
			"auth": map[string]any{"type": "client_credential", "clientID": "c", "clientSecret": "s", "tokenURL": "https://auth.example.invalid/token"}}).str("id")
		e.req("PATCH", "/api/v1/projects/cred/webhooks/"+oid, owner, map[string]any{"auth": map[string]any{"type": "client_credential", "clientID": "c",
			"clientSecret": "********", "tokenURL": "https://evil.example.invalid/token"}}).problem(t, 400, "invalid_parameter", "auth.clientSecret")
	})
}

// A header's value is answered only when the registration marks it public;
// a header named like a credential cannot be.
func TestHeadersRedactedUnlessPublic(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, owner, _ := e.project("pub")
		r := e.webhook("pub", owner, map[string]any{"url": "https://a.example.invalid/", "headers": map[string]string{"X-Auth": "supersecretvalue", "X-Env": "prod"},
			"publicHeaders": []string{"X-Env"}})
		jsonEq(t, "headers", r.Body["headers"], map[string]string{"X-Auth": "********", "X-Env": "prod"})
		e.req("POST", "/api/v1/projects/pub/webhooks", owner, map[string]any{"url": "https://a.example.invalid/", "publicHeaders": []string{"X-Api-Key"}}).problem(t, 400, "invalid_parameter", "publicHeaders")
	})
}
