package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/hookgate/hookgate"
)

// storedTheme is a portal theme as the projects.portal_theme column keeps
// it; the logo's bytes live in portal_logo.
type storedTheme struct {
	ProductName string      `json:"productName,omitempty"`
	AccentColor string      `json:"accentColor,omitempty"`
	Mode        string      `json:"mode,omitempty"`
	Logo        *storedLogo `json:"logo,omitempty"`
}

type storedLogo struct {
	ContentType string `json:"contentType"`
	Size        int    `json:"size"`
	SHA256      string `json:"sha256"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
}

// portalColumns encodes s as the portal_origins and portal_theme columns:
// ” for none and for Hookgate's look.
func portalColumns(s hookgate.PortalSettings) (origins, theme string) {
	if len(s.AllowedOrigins) > 0 {
		b, _ := json.Marshal(s.AllowedOrigins)
		origins = string(b)
	}
	t := s.Theme
	st := storedTheme{ProductName: t.ProductName, AccentColor: t.AccentColor, Mode: t.Mode}
	if l := t.Logo; l != nil {
		st.Logo = &storedLogo{ContentType: l.ContentType, Size: l.Size, SHA256: l.SHA256, Width: l.Width, Height: l.Height}
	}
	if st != (storedTheme{}) {
		b, _ := json.Marshal(st)
		theme = string(b)
	}
	return origins, theme
}

// portalOf decodes the columns portalColumns wrote; a value that does not
// decode (it was written by this code) reads as none.
func portalOf(origins, theme string) hookgate.PortalSettings {
	var s hookgate.PortalSettings
	if origins != "" {
		_ = json.Unmarshal([]byte(origins), &s.AllowedOrigins)
	}
	var st storedTheme
	if theme != "" && json.Unmarshal([]byte(theme), &st) == nil {
		s.Theme = hookgate.PortalTheme{ProductName: st.ProductName, AccentColor: st.AccentColor, Mode: st.Mode}
		if l := st.Logo; l != nil {
			s.Theme.Logo = &hookgate.PortalLogo{ContentType: l.ContentType, Size: l.Size, SHA256: l.SHA256, Width: l.Width, Height: l.Height}
		}
	}
	return s
}

// logoData is the portal_logo column's value for l: NULL without a logo.
func logoData(l *hookgate.PortalLogo) any {
	if l == nil || l.Data == nil {
		return nil
	}
	return l.Data
}

// FindPortalLogo returns the project's portal logo with its bytes;
// ENotFound when it has none.
func (s *Store) FindPortalLogo(ctx context.Context, projectID string) (*hookgate.PortalLogo, error) {
	var theme string
	var data []byte
	err := s.read.QueryRowContext(ctx, s.q(`SELECT portal_theme, portal_logo FROM projects WHERE id = ?`), projectID).Scan(&theme, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hookgate.NotFound("project")
	}
	if err != nil {
		return nil, err
	}
	l := portalOf("", theme).Theme.Logo
	if l == nil || data == nil {
		return nil, hookgate.NotFound("logo")
	}
	l.Data = data
	return l, nil
}
