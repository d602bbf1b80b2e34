package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// Issue 25, items 3 and 4: project update sets the portal's origins and
// theme, uploads a logo from a file and removes it with "", and shows
// them; a bad origin is refused naming its parameter.
func TestCLIPortalSettings(t *testing.T) {
	t.Parallel()
	store := sqltest.Open(t, "sqlite")
	srv := apitest.Start(store)
	t.Cleanup(srv.Close)
	c := &cli{t: t, server: srv.URL, key: apitest.AdminKey}
	var p client.Project
	c.json(&p, "project", "create", "Acme", "--slug", "acme")
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 32, 16))); err != nil {
		t.Fatal(err)
	}
	logo := filepath.Join(t.TempDir(), "logo.png")
	if err := os.WriteFile(logo, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	c.json(&p, "project", "update", "acme", "--portal-origins", "https://app.example.com,http://localhost:5173",
		"--portal-name", "Acme webhooks", "--portal-accent", "#ffcc00", "--portal-mode", "auto", "--portal-logo", logo)
	th := p.Portal.Theme
	if strings.Join(p.Portal.AllowedOrigins, " ") != "https://app.example.com http://localhost:5173" || th.ProductName != "Acme webhooks" ||
		th.AccentColor != "#ffcc00" || th.Mode != "auto" || th.Logo == nil || th.Logo.Width != 32 || th.Applied.Light.Color == "#ffcc00" {
		t.Fatalf("after update: %+v", p.Portal)
	}
	if l, err := store.FindPortalLogo(context.Background(), p.ID); err != nil || !bytes.Equal(l.Data, b.Bytes()) {
		t.Fatalf("stored logo: %v", err)
	}
	if out := c.ok("project", "get", "acme"); !strings.Contains(out, "https://app.example.com") || !strings.Contains(out, "image/png, 32×16") {
		t.Fatalf("project get:\n%s", out)
	}
	if out := c.fails("project", "update", "acme", "--portal-origins", "https://app.example.com/settings"); !strings.Contains(out, "portal.allowedOrigins[0]") {
		t.Fatalf("a bad origin:\n%s", out)
	}
	c.json(&p, "project", "update", "acme", "--portal-origins", "", "--portal-logo", "")
	if len(p.Portal.AllowedOrigins) != 0 || p.Portal.Theme.Logo != nil || p.Portal.Theme.ProductName != "Acme webhooks" {
		t.Fatalf("after clearing: %+v", p.Portal)
	}
}

// Issue 27, item 1: webhook create and update choose the signature
// scheme; the webhook shows its public key.
func TestCLISignatureScheme(t *testing.T) {
	t.Parallel()
	store := sqltest.Open(t, "sqlite")
	srv := apitest.Start(store)
	t.Cleanup(srv.Close)
	c := &cli{t: t, server: srv.URL, key: apitest.AdminKey}
	c.ok("project", "create", "Acme", "--slug", "acme")
	var wh client.Webhook
	c.json(&wh, "webhook", "create", "http://127.0.0.1:9/h", "-p", "acme", "--uid", "h", "--signature", "v1a")
	if wh.Signature.Scheme != "v1a" || !strings.HasPrefix(wh.Signature.PublicKey, "whpk_") {
		t.Fatalf("created: %+v", wh.Signature)
	}
	c.json(&wh, "webhook", "update", "h", "-p", "acme", "--signature", "v1+v1a", "--signature-grace", "2h")
	if wh.Signature.Scheme != "v1+v1a" || wh.Signature.PreviousScheme != "v1a" {
		t.Fatalf("updated: %+v", wh.Signature)
	}
	if out := c.ok("webhook", "get", "h", "-p", "acme"); !strings.Contains(out, wh.Signature.PublicKey) || !strings.Contains(out, "previous signature") {
		t.Fatalf("webhook get:\n%s", out)
	}
	if out := c.fails("webhook", "update", "h", "-p", "acme", "--signature", "v9"); !strings.Contains(out, "signature.scheme") {
		t.Fatalf("a bad scheme:\n%s", out)
	}
}
