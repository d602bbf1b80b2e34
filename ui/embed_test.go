package ui_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
	"github.com/hookgate/hookgate/ui"
)

// rawGet fetches path with the given Cookie header and no jar, as a
// browser that keeps cookies this test hands over by itself.
func rawGet(t *testing.T, base, path, cookie string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// cookieOf returns the cookie res sets by that name, or fails.
func cookieOf(t *testing.T, res *http.Response, name string) *http.Cookie {
	t.Helper()
	for _, c := range res.Cookies() {
		if c.Name == name && c.MaxAge >= 0 {
			return c
		}
	}
	t.Fatalf("%s sets no cookie %s: %v", res.Request.URL.Path, name, res.Header.Values("Set-Cookie"))
	return nil
}

// framing checks res's framing headers: want is the frame-ancestors
// value, and X-Frame-Options is DENY exactly when it is 'none'.
func framing(t *testing.T, what string, h http.Header, want string) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors "+want+";") {
		t.Errorf("%s: Content-Security-Policy %q, want frame-ancestors %s", what, csp, want)
	}
	if xfo, strict := h.Get("X-Frame-Options"), want == "'none'"; (xfo == "DENY") != strict {
		t.Errorf("%s: X-Frame-Options %q with frame-ancestors %s", what, xfo, want)
	}
}

var dashboardLink = regexp.MustCompile(`(?:href|action|src)="(/ui/[^"]*)"`)

// Issue 25, item 3: a project's portal.allowedOrigins may frame its portal
// and no other page: frame-ancestors names exactly those origins on each
// portal answer (the link's pages, its refusals, a 404, an ended
// session), 'none' and X-Frame-Options DENY everywhere else, the operator
// dashboard of the same project included. The session cookie of such a
// portal is SameSite=None, Secure, Partitioned and HttpOnly; of any other
// portal SameSite=Strict.
func TestPortalFraming(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := apitest.New(t, engine)
		admin, _ := client.New(srv.URL, apitest.AdminKey)
		ctx := context.Background()
		origins := []string{"http://localhost:5173", "https://app.example.com"}
		acme, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "Acme", Slug: "acme", Portal: &client.PortalSettings{AllowedOrigins: &origins}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "Globex", Slug: "globex"}); err != nil {
			t.Fatal(err)
		}
		allowed := "http://localhost:5173 https://app.example.com"
		link := func(project string) string {
			l, err := admin.CreatePortalLink(ctx, project, client.PortalLinkCreate{})
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(l.URL)
			return u.Path
		}

		// The embeddable portal, opened in a browser that keeps its
		// cookies.
		path := link("acme")
		res := rawGet(t, srv.URL, path, "")
		res.Body.Close()
		framing(t, "the link's first page", res.Header, allowed)
		probe := cookieOf(t, res, "hookgate_cookie_check")
		if probe.SameSite != http.SameSiteNoneMode || !probe.Secure || !probe.Partitioned || !probe.HttpOnly {
			t.Fatalf("probe cookie %+v", probe)
		}
		res = rawGet(t, srv.URL, path+"/open", probe.Name+"="+probe.Value)
		res.Body.Close()
		framing(t, "the link's open", res.Header, allowed)
		home := "/ui/p/" + acme.ID + "/webhooks"
		ck := cookieOf(t, res, ui.CookieName)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != home ||
			ck.SameSite != http.SameSiteNoneMode || !ck.Secure || !ck.Partitioned || !ck.HttpOnly || ck.Path != "/ui/" {
			t.Fatalf("open: %d to %q, cookie %+v", res.StatusCode, res.Header.Get("Location"), ck)
		}
		session := ck.Name + "=" + ck.Value
		for _, p := range []string{home, "/ui/p/" + acme.ID + "/deliveries", "/ui/p/" + acme.ID + "/live", "/ui/projects"} {
			res = rawGet(t, srv.URL, p, session)
			res.Body.Close()
			framing(t, "portal page "+p+" ("+res.Status+")", res.Header, allowed)
		}
		res = rawGet(t, srv.URL, path, "")
		res.Body.Close()
		if res.StatusCode != http.StatusGone {
			t.Fatalf("a second open: %d", res.StatusCode)
		}
		framing(t, "a second open", res.Header, allowed)

		// A session that ended, in a frame: a page that says so, framed.
		req, _ := http.NewRequest(http.MethodGet, srv.URL+home, nil)
		req.Header.Set("Sec-Fetch-Dest", "iframe")
		req.Header.Set("Cookie", ui.CookieName+"=ended")
		res, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "session ended") {
			t.Fatalf("an ended session in a frame: %d\n%s", res.StatusCode, body)
		}
		framing(t, "an ended session in a frame", res.Header, allowed)

		// The operator dashboard, the sign-in page, unknown links and
		// another project's portal stay unframeable.
		b := newBrowser(t, srv.URL)
		b.signIn(apitest.AdminKey)
		for _, p := range []string{"/ui/sign-in", "/ui/projects", home, "/ui/portal/not-a-token"} {
			res, err := b.hc.Get(srv.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			framing(t, "operator page "+p, res.Header, "'none'")
		}
		res = rawGet(t, srv.URL, link("globex"), "")
		res.Body.Close()
		framing(t, "a portal without allowedOrigins", res.Header, "'none'")
		if probe := cookieOf(t, res, "hookgate_cookie_check"); probe.SameSite != http.SameSiteStrictMode || probe.Partitioned {
			t.Fatalf("probe cookie of a portal that is not embeddable %+v", probe)
		}
	})
}

// Issue 25, item 3: where the browser refuses the cookie, the session
// travels in the path: every link, form and redirect of the portal keeps
// /ui/s/{token}/, a webhook registers through it, the pages stay framed
// as the project allows, another project is 404, an operator's session
// token is refused there, signing out and revoking the link end it.
func TestPortalSessionInPath(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		store := sqltest.Open(t, engine)
		srv := apitest.Start(store)
		t.Cleanup(srv.Close)
		admin, _ := client.New(srv.URL, apitest.AdminKey)
		ctx := context.Background()
		origins := []string{"http://localhost:5173"}
		acme, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "Acme", Slug: "acme", Portal: &client.PortalSettings{AllowedOrigins: &origins}})
		if err != nil {
			t.Fatal(err)
		}
		globex, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "Globex", Slug: "globex"})
		if err != nil {
			t.Fatal(err)
		}
		l, err := admin.CreatePortalLink(ctx, "acme", client.PortalLinkCreate{ReturnURL: "https://app.example.com/"})
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(l.URL)
		res := rawGet(t, srv.URL, u.Path, "")
		res.Body.Close()
		res = rawGet(t, srv.URL, u.Path+"/open", "") // the probe did not come back
		res.Body.Close()
		loc := res.Header.Get("Location")
		m := regexp.MustCompile(`^/ui/s/([A-Za-z0-9_-]{43})/p/` + acme.ID + `/webhooks$`).FindStringSubmatch(loc)
		if res.StatusCode != http.StatusSeeOther || m == nil || len(res.Cookies()) != 0 {
			t.Fatalf("open without cookies: %d to %q, cookies %v", res.StatusCode, loc, res.Cookies())
		}
		prefix := "/ui/s/" + m[1] + "/"
		b := newBrowser(t, srv.URL)
		res, err = b.hc.Get(srv.URL + loc)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		page := string(raw)
		framing(t, "the webhooks page in the path", res.Header, "http://localhost:5173")
		if res.StatusCode != 200 || !strings.Contains(page, "Webhooks portal") {
			t.Fatalf("the webhooks page: %d\n%s", res.StatusCode, page)
		}
		links := dashboardLink.FindAllStringSubmatch(page, -1)
		if len(links) < 4 {
			t.Fatalf("the page links to %d dashboard paths:\n%s", len(links), page)
		}
		for _, l := range links {
			if !strings.HasPrefix(l[1], prefix) && !strings.HasPrefix(l[1], "/ui/static/") {
				t.Errorf("the page links to %s without the session's prefix", l[1])
			}
		}
		if !strings.Contains(page, `href="https://app.example.com/" target="_top" rel="noreferrer"`) {
			t.Errorf("the Back link is not to the top window without a referrer:\n%s", page)
		}

		st, loc, body := b.post(loc, url.Values{"csrf": {csrfOf(t, page)}, "url": {"https://customer.example/in"}}, srv.URL)
		if st != http.StatusSeeOther || !strings.HasPrefix(loc, prefix+"p/"+acme.ID+"/webhooks/") {
			t.Fatalf("registering a webhook: %d to %q\n%s", st, loc, body)
		}
		if list, err := admin.ListWebhooks(ctx, "acme", nil); err != nil || len(list.Data) != 1 || list.Data[0].URL != "https://customer.example/in" {
			t.Fatalf("webhooks after the form: %+v, %v", list, err)
		}
		if st, _, _ := b.get(prefix + "p/" + globex.ID + "/webhooks"); st != http.StatusNotFound {
			t.Fatalf("another project in the path: %d", st)
		}

		// An operator session's token is not taken from a path.
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/ui/sign-in", strings.NewReader(url.Values{"key": {apitest.AdminKey}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", srv.URL)
		res, err = (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		opToken := cookieOf(t, res, ui.CookieName).Value
		if st, _, body := b.get("/ui/s/" + opToken + "/projects"); st != http.StatusUnauthorized || strings.Contains(body, "Globex") {
			t.Fatalf("an operator's token in the path: %d\n%s", st, body)
		}

		// Signing out ends it; so does revoking the link of another.
		st, _, body = b.post(prefix+"sign-out", url.Values{"csrf": {csrfOf(t, page)}}, srv.URL)
		if st != http.StatusOK || !strings.Contains(body, "You left the portal") {
			t.Fatalf("signing out: %d\n%s", st, body)
		}
		if st, _, _ := b.get(prefix + "p/" + acme.ID + "/webhooks"); st != http.StatusUnauthorized {
			t.Fatalf("after signing out: %d", st)
		}
		l2, err := admin.CreatePortalLink(ctx, "acme", client.PortalLinkCreate{})
		if err != nil {
			t.Fatal(err)
		}
		u2, _ := url.Parse(l2.URL)
		rawGet(t, srv.URL, u2.Path, "").Body.Close()
		res = rawGet(t, srv.URL, u2.Path+"/open", "")
		res.Body.Close()
		loc2 := res.Header.Get("Location")
		if st, _, _ := b.get(loc2); st != http.StatusOK {
			t.Fatalf("the second link's portal: %d", st)
		}
		if err := admin.RevokePortalLink(ctx, "acme", l2.ID); err != nil {
			t.Fatal(err)
		}
		if st, _, _ := b.get(loc2); st != http.StatusUnauthorized {
			t.Fatalf("after revoking: %d", st)
		}
	})
}
