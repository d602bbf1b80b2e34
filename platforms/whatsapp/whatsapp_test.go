package whatsapp_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/platforms"
	"github.com/hookgate/hookgate/platforms/whatsapp"
)

const (
	appID       = "1234567890123456"
	appSecret   = "0123456789abcdef0123456789abcdef"
	accessToken = "EAAGm0PX4ZCpsBAExampleTokenZBZAxyz0123456789ZDZD"
	verifyToken = "vt-0123456789abcdefghijklmnopq"
	phoneID     = "106540352242922"
	inbound     = "https://hooks.example.test/v1/inbound/plat_02"
	wamid       = "wamid.HBgLMTU1NTEyMzQ1NjcVAgARGBI3QjdFRkU0RTJBNkQyNzZCQTkA"
)

var appToken = appID + "|" + appSecret

// allSecrets are what no error may hold, whole or query-escaped.
var allSecrets = []string{appSecret, accessToken, verifyToken, url.QueryEscape(appToken)}

// request is what the fake Graph API received.
type request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Form   url.Values
	JSON   map[string]any
}

// fakeGraph speaks the part of Meta's Graph API the provider uses, for one
// app and one phone number, and keeps the app's subscriptions. refuse,
// when set, answers instead when it returns true.
type fakeGraph struct {
	*httptest.Server
	refuse func(w http.ResponseWriter, r *request) bool

	mu   sync.Mutex
	got  []request
	subs []map[string]any
}

const oauthError = `{"error":{"message":"Invalid OAuth access token - Cannot parse access token","type":"OAuthException","code":190,"fbtrace_id":"AbCdEf"}}`

func newFake(t *testing.T, refuse func(w http.ResponseWriter, r *request) bool) *fakeGraph {
	t.Helper()
	f := &fakeGraph{refuse: refuse}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeGraph) serve(w http.ResponseWriter, hr *http.Request) {
	r := &request{Method: hr.Method, Path: hr.URL.Path, Query: hr.URL.Query(), Header: hr.Header.Clone()}
	b, _ := io.ReadAll(hr.Body)
	switch hr.Header.Get("Content-Type") {
	case "application/x-www-form-urlencoded":
		r.Form, _ = url.ParseQuery(string(b))
	case "application/json":
		if json.Unmarshal(b, &r.JSON) != nil {
			writeJSON(w, http.StatusBadRequest, `{"error":{"message":"(#100) Invalid JSON","type":"OAuthException","code":100}}`)
			return
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, *r)
	if f.refuse != nil && f.refuse(w, r) {
		return
	}
	switch {
	case r.Path == "/"+appID+"/subscriptions":
		tok := r.Query.Get("access_token")
		if r.Form != nil {
			tok = r.Form.Get("access_token")
		}
		if tok != appToken {
			writeJSON(w, http.StatusBadRequest, oauthError)
			return
		}
		switch r.Method {
		case http.MethodPost:
			if r.Form.Get("object") != "whatsapp_business_account" || r.Form.Get("callback_url") == "" ||
				r.Form.Get("verify_token") == "" || r.Form.Get("fields") != "messages" {
				writeJSON(w, http.StatusBadRequest, `{"error":{"message":"(#100) Invalid parameter","type":"OAuthException","code":100}}`)
				return
			}
			f.subs = []map[string]any{{"object": r.Form.Get("object"), "callback_url": r.Form.Get("callback_url"), "active": true,
				"fields": []map[string]string{{"name": "messages", "version": "v21.0"}}}}
			writeJSON(w, http.StatusOK, `{"success":true}`)
		case http.MethodDelete:
			if r.Query.Get("object") != "whatsapp_business_account" {
				writeJSON(w, http.StatusBadRequest, `{"error":{"message":"(#100) Invalid parameter","type":"OAuthException","code":100}}`)
				return
			}
			f.subs = nil
			writeJSON(w, http.StatusOK, `{"success":true}`)
		case http.MethodGet:
			b, _ := json.Marshal(map[string]any{"data": append([]map[string]any{}, f.subs...)})
			writeJSON(w, http.StatusOK, string(b))
		default:
			writeJSON(w, http.StatusBadRequest, `{"error":{"message":"Unsupported request - method type","type":"GraphMethodException","code":100}}`)
		}
	case r.Path == "/"+phoneID+"/messages" && r.Method == http.MethodPost:
		if r.Header.Get("Authorization") != "Bearer "+accessToken {
			writeJSON(w, http.StatusUnauthorized, oauthError)
			return
		}
		to, _ := r.JSON["to"].(string)
		text, _ := r.JSON["text"].(map[string]any)
		if r.JSON["messaging_product"] != "whatsapp" || r.JSON["recipient_type"] != "individual" || r.JSON["type"] != "text" || to == "" || text["body"] == nil {
			writeJSON(w, http.StatusBadRequest, `{"error":{"message":"(#100) Invalid parameter","type":"OAuthException","code":100}}`)
			return
		}
		writeJSON(w, http.StatusOK, `{"messaging_product":"whatsapp","contacts":[{"input":"`+to+`","wa_id":"`+to+`"}],"messages":[{"id":"`+wamid+`"}]}`)
	default:
		writeJSON(w, http.StatusBadRequest, `{"error":{"message":"Unsupported post request. Object with ID does not exist","type":"GraphMethodException","code":100}}`)
	}
}

func (f *fakeGraph) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.got...)
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

type creds struct {
	AppID         string `json:"appId,omitempty"`
	AppSecret     string `json:"appSecret,omitempty"`
	AccessToken   string `json:"accessToken,omitempty"`
	VerifyToken   string `json:"verifyToken,omitempty"`
	PhoneNumberID string `json:"phoneNumberId,omitempty"`
}

var full = creds{appID, appSecret, accessToken, verifyToken, phoneID}

func (c creds) String() string {
	b, _ := json.Marshal(c)
	return string(b)
}

func platform(c creds) *hookgate.Platform {
	return &hookgate.Platform{ID: "plat_02", Provider: "whatsapp", Credentials: json.RawMessage(c.String())}
}

func call(base string, c creds) *platforms.Call {
	return &platforms.Call{Client: &http.Client{}, BaseURL: base, Platform: platform(c), InboundURL: inbound}
}

func noSecret(t *testing.T, s string) {
	t.Helper()
	for _, sec := range allSecrets {
		if strings.Contains(s, sec) {
			t.Errorf("%q holds the secret %q", s, sec)
		}
	}
}

// providerError asserts that err is a *platforms.ProviderError of status
// whose message has want and names no secret.
func providerError(t *testing.T, err error, status int, want string) *platforms.ProviderError {
	t.Helper()
	var pe *platforms.ProviderError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v (%T), want a *platforms.ProviderError", err, err)
	}
	t.Logf("error: %v", err)
	if pe.Status != status {
		t.Errorf("Status = %d, want %d", pe.Status, status)
	}
	if !strings.Contains(pe.Message, want) {
		t.Errorf("Message = %q, want it to contain %q", pe.Message, want)
	}
	noSecret(t, err.Error())
	return pe
}

func hookgateError(t *testing.T, err error, code, param string) *hookgate.Error {
	t.Helper()
	var he *hookgate.Error
	if !errors.As(err, &he) {
		t.Fatalf("err = %v (%T), want a *hookgate.Error", err, err)
	}
	if he.Code != code || he.Param != param {
		t.Errorf("error = %s on %q, want %s on %q (%v)", he.Code, he.Param, code, param, he)
	}
	return he
}

func TestProvider(t *testing.T) {
	t.Parallel()
	p := whatsapp.New()
	if p.Name() != "whatsapp" || p.Name() != whatsapp.Name {
		t.Errorf("Name = %q", p.Name())
	}
	if p.DefaultBaseURL() != "https://graph.facebook.com/v21.0" {
		t.Errorf("DefaultBaseURL = %q", p.DefaultBaseURL())
	}
}

func TestCheckCredentials(t *testing.T) {
	t.Parallel()
	p := whatsapp.New()

	t.Run("all given", func(t *testing.T) {
		t.Parallel()
		in := `{"phoneNumberId":" ` + phoneID + ` ","verifyToken":"` + verifyToken + `","accessToken":"` + accessToken + `\n","appSecret":"` + appSecret + `","appId":"` + appID + `"}`
		got, err := p.CheckCredentials(json.RawMessage(in))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != full.String() {
			t.Errorf("got %s, want %s", got, full)
		}
	})
	t.Run("verify token generated", func(t *testing.T) {
		t.Parallel()
		in := creds{AppID: appID, AppSecret: appSecret, AccessToken: accessToken}.String()
		got, err := p.CheckCredentials(json.RawMessage(in))
		if err != nil {
			t.Fatal(err)
		}
		var c creds
		if err := json.Unmarshal(got, &c); err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^[A-Za-z0-9_-]{32}$`).MatchString(c.VerifyToken) {
			t.Errorf("verifyToken = %q, want 24 random bytes in base64url", c.VerifyToken)
		}
		if c.PhoneNumberID != "" || c.AppID != appID || c.AppSecret != appSecret || c.AccessToken != accessToken {
			t.Errorf("got %s", got)
		}
		again, err := p.CheckCredentials(got)
		if err != nil || string(again) != string(got) {
			t.Errorf("checking the stored credentials again gave %s, %v; want them unchanged", again, err)
		}
		other, _ := p.CheckCredentials(json.RawMessage(in))
		if string(other) == string(got) {
			t.Error("two checks generated the same verify token")
		}
	})

	with := func(f func(c *creds)) string {
		c := full
		f(&c)
		return c.String()
	}
	for _, tc := range []struct {
		name, in, code, param string
		value                 any
	}{
		{"no appId", with(func(c *creds) { c.AppID = "" }), hookgate.EMissingParameter, "credentials.appId", nil},
		{"appId not digits", with(func(c *creds) { c.AppID = "my-app" }), hookgate.EInvalidParameter, "credentials.appId", "my-app"},
		{"appId too long", with(func(c *creds) { c.AppID = strings.Repeat("1", 33) }), hookgate.EInvalidParameter, "credentials.appId", strings.Repeat("1", 33)},
		{"no appSecret", with(func(c *creds) { c.AppSecret = "" }), hookgate.EMissingParameter, "credentials.appSecret", nil},
		{"appSecret too long", with(func(c *creds) { c.AppSecret = strings.Repeat("a", 129) }), hookgate.EInvalidParameter, "credentials.appSecret", nil},
		{"appSecret with a space", with(func(c *creds) { c.AppSecret = "0123 4567" }), hookgate.EInvalidParameter, "credentials.appSecret", nil},
		{"appSecret not ASCII", with(func(c *creds) { c.AppSecret = "0123é4567" }), hookgate.EInvalidParameter, "credentials.appSecret", nil},
		{"appSecret redaction mark", with(func(c *creds) { c.AppSecret = "********" }), hookgate.EInvalidParameter, "credentials.appSecret", nil},
		{"no accessToken", with(func(c *creds) { c.AccessToken = " " }), hookgate.EMissingParameter, "credentials.accessToken", nil},
		{"accessToken with a newline inside", with(func(c *creds) { c.AccessToken = "EAAG\nm0PX" }), hookgate.EInvalidParameter, "credentials.accessToken", nil},
		{"verifyToken too long", with(func(c *creds) { c.VerifyToken = strings.Repeat("v", 257) }), hookgate.EInvalidParameter, "credentials.verifyToken", nil},
		{"phoneNumberId not digits", with(func(c *creds) { c.PhoneNumberID = "+15551234567" }), hookgate.EInvalidParameter, "credentials.phoneNumberId", "+15551234567"},
		{"unknown field", `{"appId":"1","appSecret":"s","accessToken":"t","wabaId":"2"}`, hookgate.EInvalidParameter, "credentials", nil},
		{"appId a number", `{"appId":1,"appSecret":"s","accessToken":"t"}`, hookgate.EInvalidParameter, "credentials", nil},
		{"not an object", `"x"`, hookgate.EInvalidParameter, "credentials", nil},
		{"nothing", ``, hookgate.EMissingParameter, "credentials", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := p.CheckCredentials(json.RawMessage(tc.in))
			he := hookgateError(t, err, tc.code, tc.param)
			if he.Value != tc.value {
				t.Errorf("Value = %v, want %v", he.Value, tc.value)
			}
			noSecret(t, he.Error())
		})
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	p := whatsapp.New()
	for _, tc := range []struct{ in, want string }{
		{full.String(), `{"appId":"` + appID + `","appSecret":"********","accessToken":"********","verifyToken":"********","phoneNumberId":"` + phoneID + `"}`},
		{creds{AppID: appID, AppSecret: appSecret, AccessToken: accessToken}.String(), `{"appId":"` + appID + `","appSecret":"********","accessToken":"********"}`},
		{`[`, `{}`},
	} {
		if got := platforms.Redact(p, json.RawMessage(tc.in)); string(got) != tc.want {
			t.Errorf("Redact(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestRegister(t *testing.T) {
	t.Parallel()
	t.Run("ok", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, nil)
		reg, err := whatsapp.New().Register(context.Background(), call(f.URL, full))
		if err != nil {
			t.Fatal(err)
		}
		if !reg.Registered || string(reg.Response) != `{"success":true}` || reg.Credentials != nil {
			t.Errorf("registration = %v, %s, %s", reg.Registered, reg.Response, reg.Credentials)
		}
		got := f.requests()
		if len(got) != 1 {
			t.Fatalf("%d requests, want 1", len(got))
		}
		r := got[0]
		want := url.Values{"object": {"whatsapp_business_account"}, "callback_url": {inbound}, "verify_token": {verifyToken},
			"fields": {"messages"}, "access_token": {appToken}}
		if r.Method != http.MethodPost || !reflect.DeepEqual(r.Form, want) {
			t.Errorf("%s %s form %v, want POST form %v", r.Method, r.Path, r.Form, want)
		}
		if len(r.Query) != 0 {
			t.Errorf("query = %v, want the app token in the body only", r.Query)
		}
	})
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, nil)
		c := full
		c.AppSecret = "ffffffffffffffffffffffffffffffff"
		_, err := whatsapp.New().Register(context.Background(), call(f.URL, c))
		providerError(t, err, http.StatusBadRequest, "Invalid OAuth access token - Cannot parse access token")
		if strings.Contains(err.Error(), c.AppSecret) {
			t.Errorf("error %q holds the app secret", err)
		}
	})
	t.Run("refused echoing the token", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *request) bool {
			writeJSON(w, http.StatusBadRequest, `{"error":{"message":"Error validating application: token `+r.Form.Get("access_token")+` (`+url.QueryEscape(r.Form.Get("access_token"))+`) for `+r.Form.Get("verify_token")+`","type":"OAuthException","code":101}}`)
			return true
		})
		_, err := whatsapp.New().Register(context.Background(), call(f.URL, full))
		providerError(t, err, http.StatusBadRequest, "Error validating application: token ******** (********) for ********")
	})
	t.Run("not confirmed", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *request) bool {
			writeJSON(w, http.StatusOK, `{"success":false}`)
			return true
		})
		_, err := whatsapp.New().Register(context.Background(), call(f.URL, full))
		providerError(t, err, http.StatusOK, "did not confirm")
	})
	t.Run("not the Graph API", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *request) bool {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "<html>down</html>")
			return true
		})
		_, err := whatsapp.New().Register(context.Background(), call(f.URL, full))
		providerError(t, err, http.StatusServiceUnavailable, "Service Unavailable")
	})
	t.Run("unreachable", func(t *testing.T) {
		t.Parallel()
		_, err := whatsapp.New().Register(context.Background(), call("http://127.0.0.1:9", full))
		providerError(t, err, 0, "")
	})
	t.Run("malformed base URL", func(t *testing.T) {
		t.Parallel()
		_, err := whatsapp.New().Status(context.Background(), call("http://127.0.0.1:9/\x7f", full))
		providerError(t, err, 0, "")
	})
	t.Run("no client", func(t *testing.T) {
		t.Parallel()
		c := call("http://127.0.0.1:9", full)
		c.Client = nil
		if _, err := whatsapp.New().Register(context.Background(), c); err == nil {
			t.Error("registered without an HTTP client")
		}
	})
	t.Run("no verify token stored", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, nil)
		c := full
		c.VerifyToken = ""
		_, err := whatsapp.New().Register(context.Background(), call(f.URL, c))
		hookgateError(t, err, hookgate.EMissingParameter, "credentials.verifyToken")
		if len(f.requests()) != 0 {
			t.Error("asked Meta to subscribe with no verify token")
		}
	})
	t.Run("invalid stored credentials", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, nil)
		c := full
		c.AppID = "app"
		_, err := whatsapp.New().Register(context.Background(), call(f.URL, c))
		hookgateError(t, err, hookgate.EInvalidParameter, "credentials.appId")
		if len(f.requests()) != 0 {
			t.Error("called Meta with invalid credentials")
		}
	})
}

func TestUnregister(t *testing.T) {
	t.Parallel()
	t.Run("ok", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, nil)
		p := whatsapp.New()
		if _, err := p.Register(context.Background(), call(f.URL, full)); err != nil {
			t.Fatal(err)
		}
		res, err := p.Unregister(context.Background(), call(f.URL, full))
		if err != nil {
			t.Fatal(err)
		}
		if string(res) != `{"success":true}` {
			t.Errorf("response = %s", res)
		}
		got := f.requests()
		r := got[len(got)-1]
		want := url.Values{"object": {"whatsapp_business_account"}, "access_token": {appToken}}
		if r.Method != http.MethodDelete || r.Path != "/"+appID+"/subscriptions" || !reflect.DeepEqual(r.Query, want) {
			t.Errorf("%s %s?%v, want DELETE /%s/subscriptions?%v", r.Method, r.Path, r.Query, appID, want)
		}
		st, err := p.Status(context.Background(), call(f.URL, full))
		if err != nil || st.Registered {
			t.Errorf("status after Unregister = %+v, %v", st, err)
		}
	})
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, nil)
		c := full
		c.AppSecret = "ffffffffffffffffffffffffffffffff"
		_, err := whatsapp.New().Unregister(context.Background(), call(f.URL, c))
		providerError(t, err, http.StatusBadRequest, "Invalid OAuth access token")
		if strings.Contains(err.Error(), c.AppSecret) {
			t.Errorf("error %q holds the app secret", err)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		t.Parallel()
		_, err := whatsapp.New().Unregister(context.Background(), call("http://127.0.0.1:9", full))
		providerError(t, err, 0, "")
	})
}

func TestStatus(t *testing.T) {
	t.Parallel()
	t.Run("registered", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, nil)
		p := whatsapp.New()
		if _, err := p.Register(context.Background(), call(f.URL, full)); err != nil {
			t.Fatal(err)
		}
		st, err := p.Status(context.Background(), call(f.URL, full))
		if err != nil {
			t.Fatal(err)
		}
		if st.URL != inbound || !st.Registered || st.LastError != "" {
			t.Errorf("status = %+v", st)
		}
		if !strings.Contains(string(st.Response), `"callback_url":"`+inbound+`"`) {
			t.Errorf("Response = %s", st.Response)
		}
		r := f.requests()[1]
		if r.Method != http.MethodGet || r.Path != "/"+appID+"/subscriptions" || r.Query.Get("access_token") != appToken {
			t.Errorf("%s %s?%v", r.Method, r.Path, r.Query)
		}
	})
	for _, tc := range []struct {
		name, data string
		want       platforms.WebhookStatus
	}{
		{"elsewhere", `[{"object":"whatsapp_business_account","callback_url":"https://other.example.test/wa","active":true,"fields":[{"name":"messages","version":"v21.0"}]}]`,
			platforms.WebhookStatus{URL: "https://other.example.test/wa"}},
		{"inactive", `[{"object":"whatsapp_business_account","callback_url":"` + inbound + `","active":false,"fields":[]}]`,
			platforms.WebhookStatus{URL: inbound, LastError: "the subscription is not active"}},
		{"another object only", `[{"object":"page","callback_url":"` + inbound + `","active":true,"fields":[]}]`,
			platforms.WebhookStatus{LastError: "no whatsapp_business_account subscription"}},
		{"none", `[]`, platforms.WebhookStatus{LastError: "no whatsapp_business_account subscription"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := `{"data":` + tc.data + `}`
			f := newFake(t, func(w http.ResponseWriter, r *request) bool {
				if r.Method == http.MethodGet && r.Query.Get("access_token") == appToken {
					writeJSON(w, http.StatusOK, body)
					return true
				}
				return false
			})
			st, err := whatsapp.New().Status(context.Background(), call(f.URL, full))
			if err != nil {
				t.Fatal(err)
			}
			if string(st.Response) != body {
				t.Errorf("Response = %s, want %s", st.Response, body)
			}
			st.Response = nil
			if !reflect.DeepEqual(*st, tc.want) {
				t.Errorf("status = %+v, want %+v", *st, tc.want)
			}
		})
	}
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, nil)
		c := full
		c.AppSecret = "ffffffffffffffffffffffffffffffff"
		_, err := whatsapp.New().Status(context.Background(), call(f.URL, c))
		providerError(t, err, http.StatusBadRequest, "Invalid OAuth access token")
	})
	t.Run("unreachable", func(t *testing.T) {
		t.Parallel()
		_, err := whatsapp.New().Status(context.Background(), call("http://127.0.0.1:9", full))
		providerError(t, err, 0, "")
	})
}

func TestSend(t *testing.T) {
	t.Parallel()
	t.Run("ok", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, nil)
		sent, err := whatsapp.New().Send(context.Background(), call(f.URL, full), "15551234567", "deploy done")
		if err != nil {
			t.Fatal(err)
		}
		if sent.ProviderMessageID != wamid {
			t.Errorf("ProviderMessageID = %q", sent.ProviderMessageID)
		}
		if !strings.Contains(string(sent.Response), wamid) {
			t.Errorf("Response = %s", sent.Response)
		}
		r := f.requests()[0]
		b, _ := json.Marshal(r.JSON)
		if want := `{"messaging_product":"whatsapp","recipient_type":"individual","text":{"body":"deploy done"},"to":"15551234567","type":"text"}`; string(b) != want {
			t.Errorf("body = %s, want %s", b, want)
		}
		if r.Path != "/"+phoneID+"/messages" || len(r.Query) != 0 {
			t.Errorf("path %s?%v", r.Path, r.Query)
		}
	})
	t.Run("no phone number", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, nil)
		c := full
		c.PhoneNumberID = ""
		_, err := whatsapp.New().Send(context.Background(), call(f.URL, c), "15551234567", "hi")
		hookgateError(t, err, hookgate.EInvalidParameter, "credentials.phoneNumberId")
		if len(f.requests()) != 0 {
			t.Error("called Meta without a phone number ID")
		}
	})
	t.Run("wrong access token", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, nil)
		c := full
		c.AccessToken = "EAAGwrongwrongwrong"
		_, err := whatsapp.New().Send(context.Background(), call(f.URL, c), "15551234567", "hi")
		providerError(t, err, http.StatusUnauthorized, "Invalid OAuth access token")
	})
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *request) bool {
			writeJSON(w, http.StatusBadRequest, `{"error":{"message":"(#131030) Recipient phone number not in allowed list","type":"OAuthException","code":131030,"error_data":{"messaging_product":"whatsapp","details":"Recipient phone number not in allowed list: Add recipient phone number to recipient list and try again."},"fbtrace_id":"AbC"}}`)
			return true
		})
		_, err := whatsapp.New().Send(context.Background(), call(f.URL, full), "15551234567", "hi")
		if pe := providerError(t, err, http.StatusBadRequest, "(#131030) Recipient phone number not in allowed list"); pe.RetryAfter != 0 {
			t.Errorf("RetryAfter = %v", pe.RetryAfter)
		}
	})
	t.Run("too many requests", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *request) bool {
			w.Header().Set("Retry-After", "7")
			writeJSON(w, http.StatusTooManyRequests, `{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429,"fbtrace_id":"AbC"}}`)
			return true
		})
		_, err := whatsapp.New().Send(context.Background(), call(f.URL, full), "15551234567", "hi")
		if pe := providerError(t, err, http.StatusTooManyRequests, "(#130429) Rate limit hit"); pe.RetryAfter != 7*time.Second {
			t.Errorf("RetryAfter = %v, want 7s", pe.RetryAfter)
		}
	})
	t.Run("no message id", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *request) bool {
			writeJSON(w, http.StatusOK, `{"messaging_product":"whatsapp","messages":[]}`)
			return true
		})
		_, err := whatsapp.New().Send(context.Background(), call(f.URL, full), "15551234567", "hi")
		providerError(t, err, http.StatusOK, "no message id")
	})
	t.Run("unreachable", func(t *testing.T) {
		t.Parallel()
		_, err := whatsapp.New().Send(context.Background(), call("http://127.0.0.1:9", full), "15551234567", "hi")
		providerError(t, err, 0, "")
	})
}

func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func inboundReq(c creds, method string, header http.Header, query url.Values, body string) *platforms.Inbound {
	return &platforms.Inbound{Method: method, Header: header, Query: query, Body: []byte(body), Now: time.Now(), Platform: platform(c)}
}

func TestVerifyHandshake(t *testing.T) {
	t.Parallel()
	p := whatsapp.New()
	q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {verifyToken}, "hub.challenge": {"1158201444"}}
	reply, err := p.Verify(inboundReq(full, http.MethodGet, nil, q, ""))
	if err != nil {
		t.Fatal(err)
	}
	if reply == nil || reply.Status != http.StatusOK || reply.ContentType != "text/plain" || string(reply.Body) != "1158201444" {
		t.Errorf("reply = %+v, want 200 text/plain 1158201444", reply)
	}

	with := func(k, v string) url.Values {
		o := url.Values{}
		for k, v := range q {
			o[k] = v
		}
		if v == "" {
			o.Del(k)
		} else {
			o.Set(k, v)
		}
		return o
	}
	for _, tc := range []struct {
		name  string
		c     creds
		query url.Values
	}{
		{"wrong verify token", full, with("hub.verify_token", verifyToken+"x")},
		{"the app secret as verify token", full, with("hub.verify_token", appSecret)},
		{"no verify token", full, with("hub.verify_token", "")},
		{"wrong mode", full, with("hub.mode", "unsubscribe")},
		{"no mode", full, with("hub.mode", "")},
		{"no challenge", full, with("hub.challenge", "")},
		{"challenge with a newline", full, with("hub.challenge", "1\r\nSet-Cookie: x")},
		{"challenge too long", full, with("hub.challenge", strings.Repeat("1", 257))},
		{"no query", full, nil},
		{"no verify token stored", creds{AppID: appID, AppSecret: appSecret, AccessToken: accessToken}, with("hub.verify_token", "")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reply, err := p.Verify(inboundReq(tc.c, http.MethodGet, nil, tc.query, ""))
			if err == nil || reply != nil {
				t.Errorf("Verify = %+v, %v; want an error", reply, err)
			}
			if err != nil {
				noSecret(t, err.Error())
			}
		})
	}
}

func TestVerifySignature(t *testing.T) {
	t.Parallel()
	p := whatsapp.New()
	body := `{"object":"whatsapp_business_account","entry":[]}`
	sig := sign(appSecret, []byte(body))

	for _, s := range []string{sig, "sha256=" + strings.ToUpper(strings.TrimPrefix(sig, "sha256="))} {
		reply, err := p.Verify(inboundReq(full, http.MethodPost, http.Header{"X-Hub-Signature-256": {s}}, nil, body))
		if err != nil || reply != nil {
			t.Errorf("Verify(%s) = %v, %v; want accepted with no reply", s, reply, err)
		}
	}

	for _, tc := range []struct {
		name, method, body string
		header             http.Header
	}{
		{"wrong secret", http.MethodPost, body, http.Header{"X-Hub-Signature-256": {sign("ffffffffffffffffffffffffffffffff", []byte(body))}}},
		{"other body", http.MethodPost, body + " ", http.Header{"X-Hub-Signature-256": {sig}}},
		{"signed with the access token", http.MethodPost, body, http.Header{"X-Hub-Signature-256": {sign(accessToken, []byte(body))}}},
		{"missing header", http.MethodPost, body, http.Header{}},
		{"SHA-1 header only", http.MethodPost, body, http.Header{"X-Hub-Signature": {"sha1=0000000000000000000000000000000000000000"}}},
		{"no prefix", http.MethodPost, body, http.Header{"X-Hub-Signature-256": {strings.TrimPrefix(sig, "sha256=")}}},
		{"sha1 prefix", http.MethodPost, body, http.Header{"X-Hub-Signature-256": {"sha1=" + strings.TrimPrefix(sig, "sha256=")}}},
		{"not hex", http.MethodPost, body, http.Header{"X-Hub-Signature-256": {"sha256=zz" + sig[9:]}}},
		{"truncated", http.MethodPost, body, http.Header{"X-Hub-Signature-256": {sig[:len(sig)-2]}}},
		{"empty", http.MethodPost, body, http.Header{"X-Hub-Signature-256": {"sha256="}}},
		{"two headers", http.MethodPost, body, http.Header{"X-Hub-Signature-256": {sig, sig}}},
		{"PUT", http.MethodPut, body, http.Header{"X-Hub-Signature-256": {sig}}},
		{"GET with a signature", http.MethodGet, body, http.Header{"X-Hub-Signature-256": {sig}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reply, err := p.Verify(inboundReq(full, tc.method, tc.header, nil, tc.body))
			if err == nil {
				t.Errorf("Verify accepted it (reply %+v)", reply)
			}
			if err != nil {
				noSecret(t, err.Error())
			}
		})
	}
	t.Run("broken stored credentials", func(t *testing.T) {
		t.Parallel()
		in := inboundReq(full, http.MethodPost, http.Header{"X-Hub-Signature-256": {sig}}, nil, body)
		in.Platform.Credentials = json.RawMessage(`{"appSecret":"` + appSecret + `"}`)
		if _, err := p.Verify(in); err == nil {
			t.Error("Verify accepted a post for broken credentials")
		}
		in.Platform = nil
		if _, err := p.Verify(in); err == nil {
			t.Error("Verify accepted a post for no platform")
		}
	})
}

const (
	textMessage = `{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"` + phoneID + `"},` +
		`"contacts":[{"profile":{"name":"Someone Else"},"wa_id":"15559999999"},{"profile":{"name":"Ada Lovelace"},"wa_id":"15551234567"}],` +
		`"messages":[{"from":"15551234567","id":"wamid.A1","timestamp":"1700000000","type":"text","text":{"body":"hello"}},` +
		`{"from":"15559999999","id":"wamid.A2","timestamp":"1700000001","type":"image","image":{"id":"img1","mime_type":"image/jpeg","caption":"a graph"}}]}`
	buttonMessage = `{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"` + phoneID + `"},` +
		`"contacts":[{"profile":{"name":"Ada Lovelace"},"wa_id":"15551234567"}],` +
		`"messages":[{"context":{"from":"15550001111","id":"wamid.Q"},"from":"15551234567","id":"wamid.B1","timestamp":"1700000000","type":"button","button":{"payload":"yes","text":"Yes, deploy"}},` +
		`{"from":"15551234567","id":"wamid.B2","timestamp":"1700000000","type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"b1","title":"Roll back"}}},` +
		`{"from":"15551234567","id":"wamid.B3","timestamp":"1700000000","type":"interactive","interactive":{"type":"list_reply","list_reply":{"id":"l1","title":"Staging","description":"the staging cluster"}}}]}`
	statuses = `{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"` + phoneID + `"},` +
		`"statuses":[{"id":"wamid.S1","status":"delivered","timestamp":"1700000000","recipient_id":"15551234567","conversation":{"id":"c1","origin":{"type":"service"}},"pricing":{"billable":true,"pricing_model":"CBP","category":"service"}},` +
		`{"id":"wamid.S1","status":"read","timestamp":1700000005,"recipient_id":"15551234567"}]}`
	accountUpdate = `{"phone_number":"15550001111","event":"VERIFIED_ACCOUNT"}`
)

func notification(field, value string) string {
	return `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"` + field + `","value":` + value + `}]}]}`
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	p := whatsapp.New()
	at := func(s int64) time.Time { return time.Unix(s, 0).UTC() }
	type want struct {
		platforms.Event
		raw string
	}
	for _, tc := range []struct {
		name, body string
		want       []want
	}{
		{"text and image", notification("messages", textMessage), []want{
			{platforms.Event{Type: platforms.EventMessageReceived, DedupKey: "wamid.A1",
				Message: &platforms.Message{ID: "wamid.A1", Text: "hello", Timestamp: at(1700000000)},
				Chat:    &platforms.Chat{ID: "15551234567", Type: "individual"},
				From:    &platforms.User{ID: "15551234567", Name: "Ada Lovelace"}}, textMessage},
			{platforms.Event{Type: platforms.EventMessageReceived, DedupKey: "wamid.A2",
				Message: &platforms.Message{ID: "wamid.A2", Timestamp: at(1700000001)},
				Chat:    &platforms.Chat{ID: "15559999999", Type: "individual"},
				From:    &platforms.User{ID: "15559999999", Name: "Someone Else"}}, textMessage},
		}},
		{"button and interactive replies", notification("messages", buttonMessage), []want{
			{platforms.Event{Type: platforms.EventMessageReceived, DedupKey: "wamid.B1",
				Message: &platforms.Message{ID: "wamid.B1", Text: "Yes, deploy", Timestamp: at(1700000000)},
				Chat:    &platforms.Chat{ID: "15551234567", Type: "individual"},
				From:    &platforms.User{ID: "15551234567", Name: "Ada Lovelace"}}, buttonMessage},
			{platforms.Event{Type: platforms.EventMessageReceived, DedupKey: "wamid.B2",
				Message: &platforms.Message{ID: "wamid.B2", Text: "Roll back", Timestamp: at(1700000000)},
				Chat:    &platforms.Chat{ID: "15551234567", Type: "individual"},
				From:    &platforms.User{ID: "15551234567", Name: "Ada Lovelace"}}, buttonMessage},
			{platforms.Event{Type: platforms.EventMessageReceived, DedupKey: "wamid.B3",
				Message: &platforms.Message{ID: "wamid.B3", Text: "Staging", Timestamp: at(1700000000)},
				Chat:    &platforms.Chat{ID: "15551234567", Type: "individual"},
				From:    &platforms.User{ID: "15551234567", Name: "Ada Lovelace"}}, buttonMessage},
		}},
		{"statuses", notification("messages", statuses), []want{
			{platforms.Event{Type: platforms.EventMessageStatus, DedupKey: "wamid.S1:delivered",
				Message: &platforms.Message{ID: "wamid.S1", Status: "delivered", Timestamp: at(1700000000)},
				Chat:    &platforms.Chat{ID: "15551234567", Type: "individual"}}, statuses},
			{platforms.Event{Type: platforms.EventMessageStatus, DedupKey: "wamid.S1:read",
				Message: &platforms.Message{ID: "wamid.S1", Status: "read", Timestamp: at(1700000005)},
				Chat:    &platforms.Chat{ID: "15551234567", Type: "individual"}}, statuses},
		}},
		{"neither", notification("account_update", accountUpdate), []want{
			{platforms.Event{Type: platforms.EventPlatform}, accountUpdate},
		}},
		{"value not an object", notification("messages", `"x"`), []want{
			{platforms.Event{Type: platforms.EventPlatform}, `"x"`},
		}},
		{"two entries", `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":` + statuses + `}]},{"id":"2","changes":[{"field":"account_update","value":` + accountUpdate + `}]}]}`, []want{
			{platforms.Event{Type: platforms.EventMessageStatus, DedupKey: "wamid.S1:delivered",
				Message: &platforms.Message{ID: "wamid.S1", Status: "delivered", Timestamp: at(1700000000)},
				Chat:    &platforms.Chat{ID: "15551234567", Type: "individual"}}, statuses},
			{platforms.Event{Type: platforms.EventMessageStatus, DedupKey: "wamid.S1:read",
				Message: &platforms.Message{ID: "wamid.S1", Status: "read", Timestamp: at(1700000005)},
				Chat:    &platforms.Chat{ID: "15551234567", Type: "individual"}}, statuses},
			{platforms.Event{Type: platforms.EventPlatform}, accountUpdate},
		}},
		{"no changes", `{"object":"whatsapp_business_account","entry":[]}`, []want{
			{platforms.Event{Type: platforms.EventPlatform}, `{"object":"whatsapp_business_account","entry":[]}`},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			evs, err := p.Normalize(inboundReq(full, http.MethodPost, nil, nil, tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != len(tc.want) {
				t.Fatalf("%d events, want %d: %+v", len(evs), len(tc.want), evs)
			}
			for i, ev := range evs {
				if string(ev.Raw) != tc.want[i].raw {
					t.Errorf("event %d: Raw = %s, want %s", i, ev.Raw, tc.want[i].raw)
				}
				ev.Raw = nil
				got, _ := json.Marshal(ev)
				want, _ := json.Marshal(tc.want[i].Event)
				if string(got) != string(want) {
					t.Errorf("event %d\n got %s\nwant %s", i, got, want)
				}
			}
		})
	}
	for _, body := range []string{``, `null`, `[]`, `{"entry":{}}`, `{"entry":[{"changes":"x"}]}`, `{"object":`} {
		if evs, err := p.Normalize(inboundReq(full, http.MethodPost, nil, nil, body)); err == nil {
			t.Errorf("Normalize(%q) = %+v, want an error", body, evs)
		}
	}
}

func FuzzVerify(f *testing.F) {
	signed := []byte(notification("messages", textMessage))
	f.Add(http.MethodPost, sign(appSecret, signed), "", signed)
	f.Add(http.MethodPost, sign(appSecret, []byte(notification("messages", statuses))), "", []byte(notification("messages", statuses)))
	f.Add(http.MethodPost, sign(appSecret, []byte(`{"entry":[{"changes":[{"value":null}]}]}`)), "", []byte(`{"entry":[{"changes":[{"value":null}]}]}`))
	f.Add(http.MethodPost, "sha256=00", "", []byte(`{}`))
	f.Add(http.MethodGet, "", "hub.mode=subscribe&hub.verify_token="+verifyToken+"&hub.challenge=123", []byte(nil))
	f.Add(http.MethodGet, "", "hub.mode=subscribe&hub.verify_token=x&hub.challenge=123", []byte(nil))
	p := whatsapp.New()
	f.Fuzz(func(t *testing.T, method, sig, rawQuery string, body []byte) {
		q, _ := url.ParseQuery(rawQuery)
		in := inboundReq(full, method, http.Header{"X-Hub-Signature-256": {sig}}, q, string(body))
		reply, err := p.Verify(in)
		switch {
		case err != nil:
		case reply != nil:
			if method != http.MethodGet || q.Get("hub.mode") != "subscribe" || q.Get("hub.verify_token") != verifyToken || string(reply.Body) != q.Get("hub.challenge") {
				t.Fatalf("Verify replied %+v to %s ?%s", reply, method, rawQuery)
			}
		default:
			m := hmac.New(sha256.New, []byte(appSecret))
			m.Write(body)
			hexSig, ok := strings.CutPrefix(sig, "sha256=")
			got, _ := hex.DecodeString(hexSig)
			if method != http.MethodPost || !ok || !hmac.Equal(got, m.Sum(nil)) {
				t.Fatalf("Verify accepted %s with signature %q", method, sig)
			}
		}
		evs, err := p.Normalize(in)
		if err != nil {
			return
		}
		if len(evs) == 0 {
			t.Fatal("no event")
		}
		for _, ev := range evs {
			switch ev.Type {
			case platforms.EventMessageReceived, platforms.EventMessageStatus, platforms.EventPlatform:
			default:
				t.Fatalf("event type %q", ev.Type)
			}
			if len(ev.Raw) > 0 && !json.Valid(ev.Raw) {
				t.Fatalf("Raw %q is not JSON", ev.Raw)
			}
			_ = ev.Data(in.Platform)
		}
	})
}
