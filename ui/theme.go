package ui

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/client"
)

// defaultProductName is the portal's name in its header and page titles
// when its project's theme names none.
const defaultProductName = "Webhooks portal"

// logoHeight is the height, in CSS pixels, the portal's header shows its
// logo at.
const logoHeight = 28

// cssVar is one custom property of the dashboard's palette.
type cssVar struct{ Name, Value string }

// darkPalette is the dark mode of static/style.css's :root variables,
// less the accent's (accentVars gives those from the theme). Each text
// colour keeps hookgate.MinContrast on the backgrounds it is used on
// (TestPaletteContrast).
var darkPalette = []cssVar{
	{"--fg", "#e6edf3"},
	{"--muted", "#9198a1"},
	{"--bg", hookgate.DarkBackground},
	{"--line", "#3d444d"},
	{"--ok", "#3fb950"},
	{"--okbg", "#0f2419"},
	{"--bad", "#ff7b72"},
	{"--badbg", "#2d1417"},
	{"--wait", "#d29922"},
	{"--waitbg", "#272115"},
	{"--code-bg", "#161b22"},
	{"--field-bg", "#010409"},
	{"--field-fg", "#e6edf3"},
	{"--field-line", "#6e7681"},
	{"--on-bad", hookgate.DarkBackground},
	{"--trigger", "#79c0ff"},
	{"--triggerbg", "#0f2540"},
}

// accentVars sets the variables that follow the accent: buttons, their
// text, links and the focus ring.
func accentVars(a hookgate.Accent) []cssVar {
	return []cssVar{
		{"--accent", a.Color},
		{"--accent-line", a.Color},
		{"--on-accent", a.OnColor},
		{"--link", a.Color},
		{"--focus", a.Color},
	}
}

// themeCSS is the stylesheet that gives a portal theme t's look on top
// of static/style.css. Light mode without an accent of its own keeps
// the dashboard's look: the stylesheet sets nothing.
func themeCSS(t hookgate.PortalTheme) string {
	light, dark := t.Applied()
	var lightVars []cssVar
	if t.AccentColor != "" {
		lightVars = accentVars(light)
	}
	darkVars := append(append([]cssVar{}, darkPalette...), accentVars(dark)...)
	var b strings.Builder
	b.WriteString("/* The consumer portal's theme. */\n")
	switch t.Mode {
	case hookgate.ThemeDark:
		writeRoot(&b, "", "dark", darkVars)
	case hookgate.ThemeAuto:
		writeRoot(&b, "", "light dark", lightVars)
		b.WriteString("@media (prefers-color-scheme: dark) {\n")
		writeRoot(&b, "  ", "dark", darkVars)
		b.WriteString("}\n")
	default:
		if len(lightVars) > 0 {
			writeRoot(&b, "", "", lightVars)
		}
	}
	return b.String()
}

// writeRoot writes a :root rule with a color-scheme (none for "") and
// vars, each line indented by indent.
func writeRoot(b *strings.Builder, indent, scheme string, vars []cssVar) {
	b.WriteString(indent + ":root {\n")
	if scheme != "" {
		b.WriteString(indent + "  color-scheme: " + scheme + ";\n")
	}
	for _, v := range vars {
		b.WriteString(indent + "  " + v.Name + ": " + v.Value + ";\n")
	}
	b.WriteString(indent + "}\n")
}

// ProductName is what a portal session's header and page titles call
// the portal.
func (s *session) ProductName() string {
	if n := s.Settings.Theme.ProductName; n != "" {
		return n
	}
	return defaultProductName
}

// PortalCSS is the address of a portal session's theme stylesheet,
// versioned by its content so that a changed theme is loaded at once
// while an unchanged one may be cached.
func (s *session) PortalCSS() string {
	sum := sha256.Sum256([]byte(themeCSS(s.Settings.Theme)))
	return portalPath(s.ProjectID, "portal.css") + "?v=" + hex.EncodeToString(sum[:6])
}

// logoTag is the header's <img> of a portal logo.
type logoTag struct {
	Src           string
	Width, Height int
}

// PortalLogo is a portal session's header logo, scaled to logoHeight;
// nil without one.
func (s *session) PortalLogo() *logoTag {
	l := s.Settings.Theme.Logo
	if l == nil || l.Height < 1 || len(l.SHA256) < 12 {
		return nil
	}
	w := (l.Width*logoHeight + l.Height/2) / l.Height
	return &logoTag{Src: portalPath(s.ProjectID, "portal-logo") + "?v=" + l.SHA256[:12], Width: max(w, 1), Height: logoHeight}
}

// portalPath is the address of a project's portal asset.
func portalPath(projectID, name string) string {
	return "/ui/p/" + url.PathEscape(projectID) + "/" + name
}

// themeCacheControl lets the browser keep the portal's theme and logo a
// little while: their addresses change with them (?v=).
const themeCacheControl = "private, max-age=300"

// portalTheme returns the project whose theme r asks for, as its ID, and
// the theme: a portal session's own; for an operator (a preview) the
// project the path names, as the API lets the session read it.
func (u *UI) portalTheme(r *http.Request, se *session) (string, hookgate.PortalTheme, error) {
	if se.Portal() {
		return se.ProjectID, se.Settings.Theme, nil
	}
	p, err := se.c.GetProject(r.Context(), r.PathValue("project"))
	if err != nil {
		return "", hookgate.PortalTheme{}, err
	}
	return p.ID, themeOf(p.Portal.Theme), nil
}

// themeOf is a theme as the API reads it, as the domain has it.
func themeOf(t client.PortalTheme) hookgate.PortalTheme {
	out := hookgate.PortalTheme{ProductName: t.ProductName, AccentColor: t.AccentColor, Mode: t.Mode}
	if l := t.Logo; l != nil {
		out.Logo = &hookgate.PortalLogo{ContentType: l.ContentType, Size: l.Size, SHA256: l.SHA256, Width: l.Width, Height: l.Height}
	}
	return out
}

// portalStylesheet serves GET /ui/p/{project}/portal.css: the project's
// portal theme as CSS variables.
func (u *UI) portalStylesheet(w http.ResponseWriter, r *http.Request, se *session) error {
	_, theme, err := u.portalTheme(r, se)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", themeCacheControl)
	_, _ = w.Write([]byte(themeCSS(theme))) // a browser gone away is no error of ours
	return nil
}

// portalLogo serves GET /ui/p/{project}/portal-logo: the uploaded logo's
// bytes as stored, under a policy that runs nothing even when the image
// is opened on its own; 404 without a logo.
func (u *UI) portalLogo(w http.ResponseWriter, r *http.Request, se *session) error {
	projectID, _, err := u.portalTheme(r, se)
	if err != nil {
		return err
	}
	l, err := u.cfg.Store.FindPortalLogo(r.Context(), projectID)
	if hookgate.ErrorCode(err) == hookgate.ENotFound {
		u.notFound(w, se)
		return nil
	}
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", l.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", themeCacheControl)
	_, _ = w.Write(l.Data)
	return nil
}
