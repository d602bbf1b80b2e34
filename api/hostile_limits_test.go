package api_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/api"
	"github.com/hookgate/hookgate/internal/testwait"
)

// What a hostile client can hold of the server before it proves who it is:
// issue 21, items 1, 2, 5, 8 (inbound) and 11 (nosniff).

// stalled is a raw HTTP/1.1 request whose headers, and part of whose body,
// have been sent, and which then sends nothing more.
type stalled struct {
	t    testing.TB
	conn net.Conn
	rd   *bufio.Reader
}

// stall opens a connection to the test server and sends a request with the
// given Content-Length, headers and first bytes of the body.
func (e *env) stall(method, path string, length int, header map[string]string, sent string) *stalled {
	e.t.Helper()
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { conn.Close() })
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", method, path, e.srv.Listener.Addr(), length)
	for k, v := range header {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	b.WriteString("\r\n" + sent)
	if _, err := conn.Write([]byte(b.String())); err != nil {
		e.t.Fatal(err)
	}
	return &stalled{t: e.t, conn: conn, rd: bufio.NewReader(conn)}
}

// answer waits for the server's answer; a server that never answers fails
// the test after a minute instead of hanging it.
func (s *stalled) answer() *http.Response {
	s.t.Helper()
	_ = s.conn.SetReadDeadline(time.Now().Add(time.Minute))
	res, err := http.ReadResponse(s.rd, nil)
	if err != nil {
		s.t.Fatalf("no answer to a stalled request: %v", err)
	}
	res.Body.Close()
	return res
}

// answered reports, without waiting, whether the server has answered.
func (s *stalled) answered() bool {
	_ = s.conn.SetReadDeadline(time.Now().Add(time.Millisecond))
	defer s.conn.SetReadDeadline(time.Time{})
	_, err := s.rd.Peek(1)
	return err == nil
}

// refusedBeside opens the stalled requests open makes and waits until
// refused holds beside them. A probe may reach the server before a stalled
// request's bytes and take the room that request was to hold, which is
// then refused in its stead: whenever one has been answered, they are all
// opened again.
func refusedBeside(t testing.TB, what string, open func() []*stalled, refused func() bool) []*stalled {
	t.Helper()
	held := open()
	testwait.For(t, what, func() bool {
		for _, s := range held {
			if s.answered() {
				for _, s := range held {
					s.conn.Close()
				}
				held = open()
				return false
			}
		}
		return refused()
	})
	return held
}

// more sends more of the body.
func (s *stalled) more(b string) {
	if _, err := s.conn.Write([]byte(b)); err != nil {
		s.t.Fatal(err)
	}
}

// Item 1: idle connections that declare 16 MiB bodies hold nothing. Without
// a key they are answered 401 from their headers, the body unread; with a
// key, they hold only what has arrived. Either way the next client's
// events are accepted.
func TestDeclaredBodiesHoldNoBudget(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, _, pub := e.project("x")
		for _, key := range []string{"", "hgk_wrong"} {
			h := map[string]string{"Content-Type": "application/json"}
			if key != "" {
				h["Authorization"] = "Bearer " + key
			}
			for range 3 {
				if res := e.stall("POST", "/api/v1/projects/x/events", 16<<20, h, "").answer(); res.StatusCode != 401 {
					t.Fatalf("an unauthenticated declared body answered %d, not 401", res.StatusCode)
				}
			}
		}
		// An unauthenticated body past every limit is 401, not 413: it
		// is not read.
		e.post("/api/v1/projects/x/events", nil, []byte(strings.Repeat("x", 17<<20))).problem(t, 401, "unauthorized", "")

		for range 3 {
			e.stall("POST", "/api/v1/projects/x/events", 16<<20, map[string]string{"Authorization": "Bearer " + pub, "Content-Type": "application/json"}, `{"type":`)
		}
		e.req("POST", "/api/v1/projects/x/events", pub, map[string]any{"type": "a.b", "data": 1}).must(t, 202)
		e.req("POST", "/api/v1/projects/x/events/batch", pub, map[string]any{"events": []any{map[string]any{"type": "a.b", "data": 1}}}).must(t, 202)
		e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": "Y", "slug": "y"}).must(t, 201)
	})
}

// Item 1: a body that does not arrive within the body timeout is answered
// 408, its connection closed, its budget given back.
func TestSlowBodyTimesOut(t *testing.T) {
	t.Parallel()
	e := setup(t, "sqlite", func(c *api.Config) { c.BodyReadTimeout = 300 * time.Millisecond; c.BodyBytesInFlight = 1000 })
	_, _, pub := e.project("slow")
	body := `{"type":"a.b","data":"` + strings.Repeat("x", 700) + `"}`
	s := e.stall("POST", "/api/v1/projects/slow/events", len(body), map[string]string{"Authorization": "Bearer " + pub, "Content-Type": "application/json"}, body[:len(body)-1])
	res := s.answer()
	if res.StatusCode != 408 || !res.Close {
		t.Fatalf("a stalled body answered %d (close %v), not 408 and a closed connection", res.StatusCode, res.Close)
	}
	testwait.For(t, "the budget is given back", func() bool {
		return e.req("POST", "/api/v1/projects/slow/events", pub, body).Status == 202
	})
}

// An inbound test project: a Telegram platform with its webhook secret set,
// and a generic GitHub-preset one.
func inboundSetup(t *testing.T, engine string, opts ...envOption) (e *env, tg, gh string) {
	t.Helper()
	e = setup(t, engine, append([]envOption{withPlatforms}, opts...)...)
	_, owner, _ := e.project("in")
	tg = e.req("POST", "/api/v1/projects/in/platforms", owner, map[string]any{"provider": "telegram",
		"credentials": map[string]any{"botToken": botToken, "webhookSecret": tgSecret}}).must(t, 201).str("id")
	gh = e.req("POST", "/api/v1/projects/in/platforms", owner, map[string]any{"provider": "generic",
		"credentials": map[string]any{"preset": "github", "secret": "gh-secret-0123456789"}}).must(t, 201).str("id")
	return e, tg, gh
}

const tgSecret = "tg-secret-0123456789abcdef"

// plausible is a GitHub signature header of the right form that signs
// nothing: it passes the header checks, not the verification.
var plausible = map[string]string{"X-Hub-Signature-256": "sha256=" + strings.Repeat("0", 64), "Content-Type": "application/json"}

// Item 2: a post that fails its provider's header checks is refused before
// its body is read; one that passes them is capped per address and per
// platform, and by its provider's body size.
func TestInboundBodiesAreBounded(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e, tg, gh := inboundSetup(t, engine, func(c *api.Config) { c.InboundPerAddress = 2 })
		for _, id := range []string{tg, gh} {
			if res := e.stall("POST", inboundPath(id), 1<<20, map[string]string{"Content-Type": "application/json"}, "{").answer(); res.StatusCode != 401 {
				t.Fatalf("an unsigned declared body answered %d, not 401", res.StatusCode)
			}
		}
		// Two slow posts from one address fill its slots...
		held := refusedBeside(t, "a third post from the address is refused", func() []*stalled {
			return []*stalled{e.stall("POST", inboundPath(gh), 100, plausible, "{"), e.stall("POST", inboundPath(gh), 100, plausible, "{")}
		}, func() bool {
			r := e.post(inboundPath(gh), plausible, []byte(`{}`))
			return r.Status == 503 && r.Header.Get("Retry-After") != ""
		})
		for _, s := range held {
			s.conn.Close()
		}
		// ...and give them back when they end.
		testwait.For(t, "the address may post again", func() bool {
			return e.post(inboundPath(gh), plausible, []byte(`{}`)).Status == 401
		})
		// Telegram's cap is 256 KiB.
		tgh := map[string]string{"X-Telegram-Bot-Api-Secret-Token": tgSecret, "Content-Type": "application/json"}
		e.post(inboundPath(tg), tgh, []byte(`{"update_id":1,"x":"`+strings.Repeat("x", 256<<10)+`"}`)).problem(t, 413, "payload_too_large", "")
		e.post(inboundPath(tg), tgh, []byte(`{"update_id":1,"message":{"message_id":1,"date":1764590000,"text":"hi","chat":{"id":1,"type":"private"}}}`)).must(t, 200)
	})
}

// Item 2: the per-platform cap holds whatever the addresses, and inbound
// bytes have a budget of their own.
func TestInboundPlatformCapAndBudget(t *testing.T) {
	t.Parallel()
	e, _, gh := inboundSetup(t, "sqlite", func(c *api.Config) { c.InboundPerPlatform = 1; c.InboundBytesInFlight = 100 })
	held := refusedBeside(t, "a second post to the platform is refused", func() []*stalled {
		return []*stalled{e.stall("POST", inboundPath(gh), 100, plausible, "{")}
	}, func() bool {
		return e.post(inboundPath(gh), plausible, []byte(`{}`)).Status == 503
	})
	held[0].conn.Close()
	testwait.For(t, "the platform may be posted to again", func() bool {
		return e.post(inboundPath(gh), plausible, []byte(`{}`)).Status == 401
	})
	// Past the inbound budget: 503, and the API's own budget is untouched.
	e.post(inboundPath(gh), plausible, []byte(`{"x":"`+strings.Repeat("x", 200)+`"}`)).problem(t, 503, "unavailable", "")
	_, _, pub := e.project("other")
	e.req("POST", "/api/v1/projects/other/events", pub, map[string]any{"type": "a.b", "data": strings.Repeat("x", 200)}).must(t, 202)
}

// Item 5: secrets chosen for inbound verification must be long enough.
func TestWeakInboundSecretsRefused(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, withPlatforms)
		_, owner, _ := e.project("weak")
		path := "/api/v1/projects/weak/platforms"
		for _, c := range []struct {
			body  map[string]any
			param string
		}{
			{map[string]any{"provider": "telegram", "credentials": map[string]any{"botToken": botToken, "webhookSecret": "a"}}, "credentials.webhookSecret"},
			{map[string]any{"provider": "generic", "credentials": map[string]any{"verification": map[string]any{"type": "apikey", "header": "X-Key", "key": "1"}}}, "credentials.verification.key"},
			{map[string]any{"provider": "generic", "credentials": map[string]any{"verification": map[string]any{"type": "basic", "username": "u", "password": "pw"}}}, "credentials.verification.password"},
			{map[string]any{"provider": "generic", "credentials": map[string]any{"verification": map[string]any{"type": "hmac", "header": "X-Sig", "secret": "short"}}}, "credentials.verification.secret"},
			{map[string]any{"provider": "generic", "credentials": map[string]any{"preset": "stripe", "secret": "whsec_1"}}, "credentials.secret"},
			{map[string]any{"provider": "whatsapp", "credentials": map[string]any{"appId": "1234567890", "appSecret": "app-secret-xyz", "accessToken": "EAAB-token", "verifyToken": "v"}}, "credentials.verifyToken"},
		} {
			r := e.req("POST", path, owner, c.body).problem(t, 400, "invalid_parameter", c.param)
			if !strings.Contains(r.str("detail"), "at least 16 characters") {
				t.Fatalf("detail %q", r.str("detail"))
			}
		}
		if ids := e.req("GET", path, owner, nil).must(t, 200).ids(t); len(ids) != 0 {
			t.Fatalf("refused platforms were stored: %v", ids)
		}
	})
}

// Items 5 and 8: failed verifications are counted per platform and
// address: past 20, 429 with Retry-After; a genuine post still passes. An
// ID that names no platform is answered exactly as a known one that fails
// verification.
func TestInboundGuessingIsThrottled(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e, tg, _ := inboundSetup(t, engine)
		unknown := "plat_01m95t7ty095k2pzmhzgqkhzyj"
		a := e.post(inboundPath(tg), map[string]string{"X-Telegram-Bot-Api-Secret-Token": "guess"}, []byte(`{}`))
		b := e.post(inboundPath(unknown), map[string]string{"X-Telegram-Bot-Api-Secret-Token": "guess"}, []byte(`{}`))
		a.problem(t, 401, "unauthorized", "")
		b.problem(t, 401, "unauthorized", "")
		if a.str("detail") != b.str("detail") || a.str("title") != b.str("title") {
			t.Fatalf("a known and an unknown ID are told apart:\n%s\n%s", a.Raw, b.Raw)
		}
		statuses := map[int]int{}
		for i := range 40 {
			r := e.post(inboundPath(tg), map[string]string{"X-Telegram-Bot-Api-Secret-Token": fmt.Sprintf("guess-%d", i)}, []byte(`{}`))
			statuses[r.Status]++
			if r.Status == 429 && r.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		}
		if statuses[429] < 19 || statuses[401]+statuses[429] != 40 {
			t.Fatalf("40 wrong guesses answered %v; want 429 past the 20th failure", statuses)
		}
		// The genuine provider is never held up.
		e.post(inboundPath(tg), map[string]string{"X-Telegram-Bot-Api-Secret-Token": tgSecret},
			[]byte(`{"update_id":9,"message":{"message_id":9,"date":1764590000,"text":"hi","chat":{"id":1,"type":"private"}}}`)).must(t, 200)
		// The unknown ID has a count of its own, as a known one would.
		e.post(inboundPath(unknown), nil, []byte(`{}`)).problem(t, 401, "unauthorized", "")
	})
}

// Item 11: no answer may be sniffed as another type, the WhatsApp
// handshake's echo least of all.
func TestEveryAnswerIsNosniff(t *testing.T) {
	t.Parallel()
	e := setup(t, "sqlite", withPlatforms)
	_, owner, _ := e.project("wa")
	id := e.req("POST", "/api/v1/projects/wa/platforms", owner, map[string]any{"provider": "whatsapp",
		"credentials": map[string]any{"appId": "1234567890", "appSecret": "app-secret-xyz", "accessToken": "EAAB-token", "verifyToken": "verify-me-0123456789"}}).must(t, 201).str("id")
	for _, r := range []resp{
		e.req("GET", inboundPath(id)+"?hub.mode=subscribe&hub.verify_token=verify-me-0123456789&hub.challenge=%3Chtml%3E", "", nil).must(t, 200),
		e.req("GET", "/api/v1/projects/wa/platforms", owner, nil).must(t, 200),
		e.req("GET", "/api/v1/nothing", owner, nil),
		e.req("GET", "/healthz", "", nil),
	} {
		if r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("an answer without nosniff: %d %s", r.Status, r.Raw)
		}
	}
}
