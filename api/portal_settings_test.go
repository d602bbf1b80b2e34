package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"

	"github.com/hookgate/hookgate"
)

// pngDataURL returns a w×h PNG as a data URL, and its bytes.
func pngDataURL(t testing.TB, w, h int) (string, []byte) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		img.Set(x, 0, color.RGBA{R: 200, A: 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes()), b.Bytes()
}

// Issue 25, items 3 and 4: a project's portal settings, set and read on
// both engines: origins normalized, the theme checked, the accent applied
// with 4.5:1 contrast, the logo stored whole and kept by a PATCH that
// does not name it.
func TestPortalSettings(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		id, _, _ := e.project("acme")
		logo, raw := pngDataURL(t, 40, 20)
		r := e.req("PATCH", "/api/v1/projects/acme", adminKey, map[string]any{"portal": map[string]any{
			"allowedOrigins": []string{"HTTPS://App.Example.com:443", "http://localhost:5173/", "https://app.example.com", "http://[::1]:8080"},
			"theme":          map[string]any{"productName": "Acme webhooks", "accentColor": "#FC0", "mode": "auto", "logo": logo},
		}}).must(t, 200)
		p := r.Body["portal"].(map[string]any)
		jsonEq(t, "allowedOrigins", p["allowedOrigins"], []string{"https://app.example.com", "http://localhost:5173", "http://[::1]:8080"})
		th := p["theme"].(map[string]any)
		if th["productName"] != "Acme webhooks" || th["accentColor"] != "#ffcc00" || th["mode"] != "auto" {
			t.Fatalf("theme %v", th)
		}
		lg := th["logo"].(map[string]any)
		if lg["contentType"] != "image/png" || int(lg["size"].(float64)) != len(raw) || lg["width"] != 40.0 || lg["height"] != 20.0 {
			t.Fatalf("logo %v", lg)
		}
		applied := th["applied"].(map[string]any)
		light := applied["light"].(map[string]any)
		dark := applied["dark"].(map[string]any)
		// Yellow on white is 1.6:1: the light accent is darkened; on the
		// dark page it is kept.
		if light["color"] == "#ffcc00" || dark["color"] != "#ffcc00" {
			t.Fatalf("applied %v", applied)
		}
		for mode, a := range map[string]map[string]any{"light": light, "dark": dark} {
			bg := map[string]string{"light": hookgate.LightBackground, "dark": hookgate.DarkBackground}[mode]
			c, on := a["color"].(string), a["onColor"].(string)
			if hookgate.Contrast(c, bg) < 4.5 || hookgate.Contrast(c, on) < 4.5 {
				t.Errorf("%s: %s on %s is %.2f:1, %s on it %.2f:1", mode, c, bg, hookgate.Contrast(c, bg), on, hookgate.Contrast(c, on))
			}
		}
		got, err := e.store.FindPortalLogo(context.Background(), id)
		if err != nil || !bytes.Equal(got.Data, raw) || got.ContentType != "image/png" {
			t.Fatalf("stored logo %v, %v", got, err)
		}

		// A PATCH of another field keeps the portal, logo included.
		r = e.req("PATCH", "/api/v1/projects/acme", adminKey, map[string]any{"portal": map[string]any{"theme": map[string]any{"mode": "dark"}}}).must(t, 200)
		th = r.Body["portal"].(map[string]any)["theme"].(map[string]any)
		if th["mode"] != "dark" || th["productName"] != "Acme webhooks" || th["logo"] == nil {
			t.Fatalf("after a PATCH of mode: %s", r.Raw)
		}
		if got, err := e.store.FindPortalLogo(context.Background(), id); err != nil || !bytes.Equal(got.Data, raw) {
			t.Fatalf("logo after a PATCH of mode: %v", err)
		}
		e.req("PATCH", "/api/v1/projects/acme", adminKey, map[string]any{"name": "Acme Corp"}).must(t, 200)
		if got, err := e.store.FindPortalLogo(context.Background(), id); err != nil || !bytes.Equal(got.Data, raw) {
			t.Fatalf("logo after a PATCH of name: %v", err)
		}

		// Bad input: 400 naming the parameter, nothing changed.
		before := e.req("GET", "/api/v1/projects/acme", adminKey, nil).must(t, 200)
		big, _ := pngDataURL(t, 600, 10)
		svg := "data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString([]byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`))
		notPNG := "data:image/png;base64," + base64.StdEncoding.EncodeToString([]byte("GIF89a not a png"))
		for _, tc := range []struct {
			portal map[string]any
			param  string
		}{
			{map[string]any{"allowedOrigins": []string{"https://ok.example", "*"}}, "portal.allowedOrigins[1]"},
			{map[string]any{"allowedOrigins": []string{"https://app.example.com/path"}}, "portal.allowedOrigins[0]"},
			{map[string]any{"allowedOrigins": []string{"https://app.example.com; script-src *"}}, "portal.allowedOrigins[0]"},
			{map[string]any{"allowedOrigins": []string{"ftp://files.example.com"}}, "portal.allowedOrigins[0]"},
			{map[string]any{"allowedOrigins": []string{"https://user:pw@app.example.com"}}, "portal.allowedOrigins[0]"},
			{map[string]any{"allowedOrigins": []string{"null"}}, "portal.allowedOrigins[0]"},
			{map[string]any{"theme": map[string]any{"accentColor": "red"}}, "portal.theme.accentColor"},
			{map[string]any{"theme": map[string]any{"mode": "sepia"}}, "portal.theme.mode"},
			{map[string]any{"theme": map[string]any{"productName": strings.Repeat("x", 61)}}, "portal.theme.productName"},
			{map[string]any{"theme": map[string]any{"productName": "a\nb"}}, "portal.theme.productName"},
			{map[string]any{"theme": map[string]any{"logo": "https://cdn.example.com/logo.png"}}, "portal.theme.logo"},
			{map[string]any{"theme": map[string]any{"logo": svg}}, "portal.theme.logo"},
			{map[string]any{"theme": map[string]any{"logo": notPNG}}, "portal.theme.logo"},
			{map[string]any{"theme": map[string]any{"logo": big}}, "portal.theme.logo"},
		} {
			e.req("PATCH", "/api/v1/projects/acme", adminKey, map[string]any{"name": "Changed", "portal": tc.portal}).problem(t, 400, "invalid_parameter", tc.param)
		}
		after := e.req("GET", "/api/v1/projects/acme", adminKey, nil).must(t, 200)
		jsonEq(t, "project after refused PATCHes", after.Body, before.Body)

		// "" removes the logo and takes the defaults; [] makes the portal
		// not embeddable.
		r = e.req("PATCH", "/api/v1/projects/acme", adminKey, map[string]any{"portal": map[string]any{
			"allowedOrigins": []string{}, "theme": map[string]any{"productName": "", "accentColor": "", "mode": "", "logo": ""}}}).must(t, 200)
		p = r.Body["portal"].(map[string]any)
		th = p["theme"].(map[string]any)
		if len(p["allowedOrigins"].([]any)) != 0 || th["logo"] != nil || th["mode"] != "light" || th["accentColor"] != "" {
			t.Fatalf("after clearing: %s", r.Raw)
		}
		if _, err := e.store.FindPortalLogo(context.Background(), id); hookgate.ErrorCode(err) != hookgate.ENotFound {
			t.Fatalf("logo after removal: %v", err)
		}

		// Create takes the same settings.
		r = e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": "Globex", "portal": map[string]any{"allowedOrigins": []string{"https://globex.example"}, "theme": map[string]any{"logo": logo}}}).must(t, 201)
		if o := r.Body["portal"].(map[string]any)["allowedOrigins"].([]any); len(o) != 1 || o[0] != "https://globex.example" {
			t.Fatalf("create: %s", r.Raw)
		}
		if got, err := e.store.FindPortalLogo(context.Background(), r.str("id")); err != nil || !bytes.Equal(got.Data, raw) {
			t.Fatalf("created logo: %v", err)
		}
		e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": "Initech", "portal": map[string]any{"allowedOrigins": []string{"*"}}}).problem(t, 400, "invalid_parameter", "portal.allowedOrigins[0]")
	})
}
