package main_test

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hookgate/hookgate/client"
)

// hostApp is a producer's app for the portal's browser test: each load of
// /app asks Hookgate for a fresh portal link, server-side with the
// project's owner key, and embeds it in an iframe, as docs/portal.md
// tells a producer to. Its pages are reached at http://localhost:PORT, a
// site other than Hookgate's http://127.0.0.1:PORT.
type hostApp struct {
	*httptest.Server
	hookgate string // Hookgate's base URL, to which the link is pointed
	owner    *client.Client
	project  string
	links    atomic.Int32
}

var hostPage = template.Must(template.New("app").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Acme app</title>
<style>body{margin:0;font-family:sans-serif} iframe{border:0;width:375px;height:760px;display:block}</style></head>
<body><h1 id="app">Acme app: webhooks</h1><iframe title="Webhooks portal" src="{{.}}"></iframe></body></html>`))

func newHostApp(t *testing.T, hookgate string, owner *client.Client, project string) *hostApp {
	h := &hostApp{hookgate: hookgate, owner: owner, project: project}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/app" {
			http.NotFound(w, r)
			return
		}
		l, err := h.owner.CreatePortalLink(r.Context(), h.project, client.PortalLinkCreate{ExpiresIn: "10m", ReturnURL: "http://" + r.Host + "/app"})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		h.links.Add(1)
		// The server's --public-url is not this test's address.
		_, path, _ := strings.Cut(strings.TrimPrefix(l.URL, "https://"), "/")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = hostPage.Execute(w, h.hookgate+"/"+path)
	}))
	t.Cleanup(h.Close)
	return h
}

// localhost is the app's address by the name localhost: another site than
// 127.0.0.1 for the browser, the same loopback for the network.
func (h *hostApp) localhost() string {
	_, port, _ := net.SplitHostPort(h.Listener.Addr().String())
	return "http://localhost:" + port
}

// Issue 25, item 5: the consumer portal embedded in a producer's app, in
// headless Chromium (e2e/portal.test.mjs): a page on another loopback
// site frames a fresh link, themed (product name, logo, accent), the customer registers a webhook in the frame,
// sends a test event and sees its delivery succeed, at 375 px; a page on
// an origin the project does not allow cannot frame it (and its link is
// not used); where the browser refuses the cookie, the session travels in
// the path and the same steps work.
func TestPortalEndToEnd(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: drives a headless browser through npm's playwright-core")
	}
	node, browser, e2e := browserTools(t)
	var delivered atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		delivered.Add(1)
		fmt.Fprint(w, "received by the customer")
	}))
	defer recv.Close()

	base, admin := startE2EServer(t, "https://webhooks.example-producer.invalid")
	ctx := context.Background()
	if _, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "Acme", Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	k, err := admin.CreateKey(ctx, "acme", client.KeyCreate{Name: "acme-app", Role: client.RoleOwner})
	if err != nil {
		t.Fatal(err)
	}
	owner, err := client.New(base, k.Key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateEventType(ctx, "acme", client.EventTypeCreate{Name: "invoice.paid", Description: "An invoice was paid in full."}); err != nil {
		t.Fatal(err)
	}
	app := newHostApp(t, base, owner, "acme")
	other := newHostApp(t, base, owner, "acme") // an origin the project does not allow
	origins := []string{app.localhost()}
	var logo bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 64, 32))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{R: 255, G: 204, A: 255}), image.Point{}, draw.Src)
	if err := png.Encode(&logo, img); err != nil {
		t.Fatal(err)
	}
	p, err := admin.UpdateProject(ctx, "acme", client.ProjectUpdate{Portal: &client.PortalSettings{AllowedOrigins: &origins,
		Theme: &client.PortalThemeUpdate{ProductName: client.Ptr("Acme webhooks"), AccentColor: client.Ptr("#ffcc00"), Logo: client.Ptr(client.LogoDataURL(logo.Bytes()))}}})
	if err != nil {
		t.Fatal(err)
	}

	runNode(t, node, e2e, "portal.test.mjs", "portal", "HOOKGATE_URL="+base, "APP_URL="+app.localhost()+"/app", "OTHER_URL="+other.localhost()+"/app",
		"PRODUCT=Acme webhooks", "ACCENT="+p.Portal.Theme.Applied.Light.Color, "RECEIVER_URL="+recv.URL, "CHROMIUM="+browser)
	if delivered.Load() < 2 {
		t.Fatalf("the receiver got %d requests, want the test events of both runs", delivered.Load())
	}
	// The page that may not frame the portal loaded its link, which the
	// browser never opened.
	links, err := owner.ListPortalLinks(ctx, "acme", nil)
	if err != nil {
		t.Fatal(err)
	}
	unused := 0
	for _, l := range links.Data {
		if l.UsedAt == nil {
			unused++
		}
	}
	if other.links.Load() < 1 || unused < 1 {
		t.Fatalf("the other origin made %d links; %d of all links are unused, want at least one", other.links.Load(), unused)
	}
}
