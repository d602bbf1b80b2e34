package api_test

import (
	"testing"

	"github.com/hookgate/hookgate/sqlstore"
)

// FuzzCreateWebhook sends arbitrary bodies to the webhook registration
// decoder: whatever comes in, the answer is 201 or a 4xx problem, never a
// 5xx and never a panic. Run it with `make fuzz`; plain `go test` runs the
// seeds.
func FuzzCreateWebhook(f *testing.F) {
	e := setup(f, sqlstore.EngineSQLite, allowLoopback)
	_, owner, _ := e.project("fuzz")
	for _, seed := range []string{
		`{"url":"http://127.0.0.1:9/hook"}`,
		`{"url":"https://example.invalid/h","events":["order.*"],"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw","method":"PUT","payloadEncoding":"base64","rateLimit":10}`,
		`{"url":"http://127.0.0.1:9/","auth":{"type":"basic","username":"u","password":"p"},"headers":{"X-A":"1"}}`,
		`{"url":"http://127.0.0.1:9/","auth":{"type":"client_credential","clientID":"a","clientSecret":"b","tokenURL":"http://127.0.0.1:9/t","scopes":["x"]}}`,
		`{"url":"http://[::1]:9/","queryParams":["page"],"metadata":{"k":"v"}}`,
		`{"url":"http://10.0.0.1/"}`, `{"url":5}`, `{"url":null}`, `[]`, `null`, `{`, ``, `{"url":"http://127.0.0.1:9/","headers":{"":""}}`,
		`{"url":"http://127.0.0.1:9/","events":[""],"rateLimit":1e309}`, `{"url":"\u0000"}`, `{"url":"http://%zz/"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e.t = t
		r := e.req("POST", "/api/v1/projects/fuzz/webhooks", owner, body)
		switch {
		case r.Status == 201:
			if r.str("id") == "" || r.str("secret") == "" {
				t.Fatalf("201 without id or secret: %s", r.Raw)
			}
		case r.Status >= 400 && r.Status < 500:
			if r.Header.Get("Content-Type") != "application/problem+json" || r.str("code") == "" {
				t.Fatalf("%d is not a problem: %s", r.Status, r.Raw)
			}
		default:
			t.Fatalf("status %d for body %q: %s", r.Status, body, r.Raw)
		}
	})
}
