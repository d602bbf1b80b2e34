package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"golang.org/x/time/rate"

	"github.com/hookgate/hookgate"
)

// Project keys read "hgk_" + the 26 characters of the key's ID after "key_"
// + 43 characters of secret (32 random bytes, base64url). Only SHA-256 of the
// secret is stored; the secret is high-entropy, so a slow hash adds nothing.
const (
	keyTokenPrefix = "hgk_"
	keyIDLen       = 26
)

// newKeyToken returns a new key's ID, its token (shown once) and the hash
// to store.
func newKeyToken(now time.Time) (id, token string, hash []byte) {
	id = hookgate.NewID(hookgate.PrefixKey, now)
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	secret := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(secret))
	return id, keyTokenPrefix + id[len(hookgate.PrefixKey):] + secret, sum[:]
}

// principal is who is calling.
type principal struct {
	admin       bool
	keyID       string
	projectID   string
	projectSlug string
	role        hookgate.Role
	// portal marks a consumer portal session, allowed only the
	// operations of portalAccess that caps grant, in projectID only.
	portal bool
	caps   []string
}

type principalKey struct{}
type projectKey struct{}

// projectID returns the project the authenticated request acts on.
func projectID(ctx context.Context) string {
	id, _ := ctx.Value(projectKey{}).(string)
	return id
}

// authenticate is huma middleware: it checks the key, the operation's access
// level and, for routes under a project, that the key may see the project.
// ServeHTTP has usually found the key already, from the headers alone and
// before reading the body, so that an unauthenticated caller learns
// nothing from validation errors and holds none of the body budget.
func (s *Server) authenticate(ctx huma.Context, next func(huma.Context)) {
	acc, _ := ctx.Operation().Metadata[metaAccess].(access)
	if acc == accessPublic {
		next(ctx)
		return
	}
	p := preAuthenticated(ctx.Context())
	if p == nil {
		var prob *Problem
		if p, prob = s.headerPrincipal(ctx.Context(), ctx.RemoteAddr(), ctx.Header); prob != nil {
			writeHumaProblem(ctx, prob)
			return
		}
	}
	s.authorized(ctx, acc, p, next)
}

// headerPrincipal finds who a request is from its headers (or, in process,
// who it acts as). On failure it returns the problem to answer: 401, 429
// once the address has failed too often (a right key still passes: many
// clients may share one address behind a proxy), or 500.
func (s *Server) headerPrincipal(ctx context.Context, remoteAddr string, header func(string) string) (*principal, *Problem) {
	if p, ok, err := s.actingPrincipal(ctx); ok {
		switch {
		case hookgate.ErrorCode(err) == hookgate.EUnauthorized:
			return nil, newProblem(http.StatusUnauthorized, hookgate.EUnauthorized, "the API key is not valid")
		case err != nil:
			return nil, problemFrom(err)
		}
		return p, nil
	}
	refuse := func(msg string) *Problem {
		if wait := s.authFails.fail(clientAddr(remoteAddr)); wait > 0 {
			p := newProblem(http.StatusTooManyRequests, hookgate.ERateLimited, "too many failed authentications from this address; try again after Retry-After")
			p.retryAfter = strconv.Itoa(int(wait.Seconds()) + 1)
			return p
		}
		return newProblem(http.StatusUnauthorized, hookgate.EUnauthorized, msg)
	}
	token := header("X-API-Key")
	if authz := header("Authorization"); authz != "" {
		scheme, rest, _ := strings.Cut(authz, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return nil, refuse("the Authorization header must be: Bearer KEY")
		}
		token = strings.TrimSpace(rest)
	}
	if token == "" {
		return nil, newProblem(http.StatusUnauthorized, hookgate.EUnauthorized, "an API key is required: send Authorization: Bearer KEY or X-API-Key: KEY")
	}
	p, err := s.principal(ctx, token)
	switch {
	case hookgate.ErrorCode(err) == hookgate.EUnauthorized:
		return nil, refuse("the API key is not valid")
	case err != nil:
		return nil, problemFrom(err)
	}
	return p, nil
}

// preAuthenticated is the principal ServeHTTP found for the request, or nil.
func preAuthenticated(ctx context.Context) *principal {
	if info, ok := ctx.Value(reqInfoKey{}).(*reqInfo); ok {
		return info.principal
	}
	return nil
}

// authorized lets p through to next if its access level allows the
// operation, and for routes under a project, if p may see the project.
func (s *Server) authorized(ctx huma.Context, acc access, p *principal, next func(huma.Context)) {
	if p.portal && !portalAllows(ctx.Operation().OperationID, p.caps) {
		// As for a route that does not exist: a portal session learns
		// nothing of what it may not do.
		writeHumaProblem(ctx, newProblem(http.StatusNotFound, hookgate.ENotFound, "no route for "+ctx.Method()+" "+ctx.URL().Path))
		return
	}
	if acc == accessAdmin && !p.admin {
		_ = huma.WriteErr(s.api, ctx, http.StatusForbidden, "this operation needs the admin key")
		return
	}
	if strings.Contains(ctx.Operation().Path, "{project}") {
		id, err := s.resolveProject(ctx.Context(), p, ctx.Param("project"))
		if err != nil {
			if hookgate.ErrorCode(err) == hookgate.ENotFound {
				// The same words whether the project does not exist or is
				// another's: a key must not learn which projects exist.
				ref := ctx.Param("project")
				writeHumaProblem(ctx, problemFrom(&hookgate.Error{Code: hookgate.ENotFound, Param: "project", Value: ref,
					Message: fmt.Sprintf("project not found: no project this key may use has the ID or slug %q", ref)}))
			} else {
				_ = huma.WriteErr(s.api, ctx, http.StatusInternalServerError, "", err)
			}
			return
		}
		if acc == accessOwner && !p.admin && p.role != hookgate.RoleOwner {
			_ = huma.WriteErr(s.api, ctx, http.StatusForbidden, "this operation needs an owner key; publisher keys may only send events, trigger webhooks and send messages")
			return
		}
		ctx = huma.WithValue(ctx, projectKey{}, id)
	}
	next(huma.WithValue(ctx, principalKey{}, p))
}

var errBadKey = hookgate.Errorf(hookgate.EUnauthorized, "the API key is not valid")

// principal finds who token belongs to. Comparisons of secrets are constant
// time.
func (s *Server) principal(ctx context.Context, token string) (*principal, error) {
	given := sha256.Sum256([]byte(token))
	admin := sha256.Sum256([]byte(s.cfg.AdminKey))
	if s.cfg.AdminKey != "" && subtle.ConstantTimeCompare(given[:], admin[:]) == 1 {
		return &principal{admin: true}, nil
	}
	if len(token) <= len(keyTokenPrefix)+keyIDLen || !strings.HasPrefix(token, keyTokenPrefix) {
		return nil, errBadKey
	}
	id := hookgate.PrefixKey + token[len(keyTokenPrefix):len(keyTokenPrefix)+keyIDLen]
	secret := sha256.Sum256([]byte(token[len(keyTokenPrefix)+keyIDLen:]))
	e, gen, ok := s.keys.get(id)
	if !ok {
		k, err := s.store.FindAPIKey(ctx, id)
		if hookgate.ErrorCode(err) == hookgate.ENotFound {
			return nil, errBadKey
		}
		if err != nil {
			return nil, err
		}
		proj, err := s.store.FindProject(ctx, k.ProjectID)
		if hookgate.ErrorCode(err) == hookgate.ENotFound {
			return nil, errBadKey
		}
		if err != nil {
			return nil, err
		}
		e = &keyEntry{hash: k.Hash, p: principal{keyID: k.ID, projectID: k.ProjectID, projectSlug: proj.Slug, role: k.Role}}
		s.keys.put(id, e, gen)
	}
	if subtle.ConstantTimeCompare(secret[:], e.hash) != 1 {
		return nil, errBadKey
	}
	p := e.p
	return &p, nil
}

// resolveProject returns the ID of the project ref names, if p may see it.
// Another project's key gets ENotFound, exactly as for a project that does
// not exist.
func (s *Server) resolveProject(ctx context.Context, p *principal, ref string) (string, error) {
	if !p.admin {
		if ref == p.projectID || ref == p.projectSlug {
			return p.projectID, nil
		}
		return "", hookgate.NotFound("project")
	}
	proj, err := s.store.FindProject(ctx, ref)
	if err != nil {
		return "", err
	}
	return proj.ID, nil
}

// keyCache keeps recently used keys, so that a request does not read the
// database to authenticate. Entries live for a TTL; changes made through this
// node drop them at once.
type keyCache struct {
	mu sync.Mutex
	m  map[string]*keyEntry
	// gen counts forgets: a load that began before one is not cached, since
	// it may hold what was just revoked.
	gen uint64
	ttl time.Duration
	now func() time.Time
}

type keyEntry struct {
	hash    []byte
	p       principal
	expires time.Time
}

func newKeyCache(ttl time.Duration, now func() time.Time) *keyCache {
	return &keyCache{m: map[string]*keyEntry{}, ttl: ttl, now: now}
}

func (c *keyCache) get(id string) (*keyEntry, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if !ok || c.now().After(e.expires) {
		return nil, c.gen, false
	}
	return e, c.gen, true
}

// put caches e unless something was forgotten since get returned gen.
func (c *keyCache) put(id string, e *keyEntry, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.m) > 10000 { // bound memory under a flood of distinct keys
		clear(c.m)
	}
	e.expires = c.now().Add(c.ttl)
	c.m[id] = e
}

// forget drops one key, or with projectID every key of that project.
func (c *keyCache) forget(keyID, projectID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for id, e := range c.m {
		if id == keyID || (projectID != "" && e.p.projectID == projectID) {
			delete(c.m, id)
		}
	}
}

// forgetAll drops every cached key.
func (c *keyCache) forgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.m)
}

// clientAddr is the client's IP address, without its port.
func clientAddr(remote string) string {
	if host, _, err := net.SplitHostPort(remote); err == nil {
		return host
	}
	return remote
}

// authFailures limits failed authentications per client address: a burst
// of 20, then one per 3 seconds; past it a wrong key is answered 429, so
// that keys cannot be guessed at speed. A right key is never refused for
// it.
type authFailures struct {
	burst int // < 0: no limit
	mu    sync.Mutex
	m     map[string]*rate.Limiter
}

func (a *authFailures) limiter(client string, create bool) *rate.Limiter {
	a.mu.Lock()
	defer a.mu.Unlock()
	l, ok := a.m[client]
	if !ok && create {
		if a.m == nil || len(a.m) > 10000 { // bound memory under a flood of addresses
			a.m = map[string]*rate.Limiter{}
		}
		l = rate.NewLimiter(rate.Every(3*time.Second), a.burst)
		a.m[client] = l
	}
	return l
}

// fail counts one failed authentication of client and returns how long it
// must wait when it is over its limit, else 0.
func (a *authFailures) fail(client string) time.Duration {
	if a.burst <= 0 {
		return 0
	}
	l := a.limiter(client, true)
	now := time.Now()
	if l.AllowN(now, 1) {
		return 0
	}
	r := l.ReserveN(now, 1)
	defer r.CancelAt(now)
	return max(r.DelayFrom(now), time.Second)
}
