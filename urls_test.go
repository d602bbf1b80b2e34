package hookgate_test

import (
	"testing"

	"github.com/hookgate/hookgate"
)

// Issue 21, item 3: credentials stay with an origin, so what is one origin
// is exact: scheme, host (in any case) and port (the scheme's default
// counted as given).
func TestSameOrigin(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"https://api.example.com/x", "https://api.example.com/y?z=1", true},
		{"https://api.example.com", "https://API.example.com:443/", true},
		{"http://api.example.com/", "http://api.example.com:80", true},
		{"https://api.example.com./a", "https://api.example.com/b", true},
		{"https://api.example.com", "http://api.example.com", false},
		{"https://api.example.com", "https://api.example.com:8443", false},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8081", false},
		{"https://api.example.com", "https://evil.example.com", false},
		{"https://api.example.com", "https://api.example.com.evil.invalid", false},
		{"https://api.example.com", "", false},
		{"", "", false},
		{"https://api.example.com", "::", false},
	} {
		if got := hookgate.SameOrigin(tc.a, tc.b); got != tc.want {
			t.Errorf("SameOrigin(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// Issue 21, item 11: the values of query parameters named like credentials
// are redacted, the rest of the URL kept as written.
func TestRedactURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"https://a.example/h", "https://a.example/h"},
		{"https://a.example/h?room=ops", "https://a.example/h?room=ops"},
		{"https://a.example/h?token=t&room=ops", "https://a.example/h?token=********&room=ops"},
		{"https://a.example/h?ACCESS_TOKEN=t&Api_Key=k&sig=s&Signature=s&password=p&passwd=p&pwd=p",
			"https://a.example/h?ACCESS_TOKEN=********&Api_Key=********&sig=********&Signature=********&password=********&passwd=********&pwd=********"},
		{"https://a.example/h?auth=a&oauth_verifier=v&code=c&client_secret=s&credential=c",
			"https://a.example/h?auth=********&oauth_verifier=********&code=********&client_secret=********&credential=********"},
		{"https://a.example/h?token=&x=1&token", "https://a.example/h?token=&x=1&token"},
		{"https://a.example/h?%74oken=t", "https://a.example/h?%74oken=********"},
		{"https://a.example/h?a=1&a=2&key=k1&key=k2", "https://a.example/h?a=1&a=2&key=********&key=********"},
		{"https://a.example/h?cookie=c&authorization=x", "https://a.example/h?cookie=********&authorization=********"},
	} {
		if got := hookgate.RedactURL(tc.in); got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if hookgate.RedactURL(tc.in) != tc.in && !hookgate.HasRedactedQuery(hookgate.RedactURL(tc.in)) {
			t.Errorf("HasRedactedQuery(RedactURL(%q)) = false", tc.in)
		}
	}
	for raw, want := range map[string]bool{
		"https://a.example/h?token=********":                 true,
		"https://a.example/h?token=%2A%2A%2A%2A%2A%2A%2A%2A": true,
		"https://a.example/h?room=********":                  false, // not a credential's name: a value like any
		"https://a.example/h?token=*******":                  false,
		"https://a.example/h/********":                       false,
		"https://a.example/h":                                false,
	} {
		if got := hookgate.HasRedactedQuery(raw); got != want {
			t.Errorf("HasRedactedQuery(%q) = %v, want %v", raw, got, want)
		}
	}
}

// An attempt's record hides the tokens chat services put in the path.
func TestRecordURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"https://hooks.slack.example/services/T0123ABCD/B0456EFGH/aBcDeFgHiJkLmNoPqRsTuVwX", "https://hooks.slack.example/services/T0123ABCD/B0456EFGH/********"},
		{"https://discord.example/api/webhooks/112233445566778899/Ab12_cd34-EF56gh78IJ90kl12MN34op56",
			"https://discord.example/api/webhooks/112233445566778899/********"},
		{"https://a.example/orders/receive?token=t1", "https://a.example/orders/receive?token=********"},
		{"https://a.example/v1/customer-notifications/created", "https://a.example/v1/customer-notifications/created"},
		{"https://a.example/hooks/AAAAAAAAAAAAAAAAAAAAAAAA", "https://a.example/hooks/AAAAAAAAAAAAAAAAAAAAAAAA"},
		{"https://a.example/x/550e8400-e29b-41d4-a716-446655440000?a=1", "https://a.example/x/********?a=1"},
		{"https://a.example", "https://a.example"},
		{"https://a.example/", "https://a.example/"},
		{"https://abcdefgh12345678.example/p", "https://abcdefgh12345678.example/p"},
		{"not a url", "not a url"},
	} {
		if got := hookgate.RecordURL(tc.in); got != tc.want {
			t.Errorf("RecordURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
