package hookgate_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
)

func TestMatchesFilters(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		filters []string
		typ     string
		want    bool
	}{
		{nil, "anything", true},
		{[]string{}, "a.b", true},
		{[]string{"*"}, "a.b", true},
		{[]string{"order.*"}, "order.created", true},
		{[]string{"order.*"}, "order.item.added", true},
		{[]string{"order.*"}, "order", false},
		{[]string{"order.*"}, "orders.created", false},
		{[]string{"*.created"}, "user.created", true},
		{[]string{"*.created"}, "user.deleted", false},
		{[]string{"a*b*c"}, "aXXbYYc", true},
		{[]string{"a*b*c"}, "aXXbYY", false},
		{[]string{"a*a"}, "a", false},
		{[]string{"a*a"}, "aa", true},
		{[]string{"*ab*"}, "xaby", true},
		{[]string{"**"}, "x", true},
		{[]string{"*" + strings.Repeat("a", 200) + "b"}, strings.Repeat("a", 255), false},
		{[]string{"user.created", "order.*"}, "user.created", true},
		{[]string{"user.created"}, "user.created.v2", false},
		// Operational events go only to filters that name them.
		{nil, "hookgate.webhook.disabled", false},
		{[]string{"*"}, "hookgate.webhook.disabled", false},
		{[]string{"*.disabled"}, "hookgate.webhook.disabled", false},
		{[]string{"hookgate.*"}, "hookgate.webhook.disabled", true},
		{[]string{"order.*", "hookgate.delivery.exhausted"}, "hookgate.delivery.exhausted", true},
		{[]string{"hookgate.delivery.exhausted"}, "hookgate.webhook.disabled", false},
		{[]string{"hookgate.*"}, "order.created", false},
	} {
		if got := hookgate.MatchesFilters(tc.filters, tc.typ); got != tc.want {
			t.Errorf("MatchesFilters(%q, %q) = %v, want %v", tc.filters, tc.typ, got, tc.want)
		}
	}
}

func validWebhook() *hookgate.Webhook {
	w := &hookgate.Webhook{URL: "https://example.invalid/hook"}
	w.ApplyDefaults()
	return w
}

func TestWebhookValidate(t *testing.T) {
	t.Parallel()
	if err := validWebhook().Validate(); err != nil {
		t.Fatalf("valid webhook: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(*hookgate.Webhook)
		code   string
		param  string
	}{
		{"ErrURLRequired", func(w *hookgate.Webhook) { w.URL = "" }, hookgate.EMissingParameter, "url"},
		{"ErrURLScheme", func(w *hookgate.Webhook) { w.URL = "ftp://x.invalid/" }, hookgate.EInvalidParameter, "url"},
		{"ErrURLRelative", func(w *hookgate.Webhook) { w.URL = "/hook" }, hookgate.EInvalidParameter, "url"},
		{"ErrURLUserInfo", func(w *hookgate.Webhook) { w.URL = "https://u:p@x.invalid/" }, hookgate.EInvalidParameter, "url"},
		{"ErrURLTooLong", func(w *hookgate.Webhook) { w.URL = "https://x.invalid/" + strings.Repeat("a", 2100) }, hookgate.EInvalidParameter, "url"},
		{"ErrEventFilter", func(w *hookgate.Webhook) { w.Events = []string{"order created"} }, hookgate.EInvalidParameter, "events"},
		{"ErrSecret", func(w *hookgate.Webhook) { w.Secret = "whsec_c2hvcnQ=" }, hookgate.EInvalidParameter, "secret"},
		{"ErrAuthType", func(w *hookgate.Webhook) { w.Auth.Type = "digest" }, hookgate.EInvalidParameter, "auth.type"},
		{"ErrBasicPassword", func(w *hookgate.Webhook) { w.Auth = hookgate.WebhookAuth{Type: "basic", Username: "u"} }, hookgate.EMissingParameter, "auth.password"},
		{"ErrClientCredentialTokenURL", func(w *hookgate.Webhook) {
			w.Auth = hookgate.WebhookAuth{Type: "client_credential", ClientID: "a", ClientSecret: "b"}
		}, hookgate.EMissingParameter, "auth.tokenURL"},
		{"ErrReservedHeader", func(w *hookgate.Webhook) { w.Headers = map[string]string{"Webhook-Signature": "x"} }, hookgate.EInvalidParameter, "headers.Webhook-Signature"},
		{"ErrHeaderName", func(w *hookgate.Webhook) { w.Headers = map[string]string{"Bad Header": "x"} }, hookgate.EInvalidParameter, "headers"},
		{"ErrHeaderValue", func(w *hookgate.Webhook) { w.Headers = map[string]string{"X-A": "a\nb"} }, hookgate.EInvalidParameter, "headers.X-A"},
		{"ErrMethod", func(w *hookgate.Webhook) { w.Method = "TRACE" }, hookgate.EInvalidParameter, "method"},
		{"ErrQueryParam", func(w *hookgate.Webhook) { w.QueryParams = []string{"a b"} }, hookgate.EInvalidParameter, "queryParams"},
		{"ErrEncoding", func(w *hookgate.Webhook) { w.PayloadEncoding = "xml" }, hookgate.EInvalidParameter, "payloadEncoding"},
		{"ErrRateLimit", func(w *hookgate.Webhook) { w.RateLimit = -1 }, hookgate.EInvalidParameter, "rateLimit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := validWebhook()
			tc.change(w)
			err := w.Validate()
			var he *hookgate.Error
			if err == nil || hookgate.ErrorCode(err) != tc.code {
				t.Fatalf("Validate() = %v, want code %s", err, tc.code)
			}
			he = err.(*hookgate.Error)
			if he.Param != tc.param {
				t.Fatalf("param = %q, want %q", he.Param, tc.param)
			}
		})
	}
}

func TestSecrets(t *testing.T) {
	t.Parallel()
	s := hookgate.NewSecret()
	b, err := hookgate.SecretBytes(s)
	if err != nil || len(b) != 32 {
		t.Fatalf("NewSecret() = %q: %d bytes, %v", s, len(b), err)
	}
	// The Standard Webhooks example secret (24 bytes) is valid.
	if err := hookgate.ValidateSecret("secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_!!!", "whsec_" + strings.Repeat("A", 100)} {
		if hookgate.ValidateSecret("secret", bad) == nil {
			t.Errorf("ValidateSecret(%q) accepted", bad)
		}
	}
}

func TestNewIDSortsByTime(t *testing.T) {
	t.Parallel()
	now := time.Now()
	prev := ""
	for i := range 10000 {
		id := hookgate.NewID(hookgate.PrefixEvent, now) // the same millisecond every time
		if len(id) != len(hookgate.PrefixEvent)+26 || id <= prev {
			t.Fatalf("id %d = %q after %q", i, id, prev)
		}
		prev = id
	}
	if later := hookgate.NewID(hookgate.PrefixEvent, now.Add(time.Second)); later <= prev {
		t.Fatalf("later id %q sorts before %q", later, prev)
	}
}

func TestValidateURLHostsAndPorts(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"http://127.1/", "http://0x7f000001/", "http://2130706433/", "http://0177.0.0.1/", "http://10.1/x",
		"http://a.example.invalid:99999/", "http://a.example.invalid:0/", "http://example.123/"} {
		if err := hookgate.ValidateURL("url", bad); hookgate.ErrorCode(err) != hookgate.EInvalidParameter {
			t.Errorf("%s: %v", bad, err)
		}
	}
	for _, good := range []string{"http://127.0.0.1:8080/", "https://1password.example.invalid/", "http://[::1]:9/", "https://a.example.invalid:443/x"} {
		if err := hookgate.ValidateURL("url", good); err != nil {
			t.Errorf("%s: %v", good, err)
		}
	}
}

func TestFilterWildcardsBounded(t *testing.T) {
	t.Parallel()
	w := &hookgate.Webhook{URL: "https://a.example.invalid/", Events: []string{"*a*b*c*"}}
	w.ApplyDefaults()
	if err := w.Validate(); hookgate.ErrorCode(err) != hookgate.EInvalidParameter {
		t.Fatalf("4 wildcards: %v", err)
	}
	w.Events = []string{"*a*b*"}
	if err := w.Validate(); err != nil {
		t.Fatalf("3 wildcards: %v", err)
	}
}
