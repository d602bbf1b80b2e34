package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/api"
	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/netguard"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
	"github.com/hookgate/hookgate/ui"
)

// browser is a cookie-keeping HTTP client that does not follow redirects.
type browser struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// get fetches path and returns the status, the Location and the body.
func (b *browser) get(path string) (int, string, string) {
	b.t.Helper()
	res, err := b.hc.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Location"), string(body)
}

// post sends a form, with an Origin header unless origin is "-".
func (b *browser) post(path string, form url.Values, origin string) (int, string, string) {
	b.t.Helper()
	h := http.Header{}
	if origin != "-" {
		h.Set("Origin", origin)
	}
	return b.postWith(path, form, h)
}

// postWith sends a form with the given headers.
func (b *browser) postWith(path string, form url.Values, h http.Header) (int, string, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	req.Header = h.Clone()
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Location"), string(body)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", page)
	}
	return m[1]
}

func (b *browser) signIn(key string) string {
	b.t.Helper()
	st, loc, body := b.post("/ui/sign-in", url.Values{"key": {key}}, b.base)
	if st != http.StatusSeeOther {
		b.t.Fatalf("sign-in: %d %s", st, body)
	}
	return loc
}

// eachEngine runs fn on every engine under test (sqltest.EachEngine).
func eachEngine(t *testing.T, fn func(t *testing.T, engine string)) { sqltest.EachEngine(t, fn) }

// Signing in sets a session cookie that holds no key, is HttpOnly,
// SameSite=Strict and scoped to /ui/; without it every page sends the
// browser to sign in. Publisher keys and wrong keys are refused.
func TestSignIn(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := apitest.New(t, engine)
		admin, _ := client.New(srv.URL, apitest.AdminKey)
		ctx := context.Background()
		if _, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "Shop", Slug: "shop"}); err != nil {
			t.Fatal(err)
		}
		pub, _ := admin.CreateKey(ctx, "shop", client.KeyCreate{Name: "p", Role: client.RolePublisher})
		owner, _ := admin.CreateKey(ctx, "shop", client.KeyCreate{Name: "o", Role: client.RoleOwner})

		b := newBrowser(t, srv.URL)
		if st, loc, _ := b.get("/ui/projects"); st != http.StatusSeeOther || loc != "/ui/sign-in" {
			t.Fatalf("without a session: %d %q", st, loc)
		}
		if st, _, body := b.get("/ui/sign-in"); st != 200 || !strings.Contains(body, `<label for="key">API key</label>`) {
			t.Fatalf("sign-in page: %d", st)
		}
		if st, _, body := b.post("/ui/sign-in", url.Values{"key": {"hgk_wrong"}}, srv.URL); st != 401 || !strings.Contains(body, "not valid") {
			t.Fatalf("a wrong key: %d", st)
		}
		if st, _, body := b.post("/ui/sign-in", url.Values{"key": {pub.Key}}, srv.URL); st != 403 || !strings.Contains(body, "publisher key cannot sign in") {
			t.Fatalf("a publisher key: %d", st)
		}
		if st, _, _ := b.post("/ui/sign-in", url.Values{"key": {apitest.AdminKey}}, "http://evil.invalid"); st != 403 {
			t.Fatalf("a sign-in from another origin: %d", st)
		}

		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/ui/sign-in", strings.NewReader(url.Values{"key": {apitest.AdminKey}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := b.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		var ck *http.Cookie
		for _, c := range res.Cookies() {
			if c.Name == ui.CookieName {
				ck = c
			}
		}
		if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/ui/" || ck.MaxAge <= 0 || strings.Contains(ck.Value, apitest.AdminKey) {
			t.Fatalf("session cookie = %+v", ck)
		}
		if res.Header.Get("Location") != "/ui/projects" {
			t.Fatalf("after sign-in: %q", res.Header.Get("Location"))
		}
		st, _, body := b.get("/ui/projects")
		if st != 200 || !strings.Contains(body, `href="/ui/p/shop/webhooks"`) {
			t.Fatalf("projects: %d\n%s", st, body)
		}
		res, _ = b.hc.Get(srv.URL + "/ui/projects")
		res.Body.Close()
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || res.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("headers = %v", res.Header)
		}

		// An owner key goes to its project, and sees no other.
		o := newBrowser(t, srv.URL)
		if loc := o.signIn(owner.Key); loc != "/ui/p/shop/webhooks" {
			t.Fatalf("owner sign-in sent to %q", loc)
		}
		if st, loc, _ := o.get("/ui/projects"); st != http.StatusSeeOther || loc != "/ui/p/shop/webhooks" {
			t.Fatalf("owner's projects page: %d %q", st, loc)
		}
		if _, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "Other", Slug: "other"}); err != nil {
			t.Fatal(err)
		}
		if st, _, _ := o.get("/ui/p/other/webhooks"); st != http.StatusNotFound {
			t.Fatalf("another project's page: %d", st)
		}

		// Revoking the key ends its sessions at once.
		if err := admin.DeleteKey(ctx, "shop", owner.ID); err != nil {
			t.Fatal(err)
		}
		if st, loc, _ := o.get("/ui/p/shop/webhooks"); st != http.StatusSeeOther || loc != "/ui/sign-in?ended=1" {
			t.Fatalf("after the key's revocation: %d %q", st, loc)
		}
	})
}

// Every state-changing form needs the session's CSRF token and this
// origin; signing out ends the session for whoever holds its cookie.
func TestFormsAndSignOut(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t, "sqlite")
	admin, _ := client.New(srv.URL, apitest.AdminKey)
	ctx := context.Background()
	if _, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "Shop", Slug: "shop"}); err != nil {
		t.Fatal(err)
	}
	wh, err := admin.CreateWebhook(ctx, "shop", client.WebhookCreate{URL: "http://127.0.0.1:9/x", UID: "orders"})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, srv.URL)
	b.signIn(apitest.AdminKey)
	_, _, page := b.get("/ui/p/shop/webhooks/orders")
	token := csrfOf(t, page)
	action := "/ui/p/shop/webhooks/" + wh.ID + "/deactivate"
	for name, tc := range map[string]struct {
		form   url.Values
		origin string
	}{
		"no token":      {url.Values{}, srv.URL},
		"a wrong token": {url.Values{"csrf": {"x" + token}}, srv.URL},
		"another site":  {url.Values{"csrf": {token}}, "http://evil.invalid"},
	} {
		if st, _, _ := b.post(action, tc.form, tc.origin); st != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, st)
		}
	}
	if got, _ := admin.GetWebhook(ctx, "shop", "orders"); got.Status != client.WebhookActive {
		t.Fatalf("a refused form changed the webhook: %s", got.Status)
	}
	if st, loc, _ := b.post(action, url.Values{"csrf": {token}}, "-"); st != http.StatusSeeOther || !strings.Contains(loc, "done=") {
		t.Fatalf("deactivate: %d %q", st, loc)
	}
	if got, _ := admin.GetWebhook(ctx, "shop", "orders"); got.Status != client.WebhookDeactivated {
		t.Fatalf("after deactivate: %s", got.Status)
	}

	// Register, reveal, rotate, recover: each through its form.
	st, loc, _ := b.post("/ui/p/shop/webhooks", url.Values{"csrf": {token}, "url": {"http://127.0.0.1:9/new"}, "uid": {"billing"}, "events": {"invoice.*, refund.*"}}, srv.URL)
	created, err := admin.GetWebhook(ctx, "shop", "billing")
	if st != http.StatusSeeOther || err != nil || len(created.Events) != 2 || loc != "/ui/p/shop/webhooks/"+created.ID+"/secret?done=created" {
		t.Fatalf("register: %d %q, %+v, %v", st, loc, created, err)
	}
	if _, _, page := b.get(loc); !strings.Contains(page, "whsec_") || !strings.Contains(page, "Registered. Give the receiver its signing secret") {
		t.Fatal("the page after registering shows no secret")
	}
	if _, _, page := b.get("/ui/p/shop/webhooks/billing/secret"); !strings.Contains(page, "whsec_") {
		t.Fatal("Reveal secret shows no secret")
	}
	before, _ := admin.GetWebhookSecret(ctx, "shop", "billing")
	if st, loc, _ := b.post("/ui/p/shop/webhooks/billing/rotate-secret", url.Values{"csrf": {token}}, srv.URL); st != http.StatusSeeOther || loc != "/ui/p/shop/webhooks/billing/secret?done=rotated" {
		t.Fatalf("rotate-secret: %d %q", st, loc)
	}
	if _, _, page := b.get("/ui/p/shop/webhooks/billing/secret?done=rotated"); !strings.Contains(page, "Rotated") || !strings.Contains(page, "The previous secret also signs until") {
		t.Fatal("rotate-secret did not say so")
	}
	if after, _ := admin.GetWebhookSecret(ctx, "shop", "billing"); after.Secret == before.Secret || after.PreviousSecretExpiresAt.IsZero() {
		t.Fatalf("rotate-secret: %+v", after)
	}
	if st, loc, _ := b.post("/ui/p/shop/webhooks/billing/recover", url.Values{"csrf": {token}, "since": {time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04")}}, srv.URL); st != http.StatusSeeOther || loc != "/ui/p/shop/webhooks/billing?done=recovering" {
		t.Fatalf("recover: %d %q", st, loc)
	}
	if st, _, page := b.post("/ui/p/shop/webhooks/billing/recover", url.Values{"csrf": {token}, "since": {"yesterday"}}, srv.URL); st != 400 ||
		!strings.Contains(page, `<p class="field-error" id="since-error">give a time such as 2026-12-01T09:00 (UTC)</p>`) || !strings.Contains(page, `value="yesterday"`) {
		t.Fatalf("recover with a bad time: %d\n%s", st, page)
	}

	// Sign out, then replay the old cookie: it no longer works.
	u, _ := url.Parse(srv.URL + "/ui/")
	old := b.hc.Jar.Cookies(u)
	if st, _, _ := b.post("/ui/sign-out", url.Values{"csrf": {token}}, srv.URL); st != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", st)
	}
	replay := newBrowser(t, srv.URL)
	replay.hc.Jar.SetCookies(u, old)
	if st, loc, _ := replay.get("/ui/projects"); st != http.StatusSeeOther || loc != "/ui/sign-in" {
		t.Fatalf("the old cookie after sign-out: %d %q", st, loc)
	}
}

// The operator's path: a failing delivery shows with its attempts; the
// receiver is fixed, retry is pressed, and the delivery succeeds.
func TestRetryAFailedDelivery(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := apitest.New(t, engine)
		var healthy atomic.Bool
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !healthy.Load() {
				http.Error(w, "upstream down for maintenance", http.StatusServiceUnavailable)
				return
			}
			fmt.Fprint(w, "thanks")
		}))
		defer recv.Close()
		admin, _ := client.New(srv.URL, apitest.AdminKey)
		ctx := context.Background()
		if _, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "Shop", Slug: "shop", RetrySchedule: []string{"1s"}}); err != nil {
			t.Fatal(err)
		}
		owner, _ := admin.CreateKey(ctx, "shop", client.KeyCreate{Name: "o", Role: client.RoleOwner})
		if _, err := admin.CreateWebhook(ctx, "shop", client.WebhookCreate{URL: recv.URL + "/hook", UID: "orders"}); err != nil {
			t.Fatal(err)
		}
		ev, err := admin.SendEvent(ctx, "shop", client.EventSend{Type: "order.paid", Data: map[string]any{"id": 1}})
		if err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t, srv.URL)
		b.signIn(owner.Key)
		var dl string
		testwait.For(t, "a failed delivery on the deliveries page", func() bool {
			_, _, page := b.get("/ui/p/shop/deliveries?status=failed")
			m := regexp.MustCompile(`href="/ui/p/shop/deliveries/(msg_[a-z0-9]+)"`).FindStringSubmatch(page)
			if m != nil {
				dl = m[1]
			}
			return m != nil
		})
		st, _, page := b.get("/ui/p/shop/deliveries/" + dl)
		if st != 200 || !strings.Contains(page, "upstream down for maintenance") || !strings.Contains(page, "Attempt 2") || !strings.Contains(page, `<span class="badge failed">failed</span>`) {
			t.Fatalf("delivery page: %d\n%s", st, page)
		}
		if _, _, hooks := b.get("/ui/p/shop/webhooks"); !strings.Contains(hooks, "0.0\u00a0%") || !strings.Contains(hooks, "503") {
			t.Fatalf("webhooks page without the failures:\n%s", hooks)
		}
		healthy.Store(true)
		st, loc, _ := b.post("/ui/p/shop/deliveries/"+dl+"/retry", url.Values{"csrf": {csrfOf(t, page)}}, srv.URL)
		if st != http.StatusSeeOther || loc != "/ui/p/shop/deliveries/"+dl+"?done=retried" {
			t.Fatalf("retry: %d %q", st, loc)
		}
		if _, _, page := b.get(loc); !strings.Contains(page, `<p class="flash" role="status">Queued for one more attempt now.</p>`) {
			t.Fatalf("the delivery page after retry says nothing:\n%s", page)
		}
		testwait.For(t, "the retried delivery to succeed", func() bool {
			_, _, page := b.get("/ui/p/shop/deliveries/" + dl)
			return strings.Contains(page, `<span class="badge succeeded">succeeded</span>`) && strings.Contains(page, "thanks")
		})
		if _, _, page := b.get("/ui/p/shop/deliveries?event=" + ev.ID); !strings.Contains(page, dl) {
			t.Fatal("the event filter lost the delivery")
		}
		st, _, live := b.get("/ui/p/shop/live")
		if st != 200 || !strings.Contains(live, `<svg class="chart"`) || !strings.Contains(live, `class="fail"`) || !strings.Contains(live, "<polyline") ||
			!strings.Contains(live, `<meta http-equiv="refresh" content="10">`) {
			t.Fatalf("live view: %d\n%s", st, live)
		}
		hour := time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04")
		if _, _, page := b.get("/ui/p/shop/deliveries?eventType=order.paid&since=" + hour); !strings.Contains(page, dl) {
			t.Fatal("the event type and time filters lost the delivery")
		}
		if _, _, page := b.get("/ui/p/shop/deliveries?until=" + hour); strings.Contains(page, dl) {
			t.Fatal("a delivery created after the until time is listed")
		}
		if st, _, _ := b.get("/ui/p/shop/deliveries?since=soon"); st != 400 {
			t.Fatalf("a bad since: %d", st)
		}
	})
}

// The events page shows payloads; the platforms page connects a platform
// and registers Hookgate with it (here a fake Telegram on loopback).
func TestEventsAndPlatforms(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t, "sqlite")
	admin, _ := client.New(srv.URL, apitest.AdminKey)
	ctx := context.Background()
	if _, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "Shop", Slug: "shop"}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.SendEvent(ctx, "shop", client.EventSend{Type: "order.paid", Data: map[string]any{"total": "19.99"}}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, srv.URL)
	b.signIn(apitest.AdminKey)
	if st, _, page := b.get("/ui/p/shop/events?type=order.paid"); st != 200 || !strings.Contains(page, "order.paid") || !strings.Contains(page, "19.99") {
		t.Fatalf("events page: %d\n%s", st, page)
	}
	_, _, page := b.get("/ui/p/shop/platforms")
	token := csrfOf(t, page)
	if st, _, page := b.post("/ui/p/shop/platforms", url.Values{"csrf": {token}, "provider": {"telegram"}, "credentials": {"not json"}}, srv.URL); st != 400 || !strings.Contains(page, `id="credentials-error"`) {
		t.Fatalf("bad credentials: %d", st)
	}
	creds := fmt.Sprintf(`{"botToken": %q}`, apitest.BotToken)
	if st, loc, _ := b.post("/ui/p/shop/platforms", url.Values{"csrf": {token}, "provider": {"telegram"}, "name": {"support"}, "credentials": {creds}}, srv.URL); st != http.StatusSeeOther || loc != "/ui/p/shop/platforms?done=connected" {
		t.Fatalf("connect: %d %q", st, loc)
	}
	tg := apitest.NewFakeTelegram(t)
	p, err := admin.CreatePlatform(ctx, "shop", client.PlatformCreate{Provider: "telegram", Name: "bot", Credentials: json.RawMessage(creds), APIBaseURL: tg.URL})
	if err != nil {
		t.Fatal(err)
	}
	if st, loc, _ := b.post("/ui/p/shop/platforms/"+p.ID+"/register-webhook", url.Values{"csrf": {token}}, srv.URL); st != http.StatusSeeOther || loc != "/ui/p/shop/platforms?done=registered" {
		t.Fatalf("register-webhook: %d %q", st, loc)
	}
	if tg.Registered() == "" {
		t.Fatal("the fake Telegram got no setWebhook")
	}
	if _, _, page := b.get("/ui/p/shop/platforms"); strings.Count(page, "<tr>") != 3 || !strings.Contains(page, `<span class="badge active">yes</span>`) || !strings.Contains(page, "support") {
		t.Fatalf("platforms page:\n%s", page)
	}
}

// Wrong keys at the sign-in form count as the API's failed
// authentications do: past 20 from one address they are answered 429,
// while a right key still signs in.
func TestSignInIsRateLimited(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t, "sqlite")
	b := newBrowser(t, srv.URL)
	for i := range 20 {
		if st, _, _ := b.post("/ui/sign-in", url.Values{"key": {fmt.Sprintf("hgk_guess%d", i)}}, srv.URL); st != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, st)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/ui/sign-in", strings.NewReader(url.Values{"key": {"hgk_one-more"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := b.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "Too many wrong keys") {
		t.Fatalf("the 21st guess: %d %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if loc := b.signIn(apitest.AdminKey); loc != "/ui/projects" {
		t.Fatalf("the right key after the limit: %q", loc)
	}
}

// Issue 21, item 4: ?done= on a page is a code the server chose; the page
// shows that code's fixed text, and nothing of a text or code it does not
// use, so a link cannot put words such as "re-enter your admin key at …"
// in the dashboard's status banner.
func TestDoneShowsOnlyTheServersMessages(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := apitest.New(t, engine)
		admin, _ := client.New(srv.URL, apitest.AdminKey)
		ctx := context.Background()
		if _, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "Shop", Slug: "shop"}); err != nil {
			t.Fatal(err)
		}
		wh, err := admin.CreateWebhook(ctx, "shop", client.WebhookCreate{URL: "http://127.0.0.1:9/x", UID: "orders"})
		if err != nil {
			t.Fatal(err)
		}
		d, err := admin.TestWebhook(ctx, "shop", wh.ID)
		if err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t, srv.URL)
		b.signIn(apitest.AdminKey)

		const injected = "Session expired: re-enter your admin key at https://evil.invalid/login"
		for _, page := range []string{"webhooks/orders", "platforms", "deliveries/" + d.ID, "webhooks", "deliveries", "events"} {
			for _, v := range []string{injected, "recovering " + injected, "<b>activated</b>", "Activated"} {
				st, _, body := b.get("/ui/p/shop/" + page + "?done=" + url.QueryEscape(v))
				if st != http.StatusOK || strings.Contains(body, `class="flash"`) || strings.Contains(body, "evil.invalid") || strings.Contains(body, "re-enter") {
					t.Errorf("%s?done=%q: %d, the page shows it:\n%s", page, v, st, body)
				}
			}
		}

		// Each form's code, followed, shows its own text.
		_, _, page := b.get("/ui/p/shop/webhooks/orders")
		token := csrfOf(t, page)
		since := time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04")
		tg := apitest.NewFakeTelegram(t)
		creds := fmt.Sprintf(`{"botToken": %q}`, apitest.BotToken)
		p, err := admin.CreatePlatform(ctx, "shop", client.PlatformCreate{Provider: "telegram", Name: "bot", Credentials: json.RawMessage(creds), APIBaseURL: tg.URL})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			action string
			form   url.Values
			code   string
			text   string
		}{
			{"webhooks/orders/deactivate", nil, "deactivated", "Deactivated: pending deliveries wait, paused."},
			{"webhooks/orders/activate", nil, "activated", "Activated: paused deliveries resume."},
			{"webhooks/orders/test", nil, "tested", "Sent a webhook.test event: its delivery is listed below."},
			{"webhooks/orders/recover", url.Values{"since": {since}}, "recovering", "Recovering: the deliveries failed since that time are queued again, and the missed ones created."},
			{"platforms", url.Values{"provider": {"telegram"}, "credentials": {creds}}, "connected", "Connected: the platform is listed below."},
			{"platforms/" + p.ID + "/register-webhook", nil, "registered", "Registered Hookgate's inbound URL with the platform."},
		} {
			form := url.Values{"csrf": {token}}
			for k, v := range tc.form {
				form[k] = v
			}
			st, loc, body := b.post("/ui/p/shop/"+tc.action, form, srv.URL)
			if st != http.StatusSeeOther || !strings.HasSuffix(loc, "?done="+tc.code) {
				t.Fatalf("%s: %d %q\n%s", tc.action, st, loc, body)
			}
			if _, _, page := b.get(loc); !strings.Contains(page, `<p class="flash" role="status">`+html.EscapeString(tc.text)+`</p>`) {
				t.Errorf("%s: the page at %s does not say %q:\n%s", tc.action, loc, tc.text, page)
			}
		}
	})
}

// dashboard is the API and the dashboard on a new store of engine, the
// dashboard told that browsers open it at publicURL.
func dashboard(t *testing.T, engine, publicURL string) http.Handler {
	t.Helper()
	store := sqltest.Open(t, engine)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := api.New(api.Config{Store: store, AdminKey: apitest.AdminKey, Policy: netguard.New(nil), Logger: quiet})
	h.Mount("/ui/", ui.New(ui.Config{API: h, Store: store, Logger: quiet, PublicURL: publicURL}))
	return h
}

// dashboardAt serves a dashboard on loopback, over TLS (the test server's
// certificate) when overTLS, with the public URL publicURL(its address).
func dashboardAt(t *testing.T, engine string, overTLS bool, publicURL func(addr string) string) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	srv.Config.Handler = dashboard(t, engine, publicURL(srv.Listener.Addr().String()))
	if overTLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv
}

// behindTLSProxy serves a dashboard over plain HTTP behind a
// TLS-terminating reverse proxy on loopback, which passes the browser's
// Host on when passHost (else names the dashboard's own address, as
// nginx does by default); the dashboard's public URL is the proxy's. It
// returns the proxy.
func behindTLSProxy(t *testing.T, engine string, passHost bool) *httptest.Server {
	t.Helper()
	proxy := httptest.NewUnstartedServer(nil)
	backend := httptest.NewServer(dashboard(t, engine, "https://"+proxy.Listener.Addr().String()))
	t.Cleanup(backend.Close)
	target, _ := url.Parse(backend.URL)
	proxy.Config.Handler = &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		if passHost {
			r.Out.Host = r.In.Host
		}
	}}
	proxy.StartTLS()
	t.Cleanup(proxy.Close)
	return proxy
}

// browserOf is a browser for srv, trusting its certificate.
func browserOf(t *testing.T, srv *httptest.Server) *browser {
	b := newBrowser(t, srv.URL)
	b.hc.Transport = srv.Client().Transport
	return b
}

// otherScheme is srv's origin over the other scheme, the same host and
// port.
func otherScheme(srv *httptest.Server) string {
	if strings.HasPrefix(srv.URL, "https://") {
		return "http://" + srv.Listener.Addr().String()
	}
	return "https://" + srv.Listener.Addr().String()
}

// Issue 21, item 11: the dashboard's Origin check compares the scheme too.
// A form (sign-in or any other) posted from http://host is refused by a
// dashboard at https://host, and the reverse, whether the dashboard is
// served over TLS itself, over plain HTTP, or behind a TLS-terminating
// proxy named by its public URL; without an Origin, the Referer's origin
// is judged alike.
func TestFormOriginIncludesTheScheme(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		noURL := func(string) string { return "" }
		for name, start := range map[string]func(t *testing.T) *httptest.Server{
			"plain HTTP, no public URL": func(t *testing.T) *httptest.Server { return dashboardAt(t, engine, false, noURL) },
			"plain HTTP at its public URL": func(t *testing.T) *httptest.Server {
				return dashboardAt(t, engine, false, func(a string) string { return "http://" + a })
			},
			"HTTPS, no public URL": func(t *testing.T) *httptest.Server { return dashboardAt(t, engine, true, noURL) },
			"HTTPS at its public URL": func(t *testing.T) *httptest.Server {
				return dashboardAt(t, engine, true, func(a string) string { return "https://" + a })
			},
			"behind a TLS proxy that passes the Host on": func(t *testing.T) *httptest.Server { return behindTLSProxy(t, engine, true) },
			"behind a TLS proxy that sets its own Host":  func(t *testing.T) *httptest.Server { return behindTLSProxy(t, engine, false) },
		} {
			t.Run(name, func(t *testing.T) {
				srv := start(t)
				here, there := srv.URL, otherScheme(srv)
				b := browserOf(t, srv)
				for _, h := range []http.Header{{"Origin": {there}}, {"Referer": {there + "/ui/sign-in"}}} {
					if st, _, _ := b.postWith("/ui/sign-in", url.Values{"key": {apitest.AdminKey}}, h); st != http.StatusForbidden {
						t.Fatalf("a sign-in with %v: %d, want 403", h, st)
					}
				}
				if st, _, body := b.post("/ui/sign-in", url.Values{"key": {apitest.AdminKey}}, here); st != http.StatusSeeOther {
					t.Fatalf("a sign-in from %s: %d\n%s", here, st, body)
				}
				_, _, page := b.get("/ui/projects")
				form := url.Values{"csrf": {csrfOf(t, page)}}
				for _, h := range []http.Header{{"Origin": {there}}, {"Referer": {there + "/ui/projects"}}, {"Origin": {"null"}}} {
					if st, _, _ := b.postWith("/ui/sign-out", form, h); st != http.StatusForbidden {
						t.Fatalf("a form with %v: %d, want 403", h, st)
					}
				}
				if st, _, _ := b.get("/ui/projects"); st != http.StatusOK {
					t.Fatalf("a refused sign-out ended the session: %d", st)
				}
				if st, _, _ := b.postWith("/ui/sign-out", form, http.Header{"Referer": {here + "/ui/projects"}}); st != http.StatusSeeOther {
					t.Fatalf("a sign-out with the Referer %s: %d", here, st)
				}
			})
		}
	})
}

// Issue 21, item 11: the session cookie is Secure unless the public URL is
// plain http on a loopback host, so that behind a TLS-terminating proxy
// (where the server itself speaks HTTP) it is Secure too.
func TestSecureCookie(t *testing.T) {
	t.Parallel()
	for url, want := range map[string]bool{
		"http://127.0.0.1:8080":           false,
		"http://127.1.2.3":                false,
		"http://localhost:8080":           false,
		"http://LocalHost":                false,
		"http://[::1]:8080":               false,
		"http://[::ffff:127.0.0.1]:8080":  false,
		"HTTP://127.0.0.1:8080/base/path": false,
		"https://127.0.0.1:8443":          true,
		"https://localhost":               true,
		"https://hooks.example.com":       true,
		"http://hooks.example.com":        true,
		"http://192.168.1.5:8080":         true,
		"http://0.0.0.0:8080":             true,
		"http://localhost.example.com":    true,
		"http://127.0.0.1.example.com":    true,
		"http://[2001:db8::1]:8080":       true,
		"":                                true,
		"127.0.0.1:8080":                  true,
	} {
		if got := ui.SecureCookie(url); got != want {
			t.Errorf("SecureCookie(%q) = %v, want %v", url, got, want)
		}
	}
}

// signInCookie signs b in with the admin key from origin and returns the
// answer's status, its session cookie (nil when none is set) and body.
func signInCookie(t *testing.T, b *browser, origin string) (int, *http.Cookie, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.base+"/ui/sign-in", strings.NewReader(url.Values{"key": {apitest.AdminKey}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	res, err := b.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	for _, c := range res.Cookies() {
		if c.Name == ui.CookieName {
			return res.StatusCode, c, string(body)
		}
	}
	return res.StatusCode, nil, string(body)
}

// Issue 21, item 11: the cookie a sign-in sets is Secure for a public URL
// that is not plain http on loopback, behind a TLS proxy too; a browser on
// a plain http page of another host, which would drop that cookie, is told
// why instead.
func TestSessionCookieIsSecureUnlessLocal(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		for name, tc := range map[string]struct {
			start  func(t *testing.T) *httptest.Server
			secure bool
		}{
			"its own http://127.0.0.1 address": {func(t *testing.T) *httptest.Server {
				return dashboardAt(t, engine, false, func(a string) string { return "http://" + a })
			}, false},
			"http://localhost": {func(t *testing.T) *httptest.Server {
				return dashboardAt(t, engine, false, func(string) string { return "http://localhost:8080" })
			}, false},
			"a public http URL": {func(t *testing.T) *httptest.Server {
				return dashboardAt(t, engine, false, func(string) string { return "http://hooks.example.invalid" })
			}, true},
			"behind a TLS proxy": {func(t *testing.T) *httptest.Server { return behindTLSProxy(t, engine, true) }, true},
		} {
			t.Run(name, func(t *testing.T) {
				srv := tc.start(t)
				b := browserOf(t, srv)
				st, ck, body := signInCookie(t, b, srv.URL)
				if st != http.StatusSeeOther || ck == nil || ck.Secure != tc.secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
					t.Fatalf("sign-in: %d, cookie %+v, want Secure %v\n%s", st, ck, tc.secure, body)
				}
				if st, _, _ := b.get("/ui/projects"); st != http.StatusOK {
					t.Fatalf("the session after sign-in: %d", st)
				}
			})
		}
		srv := dashboardAt(t, engine, false, func(string) string { return "http://hooks.example.invalid" })
		st, ck, body := signInCookie(t, browserOf(t, srv), "http://hooks.example.invalid")
		if st != http.StatusForbidden || ck != nil || !strings.Contains(body, "over HTTPS only") {
			t.Fatalf("a sign-in from a plain http page: %d, cookie %+v\n%s", st, ck, body)
		}
	})
}
