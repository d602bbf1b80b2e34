package generic_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/platforms"
	"github.com/hookgate/hookgate/platforms/generic"
)

// now is when every test post arrives.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const secret = "whsec_topsecret-0123456789"

func platform(t testing.TB, creds string) *hookgate.Platform {
	t.Helper()
	out, err := generic.New().CheckCredentials(json.RawMessage(creds))
	if err != nil {
		t.Fatalf("CheckCredentials(%s): %v", creds, err)
	}
	return &hookgate.Platform{ID: "plat_1", Provider: generic.Name, Credentials: out}
}

func post(p *hookgate.Platform, h http.Header, body string) *platforms.Inbound {
	if h == nil {
		h = http.Header{}
	}
	return &platforms.Inbound{Method: http.MethodPost, Header: h, Body: []byte(body), Now: now, Platform: p}
}

func mac(newHash func() hash.Hash, key string, msg string) []byte {
	m := hmac.New(newHash, []byte(key))
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// githubSignature is X-Hub-Signature-256 as GitHub documents it.
func githubSignature(key, body string) string {
	return "sha256=" + hex.EncodeToString(mac(sha256.New, key, body))
}

// shopifySignature is X-Shopify-Hmac-Sha256 as Shopify documents it.
func shopifySignature(key, body string) string {
	return base64.StdEncoding.EncodeToString(mac(sha256.New, key, body))
}

// stripeV1 is one v1 signature as Stripe documents it: the hex HMAC-SHA256
// of "<t>.<body>".
func stripeV1(key string, t int64, body string) string {
	return hex.EncodeToString(mac(sha256.New, key, fmt.Sprintf("%d.%s", t, body)))
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func TestNameAndBaseURL(t *testing.T) {
	t.Parallel()
	p := generic.New()
	if p.Name() != "generic" || p.DefaultBaseURL() != "" {
		t.Fatalf("Name %q, DefaultBaseURL %q", p.Name(), p.DefaultBaseURL())
	}
}

func TestCheckCredentialsAccepts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"github", `{"preset":"github","secret":"s-0123456789abcdef"}`,
			`{"preset":"github","secret":"s-0123456789abcdef","idHeader":"X-GitHub-Delivery","eventType":"platform.event"}`},
		{"shopify", `{"preset":"shopify","secret":"s-0123456789abcdef"}`,
			`{"preset":"shopify","secret":"s-0123456789abcdef","idHeader":"X-Shopify-Webhook-Id","eventType":"platform.event"}`},
		{"stripe", `{"preset":"stripe","secret":"s-0123456789abcdef"}`,
			`{"preset":"stripe","secret":"s-0123456789abcdef","eventType":"platform.event"}`},
		{"preset with its own idHeader and eventType", `{"preset":"stripe","secret":"s-0123456789abcdef","idHeader":"X-Request-Id","eventType":"stripe.event"}`,
			`{"preset":"stripe","secret":"s-0123456789abcdef","idHeader":"X-Request-Id","eventType":"stripe.event"}`},
		{"hmac defaults", `{"verification":{"type":"hmac","header":"X-Signature","secret":"s-0123456789abcdef"}}`,
			`{"verification":{"type":"hmac","header":"X-Signature","algorithm":"sha256","encoding":"hex","secret":"s-0123456789abcdef"},"eventType":"platform.event"}`},
		{"hmac everything", `{"verification":{"type":"hmac","header":"X-Sig","algorithm":"sha512","encoding":"base64","prefix":"v1=","secret":"s-0123456789abcdef"},"idHeader":"X-Id","eventType":"acme.order-paid_v2"}`,
			`{"verification":{"type":"hmac","header":"X-Sig","algorithm":"sha512","encoding":"base64","prefix":"v1=","secret":"s-0123456789abcdef"},"idHeader":"X-Id","eventType":"acme.order-paid_v2"}`},
		{"basic", `{"verification":{"type":"basic","username":"u","password":"p-0123456789abcdef"}}`,
			`{"verification":{"type":"basic","username":"u","password":"p-0123456789abcdef"},"eventType":"platform.event"}`},
		{"apikey", `{"verification":{"type":"apikey","header":"X-Api-Key","key":"k-0123456789abcdef"}}`,
			`{"verification":{"type":"apikey","header":"X-Api-Key","key":"k-0123456789abcdef"},"eventType":"platform.event"}`},
		{"none", `{"verification":{"type":"none"},"idHeader":"X-Delivery"}`,
			`{"verification":{"type":"none"},"idHeader":"X-Delivery","eventType":"platform.event"}`},
		{"empty preset beside a verification", `{"preset":"","verification":{"type":"none"}}`,
			`{"verification":{"type":"none"},"eventType":"platform.event"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := generic.New()
			got, err := p.CheckCredentials(json.RawMessage(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
			// Stored credentials are checked again on every post.
			again, err := p.CheckCredentials(got)
			if err != nil || string(again) != string(got) {
				t.Fatalf("checking the normalized form: %s, %v", again, err)
			}
		})
	}
}

func TestCheckCredentialsRejects(t *testing.T) {
	t.Parallel()
	const s = `"` + secret + `"`
	for _, tc := range []struct{ name, in, code, param string }{
		{"neither", `{}`, hookgate.EMissingParameter, "credentials.verification"},
		{"null verification", `{"verification":null}`, hookgate.EMissingParameter, "credentials.verification"},
		{"both", `{"preset":"github","secret":` + s + `,"verification":{"type":"none"}}`, hookgate.EInvalidParameter, "credentials.verification"},
		{"unknown preset", `{"preset":"gitlab","secret":` + s + `}`, hookgate.EInvalidParameter, "credentials.preset"},
		{"preset without secret", `{"preset":"github"}`, hookgate.EMissingParameter, "credentials.secret"},
		{"secret beside a verification", `{"secret":` + s + `,"verification":{"type":"none"}}`, hookgate.EInvalidParameter, "credentials.secret"},
		{"no type", `{"verification":{"header":"X-Sig"}}`, hookgate.EMissingParameter, "credentials.verification.type"},
		{"unknown type", `{"verification":{"type":"jwt"}}`, hookgate.EInvalidParameter, "credentials.verification.type"},
		{"hmac without header", `{"verification":{"type":"hmac","secret":` + s + `}}`, hookgate.EMissingParameter, "credentials.verification.header"},
		{"hmac header not a token", `{"verification":{"type":"hmac","header":"X Sig","secret":` + s + `}}`, hookgate.EInvalidParameter, "credentials.verification.header"},
		{"hmac header with a colon", `{"verification":{"type":"hmac","header":"X-Sig:","secret":` + s + `}}`, hookgate.EInvalidParameter, "credentials.verification.header"},
		{"hmac header too long", `{"verification":{"type":"hmac","header":"` + strings.Repeat("X", 257) + `","secret":` + s + `}}`, hookgate.EInvalidParameter, "credentials.verification.header"},
		{"hmac algorithm", `{"verification":{"type":"hmac","header":"X-Sig","algorithm":"md5","secret":` + s + `}}`, hookgate.EInvalidParameter, "credentials.verification.algorithm"},
		{"hmac algorithm case", `{"verification":{"type":"hmac","header":"X-Sig","algorithm":"SHA256","secret":` + s + `}}`, hookgate.EInvalidParameter, "credentials.verification.algorithm"},
		{"hmac encoding", `{"verification":{"type":"hmac","header":"X-Sig","encoding":"base32","secret":` + s + `}}`, hookgate.EInvalidParameter, "credentials.verification.encoding"},
		{"hmac prefix", `{"verification":{"type":"hmac","header":"X-Sig","prefix":"a\nb","secret":` + s + `}}`, hookgate.EInvalidParameter, "credentials.verification.prefix"},
		{"hmac without secret", `{"verification":{"type":"hmac","header":"X-Sig"}}`, hookgate.EMissingParameter, "credentials.verification.secret"},
		{"hmac with a key", `{"verification":{"type":"hmac","header":"X-Sig","secret":"a","key":` + s + `}}`, hookgate.EInvalidParameter, "credentials.verification.key"},
		{"basic without username", `{"verification":{"type":"basic","password":` + s + `}}`, hookgate.EMissingParameter, "credentials.verification.username"},
		{"basic username with a colon", `{"verification":{"type":"basic","username":"a:b","password":` + s + `}}`, hookgate.EInvalidParameter, "credentials.verification.username"},
		{"basic without password", `{"verification":{"type":"basic","username":"u"}}`, hookgate.EMissingParameter, "credentials.verification.password"},
		{"basic with a header", `{"verification":{"type":"basic","username":"u","password":"p-0123456789abcdef","header":"X-Sig"}}`, hookgate.EInvalidParameter, "credentials.verification.header"},
		{"basic with a secret", `{"verification":{"type":"basic","username":"u","password":"p-0123456789abcdef","secret":` + s + `}}`, hookgate.EInvalidParameter, "credentials.verification.secret"},
		{"apikey without header", `{"verification":{"type":"apikey","key":` + s + `}}`, hookgate.EMissingParameter, "credentials.verification.header"},
		{"apikey header not a token", `{"verification":{"type":"apikey","header":"X-Key\r\n","key":` + s + `}}`, hookgate.EInvalidParameter, "credentials.verification.header"},
		{"apikey without key", `{"verification":{"type":"apikey","header":"X-Key"}}`, hookgate.EMissingParameter, "credentials.verification.key"},
		{"apikey with a password", `{"verification":{"type":"apikey","header":"X-Key","key":"k-0123456789abcdef","password":` + s + `}}`, hookgate.EInvalidParameter, "credentials.verification.password"},
		{"none with a secret", `{"verification":{"type":"none","secret":` + s + `}}`, hookgate.EInvalidParameter, "credentials.verification.secret"},
		{"none with a prefix", `{"verification":{"type":"none","prefix":"x"}}`, hookgate.EInvalidParameter, "credentials.verification.prefix"},
		{"idHeader not a token", `{"preset":"github","secret":` + s + `,"idHeader":"X Id"}`, hookgate.EInvalidParameter, "credentials.idHeader"},
		{"eventType reserved", `{"preset":"github","secret":` + s + `,"eventType":"hookgate.webhook.disabled"}`, hookgate.EInvalidParameter, "credentials.eventType"},
		{"eventType syntax", `{"preset":"github","secret":` + s + `,"eventType":"push event"}`, hookgate.EInvalidParameter, "credentials.eventType"},
		{"eventType too long", `{"preset":"github","secret":` + s + `,"eventType":"` + strings.Repeat("a", 257) + `"}`, hookgate.EInvalidParameter, "credentials.eventType"},
		{"unknown field", `{"preset":"github","secret":` + s + `,"events":["push"]}`, hookgate.EInvalidParameter, "credentials"},
		{"unknown verification field", `{"verification":{"type":"hmac","header":"X-Sig","secret":` + s + `,"digest":"sha1"}}`, hookgate.EInvalidParameter, "credentials"},
		{"not an object", `["github"]`, hookgate.EInvalidParameter, "credentials"},
		{"not JSON", `preset=github`, hookgate.EInvalidParameter, "credentials"},
		{"empty", ``, hookgate.EInvalidParameter, "credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := generic.New().CheckCredentials(json.RawMessage(tc.in))
			var he *hookgate.Error
			if !errors.As(err, &he) {
				t.Fatalf("error %v is not a *hookgate.Error", err)
			}
			if he.Code != tc.code || he.Param != tc.param {
				t.Fatalf("got %s %s (%v), want %s %s", he.Code, he.Param, err, tc.code, tc.param)
			}
			if v, ok := he.Value.(string); ok && strings.Contains(v, secret) {
				t.Fatalf("the error echoes the secret as its value")
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("the error quotes the secret: %v", err)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"preset", `{"preset":"github","secret":"s3","idHeader":"X-GitHub-Delivery","eventType":"platform.event"}`,
			`{"eventType":"platform.event","idHeader":"X-GitHub-Delivery","preset":"github","secret":"********"}`},
		{"hmac", `{"verification":{"type":"hmac","header":"X-Sig","algorithm":"sha256","encoding":"hex","secret":"s3"}}`,
			`{"verification":{"algorithm":"sha256","encoding":"hex","header":"X-Sig","secret":"********","type":"hmac"}}`},
		{"basic", `{"verification":{"type":"basic","username":"u","password":"p4"}}`,
			`{"verification":{"password":"********","type":"basic","username":"u"}}`},
		{"apikey", `{"verification":{"type":"apikey","header":"X-Api-Key","key":"k5"}}`,
			`{"verification":{"header":"X-Api-Key","key":"********","type":"apikey"}}`},
		{"none", `{"verification":{"type":"none"}}`, `{"verification":{"type":"none"}}`},
		{"duplicate keys", `{"preset":"github","secret":"a","secret":"b"}`, `{"preset":"github","secret":"********"}`},
		{"verification not an object", `{"verification":"s3"}`, `{"verification":"********"}`},
		{"not an object", `"s3"`, `{}`},
		{"not JSON", `secret=s3`, `{}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := platforms.Redact(generic.New(), json.RawMessage(tc.in)); string(got) != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// verifyCase posts body with header h to a platform with creds; ok says
// whether Verify must accept.
type verifyCase struct {
	name  string
	creds string
	h     http.Header
	body  string
	ok    bool
	edit  func(*platforms.Inbound)
}

func runVerify(t *testing.T, cases []verifyCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := post(platform(t, tc.creds), tc.h, tc.body)
			if tc.edit != nil {
				tc.edit(in)
			}
			reply, err := generic.New().Verify(in)
			if reply != nil {
				t.Fatalf("Verify answered %+v; the generic provider has no handshake", reply)
			}
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok && err == nil {
				t.Fatal("accepted")
			}
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Fatalf("the error quotes the secret: %v", err)
			}
		})
	}
}

func TestVerifyGitHub(t *testing.T) {
	t.Parallel()
	creds := `{"preset":"github","secret":"` + secret + `"}`
	body := `{"zen":"Design for failure.","hook_id":1}`
	sig := githubSignature(secret, body)
	runVerify(t, []verifyCase{
		// GitHub's own example: secret "It's a Secret to Everybody",
		// payload "Hello, World!".
		{name: "github's documented example", creds: `{"preset":"github","secret":"It's a Secret to Everybody"}`, body: "Hello, World!", ok: true,
			h: header("X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")},
		{name: "signed", creds: creds, h: header("X-Hub-Signature-256", sig, "X-GitHub-Event", "ping"), body: body, ok: true},
		{name: "uppercase hex", creds: creds, h: header("X-Hub-Signature-256", "sha256="+strings.ToUpper(sig[7:])), body: body, ok: true},
		{name: "wrong secret", creds: creds, h: header("X-Hub-Signature-256", githubSignature("other", body)), body: body},
		{name: "body changed", creds: creds, h: header("X-Hub-Signature-256", sig), body: body + " "},
		{name: "missing header", creds: creds, h: header("X-Hub-Signature", "sha1=0000"), body: body},
		{name: "empty header", creds: creds, h: header("X-Hub-Signature-256", ""), body: body},
		{name: "no prefix", creds: creds, h: header("X-Hub-Signature-256", sig[7:]), body: body},
		{name: "wrong prefix", creds: creds, h: header("X-Hub-Signature-256", "sha1="+sig[7:]), body: body},
		{name: "prefix case", creds: creds, h: header("X-Hub-Signature-256", "SHA256="+sig[7:]), body: body},
		{name: "bad hex", creds: creds, h: header("X-Hub-Signature-256", "sha256="+strings.Repeat("zz", 32)), body: body},
		{name: "odd hex", creds: creds, h: header("X-Hub-Signature-256", sig[:len(sig)-1]), body: body},
		{name: "short", creds: creds, h: header("X-Hub-Signature-256", sig[:len(sig)-2]), body: body},
		{name: "long", creds: creds, h: header("X-Hub-Signature-256", sig+"00"), body: body},
		{name: "base64 instead of hex", creds: creds, h: header("X-Hub-Signature-256", "sha256="+shopifySignature(secret, body)), body: body},
		{name: "GET", creds: creds, h: header("X-Hub-Signature-256", sig), body: body, edit: func(in *platforms.Inbound) { in.Method = http.MethodGet }},
		{name: "lowercase post", creds: creds, h: header("X-Hub-Signature-256", sig), body: body, edit: func(in *platforms.Inbound) { in.Method = "post" }},
	})
}

func TestVerifyShopify(t *testing.T) {
	t.Parallel()
	creds := `{"preset":"shopify","secret":"` + secret + `"}`
	body := `{"id":820982911946154508,"email":"jon@example.com"}`
	sig := shopifySignature(secret, body)
	runVerify(t, []verifyCase{
		{name: "signed", creds: creds, h: header("X-Shopify-Hmac-Sha256", sig, "X-Shopify-Topic", "orders/create"), body: body, ok: true},
		{name: "header spelled as Shopify documents", creds: creds, h: http.Header{http.CanonicalHeaderKey("X-Shopify-Hmac-SHA256"): {sig}}, body: body, ok: true},
		{name: "wrong secret", creds: creds, h: header("X-Shopify-Hmac-Sha256", shopifySignature("other", body)), body: body},
		{name: "missing header", creds: creds, body: body},
		{name: "hex instead of base64", creds: creds, h: header("X-Shopify-Hmac-Sha256", hex.EncodeToString(mac(sha256.New, secret, body))), body: body},
		{name: "bad base64", creds: creds, h: header("X-Shopify-Hmac-Sha256", "!!!!"+sig[4:]), body: body},
		{name: "unpadded base64", creds: creds, h: header("X-Shopify-Hmac-Sha256", strings.TrimRight(sig, "=")), body: body},
		{name: "short", creds: creds, h: header("X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString(mac(sha256.New, secret, body)[:31])), body: body},
		{name: "unexpected prefix", creds: creds, h: header("X-Shopify-Hmac-Sha256", "sha256="+sig), body: body},
		{name: "PUT", creds: creds, h: header("X-Shopify-Hmac-Sha256", sig), body: body, edit: func(in *platforms.Inbound) { in.Method = http.MethodPut }},
	})
}

func TestVerifyStripe(t *testing.T) {
	t.Parallel()
	creds := `{"preset":"stripe","secret":"` + secret + `"}`
	body := `{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","type":"payment_intent.succeeded"}`
	ts := now.Unix() - 12
	v1 := stripeV1(secret, ts, body)
	sigHeader := func(v string) http.Header { return header("Stripe-Signature", v) }
	runVerify(t, []verifyCase{
		{name: "signed", creds: creds, h: sigHeader(fmt.Sprintf("t=%d,v1=%s", ts, v1)), body: body, ok: true},
		{name: "with v0, as in test mode", creds: creds, h: sigHeader(fmt.Sprintf("t=%d,v1=%s,v0=%s", ts, v1, strings.Repeat("ab", 32))), body: body, ok: true},
		{name: "several v1, the last matches", creds: creds, h: sigHeader(fmt.Sprintf("t=%d,v1=%s,v1=%s", ts, stripeV1("whsec_old", ts, body), v1)), body: body, ok: true},
		{name: "several v1, the first matches", creds: creds, h: sigHeader(fmt.Sprintf("t=%d,v1=%s,v1=%s", ts, v1, stripeV1("whsec_new", ts, body))), body: body, ok: true},
		{name: "several v1, one malformed", creds: creds, h: sigHeader(fmt.Sprintf("t=%d,v1=nothex,v1=%s", ts, v1)), body: body, ok: true},
		{name: "timestamp last", creds: creds, h: sigHeader(fmt.Sprintf("v1=%s,t=%d", v1, ts)), body: body, ok: true},
		{name: "exactly 300 s old", creds: creds, h: sigHeader(fmt.Sprintf("t=%d,v1=%s", now.Unix()-300, stripeV1(secret, now.Unix()-300, body))), body: body, ok: true},
		{name: "stale", creds: creds, h: sigHeader(fmt.Sprintf("t=%d,v1=%s", now.Unix()-301, stripeV1(secret, now.Unix()-301, body))), body: body},
		{name: "from the future", creds: creds, h: sigHeader(fmt.Sprintf("t=%d,v1=%s", now.Unix()+301, stripeV1(secret, now.Unix()+301, body))), body: body},
		{name: "several v1, none matches", creds: creds, h: sigHeader(fmt.Sprintf("t=%d,v1=%s,v1=%s", ts, stripeV1("a", ts, body), stripeV1("b", ts, body))), body: body},
		{name: "only v0", creds: creds, h: sigHeader(fmt.Sprintf("t=%d,v0=%s", ts, v1)), body: body},
		{name: "signature of another timestamp", creds: creds, h: sigHeader(fmt.Sprintf("t=%d,v1=%s", ts+1, v1)), body: body},
		{name: "body changed", creds: creds, h: sigHeader(fmt.Sprintf("t=%d,v1=%s", ts, v1)), body: body + "\n"},
		{name: "body alone signed", creds: creds, h: sigHeader(fmt.Sprintf("t=%d,v1=%s", ts, hex.EncodeToString(mac(sha256.New, secret, body)))), body: body},
		{name: "bad hex", creds: creds, h: sigHeader(fmt.Sprintf("t=%d,v1=%s", ts, strings.Repeat("g", 64))), body: body},
		{name: "no timestamp", creds: creds, h: sigHeader("v1=" + v1), body: body},
		{name: "empty timestamp", creds: creds, h: sigHeader("t=,v1=" + v1), body: body},
		{name: "two timestamps", creds: creds, h: sigHeader(fmt.Sprintf("t=%d,t=%d,v1=%s", ts, ts, v1)), body: body},
		{name: "signed timestamp", creds: creds, h: sigHeader(fmt.Sprintf("t=+%d,v1=%s", ts, stripeV1(secret, ts, body))), body: body},
		{name: "timestamp not a number", creds: creds, h: sigHeader("t=now,v1=" + v1), body: body},
		{name: "huge timestamp", creds: creds, h: sigHeader("t=99999999999999999999999,v1=" + v1), body: body},
		{name: "missing header", creds: creds, body: body},
		{name: "garbage header", creds: creds, h: sigHeader(",,,=,="), body: body},
		{name: "GET", creds: creds, h: sigHeader(fmt.Sprintf("t=%d,v1=%s", ts, v1)), body: body, edit: func(in *platforms.Inbound) { in.Method = http.MethodGet }},
	})
}

func TestVerifyHMAC(t *testing.T) {
	t.Parallel()
	body := `{"order":42}`
	sha256Hex := `{"verification":{"type":"hmac","header":"X-Signature","secret":"` + secret + `"}}`
	sha512B64 := `{"verification":{"type":"hmac","header":"X-Acme-Signature","algorithm":"sha512","encoding":"base64","prefix":"v1,","secret":"` + secret + `"}}`
	sig512 := "v1," + base64.StdEncoding.EncodeToString(mac(sha512.New, secret, body))
	if !strings.ContainsAny(sig512, "+/") {
		t.Fatal("the url alphabet case needs a MAC whose standard base64 has '+' or '/': change the body")
	}
	runVerify(t, []verifyCase{
		{name: "sha256 hex", creds: sha256Hex, h: header("X-Signature", hex.EncodeToString(mac(sha256.New, secret, body))), body: body, ok: true},
		{name: "sha256 hex of an empty body", creds: sha256Hex, h: header("X-Signature", hex.EncodeToString(mac(sha256.New, secret, ""))), body: "", ok: true},
		{name: "sha256 hex, wrong signature", creds: sha256Hex, h: header("X-Signature", hex.EncodeToString(mac(sha256.New, "other", body))), body: body},
		{name: "sha256 hex, sha512 given", creds: sha256Hex, h: header("X-Signature", hex.EncodeToString(mac(sha512.New, secret, body))), body: body},
		{name: "sha256 hex, missing header", creds: sha256Hex, h: header("X-Other", hex.EncodeToString(mac(sha256.New, secret, body))), body: body},
		{name: "sha512 base64 with prefix", creds: sha512B64, h: header("X-Acme-Signature", sig512), body: body, ok: true},
		{name: "sha512 base64, wrong signature", creds: sha512B64, h: header("X-Acme-Signature", "v1,"+base64.StdEncoding.EncodeToString(mac(sha512.New, "other", body))), body: body},
		{name: "sha512 base64, sha256 given", creds: sha512B64, h: header("X-Acme-Signature", "v1,"+base64.StdEncoding.EncodeToString(mac(sha256.New, secret, body))), body: body},
		{name: "sha512 base64, no prefix", creds: sha512B64, h: header("X-Acme-Signature", sig512[3:]), body: body},
		{name: "sha512 base64, wrong prefix", creds: sha512B64, h: header("X-Acme-Signature", "v2,"+sig512[3:]), body: body},
		{name: "sha512 base64, space after prefix", creds: sha512B64, h: header("X-Acme-Signature", "v1, "+sig512[3:]), body: body},
		{name: "sha512 base64, bad base64", creds: sha512B64, h: header("X-Acme-Signature", "v1,"+strings.Repeat("*", 88)), body: body},
		{name: "sha512 base64, url alphabet", creds: sha512B64, h: header("X-Acme-Signature", "v1,"+base64.URLEncoding.EncodeToString(mac(sha512.New, secret, body))), body: body},
		{name: "sha512 base64, missing header", creds: sha512B64, body: body},
		{name: "DELETE", creds: sha512B64, h: header("X-Acme-Signature", sig512), body: body, edit: func(in *platforms.Inbound) { in.Method = http.MethodDelete }},
	})
}

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func TestVerifyBasic(t *testing.T) {
	t.Parallel()
	creds := `{"verification":{"type":"basic","username":"acme","password":"` + secret + `"}}`
	runVerify(t, []verifyCase{
		{name: "right", creds: creds, h: header("Authorization", basicAuth("acme", secret)), ok: true},
		{name: "scheme in lowercase", creds: creds, h: header("Authorization", "basic "+basicAuth("acme", secret)[6:]), ok: true},
		{name: "wrong password", creds: creds, h: header("Authorization", basicAuth("acme", secret+"x"))},
		{name: "wrong username", creds: creds, h: header("Authorization", basicAuth("acme2", secret))},
		{name: "both wrong", creds: creds, h: header("Authorization", basicAuth("x", "y"))},
		{name: "password with a colon", creds: creds, h: header("Authorization", basicAuth("acme", secret+":"))},
		{name: "no colon", creds: creds, h: header("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("acme"+secret)))},
		{name: "bearer", creds: creds, h: header("Authorization", "Bearer "+secret)},
		{name: "bad base64", creds: creds, h: header("Authorization", "Basic ***")},
		{name: "scheme only", creds: creds, h: header("Authorization", "Basic")},
		{name: "missing header", creds: creds},
		{name: "GET", creds: creds, h: header("Authorization", basicAuth("acme", secret)), edit: func(in *platforms.Inbound) { in.Method = http.MethodGet }},
	})
}

func TestVerifyAPIKey(t *testing.T) {
	t.Parallel()
	creds := `{"verification":{"type":"apikey","header":"X-Api-Key","key":"` + secret + `"}}`
	runVerify(t, []verifyCase{
		{name: "right", creds: creds, h: header("X-Api-Key", secret), ok: true},
		{name: "wrong key", creds: creds, h: header("X-Api-Key", secret[:len(secret)-1]+"X")},
		{name: "key as a prefix", creds: creds, h: header("X-Api-Key", secret+"extra")},
		{name: "in another header", creds: creds, h: header("Authorization", secret)},
		{name: "missing header", creds: creds},
		{name: "PATCH", creds: creds, h: header("X-Api-Key", secret), edit: func(in *platforms.Inbound) { in.Method = http.MethodPatch }},
	})
}

func TestVerifyNone(t *testing.T) {
	t.Parallel()
	creds := `{"verification":{"type":"none"}}`
	runVerify(t, []verifyCase{
		{name: "anything posted", creds: creds, body: "whatever", ok: true},
		{name: "GET", creds: creds, edit: func(in *platforms.Inbound) { in.Method = http.MethodGet }},
	})
}

func TestVerifyWithoutUsableCredentials(t *testing.T) {
	t.Parallel()
	p := generic.New()
	for name, in := range map[string]*platforms.Inbound{
		"nil inbound":         nil,
		"no platform":         {Method: http.MethodPost},
		"invalid credentials": {Method: http.MethodPost, Platform: &hookgate.Platform{Credentials: json.RawMessage(`{"verification":{"type":"hmac","secret":"` + secret + `"}}`)}},
		"no credentials":      {Method: http.MethodPost, Platform: &hookgate.Platform{}},
	} {
		_, err := p.Verify(in)
		var he *hookgate.Error
		switch {
		case err == nil:
			t.Errorf("%s: accepted", name)
		case strings.Contains(err.Error(), secret):
			t.Errorf("%s: the error quotes the secret: %v", name, err)
		case errors.As(err, &he):
			// It would be answered as a 400 about the request's parameters.
			t.Errorf("%s: the error is a *hookgate.Error %s", name, he.Code)
		}
		if _, err := p.Normalize(in); err == nil {
			t.Errorf("%s: normalized", name)
		}
	}
}

func TestVerifyZeroNowIsTheClock(t *testing.T) {
	t.Parallel()
	body := `{"id":"evt_1"}`
	ts := time.Now().Unix()
	in := post(platform(t, `{"preset":"stripe","secret":"`+secret+`"}`), header("Stripe-Signature", fmt.Sprintf("t=%d,v1=%s", ts, stripeV1(secret, ts, body))), body)
	in.Now = time.Time{}
	if _, err := generic.New().Verify(in); err != nil {
		t.Fatal(err)
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, creds string
		h           http.Header
		body        string
		wantType    string
		wantRaw     string
		wantKey     string
	}{
		{"github", `{"preset":"github","secret":"s-0123456789abcdef"}`, header("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958", "X-GitHub-Event", "push"),
			`{"ref":"refs/heads/main"}`, platforms.EventPlatform, `{"ref":"refs/heads/main"}`, "72d3162e-cc78-11e3-81ab-4c9367dc0958"},
		{"shopify", `{"preset":"shopify","secret":"s-0123456789abcdef"}`, header("X-Shopify-Webhook-Id", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"),
			`{"id":1}`, platforms.EventPlatform, `{"id":1}`, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"},
		{"stripe", `{"preset":"stripe","secret":"s-0123456789abcdef"}`, header("X-Request-Id", "req_1"),
			`{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event"}`, platforms.EventPlatform, `{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event"}`, "evt_1NG8Du2eZvKYlo2CUI79vXWy"},
		{"stripe, nested id only", `{"preset":"stripe","secret":"s-0123456789abcdef"}`, nil,
			`{"data":{"object":{"id":"pi_1"}}}`, platforms.EventPlatform, `{"data":{"object":{"id":"pi_1"}}}`, ""},
		{"stripe, id not a string", `{"preset":"stripe","secret":"s-0123456789abcdef"}`, nil,
			`{"id":7}`, platforms.EventPlatform, `{"id":7}`, ""},
		{"stripe, body not JSON", `{"preset":"stripe","secret":"s-0123456789abcdef"}`, nil,
			`id=evt_1`, platforms.EventPlatform, `"id=evt_1"`, ""},
		{"stripe with an idHeader", `{"preset":"stripe","secret":"s-0123456789abcdef","idHeader":"X-Request-Id"}`, header("X-Request-Id", "req_1"),
			`{"id":"evt_1"}`, platforms.EventPlatform, `{"id":"evt_1"}`, "req_1"},
		{"github with another idHeader", `{"preset":"github","secret":"s-0123456789abcdef","idHeader":"X-Hook-Id"}`, header("X-GitHub-Delivery", "d1", "X-Hook-Id", "h1"),
			`{}`, platforms.EventPlatform, `{}`, "h1"},
		{"idHeader", `{"verification":{"type":"none"},"idHeader":"X-Delivery-Id","eventType":"acme.order"}`, header("x-delivery-id", "dlv_9"),
			`[1,2,3]`, "acme.order", `[1,2,3]`, "dlv_9"},
		{"idHeader absent", `{"verification":{"type":"none"},"idHeader":"X-Delivery-Id"}`, nil,
			`null`, platforms.EventPlatform, `null`, ""},
		{"no idHeader", `{"verification":{"type":"apikey","header":"X-Key","key":"k-0123456789abcdef"}}`, header("X-GitHub-Delivery", "d1"),
			`{"id":"x"}`, platforms.EventPlatform, `{"id":"x"}`, ""},
		{"form body", `{"verification":{"type":"none"}}`, nil,
			`a=1&b="2"`, platforms.EventPlatform, `"a=1\u0026b=\"2\""`, ""},
		{"empty body", `{"verification":{"type":"none"}}`, nil,
			``, platforms.EventPlatform, `""`, ""},
		{"truncated JSON", `{"verification":{"type":"none"}}`, nil,
			`{"a":`, platforms.EventPlatform, `"{\"a\":"`, ""},
		{"not UTF-8", `{"verification":{"type":"none"}}`, nil,
			"a\xffb", platforms.EventPlatform, `"a\ufffdb"`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := platform(t, tc.creds)
			evs, err := generic.New().Normalize(post(p, tc.h, tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 1 {
				t.Fatalf("%d events", len(evs))
			}
			ev := evs[0]
			if ev.Type != tc.wantType || string(ev.Raw) != tc.wantRaw || ev.DedupKey != tc.wantKey {
				t.Fatalf("got type %q raw %s key %q, want %q %s %q", ev.Type, ev.Raw, ev.DedupKey, tc.wantType, tc.wantRaw, tc.wantKey)
			}
			if ev.Message != nil || ev.Chat != nil || ev.From != nil {
				t.Fatalf("message %v chat %v from %v: all should be nil", ev.Message, ev.Chat, ev.From)
			}
			var data struct {
				Raw json.RawMessage `json:"raw"`
			}
			if err := json.Unmarshal(ev.Data(p), &data); err != nil || string(data.Raw) == "null" && tc.wantRaw != "null" {
				t.Fatalf("event data %s: %v", ev.Data(p), err)
			}
		})
	}
}

func TestRegister(t *testing.T) {
	t.Parallel()
	p := generic.New()
	c := &platforms.Call{Client: http.DefaultClient, Platform: platform(t, `{"preset":"github","secret":"s-0123456789abcdef"}`), InboundURL: "https://hooks.example.com/in/plat_1"}
	reg, err := p.Register(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if reg.Registered || reg.Credentials != nil {
		t.Fatalf("registration %+v", reg)
	}
	var resp map[string]string
	if err := json.Unmarshal(reg.Response, &resp); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"inboundUrl":   "https://hooks.example.com/in/plat_1",
		"instructions": "Configure the source to POST to inboundUrl, signing as the platform's credentials say.",
	}
	if len(resp) != len(want) || resp["inboundUrl"] != want["inboundUrl"] || resp["instructions"] != want["instructions"] {
		t.Fatalf("response %s", reg.Response)
	}
	if _, err := p.Register(context.Background(), nil); err == nil {
		t.Fatal("Register without a call succeeded")
	}
}

func TestUnsupported(t *testing.T) {
	t.Parallel()
	p := generic.New()
	ctx := context.Background()
	c := &platforms.Call{Platform: platform(t, `{"verification":{"type":"none"}}`), InboundURL: "https://hooks.example.com/in/plat_1"}
	if _, err := p.Unregister(ctx, c); !errors.Is(err, platforms.ErrUnsupported) {
		t.Errorf("Unregister: %v", err)
	}
	if _, err := p.Status(ctx, c); !errors.Is(err, platforms.ErrUnsupported) {
		t.Errorf("Status: %v", err)
	}
	if _, err := p.Send(ctx, c, "someone", "hello"); !errors.Is(err, platforms.ErrUnsupported) {
		t.Errorf("Send: %v", err)
	}
}
