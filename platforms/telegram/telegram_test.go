package telegram_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/platforms"
	"github.com/hookgate/hookgate/platforms/telegram"
)

const (
	token   = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
	secret  = "Zm9vYmFyLXdlYmhvb2stc2VjcmV0LTAxMjM0NTY3"
	inbound = "https://hooks.example.test/v1/inbound/plat_01"
)

// request is what the fake Bot API received.
type request struct {
	HTTPMethod string
	Method     string // the Bot API method
	Header     http.Header
	Body       map[string]any
}

// fakeBotAPI speaks the Bot API for one bot, token: any other token is
// Unauthorized, as Telegram answers. reply answers the Bot API methods.
type fakeBotAPI struct {
	*httptest.Server
	mu  sync.Mutex
	got []request
}

func newFake(t *testing.T, reply func(w http.ResponseWriter, r request)) *fakeBotAPI {
	t.Helper()
	f := &fakeBotAPI{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
		tok, method, ok2 := strings.Cut(rest, "/")
		if !ok || !ok2 {
			writeJSON(w, http.StatusNotFound, `{"ok":false,"error_code":404,"description":"Not Found"}`)
			return
		}
		if tok != token {
			writeJSON(w, http.StatusUnauthorized, `{"ok":false,"error_code":401,"description":"Unauthorized"}`)
			return
		}
		req := request{HTTPMethod: r.Method, Method: method, Header: r.Header.Clone()}
		b, _ := io.ReadAll(r.Body)
		if len(b) > 0 {
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				writeJSON(w, http.StatusBadRequest, `{"ok":false,"error_code":400,"description":"Bad Request: unsupported content type"}`)
				return
			}
			if err := json.Unmarshal(b, &req.Body); err != nil {
				writeJSON(w, http.StatusBadRequest, `{"ok":false,"error_code":400,"description":"Bad Request: can't parse JSON"}`)
				return
			}
		}
		f.mu.Lock()
		f.got = append(f.got, req)
		f.mu.Unlock()
		reply(w, req)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeBotAPI) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.got...)
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func platform(creds string) *hookgate.Platform {
	return &hookgate.Platform{ID: "plat_01", Provider: "telegram", Credentials: json.RawMessage(creds)}
}

func credsJSON(tok, sec string) string {
	m := map[string]string{"botToken": tok}
	if sec != "" {
		m["webhookSecret"] = sec
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func call(base, creds string) *platforms.Call {
	return &platforms.Call{Client: &http.Client{}, BaseURL: base, Platform: platform(creds), InboundURL: inbound}
}

// providerError asserts that err is a *platforms.ProviderError of status
// whose message has want and names neither the token nor the secret.
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
	for _, s := range []string{token, secret, strings.SplitN(token, ":", 2)[1]} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q holds a secret", err)
		}
	}
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
	p := telegram.New()
	if p.Name() != "telegram" || p.Name() != telegram.Name {
		t.Errorf("Name = %q", p.Name())
	}
	if p.DefaultBaseURL() != "https://api.telegram.org" {
		t.Errorf("DefaultBaseURL = %q", p.DefaultBaseURL())
	}
	if _, ok := p.(platforms.Acknowledger); ok {
		t.Error("Telegram needs no particular acknowledgement")
	}
}

func TestCheckCredentials(t *testing.T) {
	t.Parallel()
	p := telegram.New()
	for _, tc := range []struct{ name, in, want string }{
		{"token only", `{"botToken":"` + token + `"}`, `{"botToken":"` + token + `"}`},
		{"token and secret", `{"webhookSecret":"` + secret + `","botToken":"` + token + `"}`, `{"botToken":"` + token + `","webhookSecret":"` + secret + `"}`},
		{"pasted with spaces", `{"botToken":" ` + token + `\n"}`, `{"botToken":"` + token + `"}`},
		{"empty secret", `{"botToken":"` + token + `","webhookSecret":""}`, `{"botToken":"` + token + `"}`},
		{"longest secret", `{"botToken":"` + token + `","webhookSecret":"` + strings.Repeat("a", 256) + `"}`, `{"botToken":"` + token + `","webhookSecret":"` + strings.Repeat("a", 256) + `"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := p.CheckCredentials(json.RawMessage(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	for _, tc := range []struct{ name, in, code, param string }{
		{"no token", `{}`, hookgate.EMissingParameter, "credentials.botToken"},
		{"empty token", `{"botToken":"  "}`, hookgate.EMissingParameter, "credentials.botToken"},
		{"null", `null`, hookgate.EMissingParameter, "credentials.botToken"},
		{"nothing", ``, hookgate.EMissingParameter, "credentials"},
		{"token without colon", `{"botToken":"123456789AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"}`, hookgate.EInvalidParameter, "credentials.botToken"},
		{"token too short", `{"botToken":"123456789:AAHdqTcvCH1vGWJ"}`, hookgate.EInvalidParameter, "credentials.botToken"},
		{"token with letters in the ID", `{"botToken":"12x456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"}`, hookgate.EInvalidParameter, "credentials.botToken"},
		{"token with a slash", `{"botToken":"123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDs/w"}`, hookgate.EInvalidParameter, "credentials.botToken"},
		{"redaction mark as token", `{"botToken":"********"}`, hookgate.EInvalidParameter, "credentials.botToken"},
		{"token not a string", `{"botToken":123}`, hookgate.EInvalidParameter, "credentials"},
		{"secret too long", `{"botToken":"` + token + `","webhookSecret":"` + strings.Repeat("a", 257) + `"}`, hookgate.EInvalidParameter, "credentials.webhookSecret"},
		{"secret with a dot", `{"botToken":"` + token + `","webhookSecret":"a.b"}`, hookgate.EInvalidParameter, "credentials.webhookSecret"},
		{"secret redaction mark", `{"botToken":"` + token + `","webhookSecret":"********"}`, hookgate.EInvalidParameter, "credentials.webhookSecret"},
		{"unknown field", `{"botToken":"` + token + `","chatId":"1"}`, hookgate.EInvalidParameter, "credentials"},
		{"not an object", `["` + token + `"]`, hookgate.EInvalidParameter, "credentials"},
		{"trailing data", `{"botToken":"` + token + `"} {}`, hookgate.EInvalidParameter, "credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := p.CheckCredentials(json.RawMessage(tc.in))
			he := hookgateError(t, err, tc.code, tc.param)
			if he.Value != nil {
				t.Errorf("Value = %v, want none: a credential is a secret", he.Value)
			}
			if s := he.Error(); strings.Contains(s, "AAHdqTcvCH1vGWJ") || strings.Contains(s, "aaaaaaaa") {
				t.Errorf("error %q echoes the secret", s)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	p := telegram.New()
	for _, tc := range []struct{ in, want string }{
		{credsJSON(token, secret), `{"botToken":"********","webhookSecret":"********"}`},
		{credsJSON(token, ""), `{"botToken":"********"}`},
		{`not json`, `{}`},
	} {
		if got := platforms.Redact(p, json.RawMessage(tc.in)); string(got) != tc.want {
			t.Errorf("Redact(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestRegister(t *testing.T) {
	t.Parallel()
	ok := func(w http.ResponseWriter, r request) {
		writeJSON(w, http.StatusOK, `{"ok":true,"result":true,"description":"Webhook was set"}`)
	}

	t.Run("generates the secret", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, ok)
		reg, err := telegram.New().Register(context.Background(), call(f.URL, credsJSON(token, "")))
		if err != nil {
			t.Fatal(err)
		}
		if !reg.Registered {
			t.Error("Registered = false")
		}
		if string(reg.Response) != `{"ok":true,"result":true,"description":"Webhook was set"}` {
			t.Errorf("Response = %s", reg.Response)
		}
		var creds struct{ BotToken, WebhookSecret string }
		if err := json.Unmarshal(reg.Credentials, &creds); err != nil {
			t.Fatalf("Credentials = %s: %v", reg.Credentials, err)
		}
		if creds.BotToken != token || !regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`).MatchString(creds.WebhookSecret) {
			t.Errorf("Credentials = %s, want the token and 32 random bytes in base64url", reg.Credentials)
		}
		if _, err := telegram.New().CheckCredentials(reg.Credentials); err != nil {
			t.Errorf("the new credentials do not check: %v", err)
		}
		got := f.requests()
		if len(got) != 1 {
			t.Fatalf("%d requests, want 1", len(got))
		}
		r := got[0]
		if r.HTTPMethod != http.MethodPost || r.Method != "setWebhook" {
			t.Errorf("called %s %s, want POST setWebhook", r.HTTPMethod, r.Method)
		}
		if r.Body["url"] != inbound || r.Body["secret_token"] != creds.WebhookSecret {
			t.Errorf("body = %v, want url %s and the new secret", r.Body, inbound)
		}
		b, _ := json.Marshal(r.Body["allowed_updates"])
		if string(b) != `["message","edited_message","channel_post","edited_channel_post","callback_query"]` {
			t.Errorf("allowed_updates = %s", b)
		}

		// A second registration generates another secret.
		reg2, err := telegram.New().Register(context.Background(), call(f.URL, credsJSON(token, "")))
		if err != nil {
			t.Fatal(err)
		}
		if string(reg2.Credentials) == string(reg.Credentials) {
			t.Error("two registrations generated the same secret")
		}
	})

	t.Run("keeps the secret", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, ok)
		reg, err := telegram.New().Register(context.Background(), call(f.URL, credsJSON(token, secret)))
		if err != nil {
			t.Fatal(err)
		}
		if !reg.Registered || reg.Credentials != nil {
			t.Errorf("Registered = %v, Credentials = %s; want true and none", reg.Registered, reg.Credentials)
		}
		if got := f.requests(); len(got) != 1 || got[0].Body["secret_token"] != secret {
			t.Errorf("requests = %v, want setWebhook with the stored secret", got)
		}
	})

	t.Run("unauthorized", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, ok)
		other := "987654321:ZZHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
		_, err := telegram.New().Register(context.Background(), call(f.URL, credsJSON(other, secret)))
		providerError(t, err, http.StatusUnauthorized, "Unauthorized")
		if strings.Contains(err.Error(), other) {
			t.Errorf("error %q holds the token", err)
		}
	})

	t.Run("refused with the secrets in the description", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r request) {
			writeJSON(w, http.StatusBadRequest, `{"ok":false,"error_code":400,"description":"Bad Request: bad webhook: secret token `+secret+` of bot`+token+` is refused"}`)
		})
		_, err := telegram.New().Register(context.Background(), call(f.URL, credsJSON(token, secret)))
		pe := providerError(t, err, http.StatusBadRequest, "Bad Request: bad webhook: secret token ******** of bot******** is refused")
		if pe.RetryAfter != 0 {
			t.Errorf("RetryAfter = %v", pe.RetryAfter)
		}
	})

	t.Run("not the Bot API", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r request) {
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, "<html>bad gateway "+token+"</html>")
		})
		_, err := telegram.New().Register(context.Background(), call(f.URL, credsJSON(token, secret)))
		providerError(t, err, http.StatusBadGateway, "Bad Gateway")
	})

	t.Run("ok false in a 200", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r request) { writeJSON(w, http.StatusOK, `{"ok":false}`) })
		_, err := telegram.New().Register(context.Background(), call(f.URL, credsJSON(token, secret)))
		providerError(t, err, http.StatusOK, "ok:false")
	})

	t.Run("unreachable", func(t *testing.T) {
		t.Parallel()
		_, err := telegram.New().Register(context.Background(), call("http://127.0.0.1:9", credsJSON(token, secret)))
		providerError(t, err, 0, "")
	})

	t.Run("malformed base URL", func(t *testing.T) {
		t.Parallel()
		_, err := telegram.New().Register(context.Background(), call("http://127.0.0.1:9/a b\x7f", credsJSON(token, secret)))
		providerError(t, err, 0, "")
	})

	t.Run("no client", func(t *testing.T) {
		t.Parallel()
		c := call("http://127.0.0.1:9", credsJSON(token, secret))
		c.Client = nil
		if _, err := telegram.New().Register(context.Background(), c); err == nil {
			t.Error("registered without an HTTP client")
		}
	})

	t.Run("invalid stored credentials", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, ok)
		_, err := telegram.New().Register(context.Background(), call(f.URL, `{"botToken":"nope"}`))
		hookgateError(t, err, hookgate.EInvalidParameter, "credentials.botToken")
		if len(f.requests()) != 0 {
			t.Error("called Telegram with invalid credentials")
		}
	})
}

func TestUnregister(t *testing.T) {
	t.Parallel()
	t.Run("ok", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r request) {
			writeJSON(w, http.StatusOK, `{"ok":true,"result":true,"description":"Webhook was deleted"}`)
		})
		res, err := telegram.New().Unregister(context.Background(), call(f.URL, credsJSON(token, secret)))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(res), "Webhook was deleted") {
			t.Errorf("response = %s", res)
		}
		if got := f.requests(); len(got) != 1 || got[0].HTTPMethod != http.MethodPost || got[0].Method != "deleteWebhook" {
			t.Errorf("requests = %v, want POST deleteWebhook", got)
		}
	})
	t.Run("unauthorized", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, nil)
		_, err := telegram.New().Unregister(context.Background(), call(f.URL, credsJSON("111111111:ZZHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "")))
		providerError(t, err, http.StatusUnauthorized, "Unauthorized")
	})
	t.Run("unreachable", func(t *testing.T) {
		t.Parallel()
		_, err := telegram.New().Unregister(context.Background(), call("http://127.0.0.1:9", credsJSON(token, secret)))
		providerError(t, err, 0, "")
	})
}

func TestStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, result string
		want         platforms.WebhookStatus
	}{
		{"registered", `{"url":"` + inbound + `","has_custom_certificate":false,"pending_update_count":0,"max_connections":40,"ip_address":"203.0.113.7"}`,
			platforms.WebhookStatus{URL: inbound, Registered: true}},
		{"failing", `{"url":"` + inbound + `","has_custom_certificate":false,"pending_update_count":12,"last_error_date":1700000000,"last_error_message":"Wrong response from the webhook: 502 Bad Gateway"}`,
			platforms.WebhookStatus{URL: inbound, Registered: true, PendingUpdates: 12, LastError: "Wrong response from the webhook: 502 Bad Gateway", LastErrorAt: time.Unix(1700000000, 0).UTC()}},
		{"elsewhere", `{"url":"https://other.example.test/hook","has_custom_certificate":false,"pending_update_count":3}`,
			platforms.WebhookStatus{URL: "https://other.example.test/hook", PendingUpdates: 3}},
		{"not set", `{"url":"","has_custom_certificate":false,"pending_update_count":0}`,
			platforms.WebhookStatus{LastError: "webhook URL not set"}},
		{"not set after an error", `{"url":"","has_custom_certificate":false,"pending_update_count":0,"last_error_date":1700000000,"last_error_message":"Connection timed out"}`,
			platforms.WebhookStatus{LastError: "Connection timed out", LastErrorAt: time.Unix(1700000000, 0).UTC()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := `{"ok":true,"result":` + tc.result + `}`
			f := newFake(t, func(w http.ResponseWriter, r request) {
				if r.HTTPMethod != http.MethodGet || r.Method != "getWebhookInfo" {
					writeJSON(w, http.StatusNotFound, `{"ok":false,"error_code":404,"description":"Not Found"}`)
					return
				}
				writeJSON(w, http.StatusOK, body)
			})
			st, err := telegram.New().Status(context.Background(), call(f.URL, credsJSON(token, secret)))
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
	t.Run("unauthorized", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, nil)
		_, err := telegram.New().Status(context.Background(), call(f.URL, credsJSON("111111111:ZZHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "")))
		providerError(t, err, http.StatusUnauthorized, "Unauthorized")
	})
	t.Run("unreachable", func(t *testing.T) {
		t.Parallel()
		_, err := telegram.New().Status(context.Background(), call("http://127.0.0.1:9", credsJSON(token, secret)))
		providerError(t, err, 0, "")
	})
}

func TestSend(t *testing.T) {
	t.Parallel()
	t.Run("ok", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r request) {
			if r.HTTPMethod != http.MethodPost || r.Method != "sendMessage" {
				writeJSON(w, http.StatusNotFound, `{"ok":false,"error_code":404,"description":"Not Found"}`)
				return
			}
			if r.Body["chat_id"] != "-1001234567890" {
				writeJSON(w, http.StatusBadRequest, `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`)
				return
			}
			writeJSON(w, http.StatusOK, `{"ok":true,"result":{"message_id":42,"date":1700000000,"chat":{"id":-1001234567890,"type":"supergroup","title":"Ops"},"text":"`+r.Body["text"].(string)+`"}}`)
		})
		sent, err := telegram.New().Send(context.Background(), call(f.URL, credsJSON(token, secret)), "-1001234567890", "deploy done")
		if err != nil {
			t.Fatal(err)
		}
		if sent.ProviderMessageID != "42" {
			t.Errorf("ProviderMessageID = %q, want 42", sent.ProviderMessageID)
		}
		if !strings.Contains(string(sent.Response), `"text":"deploy done"`) {
			t.Errorf("Response = %s", sent.Response)
		}
		got := f.requests()
		if len(got) != 1 || len(got[0].Body) != 2 || got[0].Body["text"] != "deploy done" {
			t.Errorf("requests = %v, want one sendMessage {chat_id, text}", got)
		}
		if ct := got[0].Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
	})
	t.Run("chat not found", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r request) {
			writeJSON(w, http.StatusBadRequest, `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`)
		})
		_, err := telegram.New().Send(context.Background(), call(f.URL, credsJSON(token, secret)), "1", "hi")
		if pe := providerError(t, err, http.StatusBadRequest, "Bad Request: chat not found"); pe.RetryAfter != 0 {
			t.Errorf("RetryAfter = %v", pe.RetryAfter)
		}
	})
	t.Run("too many requests", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r request) {
			writeJSON(w, http.StatusTooManyRequests, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}`)
		})
		_, err := telegram.New().Send(context.Background(), call(f.URL, credsJSON(token, secret)), "1", "hi")
		if pe := providerError(t, err, http.StatusTooManyRequests, "Too Many Requests: retry after 3"); pe.RetryAfter != 3*time.Second {
			t.Errorf("RetryAfter = %v, want 3s", pe.RetryAfter)
		}
	})
	t.Run("too many requests, Retry-After header only", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r request) {
			w.Header().Set("Retry-After", "5")
			writeJSON(w, http.StatusTooManyRequests, `{"ok":false,"error_code":429,"description":"Too Many Requests"}`)
		})
		_, err := telegram.New().Send(context.Background(), call(f.URL, credsJSON(token, secret)), "1", "hi")
		if pe := providerError(t, err, http.StatusTooManyRequests, "Too Many Requests"); pe.RetryAfter != 5*time.Second {
			t.Errorf("RetryAfter = %v, want 5s", pe.RetryAfter)
		}
	})
	t.Run("no message_id", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r request) { writeJSON(w, http.StatusOK, `{"ok":true,"result":true}`) })
		_, err := telegram.New().Send(context.Background(), call(f.URL, credsJSON(token, secret)), "1", "hi")
		providerError(t, err, http.StatusOK, "message_id")
	})
	t.Run("unreachable", func(t *testing.T) {
		t.Parallel()
		_, err := telegram.New().Send(context.Background(), call("http://127.0.0.1:9", credsJSON(token, secret)), "1", "hi")
		providerError(t, err, 0, "")
	})
}

func inboundPost(creds, method string, header http.Header, body string) *platforms.Inbound {
	return &platforms.Inbound{Method: method, Header: header, Body: []byte(body), Now: time.Now(), Platform: platform(creds)}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	p := telegram.New()
	body := `{"update_id":1,"message":{"message_id":1,"date":1700000000,"chat":{"id":1,"type":"private"},"text":"hi"}}`
	good := http.Header{"X-Telegram-Bot-Api-Secret-Token": {secret}}

	reply, err := p.Verify(inboundPost(credsJSON(token, secret), http.MethodPost, good, body))
	if err != nil || reply != nil {
		t.Errorf("Verify = %v, %v; want accepted with no reply", reply, err)
	}

	for _, tc := range []struct {
		name, creds, method string
		header              http.Header
	}{
		{"wrong secret", credsJSON(token, secret), http.MethodPost, http.Header{"X-Telegram-Bot-Api-Secret-Token": {secret + "x"}}},
		{"secret prefix", credsJSON(token, secret), http.MethodPost, http.Header{"X-Telegram-Bot-Api-Secret-Token": {secret[:10]}}},
		{"empty secret", credsJSON(token, secret), http.MethodPost, http.Header{"X-Telegram-Bot-Api-Secret-Token": {""}}},
		{"the bot token", credsJSON(token, secret), http.MethodPost, http.Header{"X-Telegram-Bot-Api-Secret-Token": {token}}},
		{"missing header", credsJSON(token, secret), http.MethodPost, http.Header{}},
		{"nil header", credsJSON(token, secret), http.MethodPost, nil},
		{"two headers", credsJSON(token, secret), http.MethodPost, http.Header{"X-Telegram-Bot-Api-Secret-Token": {secret, "x"}}},
		{"GET", credsJSON(token, secret), http.MethodGet, good},
		{"PUT", credsJSON(token, secret), http.MethodPut, good},
		{"never registered", credsJSON(token, ""), http.MethodPost, http.Header{"X-Telegram-Bot-Api-Secret-Token": {""}}},
		{"never registered, any secret", credsJSON(token, ""), http.MethodPost, good},
		{"broken stored credentials", `{"webhookSecret":"` + secret + `"}`, http.MethodPost, good},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reply, err := p.Verify(inboundPost(tc.creds, tc.method, tc.header, body))
			if err == nil {
				t.Errorf("Verify accepted it (reply %v)", reply)
			}
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Errorf("error %q holds the secret", err)
			}
		})
	}
	t.Run("no platform", func(t *testing.T) {
		t.Parallel()
		in := inboundPost("", http.MethodPost, good, body)
		in.Platform = nil
		if _, err := p.Verify(in); err == nil {
			t.Error("Verify accepted a post for no platform")
		}
	})
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	p := telegram.New()
	ts := time.Unix(1700000000, 0).UTC()
	for _, tc := range []struct {
		name, body string
		want       platforms.Event
	}{
		{"message", `{"update_id":10001,"message":{"message_id":7,"from":{"id":42,"is_bot":false,"first_name":"Ada","last_name":"Lovelace","username":"ada","language_code":"en"},"chat":{"id":42,"first_name":"Ada","last_name":"Lovelace","username":"ada","type":"private"},"date":1700000000,"text":"hello"}}`,
			platforms.Event{Type: platforms.EventMessageReceived, DedupKey: "10001",
				Message: &platforms.Message{ID: "7", Text: "hello", Timestamp: ts},
				Chat:    &platforms.Chat{ID: "42", Type: "private"},
				From:    &platforms.User{ID: "42", Name: "Ada Lovelace", Username: "ada"}}},
		{"photo with a caption in a group", `{"update_id":10002,"message":{"message_id":8,"from":{"id":43,"is_bot":false,"first_name":"Grace"},"chat":{"id":-4001,"title":"Ops","type":"group"},"date":1700000000,"photo":[{"file_id":"x","file_unique_id":"y","width":90,"height":90}],"caption":"the graph"}}`,
			platforms.Event{Type: platforms.EventMessageReceived, DedupKey: "10002",
				Message: &platforms.Message{ID: "8", Text: "the graph", Timestamp: ts},
				Chat:    &platforms.Chat{ID: "-4001", Type: "group"},
				From:    &platforms.User{ID: "43", Name: "Grace"}}},
		{"edited message", `{"update_id":10003,"edited_message":{"message_id":7,"from":{"id":42,"is_bot":false,"first_name":"Ada"},"chat":{"id":42,"type":"private"},"date":1700000000,"edit_date":1700000060,"text":"hello!"}}`,
			platforms.Event{Type: platforms.EventMessageEdited, DedupKey: "10003",
				Message: &platforms.Message{ID: "7", Text: "hello!", Timestamp: ts},
				Chat:    &platforms.Chat{ID: "42", Type: "private"},
				From:    &platforms.User{ID: "42", Name: "Ada"}}},
		{"channel post", `{"update_id":10004,"channel_post":{"message_id":3,"sender_chat":{"id":-1009,"title":"News","type":"channel"},"chat":{"id":-1009,"title":"News","type":"channel"},"date":1700000000,"text":"release 1.2"}}`,
			platforms.Event{Type: platforms.EventMessageReceived, DedupKey: "10004",
				Message: &platforms.Message{ID: "3", Text: "release 1.2", Timestamp: ts},
				Chat:    &platforms.Chat{ID: "-1009", Type: "channel"}}},
		{"edited channel post", `{"update_id":10005,"edited_channel_post":{"message_id":3,"chat":{"id":-1009,"title":"News","type":"channel"},"date":1700000000,"edit_date":1700000100,"text":"release 1.2.1"}}`,
			platforms.Event{Type: platforms.EventMessageEdited, DedupKey: "10005",
				Message: &platforms.Message{ID: "3", Text: "release 1.2.1", Timestamp: ts},
				Chat:    &platforms.Chat{ID: "-1009", Type: "channel"}}},
		{"callback query", `{"update_id":10006,"callback_query":{"id":"4382bfdwdsb323b2d9","from":{"id":42,"is_bot":false,"first_name":"Ada","last_name":"Lovelace","username":"ada"},"message":{"message_id":9,"from":{"id":777,"is_bot":true,"first_name":"Bot"},"chat":{"id":42,"type":"private"},"date":1700000000,"text":"Deploy?"},"chat_instance":"-8012","data":"deploy:yes"}}`,
			platforms.Event{Type: platforms.EventInteractionReceived, DedupKey: "10006",
				Message: &platforms.Message{ID: "4382bfdwdsb323b2d9", Text: "deploy:yes"},
				Chat:    &platforms.Chat{ID: "42", Type: "private"},
				From:    &platforms.User{ID: "42", Name: "Ada Lovelace", Username: "ada"}}},
		{"inline callback query", `{"update_id":10007,"callback_query":{"id":"99","from":{"id":42,"is_bot":false,"first_name":"Ada"},"inline_message_id":"AAA","chat_instance":"-8012","data":"x"}}`,
			platforms.Event{Type: platforms.EventInteractionReceived, DedupKey: "10007",
				Message: &platforms.Message{ID: "99", Text: "x"},
				From:    &platforms.User{ID: "42", Name: "Ada"}}},
		{"other update", `{"update_id":10008,"my_chat_member":{"chat":{"id":-4001,"type":"group"},"from":{"id":42,"first_name":"Ada"},"date":1700000000}}`,
			platforms.Event{Type: platforms.EventPlatform, DedupKey: "10008"}},
		{"update 0", `{"update_id":0,"poll":{"id":"1"}}`,
			platforms.Event{Type: platforms.EventPlatform, DedupKey: "0"}},
		{"no update_id", `{}`, platforms.Event{Type: platforms.EventPlatform}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			evs, err := p.Normalize(inboundPost(credsJSON(token, secret), http.MethodPost, nil, tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 1 {
				t.Fatalf("%d events, want 1", len(evs))
			}
			ev := evs[0]
			if string(ev.Raw) != tc.body {
				t.Errorf("Raw = %s, want the whole update", ev.Raw)
			}
			ev.Raw = nil
			got, _ := json.Marshal(ev)
			want, _ := json.Marshal(tc.want)
			if string(got) != string(want) {
				t.Errorf("event\n got %s\nwant %s", got, want)
			}
		})
	}
	for _, body := range []string{``, `null`, `[]`, `"x"`, `{"update_id":"1"}`, `{"message":{"message_id":"7"}}`, `{"update_id":1`} {
		if evs, err := p.Normalize(inboundPost(credsJSON(token, secret), http.MethodPost, nil, body)); err == nil {
			t.Errorf("Normalize(%q) = %v, want an error", body, evs)
		}
	}
}

func FuzzVerify(f *testing.F) {
	creds := credsJSON(token, secret)
	f.Add(http.MethodPost, secret, []byte(`{"update_id":1,"message":{"message_id":1,"date":1700000000,"chat":{"id":1,"type":"private"},"from":{"id":1,"first_name":"A"},"text":"hi"}}`))
	f.Add(http.MethodPost, secret, []byte(`{"update_id":2,"callback_query":{"id":"q","from":{"id":1},"message":{"chat":{"id":1}},"data":"d"}}`))
	f.Add(http.MethodPost, secret, []byte(`{"update_id":3,"edited_channel_post":null}`))
	f.Add(http.MethodPost, "wrong", []byte(`{"update_id":4}`))
	f.Add(http.MethodGet, secret, []byte(``))
	f.Add(http.MethodPost, "", []byte(`[`))
	p := telegram.New()
	f.Fuzz(func(t *testing.T, method, header string, body []byte) {
		in := inboundPost(creds, method, http.Header{"X-Telegram-Bot-Api-Secret-Token": {header}}, string(body))
		reply, err := p.Verify(in)
		if err == nil && (method != http.MethodPost || header != secret) {
			t.Fatalf("Verify accepted %s with secret token %q", method, header)
		}
		if reply != nil {
			t.Fatalf("Verify replied %v", reply)
		}
		evs, err := p.Normalize(in)
		if err != nil {
			return
		}
		if len(evs) != 1 {
			t.Fatalf("%d events", len(evs))
		}
		switch evs[0].Type {
		case platforms.EventMessageReceived, platforms.EventMessageEdited, platforms.EventInteractionReceived, platforms.EventPlatform:
		default:
			t.Fatalf("event type %q", evs[0].Type)
		}
		if !json.Valid(evs[0].Raw) {
			t.Fatalf("Raw %q is not JSON", evs[0].Raw)
		}
	})
}
