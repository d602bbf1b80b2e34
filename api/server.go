// Package api serves Hookgate's HTTP API (v1) with huma on net/http: the
// routes of docs/api.md, problem+json errors, authentication, metrics and the
// operations endpoints.
package api

import (
	"context"
	"iter"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/netguard"
	"github.com/hookgate/hookgate/platforms"
	"github.com/hookgate/hookgate/tracing"
)

// DefaultMaxEventBytes is the largest body of POST …/events unless
// configured otherwise.
const DefaultMaxEventBytes = 1 << 20

// Config configures a Server. Store, AdminKey and Policy are required.
type Config struct {
	Store hookgate.Store
	// Tracer starts the spans of requests that accept work; nil exports
	// none, and events still get trace IDs.
	Tracer *tracing.Tracer
	// TraceOff reports whether a project sends its receivers no trace
	// headers, for triggers: the dispatcher's (Dispatcher.TraceHeadersOff),
	// which reads its projects again every 10 seconds. Nil: every project
	// sends them.
	TraceOff func(ctx context.Context, projectID string) bool
	// Node names this node in the attempts of the triggers it makes (the
	// dispatcher's node, Dispatcher.Node); "" for none.
	Node string
	// AdminKey manages projects and keys, and may act on any project.
	AdminKey string
	// Policy judges webhook URLs given as literal addresses.
	Policy *netguard.Policy
	// Destinations are the destination kinds a webhook may name besides
	// http (the delivery engine's, so that a webhook is checked by the kind
	// that sends for it); nil allows http alone.
	Destinations *hookgate.Destinations
	// Sources are the broker source kinds a project's source may take;
	// nil: none.
	Sources *hookgate.Sources
	// OnSources, when set, is called after a source is created, changed,
	// activated, deactivated or deleted, so that this node's runner sees
	// it at once (other nodes see it at their next claim).
	OnSources func()
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Registry receives the API's metrics; default a new registry.
	Registry *prometheus.Registry
	// Now defaults to time.Now.
	Now func() time.Time
	// MaxEventBytes caps the body of POST …/events; default
	// DefaultMaxEventBytes. The batch endpoint takes up to 16 times as much.
	MaxEventBytes int64
	// Version is reported in the OpenAPI document.
	Version string
	// OnEvents, when set, is called when deliveries may be due that no
	// dispatcher holds: after events are committed whose deliveries were not
	// adopted at their birth (see hookgate.Adopter), and after a retry or a
	// recovery. serve wakes the delivery dispatcher with it.
	OnEvents func()
	// Sender makes trigger requests; default one under Policy with
	// SendTimeout. serve passes the delivery engine's, so that OAuth2
	// tokens and rate limiters are shared.
	Sender *delivery.Sender
	// SendTimeout is the longest a trigger waits for its receiver, and the
	// default; default delivery.DefaultSendTimeout.
	SendTimeout time.Duration
	// RetrySchedule is the server's retry schedule, answered as the one in
	// force for webhooks of projects without their own; default
	// hookgate.DefaultSchedule.
	RetrySchedule hookgate.Schedule
	// RecoverySchedule and RecoveryFor are the dispatcher's, answered in
	// the recovery of a disabled webhook; defaults
	// hookgate.DefaultRecoverySchedule and hookgate.DefaultRecoveryFor.
	// A negative RecoveryFor (serve --recovery-for 0) probes no webhook:
	// autoRecover is answered off, from the server.
	RecoverySchedule hookgate.Schedule
	RecoveryFor      time.Duration
	// Breaker is the server's circuit breaker (the dispatcher's), answered
	// as the one in force for webhooks where neither the webhook nor its
	// project sets a field; a zero field takes hookgate.DefaultBreaker's.
	// Failures hookgate.BreakerOff (serve --breaker-failures 0) is
	// answered 0 from the server: off.
	Breaker hookgate.Breaker
	// TriggerConcurrency caps the triggers of one webhook in flight on this
	// node; default delivery.DefaultTriggersPerWebhook.
	TriggerConcurrency int
	// MetricsToken, when set, serves GET /metrics on the API's listener to
	// requests with Authorization: Bearer MetricsToken; empty serves no
	// metrics there (serve has --metrics-addr for them).
	MetricsToken string
	// AuthFailureBurst is how many failed authentications one client
	// address may make before it is slowed to one per 3 seconds (429 with
	// Retry-After, a right key included); default 20, negative for no limit.
	AuthFailureBurst int
	// BodyBytesInFlight bounds the bytes of API request bodies being read
	// and processed at once, counted as they arrive and held until their
	// request is done; a request that would pass it is answered 503 with
	// Retry-After. Bodies are read only after the request authenticated.
	// Default 32 MiB.
	BodyBytesInFlight int64
	// BodyReadTimeout is how long a request body may take to arrive, from
	// the moment the server starts reading it; a slower one is answered
	// 408 and its connection closed. Default 20s.
	BodyReadTimeout time.Duration
	// InboundBytesInFlight bounds the bytes of inbound posts being read
	// and processed at once, apart from the API's budget; default 16 MiB.
	InboundBytesInFlight int64
	// InboundPerPlatform and InboundPerAddress cap the inbound posts of
	// one platform, and of one client address, in flight at once; a post
	// past either cap is answered 503 with Retry-After. Defaults 128
	// and 32.
	InboundPerPlatform, InboundPerAddress int
	// Providers are the platform providers; default none (no platform can
	// be created). The API accepts, and its OpenAPI document lists, the
	// names registered here.
	Providers *platforms.Registry
	// PublicURL is the base of inbound URLs given to providers; default
	// http://127.0.0.1:8080.
	PublicURL string
	// AdminKeyTag names the admin key in dashboard sessions, so that a new
	// admin key ends them. serve passes a digest keyed by the encryption
	// key (sqlstore.Store.Digest), so that the database holds nothing to
	// test guesses of the admin key against; default a plain hash of it.
	AdminKeyTag string
	// CacheTTL bounds how long a node trusts cached keys and event schemas
	// changed on another node; default 5s. Changes made through this node
	// apply at once.
	CacheTTL time.Duration
	// RedrivePoll is how often RunRedrives looks for the redrives a stopped
	// node left running; default hookgate.RedriveLease (30s).
	RedrivePoll time.Duration
}

// Server is the HTTP API.
type Server struct {
	cfg     Config
	store   hookgate.Store
	log     *slog.Logger
	now     func() time.Time
	mux     *http.ServeMux
	api     huma.API
	metrics *metrics
	keys    *keyCache
	schemas *schemaCache

	triggers    *delivery.Triggers
	hookSchemas webhookSchemas
	// providerClient calls providers' APIs, under Policy.
	providerClient *http.Client
	touched        touches
	authFails      authFailures
	bodies         *semaphore.Weighted
	// access is the access level of each operation, by its route pattern
	// ("POST /api/v1/projects/{project}/events").
	access     map[string]access
	inboundLim inboundLimits
	// redrives are the redrives this node runs in the background.
	redrives redriveRuns
	// draining is set by Drain: /readyz answers 503 from then on.
	draining atomic.Bool
}

// Access levels of operations.
type access int

const (
	accessPublic    access = iota
	accessAdmin            // the admin key only
	accessOwner            // an owner key of the project, or the admin key
	accessPublisher        // any key of the project, or the admin key
)

const metaAccess = "hookgate.access"

// New builds a Server.
func New(cfg Config) *Server {
	useProblems()
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.MaxEventBytes <= 0 {
		cfg.MaxEventBytes = DefaultMaxEventBytes
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 5 * time.Second
	}
	if cfg.RedrivePoll <= 0 {
		cfg.RedrivePoll = hookgate.RedriveLease
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = delivery.DefaultSendTimeout
	}
	if cfg.RetrySchedule == nil {
		cfg.RetrySchedule = hookgate.DefaultSchedule
	}
	if len(cfg.RecoverySchedule) == 0 {
		cfg.RecoverySchedule = hookgate.DefaultRecoverySchedule
	}
	if cfg.RecoveryFor == 0 {
		cfg.RecoveryFor = hookgate.DefaultRecoveryFor
	}
	cfg.Breaker = cfg.Breaker.Over(hookgate.DefaultBreaker)
	if cfg.AuthFailureBurst == 0 {
		cfg.AuthFailureBurst = 20
	}
	if cfg.BodyBytesInFlight <= 0 {
		cfg.BodyBytesInFlight = 32 << 20
	}
	if cfg.BodyReadTimeout <= 0 {
		cfg.BodyReadTimeout = 20 * time.Second
	}
	if cfg.InboundBytesInFlight <= 0 {
		cfg.InboundBytesInFlight = 16 << 20
	}
	if cfg.InboundPerPlatform <= 0 {
		cfg.InboundPerPlatform = 128
	}
	if cfg.InboundPerAddress <= 0 {
		cfg.InboundPerAddress = 32
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://127.0.0.1:8080"
	}
	if cfg.Sender == nil {
		cfg.Sender = &delivery.Sender{Client: cfg.Policy.Client(cfg.SendTimeout), UserAgent: "Hookgate/" + cfg.Version}
	}
	now := cfg.Now
	s := &Server{
		// Stores keep microseconds; answering the same precision keeps a
		// resource's times equal between its creation and every read.
		cfg: cfg, store: cfg.Store, log: cfg.Logger, now: func() time.Time { return now().UTC().Truncate(time.Microsecond) },
		mux:     http.NewServeMux(),
		metrics: newMetrics(cfg.Registry, cfg.Providers.Names()),
	}
	s.redrives.done = make(chan struct{})
	s.keys = newKeyCache(cfg.CacheTTL, s.now)
	s.schemas = newSchemaCache(cfg.Store, cfg.CacheTTL, s.now)
	s.providerClient = cfg.Policy.Client(cfg.SendTimeout)
	s.bodies = semaphore.NewWeighted(cfg.BodyBytesInFlight)
	s.inboundLim = newInboundLimits(cfg)
	s.authFails.burst = cfg.AuthFailureBurst
	s.triggers = delivery.NewTriggers(delivery.TriggerConfig{Store: cfg.Store, Sender: cfg.Sender, Check: s.checkTriggerData, Node: cfg.Node,
		PerWebhook: cfg.TriggerConcurrency, Registry: cfg.Registry, Now: cfg.Now, Tracer: cfg.Tracer, TraceOff: cfg.TraceOff})

	hc := huma.DefaultConfig("Hookgate API", cfg.Version)
	hc.Info.Description = "Self-hosted webhook gateway. Authenticate with `Authorization: Bearer KEY` or `X-API-Key: KEY`."
	hc.OpenAPIPath = "/openapi"
	hc.DocsPath = ""
	hc.SchemasPath = ""
	hc.CreateHooks = nil // no $schema links in bodies
	hc.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer"},
		"apiKey": {Type: "apiKey", In: "header", Name: "X-API-Key"},
	}
	hc.Servers = []*huma.Server{{URL: strings.TrimSuffix(cfg.PublicURL, "/"), Description: "This server (--public-url)"}}
	s.api = humago.New(s.mux, hc)
	s.api.UseMiddleware(s.authenticate, s.rejectUnknownQuery)

	s.register(s.projectRoutes())
	s.register(s.keyRoutes())
	s.register(s.webhookRoutes())
	s.register(s.triggerRoutes())
	s.register(s.eventTypeRoutes())
	s.register(s.eventRoutes())
	s.register(s.deliveryRoutes())
	s.register(s.attemptRoutes())
	s.register(s.redriveRoutes())
	s.register(s.statsRoutes())
	s.register(s.platformRoutes())
	s.register(s.messageRoutes())
	s.register(s.portalLinkRoutes())
	s.register(s.sourceRoutes())
	s.registerInbound()
	s.registerOps()
	fitResponses(s.api.OpenAPI())
	s.access = accessByPattern(s.api.OpenAPI())
	return s
}

// OpenAPI returns the generated OpenAPI document.
func (s *Server) OpenAPI() *huma.OpenAPI { return s.api.OpenAPI() }

// ServeHTTP routes a request, answering unknown routes and methods with
// problems, and records metrics and error logs for every request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	// No answer of this server is to be sniffed as something else: a
	// provider's handshake echoes what the caller sent.
	w.Header().Set("X-Content-Type-Options", "nosniff")
	info := &reqInfo{}
	r = r.WithContext(context.WithValue(r.Context(), reqInfoKey{}, info))
	rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	_, pattern := s.mux.Handler(r)
	route := pattern
	if pattern == "" {
		route = "unmatched"
		if allow := s.allowedMethods(r); allow != "" {
			rec.Header().Set("Allow", allow)
			writeProblem(rec, r, newProblem(http.StatusMethodNotAllowed, hookgate.EMethodNotAllowed,
				r.Method+" is not allowed here; allowed: "+allow))
		} else {
			writeProblem(rec, r, newProblem(http.StatusNotFound, hookgate.ENotFound, "no route for "+r.Method+" "+r.URL.Path))
		}
	} else {
		if r2 := s.checkInput(rec, r, pattern); r2 != nil {
			s.mux.ServeHTTP(rec, r2) // the mux, not the handler found above, sets the path values
		}
	}
	elapsed := time.Since(start)
	s.metrics.observe(route, rec.status, elapsed, info.trace.TraceIDString())
	if p := info.problem; p != nil {
		if p.fromStore {
			s.metrics.storeErrors.Inc()
		}
		level := slog.LevelInfo
		if p.Status >= 500 {
			level = slog.LevelError
		}
		attrs := []slog.Attr{
			slog.String("errorId", p.ErrorID), slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", p.Status), slog.String("code", p.Code), slog.String("detail", p.Detail),
			slog.Int64("elapsed_ms", elapsed.Milliseconds()),
		}
		if !info.trace.IsZero() {
			attrs = append(attrs, slog.String("trace_id", info.trace.TraceIDString()), slog.String("span_id", info.trace.SpanIDString()))
		}
		if p.cause != nil {
			attrs = append(attrs, slog.String("cause", p.cause.Error()))
		}
		s.log.LogAttrs(r.Context(), level, "request failed", attrs...)
	}
}

// allowedMethods lists the methods the path takes, or "" when no route has
// the path at all.
func (s *Server) allowedMethods(r *http.Request) string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := s.mux.Handler(probe); p != "" {
			allow = append(allow, m)
		}
	}
	return strings.Join(allow, ", ")
}

type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// op describes an operation for huma with its access level.
func op(id, method, path, summary string, acc access, status int, tags ...string) huma.Operation {
	o := huma.Operation{
		OperationID:   id,
		Method:        method,
		Path:          path,
		Summary:       summary,
		Tags:          tags,
		DefaultStatus: status,
		Metadata:      map[string]any{metaAccess: acc},
		// checkInput has read the whole body before huma runs. huma's
		// default would set a 5 s read deadline on the connection then,
		// while the server is already watching it for the client going
		// away: when it passed, the server took it for a broken
		// connection and cancelled the request, so a trigger or provider
		// call running longer than 5 s ended as "context canceled"
		// (issue 21, item 7). -1 clears the deadline instead.
		BodyReadTimeout: -1,
	}
	if acc != accessPublic {
		o.Security = []map[string][]string{{"bearer": {}}, {"apiKey": {}}}
		o.Errors = []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound}
	}
	return o
}

const base = "/api/v1"

// accessByPattern maps each operation's route pattern to its access level.
func accessByPattern(doc *huma.OpenAPI) map[string]access {
	m := map[string]access{}
	for path, o := range operations(doc) {
		acc, _ := o.Metadata[metaAccess].(access)
		m[o.Method+" "+path] = acc
	}
	return m
}

// operations yields every operation of doc with its path.
func operations(doc *huma.OpenAPI) iter.Seq2[string, *huma.Operation] {
	return func(yield func(string, *huma.Operation) bool) {
		for path, item := range doc.Paths {
			for _, o := range []*huma.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete} {
				if o != nil && !yield(path, o) {
					return
				}
			}
		}
	}
}

// also adds to o the error statuses its handler may answer besides those
// that every operation may (see fitResponses).
func also(o huma.Operation, statuses ...int) huma.Operation {
	o.Errors = append(o.Errors, statuses...)
	return o
}

// alsoSucceeds declares that the POST operation at path also answers
// status, with the body of its response like.
func alsoSucceeds(doc *huma.OpenAPI, path string, status, like int, description string) {
	o := doc.Paths[path].Post
	r := *o.Responses[strconv.Itoa(like)]
	r.Description = description
	o.Responses[strconv.Itoa(status)] = &r
}

// fitResponses makes the document declare exactly what the server
// answers. It removes the 422 that huma declares for operations with
// input: this server answers validation errors with 400 (see problem.go).
// It adds what every operation may answer besides its handler's own
// errors: 429 after too many failed authentications from one address and
// 503 when the database does not answer or the body budget is spent; and
// for a method with a body, 408 for a body that is too slow, 413 for one
// too large and 415 for a malformed Content-Type. A client generated from
// the document then expects every status that comes, and none that never
// does.
func fitResponses(doc *huma.OpenAPI) {
	for _, o := range operations(doc) {
		delete(o.Responses, "422")
		problem, ok := o.Responses["400"]
		if !ok {
			continue // a public operation, answered by its handler alone
		}
		add := []int{http.StatusTooManyRequests, http.StatusServiceUnavailable}
		if o.Method != http.MethodGet && o.Method != http.MethodDelete {
			add = append(add, http.StatusRequestTimeout, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType)
		}
		for _, status := range add {
			if _, ok := o.Responses[strconv.Itoa(status)]; !ok {
				r := *problem
				r.Description = http.StatusText(status)
				o.Responses[strconv.Itoa(status)] = &r
			}
		}
	}
}

// Changed drops what the server caches about a change made on another
// node (kind "key", "project" or "schemas", as sqlstore.Listen reports
// it), so that a key revoked anywhere is refused everywhere at once. Kind
// "all" drops everything: changes may have been missed (Listen has just
// connected, or connected again).
func (s *Server) Changed(kind, id string) {
	switch kind {
	case "all":
		s.keys.forgetAll()
		s.schemas.forgetAll()
	case "key":
		s.keys.forget(id, "")
	case "project":
		s.keys.forget("", id)
		s.schemas.forget(id)
	case "schemas":
		s.schemas.forget(id)
	}
}
