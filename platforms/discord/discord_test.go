package discord_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/platforms"
	"github.com/hookgate/hookgate/platforms/discord"
)

const (
	appID   = "1180000000000000001"
	token   = "MTE4MDAwMDAwMDAwMDAwMDAwMQ.Gx1y2z.secret-part_of-the-token"
	inbound = "https://hooks.example.test/in/plat_123"
	channel = "1180000000000000042"
)

// keys makes an application key pair, as Discord holds the private half.
func keys(t testing.TB) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

func creds(pub ed25519.PublicKey) json.RawMessage {
	b, _ := json.Marshal(map[string]string{
		"applicationId": appID, "publicKey": hex.EncodeToString(pub), "botToken": token,
	})
	return b
}

func platform(pub ed25519.PublicKey) *hookgate.Platform {
	return &hookgate.Platform{ID: "plat_123", Provider: "discord", Credentials: creds(pub)}
}

// signed is a post as Discord sends it: the signature covers the
// timestamp's text followed by the body.
func signed(priv ed25519.PrivateKey, pub ed25519.PublicKey, at time.Time, body string) *platforms.Inbound {
	ts := strconv.FormatInt(at.Unix(), 10)
	sig := ed25519.Sign(priv, []byte(ts+body))
	h := http.Header{}
	h.Set("X-Signature-Ed25519", hex.EncodeToString(sig))
	h.Set("X-Signature-Timestamp", ts)
	h.Set("Content-Type", "application/json")
	return &platforms.Inbound{Method: http.MethodPost, Header: h, Body: []byte(body), Now: at, Platform: platform(pub)}
}

// fakeDiscord checks every request as Discord would (the bot token, JSON)
// and hands it to handle.
func fakeDiscord(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, body map[string]any)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "Bot "+token {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"message": "401: Unauthorized", "code": 0}`)
			return
		}
		if !strings.HasPrefix(r.Header.Get("User-Agent"), "DiscordBot (") {
			t.Errorf("User-Agent = %q, want DiscordBot (url, version)", r.Header.Get("User-Agent"))
		}
		var body map[string]any
		if r.Method != http.MethodGet {
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				t.Errorf("body: %v", err)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		handle(w, r, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func call(pub ed25519.PublicKey, base string) *platforms.Call {
	return &platforms.Call{Client: &http.Client{}, BaseURL: base, Platform: platform(pub), InboundURL: inbound}
}

// application is a trimmed application object as Discord answers it,
// with fields Hookgate must not pass on.
func application(url any) string {
	b, _ := json.Marshal(map[string]any{
		"id": appID, "name": "Hookgate test", "verify_key": "abcd", "flags": 8388608,
		"owner":                     map[string]any{"id": "80351110224678912", "username": "owner"},
		"interactions_endpoint_url": url,
		"bot_public":                true,
	})
	return string(b)
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
	if strings.Contains(pe.Error(), token) {
		t.Fatalf("the error shows the token: %v", pe)
	}
	return pe
}

func TestNames(t *testing.T) {
	t.Parallel()
	p := discord.New()
	if p.Name() != "discord" || p.DefaultBaseURL() != "https://discord.com/api/v10" {
		t.Fatalf("Name %q, DefaultBaseURL %q", p.Name(), p.DefaultBaseURL())
	}
	if _, ok := p.(platforms.Acknowledger); !ok {
		t.Fatal("the provider is not an Acknowledger")
	}
}

func TestCheckCredentials(t *testing.T) {
	t.Parallel()
	pub, _ := keys(t)
	key := hex.EncodeToString(pub)
	in := `{"applicationId":" ` + appID + ` ","publicKey":"` + strings.ToUpper(key) + `","botToken":" ` + token + ` "}`
	got, err := discord.New().CheckCredentials(json.RawMessage(in))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"applicationId":"` + appID + `","publicKey":"` + key + `","botToken":"` + token + `"}`
	if string(got) != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
}

func TestCheckCredentialsRefused(t *testing.T) {
	t.Parallel()
	pub, _ := keys(t)
	key := hex.EncodeToString(pub)
	obj := func(id, pk, tok string) string {
		m := map[string]string{}
		for k, v := range map[string]string{"applicationId": id, "publicKey": pk, "botToken": tok} {
			if v != "-" {
				m[k] = v
			}
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	for _, tc := range []struct {
		name, creds, param, code string
	}{
		{"no application ID", obj("-", key, token), "credentials.applicationId", hookgate.EMissingParameter},
		{"empty application ID", obj("", key, token), "credentials.applicationId", hookgate.EMissingParameter},
		{"short application ID", obj("12345", key, token), "credentials.applicationId", hookgate.EInvalidParameter},
		{"application ID not digits", obj("11800000000000000x1", key, token), "credentials.applicationId", hookgate.EInvalidParameter},
		{"application ID beyond 64 bits", obj("99999999999999999999", key, token), "credentials.applicationId", hookgate.EInvalidParameter},
		{"no public key", obj(appID, "-", token), "credentials.publicKey", hookgate.EMissingParameter},
		{"public key of 31 bytes", obj(appID, key[:62], token), "credentials.publicKey", hookgate.EInvalidParameter},
		{"public key of 33 bytes", obj(appID, key+"00", token), "credentials.publicKey", hookgate.EInvalidParameter},
		{"public key not hex", obj(appID, "zz"+key[2:], token), "credentials.publicKey", hookgate.EInvalidParameter},
		{"no bot token", obj(appID, key, "-"), "credentials.botToken", hookgate.EMissingParameter},
		{"bot token with its prefix", obj(appID, key, "Bot "+token), "credentials.botToken", hookgate.EInvalidParameter},
		{"bot token with a newline", obj(appID, key, token+"\nX-Evil: 1"), "credentials.botToken", hookgate.EInvalidParameter},
		{"unknown field", `{"applicationId":"` + appID + `","publicKey":"` + key + `","botToken":"t","clientSecret":"s"}`, "credentials", hookgate.EInvalidParameter},
		{"not an object", `["x"]`, "credentials", hookgate.EInvalidParameter},
		{"application ID a number", `{"applicationId":1180000000000000001,"publicKey":"` + key + `","botToken":"t"}`, "credentials", hookgate.EInvalidParameter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := discord.New().CheckCredentials(json.RawMessage(tc.creds))
			var he *hookgate.Error
			if !errors.As(err, &he) {
				t.Fatalf("err = %v, want *hookgate.Error", err)
			}
			if he.Param != tc.param || he.Code != tc.code {
				t.Fatalf("Param %q Code %q, want %q %q (%v)", he.Param, he.Code, tc.param, tc.code, he)
			}
			if v, _ := json.Marshal(he.Value); strings.Contains(string(v)+he.Message, "secret-part") {
				t.Fatalf("the error echoes the token: %v %v", he.Value, he.Message)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	pub, _ := keys(t)
	got := platforms.Redact(discord.New(), creds(pub))
	want := `{"applicationId":"` + appID + `","publicKey":"` + hex.EncodeToString(pub) + `","botToken":"********"}`
	if string(got) != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	if got := platforms.Redact(discord.New(), json.RawMessage(`{"botToken":`)); strings.Contains(string(got), "botToken") {
		t.Fatalf("unreadable credentials: %s", got)
	}
}

func TestRegister(t *testing.T) {
	t.Parallel()
	pub, _ := keys(t)
	srv := fakeDiscord(t, func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		if r.Method != http.MethodPatch || r.URL.Path != "/applications/@me" {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		if len(body) != 1 || body["interactions_endpoint_url"] != inbound {
			t.Errorf("body = %v", body)
		}
		io.WriteString(w, application(inbound))
	})
	reg, err := discord.New().Register(context.Background(), call(pub, srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"` + appID + `","interactions_endpoint_url":"` + inbound + `"}`
	if !reg.Registered || string(reg.Response) != want || reg.Credentials != nil {
		t.Fatalf("Registered %v, Response %s, Credentials %s", reg.Registered, reg.Response, reg.Credentials)
	}
}

func TestRegisterRefused(t *testing.T) {
	t.Parallel()
	pub, _ := keys(t)
	srv := fakeDiscord(t, func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"message": "Invalid Form Body", "code": 50035, "errors": {"interactions_endpoint_url": {"_errors": [{"code": "APPLICATION_INTERACTIONS_ENDPOINT_URL_INVALID", "message": "The specified interactions endpoint url could not be verified."}]}}}`)
	})
	_, err := discord.New().Register(context.Background(), call(pub, srv.URL))
	pe := providerError(t, err, http.StatusBadRequest)
	want := "Invalid Form Body: interactions_endpoint_url: The specified interactions endpoint url could not be verified."
	if pe.Message != want {
		t.Fatalf("Message = %q\nwant %q", pe.Message, want)
	}
}

func TestRegisterUnauthorized(t *testing.T) {
	t.Parallel()
	pub, _ := keys(t)
	srv := fakeDiscord(t, func(http.ResponseWriter, *http.Request, map[string]any) {
		t.Error("the fake let a wrong token through")
	})
	c := call(pub, srv.URL)
	c.Platform.Credentials = json.RawMessage(`{"applicationId":"` + appID + `","publicKey":"` + hex.EncodeToString(pub) + `","botToken":"wrong"}`)
	_, err := discord.New().Register(context.Background(), c)
	if pe := providerError(t, err, http.StatusUnauthorized); pe.Message != "401: Unauthorized" {
		t.Fatalf("Message = %q", pe.Message)
	}
}

// A proxy in front of Discord may quote the request; the token must still
// not reach the user.
func TestRefusalScrubsToken(t *testing.T) {
	t.Parallel()
	pub, _ := keys(t)
	srv := fakeDiscord(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		w.WriteHeader(http.StatusForbidden)
		json.NewEncoder(w).Encode(map[string]any{"message": "refused " + r.Header.Get("Authorization"), "code": 40001})
	})
	_, err := discord.New().Register(context.Background(), call(pub, srv.URL))
	if pe := providerError(t, err, http.StatusForbidden); pe.Message != "refused Bot ********" {
		t.Fatalf("Message = %q", pe.Message)
	}
}

func TestRegisterUnreachable(t *testing.T) {
	t.Parallel()
	pub, _ := keys(t)
	_, err := discord.New().Register(context.Background(), call(pub, "http://127.0.0.1:9"))
	if pe := providerError(t, err, 0); pe.Message == "" {
		t.Fatal("no reason given")
	}
}

func TestUnregister(t *testing.T) {
	t.Parallel()
	pub, _ := keys(t)
	srv := fakeDiscord(t, func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		if r.Method != http.MethodPatch || r.URL.Path != "/applications/@me" {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		if v, ok := body["interactions_endpoint_url"]; !ok || v != nil || len(body) != 1 {
			t.Errorf("body = %v, want the URL set to null", body)
		}
		io.WriteString(w, application(nil))
	})
	resp, err := discord.New().Unregister(context.Background(), call(pub, srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"id":"` + appID + `","interactions_endpoint_url":null}`; string(resp) != want {
		t.Fatalf("Response %s, want %s", resp, want)
	}
}

func TestStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		url        any
		registered bool
		lastError  string
	}{
		{"registered", inbound, true, ""},
		{"another URL", "https://elsewhere.test/interactions", false, ""},
		{"none", nil, false, "interactions endpoint URL not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pub, _ := keys(t)
			srv := fakeDiscord(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
				if r.Method != http.MethodGet || r.URL.Path != "/applications/@me" {
					t.Errorf("%s %s", r.Method, r.URL.Path)
				}
				io.WriteString(w, application(tc.url))
			})
			st, err := discord.New().Status(context.Background(), call(pub, srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			url, _ := tc.url.(string)
			if st.URL != url || st.Registered != tc.registered || st.LastError != tc.lastError {
				t.Fatalf("%+v", st)
			}
			if strings.Contains(string(st.Response), "owner") {
				t.Fatalf("Response passes on the application object: %s", st.Response)
			}
		})
	}
}

func TestSend(t *testing.T) {
	t.Parallel()
	pub, _ := keys(t)
	srv := fakeDiscord(t, func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		if r.Method != http.MethodPost || r.URL.Path != "/channels/"+channel+"/messages" {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		if am, _ := body["allowed_mentions"].(map[string]any); len(body) != 2 || body["content"] != "hello, world" || am == nil || len(am["parse"].([]any)) != 0 {
			t.Errorf("body = %v (want the content and no mentions allowed)", body)
		}
		io.WriteString(w, `{"id":"1180000000000000099","channel_id":"`+channel+`","content":"hello, world","timestamp":"2023-11-25T10:00:00.000000+00:00","author":{"id":"`+appID+`","bot":true}}`)
	})
	sent, err := discord.New().Send(context.Background(), call(pub, srv.URL), channel, "hello, world")
	if err != nil {
		t.Fatal(err)
	}
	if sent.ProviderMessageID != "1180000000000000099" || !json.Valid(sent.Response) {
		t.Fatalf("%+v", sent)
	}
}

func TestSendRefused(t *testing.T) {
	t.Parallel()
	pub, _ := keys(t)
	srv := fakeDiscord(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"message": "Missing Access", "code": 50001}`)
	})
	_, err := discord.New().Send(context.Background(), call(pub, srv.URL), channel, "hi")
	if pe := providerError(t, err, http.StatusForbidden); pe.Message != "Missing Access" || pe.RetryAfter != 0 {
		t.Fatalf("%+v", pe)
	}
}

func TestSendRateLimited(t *testing.T) {
	t.Parallel()
	pub, _ := keys(t)
	for _, tc := range []struct {
		name, header, body string
		want               time.Duration
	}{
		{"retry_after in the body", "2", `{"message": "You are being rate limited.", "retry_after": 1.5, "global": false}`, 1500 * time.Millisecond},
		{"Retry-After alone", "3", `<html>Cloudflare</html>`, 3 * time.Second},
		{"an absurd wait", "", `{"message": "You are being rate limited.", "retry_after": 1e300}`, 24 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := fakeDiscord(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
				if tc.header != "" {
					w.Header().Set("Retry-After", tc.header)
				}
				w.WriteHeader(http.StatusTooManyRequests)
				io.WriteString(w, tc.body)
			})
			_, err := discord.New().Send(context.Background(), call(pub, srv.URL), channel, "hi")
			if pe := providerError(t, err, http.StatusTooManyRequests); pe.RetryAfter != tc.want {
				t.Fatalf("RetryAfter = %v, want %v (%v)", pe.RetryAfter, tc.want, pe)
			}
		})
	}
}

func TestSendRefusesOtherPaths(t *testing.T) {
	t.Parallel()
	pub, _ := keys(t)
	srv := fakeDiscord(t, func(http.ResponseWriter, *http.Request, map[string]any) {
		t.Error("a request was sent")
	})
	for _, to := range []string{"", "../users/@me", channel + "/../../x", "12"} {
		_, err := discord.New().Send(context.Background(), call(pub, srv.URL), to, "hi")
		var he *hookgate.Error
		if !errors.As(err, &he) || he.Param != "to" {
			t.Fatalf("to %q: err = %v", to, err)
		}
	}
}

const command = `{"id":"1180000000000000100","application_id":"` + appID + `","type":2,"token":"aW50ZXJhY3Rpb24","version":1,` +
	`"guild_id":"1180000000000000200","channel_id":"` + channel + `",` +
	`"member":{"user":{"id":"80351110224678912","username":"nelly","global_name":"Nelly"},"roles":[]},` +
	`"data":{"id":"1180000000000000300","name":"deploy","type":1,"options":[{"name":"env","type":3,"value":"prod"},{"name":"replicas","type":4,"value":3},{"name":"force","type":5,"value":true}]}}`

func TestVerify(t *testing.T) {
	t.Parallel()
	pub, priv := keys(t)
	now := time.Unix(1700000000, 0)
	rep, err := discord.New().Verify(signed(priv, pub, now, command))
	if err != nil || rep != nil {
		t.Fatalf("reply %v, err %v", rep, err)
	}
	// The timestamp may be a little off either way.
	in := signed(priv, pub, now.Add(-4*time.Minute), command)
	in.Now = now
	if _, err := discord.New().Verify(in); err != nil {
		t.Fatalf("4 minutes old: %v", err)
	}
}

func TestVerifyPing(t *testing.T) {
	t.Parallel()
	pub, priv := keys(t)
	rep, err := discord.New().Verify(signed(priv, pub, time.Now(), `{"id":"1180000000000000100","application_id":"`+appID+`","type":1,"token":"x","version":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if rep == nil || rep.Status != 200 || rep.ContentType != "application/json" || string(rep.Body) != `{"type":1}` {
		t.Fatalf("reply %+v", rep)
	}
}

func TestVerifyRefused(t *testing.T) {
	t.Parallel()
	pub, priv := keys(t)
	_, otherPriv := keys(t)
	now := time.Unix(1700000000, 0)
	ping := `{"type":1}`
	for _, tc := range []struct {
		name string
		in   func() *platforms.Inbound
	}{
		{"another key's signature", func() *platforms.Inbound { return signed(otherPriv, pub, now, ping) }},
		{"a changed body", func() *platforms.Inbound {
			in := signed(priv, pub, now, command)
			in.Body = []byte(strings.Replace(command, "prod", "dev!", 1))
			return in
		}},
		{"a changed timestamp", func() *platforms.Inbound {
			in := signed(priv, pub, now, ping)
			in.Header.Set("X-Signature-Timestamp", strconv.FormatInt(now.Unix()+1, 10))
			return in
		}},
		{"a stale timestamp", func() *platforms.Inbound {
			in := signed(priv, pub, now.Add(-6*time.Minute), ping)
			in.Now = now
			return in
		}},
		{"a future timestamp", func() *platforms.Inbound {
			in := signed(priv, pub, now.Add(6*time.Minute), ping)
			in.Now = now
			return in
		}},
		{"a replay, later", func() *platforms.Inbound {
			in := signed(priv, pub, now, command)
			in.Now = now.Add(10 * time.Minute)
			return in
		}},
		{"no signature", func() *platforms.Inbound {
			in := signed(priv, pub, now, ping)
			in.Header.Del("X-Signature-Ed25519")
			return in
		}},
		{"no timestamp", func() *platforms.Inbound {
			in := signed(priv, pub, now, ping)
			in.Header.Del("X-Signature-Timestamp")
			return in
		}},
		{"no headers at all", func() *platforms.Inbound {
			in := signed(priv, pub, now, ping)
			in.Header = nil
			return in
		}},
		{"a signature not hex", func() *platforms.Inbound {
			in := signed(priv, pub, now, ping)
			in.Header.Set("X-Signature-Ed25519", strings.Repeat("zz", 64))
			return in
		}},
		{"a short signature", func() *platforms.Inbound {
			in := signed(priv, pub, now, ping)
			in.Header.Set("X-Signature-Ed25519", in.Header.Get("X-Signature-Ed25519")[:126])
			return in
		}},
		{"a timestamp not in seconds", func() *platforms.Inbound {
			in := signed(priv, pub, now, ping)
			in.Header.Set("X-Signature-Timestamp", "2023-11-14T22:13:20Z")
			return in
		}},
		{"a GET", func() *platforms.Inbound {
			in := signed(priv, pub, now, ping)
			in.Method = http.MethodGet
			return in
		}},
		{"unreadable credentials", func() *platforms.Inbound {
			in := signed(priv, pub, now, ping)
			in.Platform.Credentials = json.RawMessage(`{"publicKey":"00"}`)
			return in
		}},
		{"no platform", func() *platforms.Inbound {
			in := signed(priv, pub, now, ping)
			in.Platform = nil
			return in
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep, err := discord.New().Verify(tc.in())
			if err == nil || rep != nil {
				t.Fatalf("accepted: reply %v, err %v", rep, err)
			}
		})
	}
}

func TestAck(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		`{"type":2}`: `{"type":5}`,
		`{"type":3}`: `{"type":6}`,
		`{"type":4}`: `{"type":8,"data":{"choices":[]}}`,
		`{"type":5}`: `{"type":5}`,
		`{"type":1}`: "",
		`{"type":9}`: "",
		`not json`:   "",
	} {
		rep := discord.New().(platforms.Acknowledger).Ack(&platforms.Inbound{Body: []byte(body)})
		switch {
		case want == "" && rep != nil:
			t.Errorf("%s: reply %s, want none", body, rep.Body)
		case want != "" && (rep == nil || rep.Status != 200 || rep.ContentType != "application/json" || string(rep.Body) != want):
			t.Errorf("%s: reply %+v, want %s", body, rep, want)
		}
	}
}

func normalize(t *testing.T, body string) []platforms.Event {
	t.Helper()
	pub, priv := keys(t)
	in := signed(priv, pub, time.Now(), body)
	if _, err := discord.New().Verify(in); err != nil {
		t.Fatal(err)
	}
	evs, err := discord.New().Normalize(in)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func one(t *testing.T, evs []platforms.Event) platforms.Event {
	t.Helper()
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	return evs[0]
}

func TestNormalizeCommand(t *testing.T) {
	t.Parallel()
	ev := one(t, normalize(t, command))
	if ev.Type != platforms.EventInteractionReceived || ev.DedupKey != "1180000000000000100" || string(ev.Raw) != command {
		t.Fatalf("Type %q DedupKey %q Raw %s", ev.Type, ev.DedupKey, ev.Raw)
	}
	// 1180000000000000100 >> 22 is 281333923339 ms after 2015-01-01.
	wantTime := time.UnixMilli(1420070400000 + 281333923339).UTC()
	if ev.Message.ID != "1180000000000000100" || ev.Message.Text != "deploy env=prod replicas=3 force=true" || !ev.Message.Timestamp.Equal(wantTime) {
		t.Fatalf("Message %+v, want time %v", ev.Message, wantTime)
	}
	if *ev.Chat != (platforms.Chat{ID: channel, Type: "guild"}) {
		t.Fatalf("Chat %+v", ev.Chat)
	}
	if *ev.From != (platforms.User{ID: "80351110224678912", Name: "Nelly", Username: "nelly"}) {
		t.Fatalf("From %+v", ev.From)
	}
}

// The example of Discord's snowflake documentation.
func TestNormalizeTimestamp(t *testing.T) {
	t.Parallel()
	ev := one(t, normalize(t, `{"id":"175928847299117063","type":2,"channel_id":"`+channel+`","user":{"id":"1"},"data":{"name":"x"}}`))
	if want := time.Date(2016, 4, 30, 11, 18, 25, 796e6, time.UTC); !ev.Message.Timestamp.Equal(want) {
		t.Fatalf("Timestamp %v, want %v", ev.Message.Timestamp, want)
	}
}

func TestNormalizeSubcommand(t *testing.T) {
	t.Parallel()
	ev := one(t, normalize(t, `{"id":"1180000000000000101","type":2,"channel_id":"`+channel+`","user":{"id":"42","username":"ann","global_name":null},`+
		`"data":{"name":"config","options":[{"name":"set","type":1,"options":[{"name":"key","type":3,"value":"tz"},{"name":"big","type":4,"value":12345678901234567890}]}]}}`))
	if ev.Message.Text != "config set key=tz big=12345678901234567890" {
		t.Fatalf("Text %q", ev.Message.Text)
	}
	if *ev.Chat != (platforms.Chat{ID: channel, Type: "dm"}) || *ev.From != (platforms.User{ID: "42", Username: "ann"}) {
		t.Fatalf("Chat %+v From %+v", ev.Chat, ev.From)
	}
}

func TestNormalizeComponent(t *testing.T) {
	t.Parallel()
	ev := one(t, normalize(t, `{"id":"1180000000000000102","type":3,"channel_id":"`+channel+`","user":{"id":"42","username":"ann","global_name":"Ann"},`+
		`"message":{"id":"1180000000000000001"},"data":{"custom_id":"approve:77","component_type":2}}`))
	if ev.Type != platforms.EventInteractionReceived || ev.Message.Text != "approve:77" || ev.Chat.Type != "dm" || ev.From.Name != "Ann" {
		t.Fatalf("%+v %+v %+v", ev, ev.Message, ev.From)
	}
}

func TestNormalizeModalSubmit(t *testing.T) {
	t.Parallel()
	ev := one(t, normalize(t, `{"id":"1180000000000000103","type":5,"guild_id":"1180000000000000200","channel":{"id":"`+channel+`"},`+
		`"member":{"user":{"id":"7","username":"bo"}},"data":{"custom_id":"feedback","components":[{"type":1,"components":[{"type":4,"custom_id":"text","value":"great"}]}]}}`))
	if ev.Message.Text != "feedback" || *ev.Chat != (platforms.Chat{ID: channel, Type: "guild"}) || ev.From.ID != "7" {
		t.Fatalf("%+v %+v %+v", ev.Message, ev.Chat, ev.From)
	}
}

func TestNormalizeAutocomplete(t *testing.T) {
	t.Parallel()
	ev := one(t, normalize(t, `{"id":"1180000000000000104","type":4,"channel_id":"`+channel+`","user":{"id":"42"},`+
		`"data":{"name":"deploy","options":[{"name":"env","type":3,"value":"pr","focused":true}]}}`))
	if ev.Type != platforms.EventInteractionReceived || ev.Message.Text != "deploy env=pr" {
		t.Fatalf("%+v %+v", ev, ev.Message)
	}
}

func TestNormalizeOthers(t *testing.T) {
	t.Parallel()
	if evs := normalize(t, `{"id":"1180000000000000105","type":1}`); len(evs) != 0 {
		t.Fatalf("PING: %d events", len(evs))
	}
	if ev := one(t, normalize(t, `{"id":"1180000000000000106","type":42}`)); ev.Type != platforms.EventPlatform || ev.DedupKey != "1180000000000000106" {
		t.Fatalf("unknown type: %+v", ev)
	}
	if _, err := discord.New().Normalize(&platforms.Inbound{Body: []byte(`{"type":`)}); err == nil {
		t.Fatal("malformed JSON normalized")
	}
	if _, err := discord.New().Normalize(&platforms.Inbound{Body: []byte(`{"type":2,"data":{"options":"x"}}`)}); err == nil {
		t.Fatal("mistyped JSON normalized")
	}
}

func FuzzVerify(f *testing.F) {
	seed := time.Unix(1700000000, 0)
	f.Add([]byte(command), "1700000000", "", true)
	f.Add([]byte(`{"type":1}`), "1700000000", strings.Repeat("00", 64), false)
	f.Add([]byte(`{"type":3,"data":{"custom_id":1}}`), "1699999000", "", true)
	f.Add([]byte(`{"type":2,"data":{"options":[{"name":"a","options":[{"name":"b","value":null}]}]}}`), "1700000100", "", true)
	f.Add([]byte(""), "", "", false)
	f.Add([]byte("\x00"), "-1", "zz", false)
	pub, priv := keys(f)
	f.Fuzz(func(t *testing.T, body []byte, ts, sig string, sign bool) {
		if sign {
			sig = hex.EncodeToString(ed25519.Sign(priv, append([]byte(ts), body...)))
		}
		h := http.Header{}
		h.Set("X-Signature-Ed25519", sig)
		h.Set("X-Signature-Timestamp", ts)
		in := &platforms.Inbound{Method: http.MethodPost, Header: h, Body: body, Now: seed, Platform: platform(pub)}
		rep, err := discord.New().Verify(in)
		if err == nil {
			raw, _ := hex.DecodeString(in.Header.Get("X-Signature-Ed25519"))
			secs, perr := strconv.ParseInt(ts, 10, 64)
			d := seed.Sub(time.Unix(secs, 0))
			if len(raw) != ed25519.SignatureSize || !ed25519.Verify(pub, append([]byte(ts), body...), raw) ||
				perr != nil || d > 5*time.Minute || d < -5*time.Minute {
				t.Fatalf("accepted without a valid, fresh signature: ts %q sig %q", ts, sig)
			}
		} else if rep != nil {
			t.Fatal("a reply with an error")
		}
		evs, err := discord.New().Normalize(in)
		if err == nil {
			for _, ev := range evs {
				if ev.Type == "" || (len(ev.Raw) > 0 && !json.Valid(ev.Raw)) {
					t.Fatalf("event %+v", ev)
				}
			}
		}
		discord.New().(platforms.Acknowledger).Ack(in)
	})
}
