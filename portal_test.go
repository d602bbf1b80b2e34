package hookgate_test

import (
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
)

// A link's input is checked with errors naming the parameter; the zero
// input is every capability for an hour.
func TestNewPortalLink(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	long := "https://app.example/" + strings.Repeat("a", hookgate.MaxReturnURLLen)
	for _, tc := range []struct {
		name      string
		in        hookgate.PortalLinkInput
		wantParam string
		wantCaps  []string
		wantTTL   time.Duration
	}{
		{"Defaults", hookgate.PortalLinkInput{}, "", hookgate.PortalCapabilities, time.Hour},
		{"SevenDays", hookgate.PortalLinkInput{ExpiresIn: 7 * 24 * time.Hour}, "", hookgate.PortalCapabilities, 7 * 24 * time.Hour},
		{"CanonicalOrderNoRepeats", hookgate.PortalLinkInput{Capabilities: []string{"secrets", "webhooks", "secrets"}}, "", []string{"webhooks", "secrets"}, time.Hour},
		{"ReturnURL", hookgate.PortalLinkInput{ReturnURL: "http://localhost:3000/back?x=1"}, "", hookgate.PortalCapabilities, time.Hour},
		{"ErrExpiresInTooLong", hookgate.PortalLinkInput{ExpiresIn: 7*24*time.Hour + time.Second}, "expiresIn", nil, 0},
		{"ErrExpiresInNegative", hookgate.PortalLinkInput{ExpiresIn: -time.Minute}, "expiresIn", nil, 0},
		{"ErrUnknownCapability", hookgate.PortalLinkInput{Capabilities: []string{"webhooks", "keys"}}, "capabilities[1]", nil, 0},
		{"ErrCapabilityCase", hookgate.PortalLinkInput{Capabilities: []string{"eventtypes"}}, "capabilities[0]", nil, 0},
		{"ErrReturnURLRelative", hookgate.PortalLinkInput{ReturnURL: "/settings"}, "returnUrl", nil, 0},
		{"ErrReturnURLScheme", hookgate.PortalLinkInput{ReturnURL: "javascript:alert(1)"}, "returnUrl", nil, 0},
		{"ErrReturnURLCredentials", hookgate.PortalLinkInput{ReturnURL: "https://u:p@app.example/"}, "returnUrl", nil, 0},
		{"ErrReturnURLTooLong", hookgate.PortalLinkInput{ReturnURL: long}, "returnUrl", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, token, err := hookgate.NewPortalLink("proj_1", "admin", tc.in, now)
			if tc.wantParam != "" {
				var e *hookgate.Error
				if err == nil || !errors.As(err, &e) || e.Code != hookgate.EInvalidParameter || e.Param != tc.wantParam {
					t.Fatalf("err = %v, want invalid_parameter naming %s", err, tc.wantParam)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(l.ID, hookgate.PrefixPortalLink) || l.ProjectID != "proj_1" || l.CreatedBy != "admin" ||
				!slices.Equal(l.Capabilities, tc.wantCaps) || !l.ExpiresAt.Equal(now.Add(tc.wantTTL)) || l.ReturnURL != tc.in.ReturnURL {
				t.Fatalf("link = %+v", l)
			}
			raw, err := base64.RawURLEncoding.DecodeString(token)
			if err != nil || len(raw) != 32 {
				t.Fatalf("token %q: %d bytes, %v; want 32 random bytes in base64url", token, len(raw), err)
			}
			if l.TokenHash != hookgate.PortalTokenHash(token) || len(l.TokenHash) != 64 {
				t.Fatalf("TokenHash = %q", l.TokenHash)
			}
		})
	}
}

// Two links never share a token.
func TestPortalTokensDiffer(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		_, token, err := hookgate.NewPortalLink("proj_1", "admin", hookgate.PortalLinkInput{}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if seen[token] {
			t.Fatalf("token %q twice", token)
		}
		seen[token] = true
	}
}
