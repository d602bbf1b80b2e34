package api_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/hookgate/hookgate/api"
	"github.com/hookgate/hookgate/platforms"
	"github.com/hookgate/hookgate/platforms/providers"
)

// fakeProvider is a sixth provider that exists only in this test: it is
// one type and one Register call, nothing else in the tree names it.
type fakeProvider struct{}

func (fakeProvider) Name() string           { return "fakechat" }
func (fakeProvider) DefaultBaseURL() string { return "" }
func (fakeProvider) Info() platforms.Info {
	return platforms.Info{Title: "Fake chat",
		Fields:       []platforms.Field{{Name: "account"}, {Name: "apiSecret", Secret: true}},
		Capabilities: []platforms.Capability{platforms.CanNormalize}}
}
func (fakeProvider) CheckCredentials(c json.RawMessage) (json.RawMessage, error) {
	var v struct{ Account, APISecret string }
	if err := platforms.DecodeCredentials(c, &v); err != nil {
		return nil, err
	}
	if v.APISecret == "" {
		return nil, platforms.Missing("apiSecret")
	}
	return c, nil
}
func (fakeProvider) MaxBody() int64                                      { return platforms.DefaultMaxBody }
func (fakeProvider) CheckHeader(*platforms.Inbound) error                { return nil }
func (fakeProvider) Verify(*platforms.Inbound) (*platforms.Reply, error) { return nil, nil }
func (fakeProvider) Normalize(*platforms.Inbound) ([]platforms.Event, error) {
	return nil, nil
}
func (fakeProvider) Register(context.Context, *platforms.Call) (*platforms.Registration, error) {
	return &platforms.Registration{Response: json.RawMessage(`{}`)}, nil
}
func (fakeProvider) Unregister(context.Context, *platforms.Call) (json.RawMessage, error) {
	return nil, platforms.ErrUnsupported
}
func (fakeProvider) Status(context.Context, *platforms.Call) (*platforms.WebhookStatus, error) {
	return nil, platforms.ErrUnsupported
}
func (fakeProvider) Send(context.Context, *platforms.Call, string, string) (*platforms.Sent, error) {
	return nil, platforms.ErrUnsupported
}

// Issue 23, step 2: a provider registered with the server, and nowhere
// else, is accepted by createPlatform, listed in the OpenAPI enum of
// provider, and its credentials are answered redacted as its Info says.
func TestRegisteredProviderIsAcceptedListedAndRedacted(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, func(c *api.Config) {
			withPlatforms(c)
			c.Providers.Register(fakeProvider{})
		})
		_, owner, _ := e.project("six")

		p := e.req("POST", "/api/v1/projects/six/platforms", owner, map[string]any{"provider": "fakechat",
			"credentials": map[string]any{"account": "acct-42", "apiSecret": "a-secret-value-xyz"}}).must(t, 201)
		if p.str("provider") != "fakechat" {
			t.Fatalf("provider %v", p.Body["provider"])
		}
		if got := string(p.Body["credentials"].(map[string]any)["apiSecret"].(string)); got != platforms.Redacted {
			t.Errorf("apiSecret answered as %q", got)
		}
		if got := p.Body["credentials"].(map[string]any)["account"]; got != "acct-42" {
			t.Errorf("account answered as %v", got)
		}
		got := e.req("GET", "/api/v1/projects/six/platforms/"+p.str("id"), owner, nil).must(t, 200)
		if s := got.Body["credentials"].(map[string]any)["apiSecret"]; s != platforms.Redacted {
			t.Errorf("read back apiSecret as %v", s)
		}

		var doc struct {
			Components struct {
				Schemas map[string]struct {
					Properties map[string]struct {
						Enum []string `json:"enum"`
					} `json:"properties"`
				} `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal(e.req("GET", "/openapi.json", "", nil).must(t, 200).Raw, &doc); err != nil {
			t.Fatal(err)
		}
		want := append(providers.All().Names(), "fakechat")
		if enum := doc.Components.Schemas["PlatformIn"].Properties["provider"].Enum; !slices.Equal(enum, want) {
			t.Errorf("provider enum %v, want %v", enum, want)
		}

		bad := e.req("POST", "/api/v1/projects/six/platforms", owner, map[string]any{"provider": "sevenchat",
			"credentials": map[string]any{"account": "a"}}).must(t, 400)
		if bad.str("parameter_name") != "provider" {
			t.Errorf("an unregistered provider was refused naming %v", bad.Body["parameter_name"])
		}
	})
}
