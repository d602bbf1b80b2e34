package ui_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// pngOf returns a w×h PNG.
func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		img.Set(x, 0, color.RGBA{R: 200, A: 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// fetch gets path in b and returns the answer and its body.
func (b *browser) fetch(path string) (*http.Response, []byte) {
	b.t.Helper()
	res, err := b.hc.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return res, body
}

// setTheme changes project's portal theme through the API.
func setTheme(t *testing.T, admin *client.Client, project string, in client.PortalThemeUpdate) *client.Project {
	t.Helper()
	p, err := admin.UpdateProject(context.Background(), project, client.ProjectUpdate{Portal: &client.PortalSettings{Theme: &in}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var portalCSSLink = regexp.MustCompile(`<link rel="stylesheet" href="(/ui/p/[^"/]+/portal\.css\?v=[0-9a-f]{12})">`)

// Issue 25 item 4: a themed project's portal shows its product name and
// logo and links its stylesheet, which carries the applied accent and,
// for dark and auto, the dark palette; the logo is served as stored,
// under nosniff and a sandbox; another project's stylesheet and logo
// answer 404; an un-themed portal keeps Hookgate's look; the operator
// dashboard links no theme but may preview one.
func TestPortalTheme(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		store := sqltest.Open(t, engine)
		srv := apitest.Start(store)
		t.Cleanup(srv.Close)
		admin, _ := client.New(srv.URL, apitest.AdminKey)
		ctx := context.Background()
		var ids []string
		for _, slug := range []string{"acme", "globex", "initech"} {
			p, err := admin.CreateProject(ctx, client.ProjectCreate{Name: slug, Slug: slug})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, p.ID)
		}
		acme, globex, initech := ids[0], ids[1], ids[2]
		logo := pngOf(t, 40, 20)
		p := setTheme(t, admin, "acme", client.PortalThemeUpdate{ProductName: ptr("Acme <hooks>"), AccentColor: ptr("#ffcc00"), Mode: ptr("auto"), Logo: ptr(client.LogoDataURL(logo))})
		applied := p.Portal.Theme.Applied
		setTheme(t, admin, "globex", client.PortalThemeUpdate{Logo: ptr(client.LogoDataURL(pngOf(t, 10, 10)))})

		// The themed portal's page.
		_, path := portalLink(t, store, acme, hookgate.PortalLinkInput{}, time.Now())
		b := newBrowser(t, srv.URL)
		home, _ := openPortal(t, b, path)
		st, _, page := b.get(home)
		img := `<img src="/ui/p/` + acme + `/portal-logo?v=` + p.Portal.Theme.Logo.SHA256[:12] + `" alt="" width="56" height="28">Acme &lt;hooks&gt;</a>`
		if st != 200 || !strings.Contains(page, img) || !strings.Contains(page, "<title>Webhooks · Acme &lt;hooks&gt;</title>") || strings.Contains(page, "Webhooks portal") {
			t.Fatalf("the themed portal's page: %d, want %s\n%s", st, img, page)
		}
		m := portalCSSLink.FindStringSubmatch(page)
		if m == nil || !strings.HasPrefix(m[1], "/ui/p/"+acme+"/") || strings.Index(page, m[0]) < strings.Index(page, "/ui/static/style.css") {
			t.Fatalf("the themed portal's page links no portal.css after style.css:\n%s", page)
		}

		// Its stylesheet: the light accent, then the dark palette for a browser that prefers it.
		res, css := b.fetch(m[1])
		light, dark, ok := strings.Cut(string(css), "@media (prefers-color-scheme: dark)")
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/css; charset=utf-8" || res.Header.Get("Cache-Control") != "private, max-age=300" || !ok ||
			!strings.Contains(light, "--accent: "+applied.Light.Color+";") || !strings.Contains(light, "--on-accent: "+applied.Light.OnColor+";") || strings.Contains(light, "--bg:") ||
			!strings.Contains(dark, "color-scheme: dark;") || !strings.Contains(dark, "--bg: #0d1117;") || !strings.Contains(dark, "--fg: #e6edf3;") ||
			!strings.Contains(dark, "--accent: "+applied.Dark.Color+";") || !strings.Contains(dark, "--link: "+applied.Dark.Color+";") {
			t.Fatalf("portal.css (auto): %d %v\n%s", res.StatusCode, res.Header, css)
		}
		if applied.Light.Color == "#ffcc00" || applied.Dark.Color != "#ffcc00" {
			t.Fatalf("applied %+v", applied)
		}

		// Its logo, as uploaded.
		res, got := b.fetch("/ui/p/" + acme + "/portal-logo")
		if res.StatusCode != 200 || !bytes.Equal(got, logo) || res.Header.Get("Content-Type") != "image/png" || res.Header.Get("X-Content-Type-Options") != "nosniff" ||
			res.Header.Get("Content-Security-Policy") != "default-src 'none'; sandbox" {
			t.Fatalf("portal-logo: %d %v, %d bytes, want %d", res.StatusCode, res.Header, len(got), len(logo))
		}

		// Another project's, even one with a logo, are not there.
		for _, other := range []string{"/ui/p/" + globex + "/portal.css", "/ui/p/" + globex + "/portal-logo", "/ui/p/acme/portal.css", "/ui/p/globex/portal-logo"} {
			if res, body := b.fetch(other); res.StatusCode != http.StatusNotFound || bytes.Contains(body, []byte("--accent")) {
				t.Errorf("GET %s in acme's portal: %d", other, res.StatusCode)
			}
		}

		// Dark mode: the whole dark palette, whatever the browser prefers; a new address.
		setTheme(t, admin, "acme", client.PortalThemeUpdate{Mode: ptr("dark")})
		_, _, page = b.get(home)
		m2 := portalCSSLink.FindStringSubmatch(page)
		if m2 == nil || m2[1] == m[1] {
			t.Fatalf("the dark theme's stylesheet is linked as %v, the auto one's as %s", m2, m[1])
		}
		res, css = b.fetch(m2[1])
		if res.StatusCode != 200 || strings.Contains(string(css), "@media") || !strings.Contains(string(css), "color-scheme: dark;") ||
			!strings.Contains(string(css), "--bg: #0d1117;") || !strings.Contains(string(css), "--accent: "+applied.Dark.Color+";") {
			t.Fatalf("portal.css (dark): %d\n%s", res.StatusCode, css)
		}

		// Without a theme the portal looks as it did: no logo, "Webhooks portal", a stylesheet that sets nothing.
		_, path = portalLink(t, store, initech, hookgate.PortalLinkInput{}, time.Now())
		plain := newBrowser(t, srv.URL)
		home, _ = openPortal(t, plain, path)
		st, _, page = plain.get(home)
		if st != 200 || strings.Contains(page, "<img") || !strings.Contains(page, `webhooks">Webhooks portal</a>`) || !strings.Contains(page, "<title>Webhooks · Webhooks portal</title>") {
			t.Fatalf("the un-themed portal's page: %d\n%s", st, page)
		}
		if m := portalCSSLink.FindStringSubmatch(page); m == nil {
			t.Fatalf("the un-themed portal links no portal.css:\n%s", page)
		} else if res, css := plain.fetch(m[1]); res.StatusCode != 200 || bytes.Contains(css, []byte("--")) {
			t.Fatalf("the un-themed portal.css: %d\n%s", res.StatusCode, css)
		}
		if res, _ := plain.fetch("/ui/p/" + initech + "/portal-logo"); res.StatusCode != http.StatusNotFound {
			t.Fatalf("the un-themed portal's logo: %d", res.StatusCode)
		}

		// The operator's dashboard keeps its look, and may preview a portal's theme.
		op := newBrowser(t, srv.URL)
		op.signIn(apitest.AdminKey)
		st, _, page = op.get("/ui/p/acme/webhooks")
		if st != 200 || strings.Contains(page, "portal.css") || strings.Contains(page, "<img") || !strings.Contains(page, "<title>Webhooks · Hookgate</title>") {
			t.Fatalf("the operator's page: %d\n%s", st, page)
		}
		if res, css := op.fetch("/ui/p/acme/portal.css"); res.StatusCode != 200 || !bytes.Contains(css, []byte("--accent: "+applied.Dark.Color+";")) {
			t.Fatalf("the operator's preview of portal.css: %d\n%s", res.StatusCode, css)
		}
		if res, got := op.fetch("/ui/p/acme/portal-logo"); res.StatusCode != 200 || !bytes.Equal(got, logo) {
			t.Fatalf("the operator's preview of the logo: %d", res.StatusCode)
		}
		if res, _ := op.fetch("/ui/p/nope/portal.css"); res.StatusCode != http.StatusNotFound {
			t.Fatalf("an unknown project's portal.css: %d", res.StatusCode)
		}

		// A logo removed is gone from the header and the route.
		setTheme(t, admin, "acme", client.PortalThemeUpdate{Logo: ptr("")})
		if _, _, page = b.get("/ui/p/" + acme + "/webhooks"); strings.Contains(page, "<img") {
			t.Fatalf("the header after the logo was removed:\n%s", page)
		}
		if res, _ := b.fetch("/ui/p/" + acme + "/portal-logo"); res.StatusCode != http.StatusNotFound {
			t.Fatalf("portal-logo after removal: %d", res.StatusCode)
		}
	})
}
