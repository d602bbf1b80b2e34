package ui_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"slices"
	"testing"

	"github.com/hookgate/hookgate/api"
	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/netguard"
	"github.com/hookgate/hookgate/platforms"
	"github.com/hookgate/hookgate/platforms/generic"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
	"github.com/hookgate/hookgate/ui"
)

// Issue 23, step 2: the Connect form offers the providers the server
// registers, and no other.
func TestConnectFormOffersTheRegisteredProviders(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		store := sqltest.Open(t, engine)
		quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
		var only platforms.Registry
		only.Register(generic.New())
		h := api.New(api.Config{Store: store, AdminKey: apitest.AdminKey, Policy: netguard.New(nil), Logger: quiet, Providers: &only})
		h.Mount("/ui/", ui.New(ui.Config{API: h, Store: store, Logger: quiet}))
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		admin, _ := client.New(srv.URL, apitest.AdminKey)
		if _, err := admin.CreateProject(context.Background(), client.ProjectCreate{Name: "Shop", Slug: "shop"}); err != nil {
			t.Fatal(err)
		}
		_, _, page := newSignedIn(t, srv.URL).get("/ui/p/shop/platforms")
		sel := regexp.MustCompile(`(?s)<select id="provider".*?</select>`).FindString(page)
		var got []string
		for _, m := range regexp.MustCompile(`<option[^>]*>([^<]*)</option>`).FindAllStringSubmatch(sel, -1) {
			got = append(got, m[1])
		}
		if !slices.Equal(got, []string{"generic"}) {
			t.Fatalf("the form offers %v, want [generic]:\n%s", got, sel)
		}
	})
}
