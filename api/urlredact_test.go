package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/internal/testwait"
)

// Issue 21, item 11: a URL's credential query values are redacted in every
// answer that shows a webhook (create, read, list, PATCH, activate and
// deactivate) and in what an attempt records; GET …/secret, for owners,
// answers the URL in full; a PATCH that sends back the URL as read keeps
// the stored one, and the mark is never stored.
func TestWebhookURLCredentialsRedacted(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setupDelivering(t, engine)
		pid, owner, pub := e.project("redact")
		recv, _ := receiver(t, func(rw http.ResponseWriter, _ *http.Request) { rw.WriteHeader(204) })
		full := recv.URL + "/h?room=ops&token=T0KEN&Signature=S1G&api_key=K3Y&empty="
		shown := recv.URL + "/h?room=ops&token=********&Signature=********&api_key=********&empty="
		secrets := []string{"T0KEN", "S1G", "K3Y"}
		noSecret := func(what string, r resp) {
			t.Helper()
			for _, s := range secrets {
				if strings.Contains(string(r.Raw), s) {
					t.Fatalf("%s shows %s: %s", what, s, r.Raw)
				}
			}
		}
		base := "/api/v1/projects/redact/webhooks"
		// The mark is not a credential to store.
		e.req("POST", base, owner, map[string]any{"url": shown}).problem(t, 400, "invalid_parameter", "url")

		c := e.webhook("redact", owner, map[string]any{"url": full, "events": []string{"a.b"}})
		id := c.str("id")
		if c.str("url") != shown {
			t.Fatalf("create answers url %q, want %q", c.str("url"), shown)
		}
		noSecret("create", c)
		path := base + "/" + id
		g := e.req("GET", path, owner, nil).must(t, 200)
		noSecret("read", g)
		if g.str("url") != shown {
			t.Fatalf("read answers url %q", g.str("url"))
		}
		noSecret("list", e.req("GET", base, owner, nil).must(t, 200))
		noSecret("deactivate", e.req("POST", path+"/deactivate", owner, nil).must(t, 200))
		noSecret("activate", e.req("POST", path+"/activate", owner, nil).must(t, 200))
		noSecret("rotate", e.req("POST", path+"/secret/rotate", owner, map[string]any{"gracePeriod": "0s"}).must(t, 200))
		e.req("GET", path, pub, nil).problem(t, 403, "forbidden", "")
		e.req("GET", path+"/secret", pub, nil).problem(t, 403, "forbidden", "")
		if s := e.req("GET", path+"/secret", owner, nil).must(t, 200); s.str("url") != full {
			t.Fatalf("GET …/secret answers url %q, want %q", s.str("url"), full)
		}

		// Sent back as read, the URL stays whole.
		p := e.req("PATCH", path, owner, map[string]any{"url": shown, "description": "round trip"}).must(t, 200)
		noSecret("PATCH", p)
		if w := e.find(pid, id); w.URL != full || w.Description != "round trip" {
			t.Fatalf("after the round trip the URL is %q", w.URL)
		}
		// The mark with anything else changed is refused, and nothing changes.
		for _, u := range []string{
			strings.Replace(shown, "room=ops", "room=dev", 1),
			strings.Replace(shown, "&empty=", "", 1),
			strings.Replace(shown, "/h?", "/other?", 1),
			"https://evil.example.invalid/h?room=ops&token=********&Signature=********&api_key=********&empty=",
		} {
			e.req("PATCH", path, owner, map[string]any{"url": u, "description": "changed"}).problem(t, 400, "invalid_parameter", "url")
		}
		if w := e.find(pid, id); w.URL != full || w.Description != "round trip" {
			t.Fatalf("a refused PATCH changed the webhook: %q, %q", w.URL, w.Description)
		}
		// A new value in the clear replaces the stored one.
		e.req("PATCH", path, owner, map[string]any{"url": strings.Replace(full, "T0KEN", "N3W", 1)}).must(t, 200)
		if w := e.find(pid, id); !strings.Contains(w.URL, "token=N3W") {
			t.Fatalf("the new token was not stored: %q", w.URL)
		}

		// What an attempt records hides the credential values too.
		e.req("POST", "/api/v1/projects/redact/events", pub, map[string]any{"type": "a.b", "data": map[string]any{}}).must(t, 202)
		var attempt resp
		testwait.For(t, "the succeeded delivery", func() bool {
			ds := e.req("GET", "/api/v1/projects/redact/deliveries?webhook="+id, owner, nil).must(t, 200).items(t)
			if len(ds) == 0 || ds[0]["status"] != "succeeded" {
				return false
			}
			attempt = e.req("GET", "/api/v1/projects/redact/deliveries/"+ds[0]["id"].(string)+"/attempts", owner, nil).must(t, 200)
			return true
		})
		noSecret("attempts", attempt)
		if strings.Contains(string(attempt.Raw), "N3W") || !strings.Contains(string(attempt.Raw), "room=ops") {
			t.Fatalf("attempts: %s", attempt.Raw)
		}

		// The same for an OAuth2 token URL.
		tok := "https://auth.example.invalid/token?audience=x&client_assertion_sig=S1G"
		o := e.webhook("redact", owner, map[string]any{"url": "https://a.example.invalid/h",
			"auth": map[string]any{"type": "client_credential", "clientID": "c", "clientSecret": "cs", "tokenURL": tok}})
		noSecret("create", o)
		read := o.Body["auth"].(map[string]any)["tokenURL"].(string)
		e.req("PATCH", base+"/"+o.str("id"), owner, map[string]any{"auth": map[string]any{"type": "client_credential", "clientID": "c",
			"clientSecret": "********", "tokenURL": read}}).must(t, 200)
		if w := e.find(pid, o.str("id")); w.Auth.TokenURL != tok || w.Auth.ClientSecret != "cs" {
			t.Fatalf("after the round trip: %+v", w.Auth)
		}
		e.req("PATCH", base+"/"+o.str("id"), owner, map[string]any{"auth": map[string]any{"type": "client_credential", "clientID": "c",
			"clientSecret": "cs2", "tokenURL": strings.Replace(read, "audience=x", "audience=y", 1)}}).problem(t, 400, "invalid_parameter", "auth.tokenURL")
	})
}
