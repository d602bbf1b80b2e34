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
