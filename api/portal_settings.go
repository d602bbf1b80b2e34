package api

import (
	"github.com/hookgate/hookgate"
)

// portalBody is a project's portal settings as create and update take
// them: a field absent keeps its value (create: the default).
type portalBody struct {
	AllowedOrigins *[]string  `json:"allowedOrigins,omitempty" maxItems:"20" doc:"Origins (scheme://host[:port]) whose pages may show the portal in an iframe; [] for none (not embeddable)"`
	Theme          *themeBody `json:"theme,omitempty" doc:"The portal's look; a field absent keeps its value, \"\" takes the default"`
}

type themeBody struct {
	ProductName *string `json:"productName,omitempty" maxLength:"400" doc:"Shown in the portal's header and page titles instead of \"Webhooks portal\"; at most 60 characters"`
	AccentColor *string `json:"accentColor,omitempty" maxLength:"7" doc:"#rrggbb or #rgb: links and buttons; adjusted where needed to keep a 4.5:1 contrast (see applied)"`
	Mode        *string `json:"mode,omitempty" maxLength:"16" doc:"light (the default), dark, or auto (the browser's preference)"`
	Logo        *string `json:"logo,omitempty" maxLength:"90000" doc:"A PNG, JPEG or GIF image as a data URL (data:image/png;base64,…), at most 64 KiB and 512×512 pixels; \"\" removes the logo"`
}

// apply changes s by b, checking each field given; EInvalidParameter
// naming portal.….
func (b *portalBody) apply(s *hookgate.PortalSettings) error {
	if b == nil {
		return nil
	}
	if b.AllowedOrigins != nil {
		origins, err := hookgate.CheckAllowedOrigins("portal.allowedOrigins", *b.AllowedOrigins)
		if err != nil {
			return err
		}
		s.AllowedOrigins = origins
	}
	tb := b.Theme
	if tb == nil {
		return nil
	}
	t := s.Theme
	if tb.ProductName != nil {
		t.ProductName = *tb.ProductName
	}
	if tb.AccentColor != nil {
		t.AccentColor = *tb.AccentColor
	}
	if tb.Mode != nil {
		t.Mode = *tb.Mode
	}
	t, err := hookgate.CheckPortalTheme("portal.theme", t)
	if err != nil {
		return err
	}
	if tb.Logo != nil {
		t.Logo = nil
		if *tb.Logo != "" {
			if t.Logo, err = hookgate.ParseLogo("portal.theme.logo", *tb.Logo); err != nil {
				return err
			}
		}
	}
	s.Theme = t
	return nil
}

type portalOut struct {
	AllowedOrigins []string `json:"allowedOrigins" doc:"Origins whose pages may frame the portal; empty: not embeddable"`
	Theme          themeOut `json:"theme"`
}

type themeOut struct {
	ProductName string   `json:"productName" doc:"\"\" for \"Webhooks portal\""`
	AccentColor string   `json:"accentColor" doc:"The accent as given; \"\" for Hookgate's blue"`
	Mode        string   `json:"mode" doc:"light, dark or auto"`
	Logo        *logoOut `json:"logo" doc:"The uploaded logo; null for none"`
	Applied     struct {
		Light accentOut `json:"light"`
		Dark  accentOut `json:"dark"`
	} `json:"applied" doc:"The accent as the portal shows it in each mode, with at least 4.5:1 contrast against the page and its button text"`
}

type logoOut struct {
	ContentType string `json:"contentType"`
	Size        int    `json:"size" doc:"Bytes"`
	SHA256      string `json:"sha256"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
}

type accentOut struct {
	Color   string `json:"color" doc:"Links and button backgrounds"`
	OnColor string `json:"onColor" doc:"Text on buttons"`
}

func toPortal(s hookgate.PortalSettings) portalOut {
	out := portalOut{AllowedOrigins: s.AllowedOrigins}
	if out.AllowedOrigins == nil {
		out.AllowedOrigins = []string{}
	}
	t := s.Theme
	out.Theme.ProductName, out.Theme.AccentColor, out.Theme.Mode = t.ProductName, t.AccentColor, t.Mode
	if out.Theme.Mode == "" {
		out.Theme.Mode = hookgate.ThemeLight
	}
	if l := t.Logo; l != nil {
		out.Theme.Logo = &logoOut{ContentType: l.ContentType, Size: l.Size, SHA256: l.SHA256, Width: l.Width, Height: l.Height}
	}
	light, dark := t.Applied()
	out.Theme.Applied.Light = accentOut{Color: light.Color, OnColor: light.OnColor}
	out.Theme.Applied.Dark = accentOut{Color: dark.Color, OnColor: dark.OnColor}
	return out
}
