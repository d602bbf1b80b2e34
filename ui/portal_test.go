package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/sqlstore"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
	"github.com/hookgate/hookgate/ui"
)

// portalLink stores a link of projectID made at created and returns it
// with its URL path.
func portalLink(t *testing.T, store *sqlstore.Store, projectID string, in hookgate.PortalLinkInput, created time.Time) (*hookgate.PortalLink, string) {
	t.Helper()
	l, token, err := hookgate.NewPortalLink(projectID, "admin", in, created)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreatePortalLink(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	return l, "/ui/portal/" + token
}

// openPortal opens a link in b as a browser does (its first page moves
// on to /open by itself) and returns where it sent the browser and the
// session cookie it set.
func openPortal(t *testing.T, b *browser, path string) (string, *http.Cookie) {
	t.Helper()
	st, _, page := b.get(path)
	if st != http.StatusOK || !strings.Contains(page, `<meta http-equiv="refresh" content="0; url=`+path+`/open">`) {
		t.Fatalf("the first page of a fresh link: %d\n%s", st, page)
	}
	res, err := b.hc.Get(b.base + path + "/open")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("opening a fresh link: %d", res.StatusCode)
	}
	for _, c := range res.Cookies() {
		if c.Name == ui.CookieName {
			return res.Header.Get("Location"), c
		}
	}
	t.Fatal("opening a link set no session cookie")
	return "", nil
}

// A portal link opens once into a session of its project and
// capabilities: the navigation shows only what they allow, every other
// page (another project's too) answers 404; a second open, an expired,
// a revoked or an unknown link get a page that says which and no session;
// revoking a link signs its session out at once.
func TestPortal(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		store := sqltest.Open(t, engine)
		srv := apitest.Start(store)
		t.Cleanup(srv.Close)
		admin, _ := client.New(srv.URL, apitest.AdminKey)
		ctx := context.Background()
		acme, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "Acme", Slug: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		globex, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "Globex", Slug: "globex"})
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := admin.CreateWebhook(ctx, "globex", client.WebhookCreate{URL: "https://globex.example/hook"})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()

		// Every capability.
		_, path := portalLink(t, store, acme.ID, hookgate.PortalLinkInput{}, now)
		b := newBrowser(t, srv.URL)
		home := "/ui/p/" + acme.ID + "/webhooks"
		loc, ck := openPortal(t, b, path)
		if loc != home || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/ui/" {
			t.Fatalf("the link sent to %q with cookie %+v", loc, ck)
		}
		st, _, page := b.get(home)
		if st != 200 || !strings.Contains(page, "Webhooks portal") || !strings.Contains(page, ">Deliveries</a>") {
			t.Fatalf("the portal's webhooks page: %d\n%s", st, page)
		}
		for _, hidden := range []string{"/ui/projects", "/live", "/events", "/platforms", "/sources", "/keys", "Project <strong>"} {
			if strings.Contains(page, hidden) {
				t.Errorf("the portal's page shows %q", hidden)
			}
		}
		st, loc, page = b.post(home, url.Values{"csrf": {csrfOf(t, page)}, "url": {"https://customer.example/in"}, "events": {"order.paid"}}, srv.URL)
		if st != http.StatusSeeOther {
			t.Fatalf("registering a webhook in the portal: %d\n%s", st, page)
		}
		// Registering shows the new webhook's secret.
		mine := strings.TrimSuffix(strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], "/ui/p/"+acme.ID+"/"), "/secret")
		st, _, page = b.get("/ui/p/" + acme.ID + "/" + mine)
		if st != 200 || !strings.Contains(page, "customer.example") || !strings.Contains(page, "Reveal") || !strings.Contains(page, "Recent deliveries") {
			t.Fatalf("the portal's webhook page (%s): %d\n%s", mine, st, page)
		}
		if st, _, body := b.post("/ui/p/"+acme.ID+"/"+mine+"/test", url.Values{"csrf": {csrfOf(t, page)}}, srv.URL); st != http.StatusSeeOther {
			t.Fatalf("a test event from the portal: %d\n%s", st, body)
		}
		if st, _, _ := b.get("/ui/p/" + acme.ID + "/deliveries"); st != 200 {
			t.Fatalf("the portal's deliveries: %d", st)
		}
		for _, p := range []string{
			"/ui/projects",
			"/ui/p/" + acme.ID + "/events",
			"/ui/p/" + acme.ID + "/live",
			"/ui/p/" + acme.ID + "/platforms",
			"/ui/p/" + acme.ID + "/sources",
			"/ui/p/" + acme.ID + "/deliveries/redrive",
			"/ui/p/acme/webhooks", // its own project, but not as the session names it
			"/ui/p/" + globex.ID + "/webhooks",
			"/ui/p/globex/webhooks/" + theirs.ID,
			"/ui/p/" + acme.ID + "/webhooks/" + theirs.ID,
			"/ui/p/" + acme.ID + "/webhooks/" + theirs.ID + "/secret",
		} {
			if st, _, _ := b.get(p); st != http.StatusNotFound {
				t.Errorf("GET %s in the portal: %d, want 404", p, st)
			}
		}

		// A second open, in another browser, is refused.
		other := newBrowser(t, srv.URL)
		res, err := other.hc.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusGone || len(res.Cookies()) != 0 {
			t.Fatalf("a second open: %d, cookies %v", res.StatusCode, res.Cookies())
		}
		if st, _, body := other.get(path); st != http.StatusGone || !strings.Contains(body, "opened already") {
			t.Fatalf("a second open: %d\n%s", st, body)
		}
		_, expired := portalLink(t, store, acme.ID, hookgate.PortalLinkInput{ExpiresIn: time.Hour}, now.Add(-2*time.Hour))
		if st, _, body := other.get(expired); st != http.StatusGone || !strings.Contains(body, "expired") {
			t.Fatalf("an expired link: %d\n%s", st, body)
		}
		if st, _, body := other.get("/ui/portal/not-a-token"); st != http.StatusNotFound || !strings.Contains(body, "not valid") {
			t.Fatalf("an unknown link: %d\n%s", st, body)
		}

		// Only webhooks: no deliveries, no secrets.
		only, onlyPath := portalLink(t, store, acme.ID, hookgate.PortalLinkInput{Capabilities: []string{hookgate.CapWebhooks}}, now)
		wb := newBrowser(t, srv.URL)
		openPortal(t, wb, onlyPath)
		st, _, page = wb.get("/ui/p/" + acme.ID + "/" + mine)
		if st != 200 || strings.Contains(page, "Reveal") || strings.Contains(page, "Recent deliveries") || strings.Contains(page, ">Deliveries</a>") {
			t.Fatalf("a webhooks-only session's webhook page: %d\n%s", st, page)
		}
		st, loc, page = wb.post(home, url.Values{"csrf": {csrfOf(t, page)}, "url": {"https://customer.example/two"}}, srv.URL)
		if st != http.StatusSeeOther || strings.HasSuffix(strings.SplitN(loc, "?", 2)[0], "/secret") {
			t.Fatalf("registering in a webhooks-only session: %d %q\n%s", st, loc, page)
		}
		if st, _, _ := wb.get(loc); st != 200 {
			t.Fatalf("the webhook registered in a webhooks-only session: %d", st)
		}
		for _, p := range []string{"/ui/p/" + acme.ID + "/deliveries", "/ui/p/" + acme.ID + "/" + mine + "/secret"} {
			if st, _, _ := wb.get(p); st != http.StatusNotFound {
				t.Errorf("GET %s in a webhooks-only session: %d, want 404", p, st)
			}
		}

		// Revoking the link signs its session out at once; the link cannot be opened again.
		if _, err := store.RevokePortalLink(ctx, acme.ID, only.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		if st, loc, _ := wb.get(home); st != http.StatusSeeOther || loc != "/ui/sign-in" {
			t.Fatalf("after revocation: %d %q, want signed out", st, loc)
		}
		if st, _, body := newBrowser(t, srv.URL).get(onlyPath); st != http.StatusGone || !strings.Contains(body, "revoked") {
			t.Fatalf("a revoked link: %d\n%s", st, body)
		}
		if st, _, _ := b.get(home); st != 200 {
			t.Fatalf("another link's session after the revocation: %d", st)
		}
	})
}

// The whole path through the API: an owner key makes a link, the
// customer opens its URL, the listing shows when it was used, and the
// API's revocation signs the session out at once.
func TestPortalLinkFromTheAPI(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := apitest.New(t, engine)
		admin, _ := client.New(srv.URL, apitest.AdminKey)
		ctx := context.Background()
		p, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "Acme", Slug: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		k, err := admin.CreateKey(ctx, "acme", client.KeyCreate{Name: "backend", Role: client.RoleOwner})
		if err != nil {
			t.Fatal(err)
		}
		owner, _ := client.New(srv.URL, k.Key)
		l, err := owner.CreatePortalLink(ctx, "acme", client.PortalLinkCreate{ExpiresIn: "2h", Capabilities: []string{client.CapabilityWebhooks},
			ReturnURL: "https://app.example.com/settings?tab=webhooks"})
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(l.URL)
		if err != nil || !strings.HasPrefix(u.Path, "/ui/portal/") {
			t.Fatalf("the link's URL %q: %v", l.URL, err)
		}
		b := newBrowser(t, srv.URL)
		home, _ := openPortal(t, b, u.Path)
		if st, _, page := b.get(home); st != 200 || strings.Contains(page, ">Deliveries</a>") ||
			!strings.Contains(page, `<a href="https://app.example.com/settings?tab=webhooks" target="_top" rel="noreferrer">Back</a>`) {
			t.Fatalf("the portal: %d\n%s", st, page)
		}
		list, err := owner.ListPortalLinks(ctx, "acme", nil)
		if err != nil || len(list.Data) != 1 || list.Data[0].UsedAt == nil || list.Data[0].CreatedBy != k.ID || list.Data[0].URL != "" {
			t.Fatalf("ListPortalLinks = %+v, %v", list, err)
		}
		if err := owner.RevokePortalLink(ctx, "acme", l.ID); err != nil {
			t.Fatal(err)
		}
		if st, loc, _ := b.get(home); st != http.StatusSeeOther || loc != "/ui/sign-in" {
			t.Fatalf("after the API revoked the link: %d %q", st, loc)
		}
		if home != "/ui/p/"+p.ID+"/webhooks" {
			t.Fatalf("home = %q", home)
		}
	})
}
