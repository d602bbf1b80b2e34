package ui

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hookgate/hookgate"
)

// lightPalette reads the :root variables of static/style.css.
func lightPalette(t *testing.T) map[string]string {
	t.Helper()
	css, err := assets.ReadFile("static/style.css")
	if err != nil {
		t.Fatal(err)
	}
	root := regexp.MustCompile(`(?s):root\s*\{(.*?)\}`).FindSubmatch(css)
	if root == nil {
		t.Fatal("style.css has no :root rule")
	}
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`(--[a-z0-9-]+):\s*([^;]+);`).FindAllStringSubmatch(string(root[1]), -1) {
		out[m[1]] = strings.TrimSpace(m[2])
	}
	return out
}

// darkPaletteWith is darkPalette with the accent the default accent
// colour gets in dark mode.
func darkPaletteWith(a hookgate.Accent) map[string]string {
	out := map[string]string{}
	for _, v := range append(append([]cssVar{}, darkPalette...), accentVars(a)...) {
		out[v.Name] = v.Value
	}
	return out
}

// textPairs are the text colour and background pairs the pages use.
var textPairs = [][2]string{
	{"--fg", "--bg"},
	{"--muted", "--bg"},
	{"--link", "--bg"},
	{"--ok", "--okbg"},
	{"--bad", "--badbg"},
	{"--wait", "--waitbg"},
	{"--fg", "--waitbg"}, // a notice's text
	{"--fg", "--code-bg"},
	{"--fg", "--field-bg"},
	{"--field-fg", "--field-bg"},
	{"--trigger", "--triggerbg"},
	{"--on-accent", "--accent"},
	{"--on-bad", "--bad"}, // a danger button
	{"--bad", "--bg"},     // a field's error
}

// Issue 25 item 4: every text colour of the light palette (style.css)
// and of the dark one (darkPalette) keeps hookgate.MinContrast on its
// background, and a themed accent keeps it with its button text and the
// page, in both modes.
func TestPaletteContrast(t *testing.T) {
	light := lightPalette(t)
	_, dark := hookgate.PortalTheme{}.Applied()
	palettes := map[string]map[string]string{"light": light, "dark": darkPaletteWith(dark)}
	for mode, p := range palettes {
		for _, pair := range textPairs {
			fg, bg := p[pair[0]], p[pair[1]]
			if fg == "" || bg == "" {
				t.Errorf("%s: %s or %s is not in the palette", mode, pair[0], pair[1])
				continue
			}
			if c := hookgate.Contrast(fg, bg); c < hookgate.MinContrast {
				t.Errorf("%s: %s %s on %s %s is %.2f:1", mode, pair[0], fg, pair[1], bg, c)
			}
		}
	}
	for _, name := range []string{"--bg", "--fg", "--accent", "--on-accent", "--link"} {
		for mode, p := range palettes {
			if !strings.HasPrefix(p[name], "#") || len(p[name]) != 7 {
				t.Errorf("%s: %s = %q, want #rrggbb", mode, name, p[name])
			}
		}
	}
	if light["--bg"] != hookgate.LightBackground || palettes["dark"]["--bg"] != hookgate.DarkBackground {
		t.Fatalf("backgrounds %s and %s, but accents are measured against %s and %s", light["--bg"], palettes["dark"]["--bg"], hookgate.LightBackground, hookgate.DarkBackground)
	}
	// The accent as applied, on the page and with its button text.
	for _, accent := range []string{"", "#ffcc00", "#00ff00", "#111111", "#ffffff", "#0d1117"} {
		l, d := hookgate.PortalTheme{AccentColor: accent}.Applied()
		for mode, a := range map[string]hookgate.Accent{"light": l, "dark": d} {
			vars := palettes[mode]
			for _, v := range accentVars(a) {
				vars = merged(vars, v)
			}
			for _, pair := range [][2]string{{"--on-accent", "--accent"}, {"--link", "--bg"}, {"--focus", "--bg"}} {
				if c := hookgate.Contrast(vars[pair[0]], vars[pair[1]]); c < hookgate.MinContrast {
					t.Errorf("accent %q, %s: %s %s on %s %s is %.2f:1", accent, mode, pair[0], vars[pair[0]], pair[1], vars[pair[1]], c)
				}
			}
		}
	}
}

// merged is p with v set, p unchanged.
func merged(p map[string]string, v cssVar) map[string]string {
	out := map[string]string{v.Name: v.Value}
	for k, x := range p {
		if k != v.Name {
			out[k] = x
		}
	}
	return out
}

// The dark palette sets every variable of style.css's :root that is not
// the accent's: no colour is left light in dark mode.
func TestDarkPaletteIsWhole(t *testing.T) {
	dark := darkPaletteWith(hookgate.Accent{Color: "#000000", OnColor: "#ffffff"})
	for name := range lightPalette(t) {
		if _, ok := dark[name]; !ok {
			t.Errorf("dark mode keeps the light %s", name)
		}
	}
	if len(dark) != len(lightPalette(t)) {
		t.Errorf("the dark palette has %d variables, style.css %d", len(dark), len(lightPalette(t)))
	}
}

// themeCSS: light mode without an accent sets nothing; with one, the
// applied light accent; dark mode the dark palette and the applied dark
// accent; auto both, the dark one for a browser that prefers it.
func TestThemeCSS(t *testing.T) {
	if css := themeCSS(hookgate.PortalTheme{}); strings.Contains(css, "--") || strings.Contains(css, "dark") {
		t.Fatalf("the default theme sets %s", css)
	}
	th := hookgate.PortalTheme{AccentColor: "#ffcc00"}
	l, d := th.Applied()
	css := themeCSS(th)
	if !strings.Contains(css, "--accent: "+l.Color+";") || !strings.Contains(css, "--link: "+l.Color+";") || !strings.Contains(css, "--on-accent: "+l.OnColor+";") || strings.Contains(css, "dark") {
		t.Fatalf("light #ffcc00:\n%s", css)
	}
	th.Mode = hookgate.ThemeDark
	css = themeCSS(th)
	if !strings.Contains(css, "color-scheme: dark;") || !strings.Contains(css, "--accent: "+d.Color+";") || !strings.Contains(css, "--bg: #0d1117;") || strings.Contains(css, "@media") {
		t.Fatalf("dark #ffcc00:\n%s", css)
	}
	th.Mode = hookgate.ThemeAuto
	css = themeCSS(th)
	light, dark, ok := strings.Cut(css, "@media (prefers-color-scheme: dark) {")
	if !ok || !strings.Contains(light, "--accent: "+l.Color+";") || strings.Contains(light, "--bg:") ||
		!strings.Contains(dark, "--accent: "+d.Color+";") || !strings.Contains(dark, "--fg: #e6edf3;") || !strings.Contains(dark, "color-scheme: dark;") {
		t.Fatalf("auto #ffcc00:\n%s", css)
	}
}

// The header's logo is 28 px high, its width in proportion, and its
// address names its version.
func TestPortalLogoTag(t *testing.T) {
	se := &session{Session: &hookgate.Session{PortalLinkID: "pl_1", ProjectID: "prj_1"}}
	if se.PortalLogo() != nil || se.ProductName() != "Webhooks portal" {
		t.Fatalf("no theme: %+v %q", se.PortalLogo(), se.ProductName())
	}
	se.Settings.Theme = hookgate.PortalTheme{ProductName: "Acme", Logo: &hookgate.PortalLogo{SHA256: strings.Repeat("ab", 32), Width: 200, Height: 56}}
	got := se.PortalLogo()
	if got == nil || got.Width != 100 || got.Height != 28 || got.Src != "/ui/p/prj_1/portal-logo?v=abababababab" || se.ProductName() != "Acme" {
		t.Fatalf("logo %+v, name %q", got, se.ProductName())
	}
}
