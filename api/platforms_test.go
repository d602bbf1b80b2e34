package api_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/api"
	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/platforms/providers"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

const publicURL = "https://hooks.example.invalid"

// withPlatforms gives the API every provider and a public URL.
func withPlatforms(c *api.Config) {
	c.Providers = providers.All()
	c.PublicURL = publicURL
}

const botToken = apitest.BotToken

// post sends a raw request to a path of the API.
func (e *env) post(path string, header map[string]string, body []byte) resp {
	e.t.Helper()
	r, err := http.NewRequest("POST", e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	return e.send(r)
}

func inboundPath(id string) string { return "/inbound/" + id }

func (e *env) events(t *testing.T, project, key, typ string) []map[string]any {
	t.Helper()
	return e.req("GET", "/api/v1/projects/"+project+"/events?type="+typ, key, nil).must(t, 200).items(t)
}

func TestPlatformCRUD(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback, withPlatforms)
		_, owner, pub := e.project("plat")
		_, owner2, _ := e.project("other")
		path := "/api/v1/projects/plat/platforms"

		for _, c := range []struct {
			body  map[string]any
			code  string
			param string
		}{
			{map[string]any{"provider": "icq", "credentials": map[string]any{}}, "invalid_parameter", "provider"},
			{map[string]any{"provider": "telegram"}, "missing_parameter", "credentials"},
			{map[string]any{"provider": "telegram", "credentials": map[string]any{}}, "missing_parameter", "credentials.botToken"},
			{map[string]any{"provider": "telegram", "credentials": map[string]any{"botToken": "nope"}}, "invalid_parameter", "credentials.botToken"},
			{map[string]any{"provider": "discord", "credentials": map[string]any{"applicationId": "123456789012345678", "publicKey": "abcd", "botToken": "x"}}, "invalid_parameter", "credentials.publicKey"},
			{map[string]any{"provider": "telegram", "credentials": map[string]any{"botToken": botToken}, "apiBaseUrl": "ftp://x"}, "invalid_parameter", "apiBaseUrl"},
		} {
			e.req("POST", path, owner, c.body).problem(t, 400, c.code, c.param)
		}
		p := e.req("POST", path, owner, map[string]any{"provider": "telegram", "name": "Support bot", "credentials": map[string]any{"botToken": botToken}}).must(t, 201)
		id := p.str("id")
		if p.str("inboundUrl") != publicURL+"/inbound/"+id || p.Body["registered"] != false || p.Body["lastInboundAt"] != nil ||
			p.Body["credentials"].(map[string]any)["botToken"] != "********" || strings.Contains(string(p.Raw), botToken) {
			t.Fatalf("created = %s", p.Raw)
		}
		if g := e.req("GET", path+"/"+id, owner, nil).must(t, 200); g.str("name") != "Support bot" || strings.Contains(string(g.Raw), botToken) {
			t.Fatalf("read = %s", g.Raw)
		}
		if ids := e.req("GET", path, owner, nil).must(t, 200).ids(t); len(ids) != 1 || ids[0] != id {
			t.Fatalf("list = %v", ids)
		}
		// Sent back redacted, the token stays.
		e.req("PATCH", path+"/"+id, owner, map[string]any{"name": "Renamed", "credentials": map[string]any{"botToken": "********"}}).must(t, 200)
		e.req("GET", path+"/"+id, pub, nil).problem(t, 403, "forbidden", "")
		e.req("GET", "/api/v1/projects/other/platforms/"+id, owner2, nil).problem(t, 404, "not_found", "")
		e.req("GET", "/api/v1/projects/plat/platforms/"+id, owner2, nil).problem(t, 404, "not_found", "")
		e.req("POST", path+"/plat_01jz0000000000000000000000/register-webhook", owner, nil).problem(t, 404, "not_found", "")
		e.req("POST", "/api/v1/projects/other/platforms/"+id+"/register-webhook", owner2, nil).problem(t, 404, "not_found", "")
		// Unsigned, refused from its headers, its body unread.
		e.post(inboundPath(id), nil, bytes.Repeat([]byte("x"), 1<<20+1)).problem(t, 401, "unauthorized", "")
		e.req("DELETE", path+"/"+id, owner, nil).must(t, 204)
		// A deleted or unknown ID is answered as an unsigned post is.
		e.post(inboundPath(id), nil, []byte(`{}`)).problem(t, 401, "unauthorized", "")
		e.post(inboundPath("plat_nothing"), nil, []byte(`{}`)).problem(t, 401, "unauthorized", "")

		// Without an allow-list a loopback API is refused, as webhook URLs are.
		strict := setup(t, engine, withPlatforms)
		_, o, _ := strict.project("plat")
		strict.req("POST", path, o, map[string]any{"provider": "telegram", "credentials": map[string]any{"botToken": botToken},
			"apiBaseUrl": "http://127.0.0.1:9"}).problem(t, 400, "invalid_parameter", "apiBaseUrl")
	})
}

// Telegram end to end: register with the fake Bot API, see its status,
// receive a verified update that fans out to a webhook, refuse forged and
// replayed ones, send a message (with one 429), unregister.
func TestTelegramEndToEnd(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setupDelivering(t, engine, withPlatforms)

		tg := apitest.NewFakeTelegram(t)
		_, owner, pub := e.project("tg")
		recv, got := receiver(t, func(rw http.ResponseWriter, _ *http.Request) { rw.WriteHeader(204) })
		e.webhook("tg", owner, map[string]any{"url": recv.URL, "events": []string{"message.*"}})
		id := e.req("POST", "/api/v1/projects/tg/platforms", owner, map[string]any{"provider": "telegram",
			"credentials": map[string]any{"botToken": botToken}, "apiBaseUrl": tg.URL}).must(t, 201).str("id")
		base := "/api/v1/projects/tg/platforms/" + id

		st := e.req("GET", base+"/webhook-status", owner, nil).must(t, 200)
		if st.Body["registered"] != false || st.str("lastError") != "webhook URL not set" {
			t.Fatalf("status before = %s", st.Raw)
		}
		r := e.req("POST", base+"/register-webhook", owner, nil).must(t, 200)
		url, secret := tg.Registered(), tg.RegisteredSecret()
		if r.Body["registered"] != true || r.str("inboundUrl") != publicURL+"/inbound/"+id || url != r.str("inboundUrl") || len(secret) < 20 {
			t.Fatalf("register = %s; fake has %q %q", r.Raw, url, secret)
		}
		if strings.Contains(string(r.Raw), botToken) || strings.Contains(string(r.Raw), secret) {
			t.Fatalf("register answer holds a secret: %s", r.Raw)
		}
		if st := e.req("GET", base+"/webhook-status", owner, nil).must(t, 200); st.Body["registered"] != true || st.Body["pendingUpdates"].(float64) != 3 {
			t.Fatalf("status after = %s", st.Raw)
		}

		update := []byte(`{"update_id":1001,"message":{"message_id":7,"date":1764590000,"text":"hello bot",
			"chat":{"id":42,"type":"private"},"from":{"id":42,"first_name":"Ada","last_name":"L","username":"ada"}}}`)
		signed := map[string]string{"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret}
		e.post(inboundPath(id), signed, update).must(t, 200)
		e.post(inboundPath(id), signed, update).must(t, 200) // Telegram's retry: no second event
		e.post(inboundPath(id), map[string]string{"X-Telegram-Bot-Api-Secret-Token": "forged"}, update).problem(t, 401, "unauthorized", "")
		e.post(inboundPath(id), nil, update).problem(t, 401, "unauthorized", "")

		evs := e.events(t, "tg", owner, "message.received")
		if len(evs) != 1 {
			t.Fatalf("%d message.received events, want 1", len(evs))
		}
		var data struct {
			Platform struct{ ID, Provider string }
			Message  struct{ ID, Text string }
			Chat     struct{ ID, Type string }
			From     struct{ ID, Name, Username string }
			Raw      map[string]any
		}
		b, _ := json.Marshal(evs[0]["data"])
		_ = json.Unmarshal(b, &data)
		if data.Platform.ID != id || data.Platform.Provider != "telegram" || data.Message.ID != "7" || data.Message.Text != "hello bot" ||
			data.Chat.ID != "42" || data.Chat.Type != "private" || data.From.Username != "ada" || data.From.Name != "Ada L" || data.Raw["update_id"] == nil {
			t.Fatalf("data = %s", b)
		}
		testwait.For(t, "the message.received event at the webhook", func() bool { return len(got()) == 1 })
		if g := got()[0]; !bytes.Contains(g.body, []byte(`"type":"message.received"`)) || !bytes.Contains(g.body, []byte("hello bot")) {
			t.Fatalf("the webhook got %s", g.body)
		}
		testwait.For(t, "the platform's lastInboundAt", func() bool {
			return e.req("GET", base, owner, nil).must(t, 200).Body["lastInboundAt"] != nil
		})

		// Sending: one 429 is waited out and retried.
		tg.LimitOnce.Store(true)
		m := e.req("POST", "/api/v1/projects/tg/messages", pub, map[string]any{"platformId": id, "to": "42", "text": "hi there"}).must(t, 201)
		if m.str("status") != "sent" || m.str("providerMessageId") != "101" {
			t.Fatalf("message = %s", m.Raw)
		}
		e.req("POST", "/api/v1/projects/tg/messages", pub, map[string]any{"platformId": id, "to": "blocked", "text": "hi"}).problem(t, 502, "provider_error", "")
		e.req("POST", "/api/v1/projects/tg/messages", pub, map[string]any{"platformId": "plat_nope", "to": "1", "text": "hi"}).problem(t, 400, "invalid_parameter", "platformId")
		list := e.req("GET", "/api/v1/projects/tg/messages", owner, nil).must(t, 200).items(t)
		if len(list) != 2 || list[0]["status"] != "failed" || !strings.Contains(list[0]["error"].(string), "blocked") || list[1]["status"] != "sent" {
			t.Fatalf("messages = %v", list)
		}

		// Refused and unreachable: 502, the token never echoed.
		tg.Refuse.Store(true)
		rf := e.req("POST", base+"/register-webhook", owner, nil).problem(t, 502, "provider_error", "")
		if strings.Contains(string(rf.Raw), botToken) || !strings.Contains(rf.str("detail"), "Unauthorized") {
			t.Fatalf("refusal = %s", rf.Raw)
		}
		tg.Refuse.Store(false)
		e.req("POST", base+"/unregister-webhook", owner, nil).must(t, 200)
		if url := tg.Registered(); url != "" {
			t.Fatalf("still registered at %q", url)
		}
		// Another host takes the token only sent again (issue 21, item 3).
		e.req("PATCH", base, owner, map[string]any{"apiBaseUrl": "http://127.0.0.1:9", "credentials": map[string]any{"botToken": botToken}}).must(t, 200)
		if u := e.req("POST", base+"/register-webhook", owner, nil).problem(t, 502, "provider_error", ""); strings.Contains(string(u.Raw), botToken) {
			t.Fatalf("unreachable = %s", u.Raw)
		}
	})
}

// Discord: a signed PING is answered {"type":1}, a bad signature 401, a
// command becomes interaction.received and is acknowledged as deferred.
func TestDiscordInbound(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback, withPlatforms)
		_, owner, _ := e.project("dc")
		pubKey, key, _ := ed25519.GenerateKey(rand.Reader)
		id := e.req("POST", "/api/v1/projects/dc/platforms", owner, map[string]any{"provider": "discord",
			"credentials": map[string]any{"applicationId": "123456789012345678", "publicKey": hex.EncodeToString(pubKey), "botToken": "bot-token-1"}}).must(t, 201).str("id")
		sign := func(body string, at time.Time) map[string]string {
			ts := strconv.FormatInt(at.Unix(), 10)
			return map[string]string{"Content-Type": "application/json", "X-Signature-Timestamp": ts,
				"X-Signature-Ed25519": hex.EncodeToString(ed25519.Sign(key, []byte(ts+body)))}
		}
		ping := `{"id":"1","type":1,"application_id":"123456789012345678"}`
		if r := e.post(inboundPath(id), sign(ping, time.Now()), []byte(ping)).must(t, 200); strings.TrimSpace(string(r.Raw)) != `{"type":1}` {
			t.Fatalf("PING answer %s", r.Raw)
		}
		bad := sign(ping, time.Now())
		bad["X-Signature-Ed25519"] = hex.EncodeToString(make([]byte, 64))
		e.post(inboundPath(id), bad, []byte(ping)).problem(t, 401, "unauthorized", "")
		e.post(inboundPath(id), sign(ping, time.Now().Add(-time.Hour)), []byte(ping)).problem(t, 401, "unauthorized", "")
		cmd := `{"id":"1186000000000000001","type":2,"channel_id":"555","guild_id":"777","data":{"name":"status"},
			"member":{"user":{"id":"999","username":"ada","global_name":"Ada"}}}`
		r := e.post(inboundPath(id), sign(cmd, time.Now()), []byte(cmd)).must(t, 200)
		if !strings.Contains(string(r.Raw), `"type":5`) {
			t.Fatalf("command answer %s", r.Raw)
		}
		e.post(inboundPath(id), sign(cmd, time.Now()), []byte(cmd)).must(t, 200) // a retry
		if evs := e.events(t, "dc", owner, "interaction.received"); len(evs) != 1 {
			t.Fatalf("%d interaction events", len(evs))
		}
	})
}

// WhatsApp: the hub challenge with the verify token, signed posts, a
// message and a receipt.
func TestWhatsAppInbound(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback, withPlatforms)
		_, owner, _ := e.project("wa")
		p := e.req("POST", "/api/v1/projects/wa/platforms", owner, map[string]any{"provider": "whatsapp",
			"credentials": map[string]any{"appId": "1234567890", "appSecret": "app-secret-xyz", "accessToken": "EAAB-token", "verifyToken": "verify-me-0123456789"}}).must(t, 201)
		id := p.str("id")
		ok := e.req("GET", inboundPath(id)+"?hub.mode=subscribe&hub.verify_token=verify-me-0123456789&hub.challenge=1158201444", "", nil).must(t, 200)
		if string(ok.Raw) != "1158201444" {
			t.Fatalf("challenge answer %q", ok.Raw)
		}
		e.req("GET", inboundPath(id)+"?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1", "", nil).problem(t, 401, "unauthorized", "")
		body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
			"metadata":{"display_phone_number":"15550000000","phone_number_id":"111"},"contacts":[{"profile":{"name":"Ada"},"wa_id":"4915112345678"}],
			"messages":[{"from":"4915112345678","id":"wamid.ABC","timestamp":"1764590000","type":"text","text":{"body":"hallo"}}]}},
			{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"111"},
			"statuses":[{"id":"wamid.OUT","status":"delivered","timestamp":"1764590001","recipient_id":"4915112345678"}]}}]}]}`)
		mac := hmac.New(sha256.New, []byte("app-secret-xyz"))
		mac.Write(body)
		sig := map[string]string{"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + hex.EncodeToString(mac.Sum(nil))}
		e.post(inboundPath(id), sig, body).must(t, 200)
		e.post(inboundPath(id), sig, body).must(t, 200)
		e.post(inboundPath(id), map[string]string{"X-Hub-Signature-256": "sha256=00"}, body).problem(t, 401, "unauthorized", "")
		if n, s := len(e.events(t, "wa", owner, "message.received")), len(e.events(t, "wa", owner, "message.status")); n != 1 || s != 1 {
			t.Fatalf("%d messages and %d receipts, want 1 and 1", n, s)
		}
	})
}

// Slack: url_verification after a valid signature, stale timestamps
// refused, an event_callback becomes message.received once.
func TestSlackInbound(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback, withPlatforms)
		_, owner, _ := e.project("sl")
		id := e.req("POST", "/api/v1/projects/sl/platforms", owner, map[string]any{"provider": "slack",
			"credentials": map[string]any{"signingSecret": "8f742231b10e8888abcd99yyyzzz85a5", "botToken": "xoxb-1-2-abc"}}).must(t, 201).str("id")
		sign := func(body string, at time.Time) map[string]string {
			ts := strconv.FormatInt(at.Unix(), 10)
			mac := hmac.New(sha256.New, []byte("8f742231b10e8888abcd99yyyzzz85a5"))
			mac.Write([]byte("v0:" + ts + ":" + body))
			return map[string]string{"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + hex.EncodeToString(mac.Sum(nil))}
		}
		chal := `{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`
		if r := e.post(inboundPath(id), sign(chal, time.Now()), []byte(chal)).must(t, 200); r.str("challenge") != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
			t.Fatalf("challenge answer %s", r.Raw)
		}
		ev := `{"type":"event_callback","event_id":"Ev123","event_time":1764590000,"team_id":"T1","event":{"type":"message","channel":"C1","channel_type":"channel","user":"U1","text":"hi","ts":"1764590000.000100"}}`
		e.post(inboundPath(id), sign(ev, time.Now().Add(-10*time.Minute)), []byte(ev)).problem(t, 401, "unauthorized", "")
		e.post(inboundPath(id), sign(ev, time.Now()), []byte(ev)).must(t, 200)
		e.post(inboundPath(id), sign(ev, time.Now()), []byte(ev)).must(t, 200)
		if evs := e.events(t, "sl", owner, "message.received"); len(evs) != 1 {
			t.Fatalf("%d message events", len(evs))
		}
	})
}

// A generic source with the GitHub preset.
func TestGenericInbound(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback, withPlatforms, func(c *api.Config) { c.MetricsToken = "metrics-secret" })
		_, owner, _ := e.project("gh")
		p := e.req("POST", "/api/v1/projects/gh/platforms", owner, map[string]any{"provider": "generic",
			"credentials": map[string]any{"preset": "github", "secret": "gh-secret-0123456789"}}).must(t, 201)
		id := p.str("id")
		if r := e.req("POST", "/api/v1/projects/gh/platforms/"+id+"/register-webhook", owner, nil).must(t, 200); r.Body["registered"] != false || r.str("inboundUrl") == "" {
			t.Fatalf("register = %s", r.Raw)
		}
		body := []byte(`{"action":"opened","number":1}`)
		mac := hmac.New(sha256.New, []byte("gh-secret-0123456789"))
		mac.Write(body)
		h := map[string]string{"Content-Type": "application/json", "X-GitHub-Delivery": "d-1", "X-Hub-Signature-256": "sha256=" + hex.EncodeToString(mac.Sum(nil))}
		e.post(inboundPath(id), h, body).must(t, 200)
		e.post(inboundPath(id), h, body).must(t, 200)
		h["X-Hub-Signature-256"] = "sha256=" + strings.Repeat("0", 64)
		e.post(inboundPath(id), h, body).problem(t, 401, "unauthorized", "")
		// Issue 26, item 4: both verified posts are counted as accepted
		// (the second created no event), the forged one as refused.
		m := string(e.req("GET", "/metrics", "metrics-secret", nil).must(t, 200).Raw)
		for _, want := range []string{`hookgate_inbound_accepted_total{provider="generic"} 2` + "\n",
			`hookgate_inbound_accepted_total{provider="telegram"} 0` + "\n", `hookgate_inbound_refused_total{reason="unverified"} 1` + "\n"} {
			if !strings.Contains(m, want) {
				t.Errorf("metrics lack %q", want)
			}
		}
		evs := e.events(t, "gh", owner, "platform.event")
		if len(evs) != 1 || !strings.Contains(fmt.Sprint(evs[0]["data"]), "opened") {
			t.Fatalf("events = %v", evs)
		}
		e.req("POST", "/api/v1/projects/gh/messages", owner, map[string]any{"platformId": id, "to": "x", "text": "y"}).problem(t, 400, "invalid_parameter", "platformId")
	})
}

// BenchmarkInbound measures one provider's post, verified, normalized and
// committed before the answer, through real HTTP on loopback: a Telegram
// update with its secret header, a new update_id each time. p50-us is the
// median round trip; compare with BenchmarkTrigger/direct of the same run.
func BenchmarkInbound(b *testing.B) {
	for _, engine := range sqltest.Engines(b) {
		b.Run(engine, func(b *testing.B) {
			e := setup(b, engine, allowLoopback, withPlatforms)
			_, owner, _ := e.project("in")
			e.webhook("in", owner, map[string]any{"url": "http://127.0.0.1:9/hook", "events": []string{"message.*"}})
			tg := apitest.NewFakeTelegram(b)
			id := e.req("POST", "/api/v1/projects/in/platforms", owner, map[string]any{"provider": "telegram",
				"credentials": map[string]any{"botToken": botToken}, "apiBaseUrl": tg.URL}).must(b, 201).str("id")
			e.req("POST", "/api/v1/projects/in/platforms/"+id+"/register-webhook", owner, nil).must(b, 200)
			secret := tg.RegisteredSecret()
			client := &http.Client{}
			took := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				body := fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"date":1764590000,"text":"hi","chat":{"id":42,"type":"private"},"from":{"id":42,"first_name":"A"}}}`, i, i)
				start := time.Now()
				r, _ := http.NewRequest("POST", e.srv.URL+inboundPath(id), strings.NewReader(body))
				r.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
				res, err := client.Do(r)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					b.Fatalf("status %d", res.StatusCode)
				}
				took = append(took, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-us")
		})
	}
}
