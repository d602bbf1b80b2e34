package slack_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/platforms"
	"github.com/hookgate/hookgate/platforms/slack"
)

const (
	secret      = "8f742231b10e8888abcd99aaabbb85a5"
	botToken    = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"
	configToken = "xoxe.xoxp-1-Mi0yLTE3NjUzNjcyNDgxLTE5ODc0Njk4MzIz"
	appID       = "A0123456789"
	inbound     = "https://hooks.example.test/in/plat_456"
)

func creds(withConfig bool) json.RawMessage {
	m := map[string]string{"signingSecret": secret, "botToken": botToken}
	if withConfig {
		m["appId"], m["configToken"] = appID, configToken
	}
	b, _ := json.Marshal(m)
	return b
}

func platform(withConfig bool) *hookgate.Platform {
	return &hookgate.Platform{ID: "plat_456", Provider: "slack", Credentials: creds(withConfig)}
}

// signature is Slack's v0 signature, computed as Slack documents it.
func signature(key, ts, body string) string {
	m := hmac.New(sha256.New, []byte(key))
	io.WriteString(m, "v0:"+ts+":"+body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

func signed(at time.Time, contentType, body string) *platforms.Inbound {
	ts := strconv.FormatInt(at.Unix(), 10)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", signature(secret, ts, body))
	h.Set("Content-Type", contentType)
	return &platforms.Inbound{Method: http.MethodPost, Header: h, Body: []byte(body), Now: at, Platform: platform(false)}
}

const (
	jsonType = "application/json"
	formType = "application/x-www-form-urlencoded"
)

// fakeSlack speaks the Web API: POST only, a bearer token per method,
// JSON bodies, and refusals as HTTP 200 {"ok":false}.
func fakeSlack(t *testing.T, handle func(w http.ResponseWriter, method string, body map[string]any)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if r.Method != http.MethodPost {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		method := strings.TrimPrefix(r.URL.Path, "/")
		want := "Bearer " + botToken
		if strings.HasPrefix(method, "apps.manifest.") {
			want = "Bearer " + configToken
		}
		if r.Header.Get("Authorization") != want {
			io.WriteString(w, `{"ok":false,"error":"invalid_auth"}`)
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("body: %v", err)
		}
		handle(w, method, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func call(withConfig bool, base string) *platforms.Call {
	return &platforms.Call{Client: &http.Client{}, BaseURL: base, Platform: platform(withConfig), InboundURL: inbound}
}

func providerError(t *testing.T, err error, status int) *platforms.ProviderError {
	t.Helper()
	var pe *platforms.ProviderError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v (%T), want *platforms.ProviderError", err, err)
	}
	if pe.Status != status {
		t.Fatalf("Status = %d, want %d (%v)", pe.Status, status, pe)
	}
	for _, s := range []string{secret, botToken, configToken} {
		if strings.Contains(pe.Error(), s) {
			t.Fatalf("the error shows a secret: %v", pe)
		}
	}
	return pe
}

func TestNames(t *testing.T) {
	t.Parallel()
	p := slack.New()
	if p.Name() != "slack" || p.DefaultBaseURL() != "https://slack.com/api" {
		t.Fatalf("Name %q, DefaultBaseURL %q", p.Name(), p.DefaultBaseURL())
	}
}

func TestCheckCredentials(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`{"signingSecret":" ` + secret + ` ","botToken":"` + botToken + `"}`:                                                           `{"signingSecret":"` + secret + `","botToken":"` + botToken + `"}`,
		`{"signingSecret":"` + secret + `","botToken":"` + botToken + `","appId":"` + appID + `","configToken":"` + configToken + `"}`: string(creds(true)),
		`{"signingSecret":"` + secret + `","botToken":"` + botToken + `","appId":"","configToken":""}`:                                 `{"signingSecret":"` + secret + `","botToken":"` + botToken + `"}`,
	} {
		got, err := slack.New().CheckCredentials(json.RawMessage(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		var g, w map[string]string
		json.Unmarshal(got, &g)
		json.Unmarshal([]byte(want), &w)
		if !maps.Equal(g, w) {
			t.Fatalf("%s: got %s, want %s", in, got, want)
		}
	}
}

func TestCheckCredentialsRefused(t *testing.T) {
	t.Parallel()
	obj := func(kv ...string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	for _, tc := range []struct {
		name, creds, param, code string
	}{
		{"no signing secret", obj("botToken", botToken), "credentials.signingSecret", hookgate.EMissingParameter},
		{"a token as signing secret", obj("signingSecret", botToken, "botToken", botToken), "credentials.signingSecret", hookgate.EInvalidParameter},
		{"a signing secret with a space", obj("signingSecret", "8f74 2231", "botToken", botToken), "credentials.signingSecret", hookgate.EInvalidParameter},
		{"no bot token", obj("signingSecret", secret), "credentials.botToken", hookgate.EMissingParameter},
		{"a user token", obj("signingSecret", secret, "botToken", "xoxp-1-2-3"), "credentials.botToken", hookgate.EInvalidParameter},
		{"a bare prefix", obj("signingSecret", secret, "botToken", "xoxb-"), "credentials.botToken", hookgate.EInvalidParameter},
		{"a bot token with a space", obj("signingSecret", secret, "botToken", "xoxb-1 2"), "credentials.botToken", hookgate.EInvalidParameter},
		{"an app ID not starting with A", obj("signingSecret", secret, "botToken", botToken, "appId", "B0123", "configToken", configToken), "credentials.appId", hookgate.EInvalidParameter},
		{"a config token that is not one", obj("signingSecret", secret, "botToken", botToken, "appId", appID, "configToken", botToken), "credentials.configToken", hookgate.EInvalidParameter},
		{"an app ID alone", obj("signingSecret", secret, "botToken", botToken, "appId", appID), "credentials.configToken", hookgate.EMissingParameter},
		{"a config token alone", obj("signingSecret", secret, "botToken", botToken, "configToken", configToken), "credentials.appId", hookgate.EMissingParameter},
		{"unknown field", obj("signingSecret", secret, "botToken", botToken, "verificationToken", "x"), "credentials", hookgate.EInvalidParameter},
		{"not an object", `"xoxb-1"`, "credentials", hookgate.EInvalidParameter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := slack.New().CheckCredentials(json.RawMessage(tc.creds))
			var he *hookgate.Error
			if !errors.As(err, &he) {
				t.Fatalf("err = %v, want *hookgate.Error", err)
			}
			if he.Param != tc.param || he.Code != tc.code {
				t.Fatalf("Param %q Code %q, want %q %q (%v)", he.Param, he.Code, tc.param, tc.code, he)
			}
			v, _ := json.Marshal(he.Value)
			for _, s := range []string{secret, botToken, configToken, "xoxp-1-2-3", "8f74 2231"} {
				if strings.Contains(string(v)+he.Message, s) {
					t.Fatalf("the error echoes a secret: %v %v", he.Value, he.Message)
				}
			}
		})
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	got := string(platforms.Redact(slack.New(), creds(true)))
	want := `{"signingSecret":"********","botToken":"********","appId":"` + appID + `","configToken":"********"}`
	if got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	got = string(platforms.Redact(slack.New(), creds(false)))
	if want := `{"signingSecret":"********","botToken":"********"}`; got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
}

// exported is an app manifest as apps.manifest.export answers it.
const exported = `{"ok":true,"manifest":{"display_information":{"name":"Hookgate test"},` +
	`"features":{"bot_user":{"display_name":"hookgate","always_online":false}},` +
	`"oauth_config":{"scopes":{"bot":["chat:write","app_mentions:read"]}},` +
	`"settings":{"event_subscriptions":{"request_url":"https://old.example.test/slack","bot_events":["app_mention","message.im"]},` +
	`"interactivity":{"is_enabled":true,"request_url":"https://old.example.test/interactive"},"org_deploy_enabled":false,"socket_mode_enabled":false,"token_rotation_enabled":false}}}`

func TestRegister(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, export string
	}{
		{"a URL to replace", exported},
		{"no settings", `{"ok":true,"manifest":{"display_information":{"name":"Bare"}}}`},
		{"null subscriptions", `{"ok":true,"manifest":{"display_information":{"name":"Bare"},"settings":{"event_subscriptions":null,"org_deploy_enabled":true}}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var before map[string]any
			var r struct{ Manifest map[string]any }
			json.Unmarshal([]byte(tc.export), &r)
			before = r.Manifest
			var calls []string
			srv := fakeSlack(t, func(w http.ResponseWriter, method string, body map[string]any) {
				calls = append(calls, method)
				if body["app_id"] != appID {
					t.Errorf("%s app_id = %v", method, body["app_id"])
				}
				switch method {
				case "apps.manifest.export":
					io.WriteString(w, tc.export)
				case "apps.manifest.update":
					s, ok := body["manifest"].(string)
					if !ok {
						io.WriteString(w, `{"ok":false,"error":"invalid_arguments"}`)
						return
					}
					var m map[string]any
					if err := json.Unmarshal([]byte(s), &m); err != nil {
						t.Fatalf("manifest: %v", err)
					}
					settings := m["settings"].(map[string]any)
					subs := settings["event_subscriptions"].(map[string]any)
					if subs["request_url"] != inbound {
						t.Errorf("request_url = %v", subs["request_url"])
					}
					// Everything else is as exported.
					delete(subs, "request_url")
					if len(subs) == 0 {
						delete(settings, "event_subscriptions")
					}
					if len(settings) == 0 {
						delete(m, "settings")
					}
					if bs, _ := before["settings"].(map[string]any); bs != nil {
						if es, _ := bs["event_subscriptions"].(map[string]any); es != nil {
							delete(es, "request_url")
						} else {
							delete(bs, "event_subscriptions")
						}
					}
					got, _ := json.Marshal(m)
					want, _ := json.Marshal(before)
					if string(got) != string(want) {
						t.Errorf("the rest of the manifest changed:\n%s\n%s", got, want)
					}
					io.WriteString(w, `{"ok":true,"app_id":"`+appID+`","permissions_updated":false}`)
				default:
					t.Errorf("method %s", method)
				}
			})
			reg, err := slack.New().Register(context.Background(), call(true, srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(calls, ",") != "apps.manifest.export,apps.manifest.update" {
				t.Fatalf("calls %v", calls)
			}
			if !reg.Registered || string(reg.Response) != `{"ok":true,"app_id":"`+appID+`","permissions_updated":false}` {
				t.Fatalf("Registered %v Response %s", reg.Registered, reg.Response)
			}
		})
	}
}

func TestRegisterByHand(t *testing.T) {
	t.Parallel()
	srv := fakeSlack(t, func(http.ResponseWriter, string, map[string]any) { t.Error("a call was made") })
	reg, err := slack.New().Register(context.Background(), call(false, srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	var r struct{ Instructions, InboundURL string }
	if err := json.Unmarshal(reg.Response, &r); err != nil {
		t.Fatal(err)
	}
	if reg.Registered || r.InboundURL != inbound || !strings.Contains(r.Instructions, "Request URL") || !strings.Contains(string(reg.Response), `"inboundUrl"`) {
		t.Fatalf("Registered %v Response %s", reg.Registered, reg.Response)
	}
}

func TestRegisterRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, export, update, want string
	}{
		{"a bad token", `{"ok":false,"error":"invalid_auth"}`, "", "invalid_auth"},
		{"an expired token", `{"ok":false,"error":"token_expired"}`, "", "token_expired"},
		{"an invalid manifest", exported,
			`{"ok":false,"error":"invalid_manifest","errors":[{"message":"Couldn't verify the URL: your URL didn't respond with the challenge","pointer":"/settings/event_subscriptions/request_url"},{"message":"token ` + configToken + ` cannot change this app","pointer":"/"}]}`,
			"invalid_manifest: /settings/event_subscriptions/request_url: Couldn't verify the URL: your URL didn't respond with the challenge; /: token ******** cannot change this app"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := fakeSlack(t, func(w http.ResponseWriter, method string, _ map[string]any) {
				if method == "apps.manifest.export" {
					io.WriteString(w, tc.export)
				} else {
					io.WriteString(w, tc.update)
				}
			})
			_, err := slack.New().Register(context.Background(), call(true, srv.URL))
			if pe := providerError(t, err, http.StatusBadRequest); pe.Message != tc.want {
				t.Fatalf("Message = %q\nwant %q", pe.Message, tc.want)
			}
		})
	}
}

func TestRegisterWrongToken(t *testing.T) {
	t.Parallel()
	srv := fakeSlack(t, func(http.ResponseWriter, string, map[string]any) { t.Error("the fake let a wrong token through") })
	c := call(true, srv.URL)
	c.Platform.Credentials = json.RawMessage(`{"signingSecret":"` + secret + `","botToken":"` + botToken + `","appId":"` + appID + `","configToken":"xoxe.wrong"}`)
	_, err := slack.New().Register(context.Background(), c)
	if pe := providerError(t, err, http.StatusBadRequest); pe.Message != "invalid_auth" {
		t.Fatalf("Message = %q", pe.Message)
	}
}

func TestRegisterUnreachable(t *testing.T) {
	t.Parallel()
	_, err := slack.New().Register(context.Background(), call(true, "http://127.0.0.1:9"))
	if pe := providerError(t, err, 0); pe.Message == "" {
		t.Fatal("no reason given")
	}
}

func TestUnregister(t *testing.T) {
	t.Parallel()
	for _, with := range []bool{false, true} {
		if _, err := slack.New().Unregister(context.Background(), call(with, "http://127.0.0.1:9")); !errors.Is(err, platforms.ErrUnsupported) {
			t.Fatalf("err = %v", err)
		}
	}
}

func TestStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, export, url string
		registered        bool
		lastError         string
	}{
		{"registered", strings.Replace(exported, "https://old.example.test/slack", inbound, 1), inbound, true, ""},
		{"another URL", exported, "https://old.example.test/slack", false, ""},
		{"none", `{"ok":true,"manifest":{"settings":{"socket_mode_enabled":true}}}`, "", false, "event subscriptions request URL not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := fakeSlack(t, func(w http.ResponseWriter, method string, body map[string]any) {
				if method != "apps.manifest.export" || body["app_id"] != appID {
					t.Errorf("%s %v", method, body)
				}
				io.WriteString(w, tc.export)
			})
			st, err := slack.New().Status(context.Background(), call(true, srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			if st.URL != tc.url || st.Registered != tc.registered || st.LastError != tc.lastError || !json.Valid(st.Response) {
				t.Fatalf("%+v", st)
			}
		})
	}
	if _, err := slack.New().Status(context.Background(), call(false, "http://127.0.0.1:9")); !errors.Is(err, platforms.ErrUnsupported) {
		t.Fatalf("without a config token: err = %v", err)
	}
}

func TestSend(t *testing.T) {
	t.Parallel()
	srv := fakeSlack(t, func(w http.ResponseWriter, method string, body map[string]any) {
		if method != "chat.postMessage" || len(body) != 2 || body["channel"] != "C0123456" || body["text"] != "hello, world" {
			t.Errorf("%s %v", method, body)
		}
		io.WriteString(w, `{"ok":true,"channel":"C0123456","ts":"1700000000.000100","message":{"type":"message","text":"hello, world","bot_id":"B1","ts":"1700000000.000100"}}`)
	})
	sent, err := slack.New().Send(context.Background(), call(false, srv.URL), "C0123456", "hello, world")
	if err != nil {
		t.Fatal(err)
	}
	if sent.ProviderMessageID != "1700000000.000100" || string(sent.Response) != `{"ok":true,"channel":"C0123456","ts":"1700000000.000100"}` {
		t.Fatalf("%+v %s", sent, sent.Response)
	}
}

func TestSendRefused(t *testing.T) {
	t.Parallel()
	srv := fakeSlack(t, func(w http.ResponseWriter, _ string, _ map[string]any) {
		io.WriteString(w, `{"ok":false,"error":"channel_not_found"}`)
	})
	_, err := slack.New().Send(context.Background(), call(false, srv.URL), "C404", "hi")
	if pe := providerError(t, err, http.StatusBadRequest); pe.Message != "channel_not_found" {
		t.Fatalf("Message = %q", pe.Message)
	}

	srv = fakeSlack(t, func(w http.ResponseWriter, _ string, _ map[string]any) {
		io.WriteString(w, `{"ok":false,"error":"missing_scope","needed":"chat:write","provided":"app_mentions:read"}`)
	})
	_, err = slack.New().Send(context.Background(), call(false, srv.URL), "C1", "hi")
	if pe := providerError(t, err, http.StatusBadRequest); pe.Message != "missing_scope (needed: chat:write)" {
		t.Fatalf("Message = %q", pe.Message)
	}

	// An HTTP error from a proxy in front of Slack may quote the request.
	srv = fakeSlack(t, func(w http.ResponseWriter, _ string, _ map[string]any) {
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"ok":false,"error":"refused `+botToken+`"}`)
	})
	_, err = slack.New().Send(context.Background(), call(false, srv.URL), "C1", "hi")
	if pe := providerError(t, err, http.StatusForbidden); pe.Message != "refused ********" {
		t.Fatalf("Message = %q", pe.Message)
	}

	_, err = slack.New().Send(context.Background(), call(false, srv.URL), "", "hi")
	if he := (*hookgate.Error)(nil); !errors.As(err, &he) || he.Param != "to" {
		t.Fatalf("no channel: err = %v", err)
	}
}

func TestSendRateLimited(t *testing.T) {
	t.Parallel()
	srv := fakeSlack(t, func(w http.ResponseWriter, _ string, _ map[string]any) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"ok":false,"error":"ratelimited"}`)
	})
	_, err := slack.New().Send(context.Background(), call(false, srv.URL), "C1", "hi")
	if pe := providerError(t, err, http.StatusTooManyRequests); pe.RetryAfter != 30*time.Second || pe.Message != "ratelimited" {
		t.Fatalf("%+v", pe)
	}

	srv = fakeSlack(t, func(w http.ResponseWriter, _ string, _ map[string]any) {
		w.Header().Set("Retry-After", "1e300")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	_, err = slack.New().Send(context.Background(), call(false, srv.URL), "C1", "hi")
	if pe := providerError(t, err, http.StatusTooManyRequests); pe.RetryAfter != 24*time.Hour || pe.Message != "Too Many Requests" {
		t.Fatalf("an absurd wait: %+v", pe)
	}
}

func TestSendUnreachable(t *testing.T) {
	t.Parallel()
	_, err := slack.New().Send(context.Background(), call(false, "http://127.0.0.1:9"), "C1", "hi")
	providerError(t, err, 0)
}

// The worked example of Slack's "Verifying requests from Slack".
func TestVerifyDocumentedExample(t *testing.T) {
	t.Parallel()
	const body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", "1531420618")
	h.Set("X-Slack-Signature", "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503")
	h.Set("Content-Type", formType)
	in := &platforms.Inbound{Method: http.MethodPost, Header: h, Body: []byte(body), Now: time.Unix(1531420618, 0).Add(30 * time.Second),
		Platform: &hookgate.Platform{Credentials: json.RawMessage(`{"signingSecret":"8f742231b10e8888abcd99yyyzzz85a5","botToken":"xoxb-1"}`)}}
	if rep, err := slack.New().Verify(in); err != nil || rep != nil {
		t.Fatalf("reply %v, err %v", rep, err)
	}
	evs, err := slack.New().Normalize(in)
	if err != nil || len(evs) != 1 {
		t.Fatalf("%v %v", evs, err)
	}
	ev := evs[0]
	if ev.Type != platforms.EventInteractionReceived || ev.Message.Text != "/webhook-collect" ||
		ev.DedupKey != "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c" ||
		*ev.Chat != (platforms.Chat{ID: "G8PSS9T3V"}) || *ev.From != (platforms.User{ID: "U2CERLKJA", Username: "roadrunner"}) {
		t.Fatalf("%+v %+v %+v %+v", ev, ev.Message, ev.Chat, ev.From)
	}
	var raw map[string]string
	if err := json.Unmarshal(ev.Raw, &raw); err != nil || raw["command"] != "/webhook-collect" || raw["team_id"] != "T1DC2JH3J" {
		t.Fatalf("Raw %s: %v", ev.Raw, err)
	}
}

const message = `{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","team_id":"T061EG9R6","api_app_id":"A0123456789","type":"event_callback","event_id":"Ev0PV52K21","event_time":1700000000,` +
	`"event":{"type":"message","channel":"D0PNCRP9N","user":"U061F7AUR","text":"How many cats did we herd yesterday?","ts":"1700000000.000200","client_msg_id":"5fdb9e2c-4c2c-4e4a-9c1b-53b8e9f0d3b7","event_ts":"1700000000.000200","channel_type":"im"}}`

func TestVerify(t *testing.T) {
	t.Parallel()
	now := time.Unix(1700000000, 0)
	if rep, err := slack.New().Verify(signed(now, jsonType, message)); err != nil || rep != nil {
		t.Fatalf("reply %v, err %v", rep, err)
	}
	in := signed(now.Add(-4*time.Minute), jsonType, message)
	in.Now = now
	if _, err := slack.New().Verify(in); err != nil {
		t.Fatalf("4 minutes old: %v", err)
	}
}

func TestVerifyChallenge(t *testing.T) {
	t.Parallel()
	body := `{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`
	rep, err := slack.New().Verify(signed(time.Now(), jsonType, body))
	if err != nil {
		t.Fatal(err)
	}
	if rep == nil || rep.Status != 200 || rep.ContentType != "application/json" || string(rep.Body) != `{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}` {
		t.Fatalf("reply %+v", rep)
	}
	if evs, err := slack.New().Normalize(signed(time.Now(), jsonType, body)); err != nil || len(evs) != 0 {
		t.Fatalf("the challenge normalized: %v %v", evs, err)
	}
	// An unsigned challenge is not answered: that would confirm the URL
	// to anyone.
	in := signed(time.Now(), jsonType, body)
	in.Header.Set("X-Slack-Signature", signature("another", in.Header.Get("X-Slack-Request-Timestamp"), body))
	if rep, err := slack.New().Verify(in); err == nil || rep != nil {
		t.Fatalf("a forged challenge was answered: %v", rep)
	}
}

func TestVerifySSLCheck(t *testing.T) {
	t.Parallel()
	rep, err := slack.New().Verify(signed(time.Now(), formType, "ssl_check=1&token=Jhj5dZrVaK7ZwHHjRyZWjbDl"))
	if err != nil || rep == nil || rep.Status != 200 {
		t.Fatalf("reply %+v, err %v", rep, err)
	}
}

func TestVerifyRefused(t *testing.T) {
	t.Parallel()
	now := time.Unix(1700000000, 0)
	for _, tc := range []struct {
		name string
		in   func() *platforms.Inbound
	}{
		{"another secret", func() *platforms.Inbound {
			in := signed(now, jsonType, message)
			in.Header.Set("X-Slack-Signature", signature("0123456789abcdef", in.Header.Get("X-Slack-Request-Timestamp"), message))
			return in
		}},
		{"a changed body", func() *platforms.Inbound {
			in := signed(now, jsonType, message)
			in.Body = []byte(strings.Replace(message, "cats", "dogs", 1))
			return in
		}},
		{"a changed timestamp", func() *platforms.Inbound {
			in := signed(now, jsonType, message)
			in.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(now.Unix()-1, 10))
			return in
		}},
		{"a stale timestamp", func() *platforms.Inbound {
			in := signed(now.Add(-6*time.Minute), jsonType, message)
			in.Now = now
			return in
		}},
		{"a future timestamp", func() *platforms.Inbound {
			in := signed(now.Add(6*time.Minute), jsonType, message)
			in.Now = now
			return in
		}},
		{"a replay, later", func() *platforms.Inbound {
			in := signed(now, jsonType, message)
			in.Now = now.Add(time.Hour)
			return in
		}},
		{"no signature", func() *platforms.Inbound {
			in := signed(now, jsonType, message)
			in.Header.Del("X-Slack-Signature")
			return in
		}},
		{"no timestamp", func() *platforms.Inbound {
			in := signed(now, jsonType, message)
			in.Header.Del("X-Slack-Request-Timestamp")
			return in
		}},
		{"no headers at all", func() *platforms.Inbound {
			in := signed(now, jsonType, message)
			in.Header = nil
			return in
		}},
		{"another version", func() *platforms.Inbound {
			in := signed(now, jsonType, message)
			in.Header.Set("X-Slack-Signature", "v1="+strings.TrimPrefix(in.Header.Get("X-Slack-Signature"), "v0="))
			return in
		}},
		{"a signature not hex", func() *platforms.Inbound {
			in := signed(now, jsonType, message)
			in.Header.Set("X-Slack-Signature", "v0="+strings.Repeat("zz", 32))
			return in
		}},
		{"a short signature", func() *platforms.Inbound {
			in := signed(now, jsonType, message)
			in.Header.Set("X-Slack-Signature", in.Header.Get("X-Slack-Signature")[:60])
			return in
		}},
		{"a timestamp with a fraction", func() *platforms.Inbound {
			ts := strconv.FormatInt(now.Unix(), 10) + ".5"
			in := signed(now, jsonType, message)
			in.Header.Set("X-Slack-Request-Timestamp", ts)
			in.Header.Set("X-Slack-Signature", signature(secret, ts, message))
			return in
		}},
		{"a GET", func() *platforms.Inbound {
			in := signed(now, jsonType, message)
			in.Method = http.MethodGet
			return in
		}},
		{"no platform", func() *platforms.Inbound {
			in := signed(now, jsonType, message)
			in.Platform = nil
			return in
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep, err := slack.New().Verify(tc.in())
			if err == nil || rep != nil {
				t.Fatalf("accepted: reply %v, err %v", rep, err)
			}
		})
	}
}

func normalize(t *testing.T, contentType, body string) platforms.Event {
	t.Helper()
	in := signed(time.Now(), contentType, body)
	if _, err := slack.New().Verify(in); err != nil {
		t.Fatal(err)
	}
	evs, err := slack.New().Normalize(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	return evs[0]
}

func TestNormalizeMessage(t *testing.T) {
	t.Parallel()
	ev := normalize(t, jsonType, message)
	if ev.Type != platforms.EventMessageReceived || ev.DedupKey != "Ev0PV52K21" || !sameWithoutToken(ev.Raw, message) {
		t.Fatalf("Type %q DedupKey %q Raw %s", ev.Type, ev.DedupKey, ev.Raw)
	}
	want := platforms.Message{ID: "5fdb9e2c-4c2c-4e4a-9c1b-53b8e9f0d3b7", Text: "How many cats did we herd yesterday?", Timestamp: time.Unix(1700000000, 200000).UTC()}
	if *ev.Message != want {
		t.Fatalf("Message %+v, want %+v", ev.Message, want)
	}
	if *ev.Chat != (platforms.Chat{ID: "D0PNCRP9N", Type: "im"}) || *ev.From != (platforms.User{ID: "U061F7AUR"}) {
		t.Fatalf("Chat %+v From %+v", ev.Chat, ev.From)
	}
}

func TestNormalizeEdited(t *testing.T) {
	t.Parallel()
	body := `{"type":"event_callback","event_id":"Ev0PV52K22","event_time":1700000100,"team_id":"T1","event":{"type":"message","subtype":"message_changed","channel":"C123ABC456","channel_type":"channel",` +
		`"message":{"type":"message","user":"U061F7AUR","text":"How many dogs?","ts":"1700000000.000200","edited":{"user":"U061F7AUR","ts":"1700000100.000000"}},` +
		`"previous_message":{"type":"message","user":"U061F7AUR","text":"How many cats?","ts":"1700000000.000200"},"event_ts":"1700000100.000300","ts":"1700000100.000300"}}`
	ev := normalize(t, jsonType, body)
	if ev.Type != platforms.EventMessageEdited || ev.DedupKey != "Ev0PV52K22" {
		t.Fatalf("%+v", ev)
	}
	if *ev.Message != (platforms.Message{ID: "1700000000.000200", Text: "How many dogs?", Timestamp: time.Unix(1700000000, 200000).UTC()}) {
		t.Fatalf("Message %+v", ev.Message)
	}
	if *ev.Chat != (platforms.Chat{ID: "C123ABC456", Type: "channel"}) || ev.From.ID != "U061F7AUR" {
		t.Fatalf("Chat %+v From %+v", ev.Chat, ev.From)
	}
}

func TestNormalizeMention(t *testing.T) {
	t.Parallel()
	body := `{"type":"event_callback","event_id":"Ev0PV52K23","team_id":"T1","event":{"type":"app_mention","user":"W021FGA1Z","text":"<@U0LAN0Z89> is it everything?","ts":"1515449522.000016","channel":"C123ABC456","event_ts":"1515449522000016"}}`
	ev := normalize(t, jsonType, body)
	if ev.Type != platforms.EventMessageReceived || ev.Message.Text != "<@U0LAN0Z89> is it everything?" || ev.Message.ID != "1515449522.000016" ||
		*ev.Chat != (platforms.Chat{ID: "C123ABC456", Type: "channel"}) || ev.From.ID != "W021FGA1Z" {
		t.Fatalf("%+v %+v %+v %+v", ev, ev.Message, ev.Chat, ev.From)
	}
}

func TestNormalizePlatformEvents(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"type":"event_callback","event_id":"Ev1","event":{"type":"reaction_added","user":"U1","reaction":"thumbsup","item":{"type":"message","channel":"C1","ts":"1.2"}}}`,
		`{"type":"event_callback","event_id":"Ev1","event":{"type":"message","subtype":"bot_message","bot_id":"B1","text":"beep","ts":"1700000000.000100","channel":"C1"}}`,
		`{"type":"event_callback","event_id":"Ev1","event":{"type":"channel_created","channel":{"id":"C2","name":"new","creator":"U1"}}}`,
		`{"type":"event_callback","event_id":"Ev1","event":{"type":"user_change","user":{"id":"U1","name":"ann"}}}`,
	} {
		ev := normalize(t, jsonType, body)
		if ev.Type != platforms.EventPlatform || ev.DedupKey != "Ev1" || ev.Message != nil || string(ev.Raw) != body {
			t.Fatalf("%s: %+v", body, ev)
		}
	}
	ev := normalize(t, jsonType, `{"type":"event_callback","event_id":"Ev1","event":{"type":"channel_created","channel":{"id":"C2","name":"new"}}}`)
	if ev.Chat == nil || ev.Chat.ID != "C2" {
		t.Fatalf("a channel given as an object: %+v", ev.Chat)
	}
	ev = normalize(t, jsonType, `{"token":"x","team_id":"T1","minute_rate_limited":1518467820,"api_app_id":"A1","type":"app_rate_limited"}`)
	if ev.Type != platforms.EventPlatform || ev.DedupKey != "" {
		t.Fatalf("app_rate_limited: %+v", ev)
	}
}

func form(payload string) string { return url.Values{"payload": {payload}}.Encode() }

func TestNormalizeBlockActions(t *testing.T) {
	t.Parallel()
	payload := `{"type":"block_actions","team":{"id":"T9TK3CUKW","domain":"example"},"user":{"id":"UA8RXUSPL","username":"jtorrance","name":"jtorrance","team_id":"T9TK3CUKW"},` +
		`"api_app_id":"AABA1ABCD","token":"9s8d9as89d8as9d8as989","container":{"type":"message","message_ts":"1548261231.000200","channel_id":"CBR2V3XEX"},` +
		`"trigger_id":"12321423423.333649436676.d8c1bb837935619ccad0f624c448ffb3","channel":{"id":"CBR2V3XEX","name":"review-updates"},` +
		`"response_url":"https://hooks.slack.com/actions/AABA1ABCD/1232321423432/D09sSasdasdAS9091209",` +
		`"actions":[{"action_id":"approve_request","block_id":"=qXel","text":{"type":"plain_text","text":"Approve"},"value":"approve_42","type":"button","action_ts":"1548426417.840180"}]}`
	ev := normalize(t, formType, form(payload))
	if ev.Type != platforms.EventInteractionReceived || ev.DedupKey != "12321423423.333649436676.d8c1bb837935619ccad0f624c448ffb3" || !sameWithoutToken(ev.Raw, payload) {
		t.Fatalf("Type %q DedupKey %q Raw %s", ev.Type, ev.DedupKey, ev.Raw)
	}
	if ev.Message.Text != "approve_request" || ev.Message.ID != ev.DedupKey || !ev.Message.Timestamp.Equal(time.Unix(1548426417, 840180000)) {
		t.Fatalf("Message %+v", ev.Message)
	}
	if *ev.Chat != (platforms.Chat{ID: "CBR2V3XEX"}) || *ev.From != (platforms.User{ID: "UA8RXUSPL", Username: "jtorrance", Name: "jtorrance"}) {
		t.Fatalf("Chat %+v From %+v", ev.Chat, ev.From)
	}
}

func TestNormalizeViewSubmission(t *testing.T) {
	t.Parallel()
	payload := `{"type":"view_submission","team":{"id":"T1"},"user":{"id":"U2","username":"ann","name":"ann"},"trigger_id":"1111.2222.abc",` +
		`"view":{"id":"V123","type":"modal","callback_id":"feedback_modal","state":{"values":{}}}}`
	ev := normalize(t, formType, form(payload))
	if ev.Type != platforms.EventInteractionReceived || ev.Message.Text != "feedback_modal" || ev.DedupKey != "1111.2222.abc" || ev.Chat != nil || ev.From.ID != "U2" {
		t.Fatalf("%+v %+v", ev, ev.Message)
	}
}

func TestNormalizeShortcut(t *testing.T) {
	t.Parallel()
	payload := `{"type":"shortcut","token":"x","action_ts":"1581106241.371594","team":{"id":"T1"},"user":{"id":"U3","username":"bo","team_id":"T1"},"callback_id":"open_ticket","trigger_id":"944799105734.773906753841.38b5894552bdd4a780554ee59d1f3638"}`
	ev := normalize(t, formType, form(payload))
	if ev.Message.Text != "open_ticket" || ev.DedupKey != "944799105734.773906753841.38b5894552bdd4a780554ee59d1f3638" || ev.From.Username != "bo" {
		t.Fatalf("%+v %+v", ev, ev.Message)
	}
	// Without a trigger ID, the action's time tells retries apart.
	ev = normalize(t, formType, form(`{"type":"block_actions","user":{"id":"U3"},"actions":[{"value":"v1","action_ts":"1581106241.371594"}]}`))
	if ev.DedupKey != "1581106241.371594" || ev.Message.Text != "v1" {
		t.Fatalf("%+v %+v", ev, ev.Message)
	}
}

func TestNormalizeSlashCommand(t *testing.T) {
	t.Parallel()
	body := url.Values{
		"token": {"gIkuvaNzQIHg97ATvDxqgjtO"}, "team_id": {"T0001"}, "channel_id": {"C2147483705"}, "user_id": {"U2147483697"},
		"user_name": {"Steve"}, "command": {"/weather"}, "text": {"94070 tomorrow"}, "trigger_id": {"13345224609.738474920.8088930838d88f008e0"},
		"response_url": {"https://hooks.slack.com/commands/1234/5678"},
	}.Encode()
	ev := normalize(t, formType, body)
	if ev.Type != platforms.EventInteractionReceived || ev.Message.Text != "/weather 94070 tomorrow" || ev.DedupKey != "13345224609.738474920.8088930838d88f008e0" {
		t.Fatalf("%+v %+v", ev, ev.Message)
	}
	var raw map[string]string
	if err := json.Unmarshal(ev.Raw, &raw); err != nil || raw["text"] != "94070 tomorrow" || raw["response_url"] == "" {
		t.Fatalf("Raw %s: %v", ev.Raw, err)
	}
}

func TestNormalizeMalformed(t *testing.T) {
	t.Parallel()
	for ct, body := range map[string]string{
		jsonType: `{"type":"event_callback"`,
		formType: "payload=%7Bnot+json",
	} {
		if _, err := slack.New().Normalize(&platforms.Inbound{Header: http.Header{"Content-Type": {ct}}, Body: []byte(body)}); err == nil {
			t.Errorf("%s %q normalized", ct, body)
		}
	}
	if _, err := slack.New().Normalize(&platforms.Inbound{Header: http.Header{"Content-Type": {formType}}, Body: []byte("a=%zz")}); err == nil {
		t.Error("a broken form normalized")
	}
}

func FuzzVerify(f *testing.F) {
	now := time.Unix(1700000000, 0)
	f.Add([]byte(message), "1700000000", "", jsonType, true)
	f.Add([]byte(`{"type":"url_verification","challenge":"c"}`), "1700000000", "v0=00", jsonType, false)
	f.Add([]byte(form(`{"type":"block_actions","actions":[1,{"action_id":2}],"user":"U1","channel":["x"]}`)), "1699999800", "", formType, true)
	f.Add([]byte("command=%2Fx&text=&ssl_check=1"), "1700000200", "", "", true)
	f.Add([]byte(`{"type":"event_callback","event":{"type":"message","subtype":"message_changed","message":null}}`), "1700000000", "", "text/plain", true)
	f.Add([]byte(""), "", "", "", false)
	f.Fuzz(func(t *testing.T, body []byte, ts, sig, contentType string, sign bool) {
		if sign {
			sig = signature(secret, ts, string(body))
		}
		h := http.Header{}
		h.Set("X-Slack-Request-Timestamp", ts)
		h.Set("X-Slack-Signature", sig)
		h.Set("Content-Type", contentType)
		in := &platforms.Inbound{Method: http.MethodPost, Header: h, Body: body, Now: now, Platform: platform(false)}
		rep, err := slack.New().Verify(in)
		if err == nil {
			secs, perr := strconv.ParseInt(ts, 10, 64)
			d := now.Sub(time.Unix(secs, 0))
			if !strings.EqualFold(in.Header.Get("X-Slack-Signature"), signature(secret, ts, string(body))) ||
				perr != nil || d > 5*time.Minute || d < -5*time.Minute || strings.HasPrefix(ts, "+") {
				t.Fatalf("accepted without a valid, fresh signature: ts %q sig %q", ts, sig)
			}
		} else if rep != nil {
			t.Fatal("a reply with an error")
		}
		evs, err := slack.New().Normalize(in)
		if err == nil {
			for _, ev := range evs {
				if ev.Type == "" || (len(ev.Raw) > 0 && !json.Valid(ev.Raw)) {
					t.Fatalf("event %+v", ev)
				}
			}
		}
	})
}

// sameWithoutToken reports whether raw is want without its top-level
// verification token, which Normalize drops, and holds no "token" key.
func sameWithoutToken(raw json.RawMessage, want string) bool {
	var got, exp map[string]any
	if json.Unmarshal(raw, &got) != nil || json.Unmarshal([]byte(want), &exp) != nil {
		return false
	}
	if _, ok := got["token"]; ok {
		return false
	}
	delete(exp, "token")
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(exp)
	return string(a) == string(b)
}
