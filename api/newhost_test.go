package api_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/hookgate/hookgate/api/apitest"
)

// spy is a host on loopback that records every request it is sent and
// passes it on to next (nil: answers 404), so that a test can tell
// whether a credential ever reached it.
type spy struct {
	URL  string
	mu   sync.Mutex
	seen []string // method, path, query and body of each request
}

func newSpy(t *testing.T, next string) *spy {
	t.Helper()
	s := &spy{}
	var proxy http.Handler = http.NotFoundHandler()
	if next != "" {
		u, err := url.Parse(next)
		if err != nil {
			t.Fatal(err)
		}
		proxy = httputil.NewSingleHostReverseProxy(u)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.seen = append(s.seen, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery+" "+r.Header.Get("Authorization")+" "+string(b))
		s.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(b))
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// requests returns what the spy was sent so far.
func (s *spy) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

// Issue 21, item 3: a PATCH that points a platform's apiBaseUrl at another
// host without sending the credentials again is refused and changes
// nothing, so that the next register-webhook or message still goes to the
// old host and the bot token never reaches the new one; sent again, the
// credentials go to the new host, and the stored webhook secret does not.
func TestPlatformCredentialsDoNotFollowApiBaseURL(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback, withPlatforms)
		pid, owner, _ := e.project("tgmove")
		old := apitest.NewFakeTelegram(t)
		moved := apitest.NewFakeTelegram(t)
		evil := newSpy(t, moved.URL)
		path := "/api/v1/projects/tgmove/platforms"
		id := e.req("POST", path, owner, map[string]any{"provider": "telegram", "apiBaseUrl": old.URL,
			"credentials": map[string]any{"botToken": botToken}}).must(t, 201).str("id")
		e.req("POST", path+"/"+id+"/register-webhook", owner, nil).must(t, 200)
		firstSecret := old.RegisteredSecret()
		before, err := e.store.FindPlatform(context.Background(), pid, id)
		if err != nil {
			t.Fatal(err)
		}

		for _, body := range []map[string]any{
			{"apiBaseUrl": evil.URL},
			{"apiBaseUrl": evil.URL, "credentials": map[string]any{"botToken": "********"}},
			{"apiBaseUrl": evil.URL, "credentials": map[string]any{"botToken": "********", "webhookSecret": "********"}},
			{"apiBaseUrl": evil.URL, "credentials": map[string]any{}, "name": "renamed"},
			{"apiBaseUrl": "", "name": "renamed"}, // the public API is another host too
		} {
			e.req("PATCH", path+"/"+id, owner, body).problem(t, 400, "invalid_parameter", "credentials")
		}
		after, err := e.store.FindPlatform(context.Background(), pid, id)
		if err != nil {
			t.Fatal(err)
		}
		if after.APIBaseURL != old.URL || !after.Registered || after.Name != before.Name ||
			string(after.Credentials) != string(before.Credentials) || !after.UpdatedAt.Equal(before.UpdatedAt) {
			t.Fatalf("a refused PATCH changed the platform: %+v, was %+v", after, before)
		}
		// The next calls still go to the old host.
		e.req("POST", path+"/"+id+"/register-webhook", owner, nil).must(t, 200)
		e.req("POST", "/api/v1/projects/tgmove/messages", owner, map[string]any{"platformId": id, "to": "42", "text": "still here"}).must(t, 201)
		if got := old.Sent(); len(got) != 1 || got[0] != "still here" {
			t.Fatalf("the old host was sent %v", got)
		}
		if got := evil.requests(); len(got) != 0 {
			t.Fatalf("the new host was sent %q", got)
		}

		// The same origin (another path) keeps the credentials.
		e.req("PATCH", path+"/"+id, owner, map[string]any{"apiBaseUrl": old.URL + "/"}).must(t, 200)
		// Sent again, the token goes to the new host; the stored webhook
		// secret does not, a new one is generated.
		p := e.req("PATCH", path+"/"+id, owner, map[string]any{"apiBaseUrl": evil.URL, "credentials": map[string]any{"botToken": botToken}}).must(t, 200)
		if p.Body["registered"] != false || p.Body["apiBaseUrl"] != evil.URL {
			t.Fatalf("moved: %s", p.Raw)
		}
		if creds := p.Body["credentials"].(map[string]any); creds["webhookSecret"] != nil {
			t.Fatalf("the stored webhook secret followed: %s", p.Raw)
		}
		e.req("POST", path+"/"+id+"/register-webhook", owner, nil).must(t, 200)
		if moved.Registered() != publicURL+"/inbound/"+id || moved.RegisteredSecret() == "" || moved.RegisteredSecret() == firstSecret {
			t.Fatalf("the new host has %q with secret %q (the old one was %q)", moved.Registered(), moved.RegisteredSecret(), firstSecret)
		}
		for _, r := range evil.requests() {
			if strings.Contains(r, firstSecret) {
				t.Fatalf("the old webhook secret reached the new host: %q", r)
			}
		}
		e.req("POST", "/api/v1/projects/tgmove/messages", owner, map[string]any{"platformId": id, "to": "42", "text": "moved"}).must(t, 201)
		if got := moved.Sent(); len(got) != 1 || got[0] != "moved" {
			t.Fatalf("the new host was sent %v", got)
		}
	})
}

// Issue 21, item 3: every provider that calls an API refuses to carry its
// stored secrets to a new apiBaseUrl host, and takes them sent again;
// nothing reaches the new host on a refusal. A generic source calls no API:
// its apiBaseUrl carries nothing.
func TestEveryProviderKeepsSecretsAtTheirHost(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback, withPlatforms)
		_, owner, _ := e.project("moves")
		path := "/api/v1/projects/moves/platforms"
		first := newSpy(t, "")
		for _, c := range []struct {
			provider      string
			creds, resend map[string]any
		}{
			{"discord", map[string]any{"applicationId": "123456789012345678", "publicKey": strings.Repeat("ab", 32), "botToken": "discord-bot-token-1"},
				map[string]any{"botToken": "discord-bot-token-1"}},
			{"whatsapp", map[string]any{"appId": "1234567890", "appSecret": "whatsapp-app-secret-1", "accessToken": "EAAB-access-token-1"},
				map[string]any{"appSecret": "whatsapp-app-secret-1", "accessToken": "EAAB-access-token-1"}},
			{"slack", map[string]any{"signingSecret": "8f742231b10e8888abcd99yyyzzz85a5", "botToken": "xoxb-1-2-abc", "appId": "A0123", "configToken": "xoxe.xoxp-1-config"},
				map[string]any{"signingSecret": "8f742231b10e8888abcd99yyyzzz85a5", "botToken": "xoxb-1-2-abc", "configToken": "xoxe.xoxp-1-config"}},
		} {
			t.Run(c.provider, func(t *testing.T) {
				evil := newSpy(t, "")
				id := e.req("POST", path, owner, map[string]any{"provider": c.provider, "apiBaseUrl": first.URL, "credentials": c.creds}).must(t, 201).str("id")
				e.req("PATCH", path+"/"+id, owner, map[string]any{"apiBaseUrl": evil.URL}).problem(t, 400, "invalid_parameter", "credentials")
				redacted := map[string]any{}
				for k := range c.resend {
					redacted[k] = "********"
				}
				e.req("PATCH", path+"/"+id, owner, map[string]any{"apiBaseUrl": evil.URL, "credentials": redacted}).problem(t, 400, "invalid_parameter", "credentials")
				if g := e.req("GET", path+"/"+id, owner, nil).must(t, 200); g.str("apiBaseUrl") != first.URL {
					t.Fatalf("a refused PATCH moved the platform: %s", g.Raw)
				}
				// A call now goes to the first host, never to the new one.
				e.req("POST", path+"/"+id+"/register-webhook", owner, nil)
				if got := evil.requests(); len(got) != 0 {
					t.Fatalf("the new host was sent %q", got)
				}
				e.req("PATCH", path+"/"+id, owner, map[string]any{"apiBaseUrl": evil.URL, "credentials": c.resend}).must(t, 200)
			})
		}
		id := e.req("POST", path, owner, map[string]any{"provider": "generic",
			"credentials": map[string]any{"preset": "github", "secret": "generic-secret-0123456789"}}).must(t, 201).str("id")
		e.req("PATCH", path+"/"+id, owner, map[string]any{"apiBaseUrl": first.URL}).must(t, 200)
	})
}

// Issue 21, item 3: the webhook rule compares origins, not host names: a
// URL or a token URL that keeps its host but changes scheme or port needs
// its credentials sent again, as one that changes host does.
func TestWebhookCredentialsStayWithTheirOrigin(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		pid, owner, _ := e.project("origin")
		id := e.webhook("origin", owner, map[string]any{"url": "https://a.example.invalid/h",
			"auth": map[string]any{"type": "basic", "username": "u", "password": "hunter2"}}).str("id")
		path := "/api/v1/projects/origin/webhooks/" + id
		for _, u := range []string{"http://a.example.invalid/h", "https://a.example.invalid:8443/h"} {
			e.req("PATCH", path, owner, map[string]any{"url": u}).problem(t, 400, "invalid_parameter", "auth.password")
		}
		// The port the scheme implies is the same origin.
		e.req("PATCH", path, owner, map[string]any{"url": "https://A.example.invalid:443/other"}).must(t, 200)
		if w := e.find(pid, id); w.Auth.Password != "hunter2" {
			t.Fatalf("stored %+v", w.Auth)
		}

		oid := e.webhook("origin", owner, map[string]any{"url": "https://a.example.invalid/h",
			"auth": map[string]any{"type": "client_credential", "clientID": "c", "clientSecret": "s1", "tokenURL": "https://auth.example.invalid/token"}}).str("id")
		opath := "/api/v1/projects/origin/webhooks/" + oid
		for _, tok := range []string{"http://auth.example.invalid/token", "https://auth.example.invalid:444/token", "https://evil.example.invalid/token"} {
			r := e.req("PATCH", opath, owner, map[string]any{"auth": map[string]any{"type": "client_credential", "clientID": "c",
				"clientSecret": "********", "tokenURL": tok}}).problem(t, 400, "invalid_parameter", "auth.clientSecret")
			if !strings.Contains(r.str("detail"), "auth.tokenURL") {
				t.Fatalf("the refusal does not say the token URL moved: %s", r.Raw)
			}
		}
		if w := e.find(pid, oid); w.Auth.TokenURL != "https://auth.example.invalid/token" || w.Auth.ClientSecret != "s1" {
			t.Fatalf("a refused PATCH changed %+v", w.Auth)
		}
		e.req("PATCH", opath, owner, map[string]any{"auth": map[string]any{"type": "client_credential", "clientID": "c",
			"clientSecret": "s2", "tokenURL": "https://evil.example.invalid/token"}}).must(t, 200)
		if w := e.find(pid, oid); w.Auth.TokenURL != "https://evil.example.invalid/token" || w.Auth.ClientSecret != "s2" {
			t.Fatalf("stored %+v", w.Auth)
		}
	})
}
