package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/hookgate/hookgate"
)

// redacted replaces credentials in answers.
const redacted = hookgate.Redacted

// DefaultGracePeriod is how long the previous secret keeps signing after a
// rotation when the request does not say.
const DefaultGracePeriod = 24 * time.Hour

// MaxRecoverWindow bounds how far back recover reaches.
const MaxRecoverWindow = 30 * 24 * time.Hour

// MaxGracePeriod bounds the grace period of a rotation.
const MaxGracePeriod = 30 * 24 * time.Hour

type authBody struct {
	Type         string   `json:"type" enum:"none,basic,client_credential" doc:"How deliveries authenticate to the receiver"`
	Username     string   `json:"username,omitempty" doc:"basic"`
	Password     string   `json:"password,omitempty" doc:"basic; answered as ********"`
	ClientID     string   `json:"clientID,omitempty" doc:"client_credential"`
	ClientSecret string   `json:"clientSecret,omitempty" doc:"client_credential; answered as ********"`
	TokenURL     string   `json:"tokenURL,omitempty" doc:"client_credential: the OAuth2 token endpoint; its credential query values read ********"`
	Scopes       []string `json:"scopes,omitempty" doc:"client_credential"`
}

type webhookIn struct {
	URL              string            `json:"url,omitempty" doc:"Absolute http or https URL of the receiver; required for an http destination, absent (or destination.url) for another kind"`
	Destination      rawJSON           `json:"destination,omitempty" doc:"Where deliveries go: {\"kind\": \"http\"} (the default) for a signed request to url, or {\"kind\": \"redis-stream\", \"url\": \"redis://host:6379/0\", \"stream\", \"maxLen\", \"auth\": {\"username\", \"password\"}} for an entry appended to a Redis stream (docs/destinations.md)"`
	Description      string            `json:"description,omitempty"`
	Events           []string          `json:"events,omitempty" doc:"Event types to receive; '*' matches any run of characters; empty means all"`
	Secret           string            `json:"secret,omitempty" doc:"whsec_ + base64 of 24-64 bytes; generated when absent"`
	Auth             *authBody         `json:"auth,omitempty"`
	TLS              *tlsBody          `json:"tls,omitempty" doc:"Client certificate (mTLS) and CAs of the webhook's requests"`
	Headers          map[string]string `json:"headers,omitempty" doc:"Extra headers sent with every request; their values are answered ******** unless named in publicHeaders"`
	PublicHeaders    []string          `json:"publicHeaders,omitempty" doc:"Headers whose values are not secret and are answered in full; not one named like a credential"`
	Method           string            `json:"method,omitempty" enum:"POST,PUT,PATCH,GET,DELETE" doc:"Default POST"`
	QueryParams      []string          `json:"queryParams,omitempty" doc:"Query parameters a trigger may pass"`
	PayloadEncoding  string            `json:"payloadEncoding,omitempty" enum:"json,base64" doc:"base64: the event's data is a base64 string sent as raw bytes"`
	RateLimit        int               `json:"rateLimit,omitempty" minimum:"0" maximum:"100000" doc:"Maximum requests per second; 0 for none"`
	Metadata         map[string]string `json:"metadata,omitempty"`
	UID              string            `json:"uid,omitempty" doc:"A client-chosen ID, unique in the project, usable wherever the webhook's ID is: 1-64 letters, digits, '_', '.' or '-', not beginning with wh_"`
	Schema           rawJSON           `json:"schema,omitempty" doc:"JSON Schema that a trigger's data must match"`
	Then             *chainBody        `json:"then,omitempty" doc:"Trigger chain: after a 2xx answer, trigger this webhook with what map selects from the answer"`
	TriggerOnly      bool              `json:"triggerOnly,omitempty" doc:"Receive no events: only triggers call this webhook"`
	RetrySchedule    []string          `json:"retrySchedule,omitempty" maxItems:"50" doc:"The webhook's own retry schedule: waits before each retry, 1s to 168h each; absent for the project's (or the server's)"`
	Timeout          string            `json:"timeout,omitempty" doc:"How long one delivery request may take, such as 10s: above 0 and at most the server's send timeout; absent for the server's"`
	MaxAttempts      *int              `json:"maxAttempts,omitempty" minimum:"1" doc:"Attempts of a delivery at most, the first included; absent for as many as the retry schedule gives"`
	Ordering         string            `json:"ordering,omitempty" enum:"none,fifo" doc:"fifo: the events of one ordering key reach the webhook in the order they were accepted, one in flight at a time; default none"`
	OrderingKey      string            `json:"orderingKey,omitempty" maxLength:"256" doc:"With ordering fifo: a JSON Pointer into the event as delivered ({type, timestamp, data}), such as /data/customerId, whose value is the ordering key; absent: the whole webhook is one key"`
	AutoRecover      *bool             `json:"autoRecover,omitempty" doc:"Whether the webhook is probed, and enabled again at the first 2xx, once Hookgate disabled it; absent for the project's setting (or the server's: on)"`
	Breaker          *breakerBody      `json:"breaker,omitempty" doc:"The webhook's own circuit breaker settings; a field absent takes the project's (or the server's)"`
	Signature        *signatureIn      `json:"signature,omitempty" doc:"The signatures its requests carry; default v1 (HMAC-SHA256 with the secret)"`
	Filter           string            `json:"filter,omitempty" doc:"A CEL expression over the event (type, id, timestamp, data, and metadata: the webhook's own), of type bool: an event of the webhook's types is delivered only when it is true (docs/filters.md); absent for every event of its types"`
	Transform        string            `json:"transform,omitempty" doc:"A CEL expression over the event whose result, a map or a list (sent as JSON) or a string (sent as text), is the body sent instead of the event's envelope; it is signed as sent"`
	TransformHeaders string            `json:"transformHeaders,omitempty" doc:"A CEL expression over the event whose result, a map of strings, adds headers to each delivery request (not those Hookgate sets); the webhook's headers win"`
}

// chainBody is the next step of a trigger chain.
type chainBody struct {
	Webhook string   `json:"webhook" doc:"The next webhook's ID or uid, in the same project; answered as its ID"`
	Map     chainMap `json:"map,omitempty"`
}

type chainMap struct {
	Data        string            `json:"data,omitempty" doc:"JSON Pointer to the next call's data; empty passes the whole answer"`
	Headers     map[string]string `json:"headers,omitempty" doc:"Header name to the JSON Pointer of its value"`
	QueryParams map[string]string `json:"queryParams,omitempty" doc:"Query parameter to the JSON Pointer of its value"`
}

func (c *chainBody) domain() *hookgate.Chain {
	if c == nil {
		return nil
	}
	return &hookgate.Chain{Webhook: c.Webhook, Map: hookgate.ChainMap{Data: c.Map.Data, Headers: c.Map.Headers, QueryParams: c.Map.QueryParams}}
}

func toChain(c *hookgate.Chain) *chainBody {
	if c == nil {
		return nil
	}
	return &chainBody{Webhook: c.Webhook, Map: chainMap{Data: c.Map.Data, Headers: c.Map.Headers, QueryParams: c.Map.QueryParams}}
}

type webhookPatch struct {
	URL              *string            `json:"url,omitempty" doc:"Sent back as read, with ******** for the credential query values, the stored URL stays"`
	Description      *string            `json:"description,omitempty"`
	Events           *[]string          `json:"events,omitempty" doc:"[] subscribes to all event types"`
	Auth             *authBody          `json:"auth,omitempty" doc:"Credentials sent back as ******** keep their stored value"`
	TLS              rawJSON            `json:"tls,omitempty" doc:"{\"clientCertificate\", \"clientKey\", \"caBundle\"} replaces the TLS settings whole; null removes them"`
	Destination      rawJSON            `json:"destination,omitempty" doc:"Replaces the destination whole; {\"kind\": \"http\"} (with url) makes the webhook an HTTP one again"`
	Headers          *map[string]string `json:"headers,omitempty" doc:"Replaces all headers; a value of ******** keeps the stored one"`
	PublicHeaders    *[]string          `json:"publicHeaders,omitempty"`
	Method           *string            `json:"method,omitempty" enum:"POST,PUT,PATCH,GET,DELETE"`
	QueryParams      *[]string          `json:"queryParams,omitempty"`
	PayloadEncoding  *string            `json:"payloadEncoding,omitempty" enum:"json,base64"`
	RateLimit        *int               `json:"rateLimit,omitempty" minimum:"0" maximum:"100000"`
	Metadata         *map[string]string `json:"metadata,omitempty"`
	UID              *string            `json:"uid,omitempty" doc:"\"\" removes the uid"`
	Schema           rawJSON            `json:"schema,omitempty" doc:"null removes the schema"`
	Then             rawJSON            `json:"then,omitempty" doc:"null removes the chain"`
	TriggerOnly      *bool              `json:"triggerOnly,omitempty"`
	RetrySchedule    rawJSON            `json:"retrySchedule,omitempty" doc:"A list of waits; null (or []) for the project's (or the server's)"`
	Timeout          rawJSON            `json:"timeout,omitempty" doc:"A duration such as \"10s\"; null for the server's"`
	MaxAttempts      rawJSON            `json:"maxAttempts,omitempty" doc:"An integer of at least 1; null for as many as the retry schedule gives"`
	Ordering         *string            `json:"ordering,omitempty" enum:"none,fifo" doc:"none also removes orderingKey unless one is given"`
	OrderingKey      *string            `json:"orderingKey,omitempty" maxLength:"256" doc:"\"\" makes the whole webhook one key"`
	AutoRecover      rawJSON            `json:"autoRecover,omitempty" doc:"true or false; null for the project's setting (or the server's)"`
	Breaker          rawJSON            `json:"breaker,omitempty" doc:"{\"failures\", \"cooldown\"}: a field given changes it, a field null takes the project's (or the server's) again; null clears both"`
	Signature        *signatureIn       `json:"signature,omitempty" doc:"A new scheme: the previous one's signatures are still sent during gracePeriod"`
	Filter           *string            `json:"filter,omitempty" doc:"\"\" removes the filter"`
	Transform        *string            `json:"transform,omitempty" doc:"\"\" removes the transform: the envelope is sent again"`
	TransformHeaders *string            `json:"transformHeaders,omitempty" doc:"\"\" removes transformHeaders"`
}

type webhookOut struct {
	ID               string            `json:"id"`
	ProjectID        string            `json:"projectId"`
	URL              string            `json:"url" doc:"The values of query parameters named like credentials (token, key, secret, sig, pass, auth, code…) read ********; GET …/secret answers the URL in full"`
	Description      string            `json:"description"`
	Events           []string          `json:"events"`
	Auth             authBody          `json:"auth"`
	TLS              *tlsOut           `json:"tls" doc:"What the TLS settings are, never the PEM itself; null when there are none"`
	Destination      map[string]any    `json:"destination" doc:"Where deliveries go: {\"kind\": \"http\"}, or another kind's configuration with destination.auth.password answered ********"`
	Headers          map[string]string `json:"headers"`
	PublicHeaders    []string          `json:"publicHeaders"`
	Method           string            `json:"method"`
	QueryParams      []string          `json:"queryParams"`
	PayloadEncoding  string            `json:"payloadEncoding"`
	RateLimit        int               `json:"rateLimit"`
	Metadata         map[string]string `json:"metadata"`
	UID              string            `json:"uid,omitempty"`
	Schema           rawJSON           `json:"schema,omitempty"`
	Then             *chainBody        `json:"then,omitempty"`
	TriggerOnly      bool              `json:"triggerOnly"`
	RetrySchedule    []string          `json:"retrySchedule" doc:"The webhook's own retry schedule; [] when it takes the project's or the server's"`
	Timeout          *string           `json:"timeout" doc:"The webhook's own request timeout; null when it takes the server's"`
	MaxAttempts      *int              `json:"maxAttempts" doc:"The webhook's own cap on attempts; null when it has none"`
	Ordering         string            `json:"ordering" enum:"none,fifo"`
	OrderingKey      string            `json:"orderingKey" doc:"The JSON Pointer of the ordering key; \"\" when the whole webhook is one key (or it is not ordered)"`
	AutoRecover      *bool             `json:"autoRecover" doc:"The webhook's own autoRecover; null when it takes the project's (or the server's)"`
	Breaker          *breakerBody      `json:"breaker" doc:"The webhook's own circuit breaker settings; null when it takes the project's (or the server's)"`
	Delivery         deliverySettings  `json:"delivery" doc:"The delivery settings in force and where each comes from"`
	Circuit          circuitOut        `json:"circuit" doc:"The webhook's circuit breaker as it stands, the same for every node"`
	Status           string            `json:"status" enum:"active,deactivated,disabled"`
	Recovery         *recoveryOut      `json:"recovery,omitempty" doc:"Only while Hookgate keeps the webhook disabled: its recovery probes"`
	Signature        signatureOut      `json:"signature" doc:"The signatures its requests carry, and the public keys of v1a"`
	Filter           string            `json:"filter" doc:"The webhook's CEL filter; \"\" when it has none"`
	Transform        string            `json:"transform" doc:"The webhook's CEL transform of the body; \"\" when it has none"`
	TransformHeaders string            `json:"transformHeaders" doc:"The webhook's CEL expression of added headers; \"\" when it has none"`
	CreatedAt        time.Time         `json:"createdAt"`
	UpdatedAt        time.Time         `json:"updatedAt"`
	Secret           string            `json:"secret,omitempty" doc:"Signing secret; only in the answer to creation"`
}

// toWebhook renders w for an answer, with its credentials redacted.
func toWebhook(w *hookgate.Webhook) webhookOut {
	a := w.Auth
	out := webhookOut{
		ID: w.ID, ProjectID: w.ProjectID, URL: hookgate.RedactURL(w.URL), Description: w.Description, Events: emptyIfNil(w.Events),
		Auth:    authBody{Type: a.Type, Username: a.Username, ClientID: a.ClientID, TokenURL: hookgate.RedactURL(a.TokenURL), Scopes: a.Scopes},
		Headers: make(map[string]string, len(w.Headers)), PublicHeaders: emptyIfNil(w.PublicHeaders), Method: w.Method, QueryParams: emptyIfNil(w.QueryParams),
		PayloadEncoding: w.PayloadEncoding, RateLimit: w.RateLimit, Metadata: emptyMapIfNil(w.Metadata), Status: w.Status,
		UID: w.UID, Schema: rawJSON(w.Schema), Then: toChain(w.Then), TriggerOnly: w.TriggerOnly,
		Ordering: w.Ordering, OrderingKey: w.OrderingKey, TLS: toTLS(&w.TLS), Destination: toDestination(w),
		Filter: w.Filter, Transform: w.Transform, TransformHeaders: w.TransformHeaders,
		CreatedAt: utc(w.CreatedAt), UpdatedAt: utc(w.UpdatedAt),
	}
	if out.Ordering == "" {
		out.Ordering = hookgate.OrderingNone
	}
	if a.Password != "" {
		out.Auth.Password = redacted
	}
	if a.ClientSecret != "" {
		out.Auth.ClientSecret = redacted
	}
	for k, v := range w.Headers {
		if !w.IsPublicHeader(k) {
			v = redacted
		}
		out.Headers[k] = v
	}
	ownOverrides(&out, w)
	return out
}

func (b *authBody) domain() hookgate.WebhookAuth {
	if b == nil {
		return hookgate.WebhookAuth{Type: hookgate.AuthNone}
	}
	return hookgate.WebhookAuth{Type: b.Type, Username: b.Username, Password: b.Password, ClientID: b.ClientID,
		ClientSecret: b.ClientSecret, TokenURL: b.TokenURL, Scopes: b.Scopes}
}

type webhookOutput struct {
	Body webhookOut
}

// WebhookRef names a webhook in a path.
type WebhookRef struct {
	ProjectRef
	ID string `path:"id" maxLength:"64" doc:"Webhook ID or uid"`
}

type recoverOut struct {
	Requeued int `json:"requeued" doc:"Failed deliveries queued again"`
	Created  int `json:"created" doc:"Deliveries created for events the webhook missed"`
}

type secretOut struct {
	Secret string `json:"secret" doc:"The current signing secret"`
	// PreviousSecretExpiresAt is when the secret replaced by the last
	// rotation stops signing; null when it no longer does.
	PreviousSecretExpiresAt *time.Time `json:"previousSecretExpiresAt"`
	// URL is the webhook's URL unredacted: the owner's one way to read the
	// credentials a URL may carry in its query.
	URL string `json:"url,omitempty" doc:"The webhook's URL in full, credential query values included; only in the answer to GET …/secret"`
}

func (s *Server) toSecret(w *hookgate.Webhook) secretOut {
	out := secretOut{Secret: w.Secret}
	if w.PreviousSecret != "" && w.PreviousSecretExpiresAt.After(s.now()) {
		t := utc(w.PreviousSecretExpiresAt)
		out.PreviousSecretExpiresAt = &t
	}
	return out
}

// checkWebhook validates w, judges its URLs against the network policy,
// compiles its trigger schema and checks its chain; a destination of
// another kind than http is checked by its kind, and its broker probed
// when probe is set (checkDestination).
func (s *Server) checkWebhook(ctx context.Context, w *hookgate.Webhook, probe bool) error {
	if err := w.Validate(); err != nil {
		return err
	}
	if err := s.checkTimeout(w); err != nil {
		return err
	}
	if err := checkExpressions(w); err != nil {
		return err
	}
	if len(w.Schema) > 0 {
		if _, err := checkSchema(rawJSON(w.Schema)); err != nil {
			return err
		}
	}
	if err := s.checkChain(ctx, w); err != nil {
		return err
	}
	if w.DestinationKind() != hookgate.DestinationHTTP {
		return s.checkDestination(ctx, w, probe)
	}
	if err := s.checkNetwork("url", w.URL); err != nil {
		return err
	}
	if err := tlsNeedsHTTPS(w); err != nil {
		return err
	}
	if w.Auth.Type == hookgate.AuthClientCredential {
		return s.checkNetwork("auth.tokenURL", w.Auth.TokenURL)
	}
	return nil
}

func (s *Server) checkNetwork(param, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return hookgate.InvalidParam(param, raw, "%s is not a valid URL", param)
	}
	if err := s.cfg.Policy.CheckHost(u.Hostname()); err != nil {
		return hookgate.InvalidParam(param, raw, "%s points to a network Hookgate may not reach (loopback, private, link-local, multicast or reserved); an operator can allow it with HOOKGATE_ALLOW_NETWORKS", param)
	}
	return nil
}

// webhookRoutes are the operations on webhooks.
func (s *Server) webhookRoutes() []route {
	tags := "Webhooks"
	path := base + "/projects/{project}/webhooks"
	return []route{
		{op: also(op("createWebhook", http.MethodPost, path, "Register a webhook", accessOwner, http.StatusCreated, tags), http.StatusConflict), handle: handle(s.handleCreateWebhook)},
		{op: op("listWebhooks", http.MethodGet, path, "List webhooks", accessOwner, http.StatusOK, tags), handle: handle(s.handleListWebhooks)},
		// Before the routes of path/{id}, which would read test-expression as an ID.
		s.testExpressionRoute(path, tags),
		{op: op("getWebhook", http.MethodGet, path+"/{id}", "Read a webhook", accessOwner, http.StatusOK, tags), handle: handle(s.handleGetWebhook)},
		{op: also(op("updateWebhook", http.MethodPatch, path+"/{id}", "Change a webhook", accessOwner, http.StatusOK, tags), http.StatusConflict), handle: handle(s.handleUpdateWebhook)},
		{op: op("deleteWebhook", http.MethodDelete, path+"/{id}", "Delete a webhook; its unfinished deliveries are cancelled", accessOwner, http.StatusNoContent, tags), handle: handle(s.handleDeleteWebhook)},
		{op: also(op("testWebhook", http.MethodPost, path+"/{id}/test", "Send a webhook.test event to this webhook now", accessOwner, http.StatusAccepted, tags), http.StatusConflict), handle: handle(s.handleTestWebhook)},
		{op: also(op("recoverWebhook", http.MethodPost, path+"/{id}/recover", "Queue again failed deliveries since a time, and create the missed ones", accessOwner, http.StatusAccepted, tags), http.StatusConflict), handle: handle(s.handleRecoverWebhook)},
		{op: op("getWebhookSecret", http.MethodGet, path+"/{id}/secret", "Read a webhook's signing secret and its URL in full", accessOwner, http.StatusOK, tags), handle: handle(s.handleGetWebhookSecret)},
		{op: op("rotateWebhookSecret", http.MethodPost, path+"/{id}/secret/rotate", "Rotate a webhook's signing secret", accessOwner, http.StatusOK, tags), handle: handle(s.handleRotateWebhookSecret)},
		{op: op("deactivateWebhook", http.MethodPost, path+"/{id}/deactivate", "Deactivate a webhook; its pending deliveries are paused", accessOwner, http.StatusOK, tags), handle: handle(s.handleDeactivateWebhook)},
		{op: op("activateWebhook", http.MethodPost, path+"/{id}/activate", "Activate a webhook; its paused deliveries resume", accessOwner, http.StatusOK, tags), handle: handle(s.handleActivateWebhook)},
	}
}

// handleDeactivateWebhook handles deactivateWebhook: Deactivate a webhook; its pending deliveries are paused.
func (s *Server) handleDeactivateWebhook(ctx context.Context, in *WebhookRef) (*webhookOutput, error) {
	return s.setWebhookStatus(ctx, in, hookgate.StatusDeactivated)
}

// handleActivateWebhook handles activateWebhook: Activate a webhook; its paused deliveries resume.
func (s *Server) handleActivateWebhook(ctx context.Context, in *WebhookRef) (*webhookOutput, error) {
	return s.setWebhookStatus(ctx, in, hookgate.StatusActive)
}

func (s *Server) setWebhookStatus(ctx context.Context, in *WebhookRef, status string) (*webhookOutput, error) {
	id, err := s.webhookID(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	w, err := s.store.SetWebhookStatus(ctx, projectID(ctx), id, status, s.now().UTC())
	if err != nil {
		return nil, err
	}
	return s.renderWebhook(ctx, w)
}

// handleCreateWebhook handles createWebhook: Register a webhook.
func (s *Server) handleCreateWebhook(ctx context.Context, in *struct {
	ProjectRef
	Body webhookIn
}) (*webhookOutput, error) {
	b := in.Body
	now := s.now().UTC()
	w := &hookgate.Webhook{
		ID: hookgate.NewID(hookgate.PrefixWebhook, now), ProjectID: projectID(ctx), URL: b.URL, Description: b.Description,
		Events: b.Events, Secret: b.Secret, Auth: b.Auth.domain(), TLS: b.TLS.domain(), Headers: b.Headers, PublicHeaders: b.PublicHeaders, Method: b.Method,
		QueryParams: b.QueryParams, PayloadEncoding: b.PayloadEncoding, RateLimit: b.RateLimit, Metadata: b.Metadata,
		UID: b.UID, Then: b.Then.domain(), TriggerOnly: b.TriggerOnly, Ordering: b.Ordering, OrderingKey: b.OrderingKey,
		Filter: b.Filter, Transform: b.Transform, TransformHeaders: b.TransformHeaders,
		CreatedAt: now, UpdatedAt: now,
	}
	if !b.Schema.isNull() {
		w.Schema = []byte(b.Schema)
	}
	if err := parseOverrides(w, b.RetrySchedule, b.Timeout, b.MaxAttempts); err != nil {
		return nil, err
	}
	w.AutoRecover = b.AutoRecover
	var err error
	if w.Breaker, err = b.Breaker.domain("breaker"); err != nil {
		return nil, err
	}
	if b.Signature != nil {
		b.Signature.GracePeriod = "0s" // nothing to move from
		if err := applySignature(w, b.Signature, now); err != nil {
			return nil, err
		}
	}
	dest, err := s.parseDestination(b.Destination)
	if err != nil {
		return nil, err
	}
	if err := setDestination(w, dest, b.URL != ""); err != nil {
		return nil, err
	}
	w.ApplyDefaults()
	if err := s.checkWebhook(ctx, w, true); err != nil {
		return nil, err
	}
	if err := s.checkTLS(w); err != nil {
		return nil, err
	}
	if w.Secret == "" {
		w.Secret = hookgate.NewSecret()
	}
	if err := s.store.CreateWebhook(ctx, w); err != nil {
		return nil, err
	}
	out, err := s.renderWebhook(ctx, w)
	if err != nil {
		return nil, err
	}
	out.Body.Secret = w.Secret
	return out, nil
}

// handleListWebhooks handles listWebhooks: List webhooks.
func (s *Server) handleListWebhooks(ctx context.Context, in *struct {
	ProjectRef
	PageParams
}) (*listOutput[webhookOut], error) {
	list, next, err := s.store.ListWebhooks(ctx, projectID(ctx), in.page())
	if err != nil {
		return nil, err
	}
	render, err := s.webhookRenderer(ctx, list...)
	if err != nil {
		return nil, err
	}
	return listOf(list, next, render), nil
}

// handleGetWebhook handles getWebhook: Read a webhook.
func (s *Server) handleGetWebhook(ctx context.Context, in *WebhookRef) (*webhookOutput, error) {
	w, err := s.store.FindWebhook(ctx, projectID(ctx), in.ID)
	if err != nil {
		return nil, err
	}
	return s.renderWebhook(ctx, w)
}

// handleUpdateWebhook handles updateWebhook: Change a webhook.
func (s *Server) handleUpdateWebhook(ctx context.Context, in *struct {
	WebhookRef
	Body webhookPatch
}) (*webhookOutput, error) {
	w, err := s.store.FindWebhook(ctx, projectID(ctx), in.ID)
	if err != nil {
		return nil, err
	}
	before := *w
	if err := applyPatch(w, &in.Body); err != nil {
		return nil, err
	}
	if err := applySignature(w, in.Body.Signature, s.now().UTC()); err != nil {
		return nil, err
	}
	sentTLS, err := patchTLS(w, in.Body.TLS)
	if err != nil {
		return nil, err
	}
	if len(in.Body.Destination) > 0 {
		dest, err := s.parseDestination(in.Body.Destination)
		if err != nil {
			return nil, err
		}
		if err := setDestination(w, dest, in.Body.URL != nil); err != nil {
			return nil, err
		}
	}
	if err := s.checkWebhook(ctx, w, destinationChanged(&before, w)); err != nil {
		return nil, err
	}
	if sentTLS {
		if err := s.checkTLS(w); err != nil {
			return nil, err
		}
	}
	if err := credentialsStay(&before, w, &in.Body); err != nil {
		return nil, err
	}
	w.UpdatedAt = s.now().UTC()
	if err := s.store.UpdateWebhook(ctx, w); err != nil {
		return nil, err
	}
	return s.renderWebhook(ctx, w)
}

// handleDeleteWebhook handles deleteWebhook: Delete a webhook; its unfinished deliveries are cancelled.
func (s *Server) handleDeleteWebhook(ctx context.Context, in *WebhookRef) (*struct{}, error) {
	id, err := s.webhookID(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return nil, s.store.DeleteWebhook(ctx, projectID(ctx), id)
}

// handleTestWebhook handles testWebhook: Send a webhook.test event to this webhook now.
func (s *Server) handleTestWebhook(ctx context.Context, in *WebhookRef) (*struct{ Body deliveryOut }, error) {
	id, err := s.webhookID(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	data := fmt.Appendf(nil, `{"webhookId":%q,"message":"This is a test event from Hookgate."}`, id)
	_, d, err := s.store.CreateDirectEvent(ctx, projectID(ctx), id, hookgate.EventInput{Type: "webhook.test", Data: data})
	if err != nil {
		return nil, err
	}
	s.wake()
	return &struct{ Body deliveryOut }{Body: toDelivery(d)}, nil
}

// handleRecoverWebhook handles recoverWebhook: Queue again failed deliveries since a time, and create the missed ones.
func (s *Server) handleRecoverWebhook(ctx context.Context, in *struct {
	WebhookRef
	TraceHeaders
	Body struct {
		Since time.Time `json:"since" doc:"RFC 3339 time; deliveries and events from then on are recovered"`
	}
}) (*struct{ Body recoverOut }, error) {
	// The job's span; the deliveries it queues again stay in their
	// events' traces.
	ctx, span := s.serverSpan(ctx, "hookgate.recover", in.TraceParent, in.TraceState,
		attribute.String("hookgate.project.id", projectID(ctx)), attribute.String("hookgate.webhook.ref", in.ID))
	defer span.End()
	if in.Body.Since.After(s.now()) {
		return nil, hookgate.InvalidParam("since", in.Body.Since, "since is in the future")
	}
	if in.Body.Since.Before(s.now().Add(-MaxRecoverWindow)) {
		// Older events have lost their payloads to retention anyway,
		// and the walk would cross the whole history.
		return nil, hookgate.InvalidParam("since", in.Body.Since, "since is at most %s ago", hookgate.FormatDuration(MaxRecoverWindow))
	}
	id, err := s.webhookID(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	requeued, created, err := s.store.RecoverWebhook(ctx, projectID(ctx), id, in.Body.Since, s.now())
	if err != nil {
		return nil, err
	}
	s.wake()
	return &struct{ Body recoverOut }{Body: recoverOut{Requeued: requeued, Created: created}}, nil
}

// handleGetWebhookSecret handles getWebhookSecret: Read a webhook's signing secret and its URL in full.
func (s *Server) handleGetWebhookSecret(ctx context.Context, in *WebhookRef) (*struct{ Body secretOut }, error) {
	w, err := s.store.FindWebhook(ctx, projectID(ctx), in.ID)
	if err != nil {
		return nil, err
	}
	out := s.toSecret(w)
	out.URL = w.URL
	return &struct{ Body secretOut }{Body: out}, nil
}

// handleRotateWebhookSecret handles rotateWebhookSecret: Rotate a webhook's signing secret.
func (s *Server) handleRotateWebhookSecret(ctx context.Context, in *struct {
	WebhookRef
	Body *struct {
		Secret      string `json:"secret,omitempty" doc:"The new secret; generated when absent"`
		GracePeriod string `json:"gracePeriod,omitempty" doc:"How long the old secret keeps signing, as a Go duration (\"24h\", \"90m\", \"0s\"); default 24h, at most 720h"`
	}
}) (*struct{ Body secretOut }, error) {
	var secret, grace string
	if in.Body != nil {
		secret, grace = in.Body.Secret, in.Body.GracePeriod
	}
	period := DefaultGracePeriod
	if grace != "" {
		d, err := time.ParseDuration(grace)
		if err != nil || d < 0 || d > MaxGracePeriod {
			return nil, hookgate.InvalidParam("gracePeriod", grace, "gracePeriod is a duration such as 24h, between 0s and 720h")
		}
		period = d
	}
	if err := hookgate.ValidateSecret("secret", secret); err != nil {
		return nil, err
	}
	if secret == "" {
		secret = hookgate.NewSecret()
	}
	w, err := s.store.FindWebhook(ctx, projectID(ctx), in.ID)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	w.PreviousSecret, w.PreviousSecretExpiresAt = w.Secret, now.Add(period)
	if period == 0 {
		w.PreviousSecret, w.PreviousSecretExpiresAt = "", time.Time{}
	}
	w.Secret, w.UpdatedAt = secret, now
	if w.Signature.Key != nil {
		// The Ed25519 key turns over with the secret, with the same grace.
		w.Signature.PreviousKey, w.Signature.Key = w.Signature.Key, hookgate.NewSigningKey()
		if period == 0 {
			w.Signature.PreviousKey = nil
		}
	}
	if err := s.store.UpdateWebhook(ctx, w); err != nil {
		return nil, err
	}
	return &struct{ Body secretOut }{Body: s.toSecret(w)}, nil
}

// applyPatch changes the fields p names. Credentials sent back redacted keep
// their stored values, so that a client may send back what it read; so does
// a URL sent back as read, its credential query values redacted.
func applyPatch(w *hookgate.Webhook, p *webhookPatch) error {
	if p.URL != nil {
		u, err := unredactURL("url", *p.URL, w.URL)
		if err != nil {
			return err
		}
		w.URL = u
	}
	if p.Description != nil {
		w.Description = *p.Description
	}
	if p.Events != nil {
		w.Events = *p.Events
	}
	if p.Auth != nil {
		a := p.Auth.domain()
		if a.Password == redacted && w.Auth.Type == a.Type {
			a.Password = w.Auth.Password
		}
		if a.ClientSecret == redacted && w.Auth.Type == a.Type {
			a.ClientSecret = w.Auth.ClientSecret
		}
		if a.Type == hookgate.AuthClientCredential {
			stored := ""
			if w.Auth.Type == a.Type {
				stored = w.Auth.TokenURL
			}
			u, err := unredactURL("auth.tokenURL", a.TokenURL, stored)
			if err != nil {
				return err
			}
			a.TokenURL = u
		}
		w.Auth = a
	}
	if p.Headers != nil {
		h := make(map[string]string, len(*p.Headers))
		for k, v := range *p.Headers {
			if v == redacted {
				for ok, old := range w.Headers { // header names are case-insensitive
					if strings.EqualFold(ok, k) {
						v = old
					}
				}
			}
			h[k] = v
		}
		w.Headers = h
	}
	if p.PublicHeaders != nil {
		w.PublicHeaders = *p.PublicHeaders
	}
	if p.Method != nil {
		w.Method = *p.Method
	}
	if p.QueryParams != nil {
		w.QueryParams = *p.QueryParams
	}
	if p.PayloadEncoding != nil {
		w.PayloadEncoding = *p.PayloadEncoding
	}
	if p.RateLimit != nil {
		w.RateLimit = *p.RateLimit
	}
	if p.Metadata != nil {
		w.Metadata = *p.Metadata
	}
	if p.UID != nil {
		w.UID = *p.UID
	}
	if p.TriggerOnly != nil {
		w.TriggerOnly = *p.TriggerOnly
	}
	switch {
	case len(p.Schema) == 0:
	case p.Schema.isNull():
		w.Schema = nil
	default:
		w.Schema = []byte(p.Schema)
	}
	switch {
	case len(p.Then) == 0:
	case p.Then.isNull():
		w.Then = nil
	default:
		var c chainBody
		dec := json.NewDecoder(bytes.NewReader(p.Then))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return hookgate.InvalidParam("then", nil, "then is {\"webhook\": ID or uid, \"map\": {\"data\", \"headers\", \"queryParams\"}}: %v", err)
		}
		w.Then = c.domain()
	}
	if err := patchOverrides(w, p); err != nil {
		return err
	}
	if p.Ordering != nil {
		w.Ordering = *p.Ordering
		if w.Ordering == hookgate.OrderingNone && p.OrderingKey == nil {
			w.OrderingKey = ""
		}
	}
	if p.OrderingKey != nil {
		w.OrderingKey = *p.OrderingKey
	}
	if p.Filter != nil {
		w.Filter = *p.Filter
	}
	if p.Transform != nil {
		w.Transform = *p.Transform
	}
	if p.TransformHeaders != nil {
		w.TransformHeaders = *p.TransformHeaders
	}
	if err := patchBreaker(&w.Breaker, p.Breaker, "breaker"); err != nil {
		return err
	}
	w.ApplyDefaults()
	return nil
}

// credentialsStay refuses to let stored credentials follow a webhook to a
// new origin: an owner who cannot read them could otherwise point the URL
// (or the OAuth2 token URL) at a host of theirs and be sent them, or have
// them sent over plain HTTP. When the origin (scheme, host or port)
// changes, the password, the client secret, the TLS client key (tls, sent
// whole) and each credential header must be sent again, in the clear, in
// the same PATCH, and so must every header value that is not public.
func credentialsStay(old, w *hookgate.Webhook, p *webhookPatch) error {
	fresh := func(v string) bool { return v != "" && v != redacted }
	if !hookgate.SameOrigin(old.URL, w.URL) {
		if w.Auth.Type == hookgate.AuthBasic && (p.Auth == nil || !fresh(p.Auth.Password)) {
			return movedCredential("url", "auth.password")
		}
		if w.Auth.Type == hookgate.AuthClientCredential && (p.Auth == nil || !fresh(p.Auth.ClientSecret)) {
			return movedCredential("url", "auth.clientSecret")
		}
		if w.TLS.ClientKey != "" && len(p.TLS) == 0 {
			return movedCredential("url", "tls.clientKey")
		}
		for k := range w.Headers {
			if w.IsPublicHeader(k) {
				continue
			}
			sent := ""
			if p.Headers != nil {
				for pk, pv := range *p.Headers {
					if strings.EqualFold(pk, k) {
						sent = pv
					}
				}
			}
			if !fresh(sent) {
				return movedCredential("url", "headers."+k)
			}
		}
	}
	if w.Auth.Type == hookgate.AuthClientCredential && old.Auth.Type == hookgate.AuthClientCredential &&
		!hookgate.SameOrigin(old.Auth.TokenURL, w.Auth.TokenURL) && (p.Auth == nil || !fresh(p.Auth.ClientSecret)) {
		return movedCredential("auth.tokenURL", "auth.clientSecret")
	}
	if w.Auth.Type == hookgate.AuthClientCredential && old.Auth.Type == hookgate.AuthClientCredential &&
		!hookgate.SameOrigin(old.Auth.TokenURL, w.Auth.TokenURL) && w.TLS.ClientKey != "" && len(p.TLS) == 0 {
		return movedCredential("auth.tokenURL", "tls.clientKey")
	}
	return nil
}

func movedCredential(moved, param string) error {
	return hookgate.InvalidParam(param, nil, "%s moves to another origin (scheme, host or port), and stored credentials never follow a URL to a new host: send %s again in this PATCH", moved, param)
}

// unredactURL returns the URL a PATCH means by sent: the stored URL when
// sent is the stored one as answers show it (credential query values
// redacted), else sent itself. A redaction mark in any other URL would be
// stored as a credential: it is refused, naming param.
func unredactURL(param, sent, stored string) (string, error) {
	if !hookgate.HasRedactedQuery(sent) {
		return sent, nil
	}
	if stored != "" && sent == hookgate.RedactURL(stored) {
		return stored, nil
	}
	return "", hookgate.InvalidParam(param, sent, "%s holds the redaction mark %s as a query value, and is not the stored URL as read: send the value itself", param, redacted)
}

// checkChain resolves w's next webhook (an ID or a uid of the same project)
// to its ID and refuses a chain that loops back or runs longer than
// MaxChainSteps, so that a mistake is answered before anything is written.
// The store checks again in the write's transaction, which two concurrent
// writes cannot both pass. A chain that grows too long later, through a
// change of a webhook before w, is stopped when it runs.
func (s *Server) checkChain(ctx context.Context, w *hookgate.Webhook) error {
	if w.Then == nil {
		return nil
	}
	ref := w.Then.Webhook
	next, err := s.store.FindWebhook(ctx, w.ProjectID, ref)
	if hookgate.ErrorCode(err) == hookgate.ENotFound {
		return hookgate.InvalidParam("then", ref, "then.webhook %s names no webhook of this project", ref)
	}
	if err != nil {
		return err
	}
	w.Then.Webhook = next.ID
	return hookgate.CheckChain(w, ref, func(id string) (*hookgate.Webhook, error) {
		if id == next.ID {
			return next, nil
		}
		return s.store.FindWebhook(ctx, w.ProjectID, id)
	})
}

// webhookID returns the ID of the webhook ref names (its ID or its uid).
func (s *Server) webhookID(ctx context.Context, ref string) (string, error) {
	if hookgate.IsWebhookID(ref) {
		return ref, nil
	}
	w, err := s.store.FindWebhook(ctx, projectID(ctx), ref)
	if err != nil {
		return "", err
	}
	return w.ID, nil
}
