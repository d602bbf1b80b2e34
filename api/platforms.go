package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/platforms"
)

type platformIn struct {
	Provider    string  `json:"provider" doc:"The platform's provider, one of those the server registers (the enum)"`
	Name        string  `json:"name,omitempty" maxLength:"256"`
	Credentials rawJSON `json:"credentials" doc:"The provider's credentials object (see docs/platforms.md); answered redacted"`
	APIBaseURL  string  `json:"apiBaseUrl,omitempty" doc:"The provider's API; default its public one. For tests against a local fake"`
}

type platformPatch struct {
	Name        *string `json:"name,omitempty" maxLength:"256"`
	Credentials rawJSON `json:"credentials,omitempty" doc:"Fields to change; a value of ******** keeps the stored one, absent fields stay"`
	APIBaseURL  *string `json:"apiBaseUrl,omitempty" doc:"\"\" for the provider's public API"`
}

type platformOut struct {
	ID            string     `json:"id"`
	Provider      string     `json:"provider"`
	Name          string     `json:"name"`
	Credentials   rawJSON    `json:"credentials" doc:"Secrets read ********"`
	APIBaseURL    string     `json:"apiBaseUrl"`
	InboundURL    string     `json:"inboundUrl" doc:"Where the provider posts: --public-url + /inbound/{id}"`
	Registered    bool       `json:"registered" doc:"The inbound URL was registered with the provider"`
	LastInboundAt *time.Time `json:"lastInboundAt" doc:"When the provider last posted a verified request; null before"`
	CreatedAt     time.Time  `json:"createdAt"`
	UpdatedAt     time.Time  `json:"updatedAt"`
}

// PlatformRef names a platform in a path.
type PlatformRef struct {
	ProjectRef
	ID string `path:"id" maxLength:"64" doc:"Platform ID"`
}

type registrationOut struct {
	PlatformID       string  `json:"platformId"`
	Provider         string  `json:"provider"`
	InboundURL       string  `json:"inboundUrl"`
	Registered       bool    `json:"registered"`
	ProviderResponse rawJSON `json:"providerResponse" doc:"What the provider answered, secrets removed"`
}

func (s *Server) inboundURL(id string) string {
	return strings.TrimSuffix(s.cfg.PublicURL, "/") + "/inbound/" + id
}

func (s *Server) toPlatform(p *hookgate.Platform) platformOut {
	out := platformOut{ID: p.ID, Provider: p.Provider, Name: p.Name, APIBaseURL: p.APIBaseURL, InboundURL: s.inboundURL(p.ID),
		Registered: p.Registered, CreatedAt: utc(p.CreatedAt), UpdatedAt: utc(p.UpdatedAt)}
	if prov, ok := s.cfg.Providers.Get(p.Provider); ok {
		out.Credentials = rawJSON(platforms.Redact(prov, p.Credentials))
	}
	if !p.LastInboundAt.IsZero() {
		t := utc(p.LastInboundAt)
		out.LastInboundAt = &t
	}
	return out
}

// provider returns the provider of name, or a 400 naming provider.
func (s *Server) provider(name string) (platforms.Provider, error) {
	if p, ok := s.cfg.Providers.Get(name); ok {
		return p, nil
	}
	names := s.cfg.Providers.Names()
	sort.Strings(names)
	return nil, hookgate.InvalidParam("provider", name, "provider must be one of %s", strings.Join(names, ", "))
}

// checkPlatform validates what a client may set on a platform; creds are
// checked by its provider and come back as stored.
func (s *Server) checkPlatform(p *hookgate.Platform, prov platforms.Provider) error {
	if len(p.Name) > 256 {
		return hookgate.InvalidParam("name", p.Name, "name must be at most 256 bytes")
	}
	if p.APIBaseURL != "" {
		if err := hookgate.ValidateURL("apiBaseUrl", p.APIBaseURL); err != nil {
			return err
		}
		if err := s.checkNetwork("apiBaseUrl", p.APIBaseURL); err != nil {
			return err
		}
	}
	if len(p.Credentials) == 0 || string(p.Credentials) == "null" {
		return hookgate.MissingParam("credentials")
	}
	if p.Credentials[0] != '{' {
		return hookgate.InvalidParam("credentials", nil, "credentials must be a JSON object")
	}
	creds, err := prov.CheckCredentials(p.Credentials)
	if err != nil {
		return err
	}
	p.Credentials = creds
	return nil
}

// mergeCredentials lays the fields of patch over stored: a field absent
// from patch, or sent back as ********, keeps its stored value, in nested
// objects too.
func mergeCredentials(stored, patch json.RawMessage) (json.RawMessage, error) {
	var old, upd map[string]any
	if err := json.Unmarshal(patch, &upd); err != nil {
		return nil, hookgate.InvalidParam("credentials", nil, "credentials must be a JSON object")
	}
	_ = json.Unmarshal(stored, &old)
	merged := mergeMaps(old, upd)
	return json.Marshal(merged)
}

func mergeMaps(old, upd map[string]any) map[string]any {
	out := make(map[string]any, len(old)+len(upd))
	for k, v := range old {
		out[k] = v
	}
	for k, v := range upd {
		switch x := v.(type) {
		case string:
			if x == redacted {
				continue
			}
		case map[string]any:
			if o, ok := old[k].(map[string]any); ok {
				v = mergeMaps(o, x)
			}
		}
		out[k] = v
	}
	return out
}

// apiBase is the API p's provider is called at: its apiBaseUrl or the
// provider's public API.
func apiBase(p *hookgate.Platform, prov platforms.Provider) string {
	if p.APIBaseURL != "" {
		return p.APIBaseURL
	}
	return prov.DefaultBaseURL()
}

// call is what a provider needs to reach its API for p.
func (s *Server) call(p *hookgate.Platform, prov platforms.Provider) *platforms.Call {
	return &platforms.Call{Client: s.providerClient, BaseURL: strings.TrimSuffix(apiBase(p, prov), "/"), Platform: p, InboundURL: s.inboundURL(p.ID)}
}

// withoutSecrets returns stored credentials without the values its
// provider redacts, but those patch sends again in full, and the names of
// the values it removed ("verification.secret" for a nested one). What the
// provider generates (a webhook secret, a verify token) is generated anew
// once removed.
func withoutSecrets(stored json.RawMessage, prov platforms.Provider, patch rawJSON) (json.RawMessage, []string) {
	var plain, shown, sent map[string]any
	_ = json.Unmarshal(stored, &plain)
	_ = json.Unmarshal(platforms.Redact(prov, stored), &shown)
	if !patch.isNull() {
		_ = json.Unmarshal(patch, &sent)
	}
	var removed []string
	var strip func(prefix string, plain, shown, sent map[string]any)
	strip = func(prefix string, plain, shown, sent map[string]any) {
		for k, v := range plain {
			switch x := v.(type) {
			case string:
				if shown[k] != redacted || x == "" {
					continue
				}
				if s, ok := sent[k].(string); ok && s != "" && s != redacted {
					continue
				}
				delete(plain, k)
				removed = append(removed, prefix+k)
			case map[string]any:
				m, _ := shown[k].(map[string]any)
				if shown[k] == redacted {
					// The whole object is a secret.
					if _, ok := sent[k].(map[string]any); !ok {
						delete(plain, k)
						removed = append(removed, prefix+k)
					}
					continue
				}
				in, _ := sent[k].(map[string]any)
				strip(prefix+k+".", x, m, in)
			}
		}
	}
	strip("", plain, shown, sent)
	sort.Strings(removed)
	out, err := json.Marshal(plain)
	if err != nil || plain == nil {
		return json.RawMessage("{}"), removed
	}
	return out, removed
}

// providerFailure turns a provider's refusal or silence into a 502 that
// names no secret of p, even inside the provider's own message.
func (s *Server) providerFailure(err error, p *hookgate.Platform) error {
	var pe *platforms.ProviderError
	if !errors.As(err, &pe) {
		return err
	}
	msg := platforms.Scrub(pe.Error(), s.secrets(p)...)
	return &hookgate.Error{Code: hookgate.EProviderError, Message: msg, Err: err}
}

// secrets lists the values of p's credentials that its provider redacts:
// the ones that must never be echoed, even inside a provider's message.
func (s *Server) secrets(p *hookgate.Platform) []string {
	prov, ok := s.cfg.Providers.Get(p.Provider)
	if !ok {
		return nil
	}
	var plain, shown any
	_ = json.Unmarshal(p.Credentials, &plain)
	_ = json.Unmarshal(platforms.Redact(prov, p.Credentials), &shown)
	var out []string
	var walk func(a, b any)
	walk = func(a, b any) {
		switch x := a.(type) {
		case string:
			if b == redacted && x != redacted {
				out = append(out, x)
			}
		case map[string]any:
			m, _ := b.(map[string]any)
			for k, v := range x {
				walk(v, m[k])
			}
		}
	}
	walk(plain, shown)
	// Longest first, so that a secret containing another is removed whole.
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// listProviders puts the registered providers' names in the schema of a
// new platform's provider, as its enum, before the operations that read
// it are registered. The document lists them, and the schema refuses
// another name as it refuses any value outside an enum. With no provider
// registered there is no enum (an empty one is not valid JSON Schema) and
// createPlatform refuses every name.
func (s *Server) listProviders() {
	names := s.cfg.Providers.Names()
	if len(names) == 0 {
		return
	}
	reg := s.api.OpenAPI().Components.Schemas
	in := reg.SchemaFromRef(reg.Schema(reflect.TypeFor[platformIn](), true, "").Ref)
	prop := in.Properties["provider"]
	prop.Enum = make([]any, len(names))
	for i, n := range names {
		prop.Enum[i] = n
	}
	prop.PrecomputeMessages()
}

// platformRoutes are the operations on platforms: connect, read, change, delete, and the provider's webhook registration.
func (s *Server) platformRoutes() []route {
	s.listProviders()
	tags := "Platforms"
	path := base + "/projects/{project}/platforms"
	reg := op("registerPlatformWebhook", http.MethodPost, path+"/{id}/register-webhook", "Register Hookgate's inbound URL with the provider", accessOwner, http.StatusOK, tags)
	reg.Errors = append(reg.Errors, http.StatusConflict, http.StatusBadGateway)
	unreg := op("unregisterPlatformWebhook", http.MethodPost, path+"/{id}/unregister-webhook", "Withdraw the inbound URL from the provider, where it allows", accessOwner, http.StatusOK, tags)
	unreg.Errors = append(unreg.Errors, http.StatusConflict, http.StatusBadGateway)
	st := op("platformWebhookStatus", http.MethodGet, path+"/{id}/webhook-status", "Ask the provider what it has registered", accessOwner, http.StatusOK, tags)
	st.Errors = append(st.Errors, http.StatusConflict, http.StatusBadGateway)
	return []route{
		{op: op("createPlatform", http.MethodPost, path, "Connect a messaging platform", accessOwner, http.StatusCreated, tags), handle: handle(s.handleCreatePlatform)},
		{op: op("listPlatforms", http.MethodGet, path, "List platforms", accessOwner, http.StatusOK, tags), handle: handle(s.handleListPlatforms)},
		{op: op("getPlatform", http.MethodGet, path+"/{id}", "Read a platform", accessOwner, http.StatusOK, tags), handle: handle(s.handleGetPlatform)},
		{op: op("updatePlatform", http.MethodPatch, path+"/{id}", "Change a platform", accessOwner, http.StatusOK, tags), handle: handle(s.handleUpdatePlatform)},
		{op: op("deletePlatform", http.MethodDelete, path+"/{id}", "Delete a platform; its inbound URL stops answering", accessOwner, http.StatusNoContent, tags), handle: handle(s.handleDeletePlatform)},
		{op: reg, handle: handle(s.handleRegisterPlatformWebhook)},
		{op: unreg, handle: handle(s.handleUnregisterPlatformWebhook)},
		{op: st, handle: handle(s.handlePlatformWebhookStatus)},
	}
}

// handleCreatePlatform handles createPlatform: Connect a messaging platform.
func (s *Server) handleCreatePlatform(ctx context.Context, in *struct {
	ProjectRef
	Body platformIn
}) (*struct{ Body platformOut }, error) {
	prov, err := s.provider(in.Body.Provider)
	if err != nil {
		return nil, err
	}
	now := s.now()
	p := &hookgate.Platform{ID: hookgate.NewID(hookgate.PrefixPlatform, now), ProjectID: projectID(ctx), Provider: prov.Name(),
		Name: in.Body.Name, Credentials: json.RawMessage(in.Body.Credentials), APIBaseURL: in.Body.APIBaseURL, CreatedAt: now, UpdatedAt: now}
	if p.Name == "" {
		p.Name = p.Provider
	}
	if err := s.checkPlatform(p, prov); err != nil {
		return nil, err
	}
	if err := s.store.CreatePlatform(ctx, p); err != nil {
		return nil, err
	}
	return &struct{ Body platformOut }{Body: s.toPlatform(p)}, nil
}

// handleListPlatforms handles listPlatforms: List platforms.
func (s *Server) handleListPlatforms(ctx context.Context, in *struct {
	ProjectRef
	PageParams
}) (*listOutput[platformOut], error) {
	list, next, err := s.store.ListPlatforms(ctx, projectID(ctx), in.page())
	if err != nil {
		return nil, err
	}
	return listOf(list, next, s.toPlatform), nil
}

// handleGetPlatform handles getPlatform: Read a platform.
func (s *Server) handleGetPlatform(ctx context.Context, in *PlatformRef) (*struct{ Body platformOut }, error) {
	p, err := s.store.FindPlatform(ctx, projectID(ctx), in.ID)
	if err != nil {
		return nil, err
	}
	return &struct{ Body platformOut }{Body: s.toPlatform(p)}, nil
}

// handleUpdatePlatform handles updatePlatform: Change a platform.
func (s *Server) handleUpdatePlatform(ctx context.Context, in *struct {
	PlatformRef
	Body platformPatch
}) (*struct{ Body platformOut }, error) {
	p, err := s.store.FindPlatform(ctx, projectID(ctx), in.ID)
	if err != nil {
		return nil, err
	}
	prov, err := s.provider(p.Provider)
	if err != nil {
		return nil, err
	}
	if in.Body.Name != nil {
		p.Name = *in.Body.Name
	}
	reach, moved := false, false
	if in.Body.APIBaseURL != nil && *in.Body.APIBaseURL != p.APIBaseURL {
		before := apiBase(p, prov)
		p.APIBaseURL, reach = *in.Body.APIBaseURL, true
		moved = prov.DefaultBaseURL() != "" && !hookgate.SameOrigin(before, apiBase(p, prov))
	}
	stored, unsent := p.Credentials, []string(nil)
	if moved {
		// Stored secrets never follow apiBaseUrl to another host:
		// only what this PATCH sends goes there.
		stored, unsent = withoutSecrets(p.Credentials, prov, in.Body.Credentials)
	}
	if !in.Body.Credentials.isNull() {
		merged, err := mergeCredentials(stored, json.RawMessage(in.Body.Credentials))
		if err != nil {
			return nil, err
		}
		stored = merged
	}
	reach = reach || string(stored) != string(p.Credentials)
	p.Credentials = stored
	if err := s.checkPlatform(p, prov); err != nil {
		var he *hookgate.Error
		if moved && len(unsent) > 0 && errors.As(err, &he) && strings.HasPrefix(he.Param, "credentials") {
			return nil, hookgate.InvalidParam("credentials", nil, "apiBaseUrl moves to another origin (scheme, host or port), and stored credentials never follow a URL to a new host: "+
				"send the credentials again in this PATCH (stored secrets not sent again are not kept: %s; %s)", strings.Join(unsent, ", "), he.Message)
		}
		return nil, err
	}
	if reach {
		// Other credentials or another API: the provider knows
		// nothing of this inbound URL until it is registered again.
		p.Registered = false
	}
	p.UpdatedAt = s.now()
	if err := s.store.UpdatePlatform(ctx, p); err != nil {
		return nil, err
	}
	return &struct{ Body platformOut }{Body: s.toPlatform(p)}, nil
}

// handleDeletePlatform handles deletePlatform: Delete a platform; its inbound URL stops answering.
func (s *Server) handleDeletePlatform(ctx context.Context, in *PlatformRef) (*struct{}, error) {
	return nil, s.store.DeletePlatform(ctx, projectID(ctx), in.ID)
}

// handleRegisterPlatformWebhook handles registerPlatformWebhook: Register Hookgate's inbound URL with the provider.
func (s *Server) handleRegisterPlatformWebhook(ctx context.Context, in *PlatformRef) (*struct{ Body registrationOut }, error) {
	p, prov, err := s.platform(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	r, err := prov.Register(ctx, s.call(p, prov))
	if err != nil {
		return nil, s.providerFailure(err, p)
	}
	p.Registered = r.Registered
	if r.Credentials != nil {
		p.Credentials = r.Credentials
	}
	p.UpdatedAt = s.now()
	if err := s.store.UpdatePlatform(ctx, p); err != nil {
		return nil, err
	}
	return &struct{ Body registrationOut }{Body: registrationOut{PlatformID: p.ID, Provider: p.Provider, InboundURL: s.inboundURL(p.ID),
		Registered: p.Registered, ProviderResponse: s.scrubJSON(r.Response, p)}}, nil
}

// handleUnregisterPlatformWebhook handles unregisterPlatformWebhook: Withdraw the inbound URL from the provider, where it allows.
func (s *Server) handleUnregisterPlatformWebhook(ctx context.Context, in *PlatformRef) (*struct{ Body registrationOut }, error) {
	p, prov, err := s.platform(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	resp, err := prov.Unregister(ctx, s.call(p, prov))
	if errors.Is(err, platforms.ErrUnsupported) {
		return nil, &hookgate.Error{Code: hookgate.EConflict, Message: p.Provider + " offers no way to withdraw the URL; remove it in the provider's settings"}
	}
	if err != nil {
		return nil, s.providerFailure(err, p)
	}
	p.Registered, p.UpdatedAt = false, s.now()
	if err := s.store.UpdatePlatform(ctx, p); err != nil {
		return nil, err
	}
	return &struct{ Body registrationOut }{Body: registrationOut{PlatformID: p.ID, Provider: p.Provider, InboundURL: s.inboundURL(p.ID),
		ProviderResponse: s.scrubJSON(resp, p)}}, nil
}

// handlePlatformWebhookStatus handles platformWebhookStatus: Ask the provider what it has registered.
func (s *Server) handlePlatformWebhookStatus(ctx context.Context, in *PlatformRef) (*struct{ Body statusOut }, error) {
	p, prov, err := s.platform(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	ws, err := prov.Status(ctx, s.call(p, prov))
	if errors.Is(err, platforms.ErrUnsupported) {
		return nil, &hookgate.Error{Code: hookgate.EConflict, Message: p.Provider + " cannot tell what it has registered"}
	}
	if err != nil {
		return nil, s.providerFailure(err, p)
	}
	out := statusOut{PlatformID: p.ID, Provider: p.Provider, InboundURL: s.inboundURL(p.ID), URL: platforms.Scrub(ws.URL, s.secrets(p)...),
		Registered: ws.Registered, PendingUpdates: ws.PendingUpdates, LastError: platforms.Scrub(ws.LastError, s.secrets(p)...),
		ProviderResponse: s.scrubJSON(ws.Response, p)}
	if !ws.LastErrorAt.IsZero() {
		t := utc(ws.LastErrorAt)
		out.LastErrorAt = &t
	}
	return &struct{ Body statusOut }{Body: out}, nil
}

type statusOut struct {
	PlatformID       string     `json:"platformId"`
	Provider         string     `json:"provider"`
	InboundURL       string     `json:"inboundUrl" doc:"The URL the provider should have"`
	URL              string     `json:"url" doc:"The URL the provider has; empty when none is set"`
	Registered       bool       `json:"registered" doc:"The provider's URL is this platform's inbound URL"`
	PendingUpdates   int        `json:"pendingUpdates,omitempty" doc:"Updates the provider holds for delivery (Telegram)"`
	LastError        string     `json:"lastError,omitempty" doc:"The provider's last failure to post, or why nothing is set"`
	LastErrorAt      *time.Time `json:"lastErrorAt,omitempty"`
	ProviderResponse rawJSON    `json:"providerResponse,omitempty"`
}

// platform finds a platform of the caller's project and its provider.
func (s *Server) platform(ctx context.Context, id string) (*hookgate.Platform, platforms.Provider, error) {
	p, err := s.store.FindPlatform(ctx, projectID(ctx), id)
	if err != nil {
		return nil, nil, err
	}
	prov, ok := s.cfg.Providers.Get(p.Provider)
	if !ok {
		return nil, nil, &hookgate.Error{Code: hookgate.EConflict, Message: "this server does not know provider " + p.Provider}
	}
	return p, prov, nil
}

// scrubJSON removes p's secrets from a provider's answer.
func (s *Server) scrubJSON(raw json.RawMessage, p *hookgate.Platform) rawJSON {
	if len(raw) == 0 {
		return nil
	}
	out := platforms.Scrub(string(raw), s.secrets(p)...)
	if !json.Valid([]byte(out)) {
		b, _ := json.Marshal(out)
		return rawJSON(b)
	}
	return rawJSON(out)
}
