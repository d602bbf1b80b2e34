package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/hookgate/hookgate"
)

type projectOut struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
	Name string `json:"name"`
	// RetrySchedule is the project's own retry schedule; empty when the
	// server's applies.
	RetrySchedule []string `json:"retrySchedule" doc:"Waits before each retry, such as [\"10s\",\"1m\",\"1h\"]; empty when the server's schedule (HOOKGATE_RETRY_SCHEDULE) applies"`
	AutoRecover   *bool    `json:"autoRecover" doc:"Whether the project's webhooks that Hookgate disabled are probed and enabled again, unless a webhook says otherwise; null for the server's (on)"`
	// Breaker is the project's own circuit breaker settings; nil when the
	// server's apply.
	Breaker      *breakerBody `json:"breaker" doc:"The project's own circuit breaker settings, which its webhooks take unless they set their own; null when the server's apply (10 failures, 30s, unless serve's --breaker-failures and --breaker-cooldown say otherwise)"`
	Portal       portalOut    `json:"portal" doc:"The consumer portal's embedding and theme"`
	TraceHeaders bool         `json:"traceHeaders" doc:"Whether the project's receivers get traceparent and tracestate headers (default true)"`
	CreatedAt    time.Time    `json:"createdAt"`
	UpdatedAt    time.Time    `json:"updatedAt"`
}

func toProject(p *hookgate.Project) projectOut {
	sched := make([]string, len(p.RetrySchedule))
	for i, d := range p.RetrySchedule {
		sched[i] = hookgate.FormatDuration(d)
	}
	return projectOut{ID: p.ID, Slug: p.Slug, Name: p.Name, RetrySchedule: sched, AutoRecover: p.AutoRecover, Breaker: toBreaker(p.Breaker), Portal: toPortal(p.Portal), TraceHeaders: !p.TraceHeadersOff, CreatedAt: utc(p.CreatedAt), UpdatedAt: utc(p.UpdatedAt)}
}

type projectOutput struct {
	Body projectOut
}

// ProjectRef names a project in a path, by ID or slug.
type ProjectRef struct {
	Project string `path:"project" doc:"Project ID or slug"`
}

// projectRoutes are the operations on projects.
func (s *Server) projectRoutes() []route {
	tags := "Projects"
	return []route{
		{op: also(op("createProject", http.MethodPost, base+"/projects", "Create a project", accessAdmin, http.StatusCreated, tags), http.StatusConflict), handle: handle(s.handleCreateProject)},
		{op: op("listProjects", http.MethodGet, base+"/projects", "List projects", accessAdmin, http.StatusOK, tags), handle: handle(s.handleListProjects)},
		{op: op("getProject", http.MethodGet, base+"/projects/{project}", "Read a project", accessOwner, http.StatusOK, tags), handle: handle(s.handleGetProject)},
		{op: also(op("updateProject", http.MethodPatch, base+"/projects/{project}", "Change a project", accessAdmin, http.StatusOK, tags), http.StatusConflict), handle: handle(s.handleUpdateProject)},
		{op: op("deleteProject", http.MethodDelete, base+"/projects/{project}", "Delete a project and everything in it", accessAdmin, http.StatusNoContent, tags), handle: handle(s.handleDeleteProject)},
	}
}

// handleCreateProject handles createProject: Create a project.
func (s *Server) handleCreateProject(ctx context.Context, in *struct {
	Body struct {
		Name          string       `json:"name" maxLength:"200" doc:"Display name"`
		Slug          string       `json:"slug,omitempty" doc:"Unique lower-case name for URLs; derived from name when absent"`
		RetrySchedule []string     `json:"retrySchedule,omitempty" maxItems:"50" doc:"The project's own retry schedule: waits before each retry, 1s to 168h each; absent or empty for the server's"`
		AutoRecover   *bool        `json:"autoRecover,omitempty" doc:"Whether the project's webhooks that Hookgate disabled are probed and enabled again, unless a webhook says otherwise; absent for the server's (on)"`
		Breaker       *breakerBody `json:"breaker,omitempty" doc:"The project's own circuit breaker settings; a field absent takes the server's"`
		Portal        *portalBody  `json:"portal,omitempty" doc:"The consumer portal's embedding and theme"`
		TraceHeaders  *bool        `json:"traceHeaders,omitempty" doc:"false: the project's receivers get no traceparent or tracestate header (attempts keep their trace IDs); default true"`
	}
}) (*projectOutput, error) {
	slug := in.Body.Slug
	if slug == "" {
		slug = slugify(in.Body.Name)
	}
	if err := hookgate.ValidateName("name", in.Body.Name); err != nil {
		return nil, err
	}
	if err := hookgate.ValidateSlug(slug); err != nil {
		return nil, err
	}
	sched, err := hookgate.ParseRetrySchedule("retrySchedule", in.Body.RetrySchedule)
	if err != nil {
		return nil, err
	}
	br, err := in.Body.Breaker.domain("breaker")
	if err != nil {
		return nil, err
	}
	var portal hookgate.PortalSettings
	if err := in.Body.Portal.apply(&portal); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	p := &hookgate.Project{ID: hookgate.NewID(hookgate.PrefixProject, now), Slug: slug, Name: in.Body.Name, RetrySchedule: sched, AutoRecover: in.Body.AutoRecover, Breaker: br, Portal: portal, CreatedAt: now, UpdatedAt: now}
	if in.Body.TraceHeaders != nil {
		p.TraceHeadersOff = !*in.Body.TraceHeaders
	}
	if err := s.store.CreateProject(ctx, p); err != nil {
		return nil, err
	}
	return &projectOutput{Body: toProject(p)}, nil
}

// handleListProjects handles listProjects: List projects.
func (s *Server) handleListProjects(ctx context.Context, in *struct{ PageParams }) (*listOutput[projectOut], error) {
	list, next, err := s.store.ListProjects(ctx, in.page())
	if err != nil {
		return nil, err
	}
	return listOf(list, next, toProject), nil
}

// handleGetProject handles getProject: Read a project.
func (s *Server) handleGetProject(ctx context.Context, in *ProjectRef) (*projectOutput, error) {
	p, err := s.store.FindProject(ctx, projectID(ctx))
	if err != nil {
		return nil, err
	}
	return &projectOutput{Body: toProject(p)}, nil
}

// handleUpdateProject handles updateProject: Change a project.
func (s *Server) handleUpdateProject(ctx context.Context, in *struct {
	ProjectRef
	Body struct {
		Name          *string     `json:"name,omitempty" maxLength:"200"`
		Slug          *string     `json:"slug,omitempty"`
		RetrySchedule *[]string   `json:"retrySchedule,omitempty" maxItems:"50" doc:"The project's own retry schedule; [] for the server's"`
		AutoRecover   rawJSON     `json:"autoRecover,omitempty" doc:"true or false; null for the server's (on)"`
		Breaker       rawJSON     `json:"breaker,omitempty" doc:"{\"failures\", \"cooldown\"}: a field given changes it, a field null takes the server's again; null clears both"`
		Portal        *portalBody `json:"portal,omitempty" doc:"The consumer portal's embedding and theme: a field given changes it"`
		TraceHeaders  *bool       `json:"traceHeaders,omitempty" doc:"false: the project's receivers get no traceparent or tracestate header"`
	}
}) (*projectOutput, error) {
	p, err := s.store.FindProject(ctx, projectID(ctx))
	if err != nil {
		return nil, err
	}
	if in.Body.Name != nil {
		if err := hookgate.ValidateName("name", *in.Body.Name); err != nil {
			return nil, err
		}
		p.Name = *in.Body.Name
	}
	if in.Body.Slug != nil {
		if err := hookgate.ValidateSlug(*in.Body.Slug); err != nil {
			return nil, err
		}
		p.Slug = *in.Body.Slug
	}
	if in.Body.RetrySchedule != nil {
		if p.RetrySchedule, err = hookgate.ParseRetrySchedule("retrySchedule", *in.Body.RetrySchedule); err != nil {
			return nil, err
		}
	}
	if len(in.Body.AutoRecover) > 0 {
		if p.AutoRecover, err = parseAutoRecover(in.Body.AutoRecover); err != nil {
			return nil, err
		}
	}
	if err := patchBreaker(&p.Breaker, in.Body.Breaker, "breaker"); err != nil {
		return nil, err
	}
	if err := in.Body.Portal.apply(&p.Portal); err != nil {
		return nil, err
	}
	if in.Body.TraceHeaders != nil {
		p.TraceHeadersOff = !*in.Body.TraceHeaders
	}
	p.UpdatedAt = s.now().UTC()
	if err := s.store.UpdateProject(ctx, p); err != nil {
		return nil, err
	}
	s.keys.forget("", p.ID) // cached keys remember the old slug
	return &projectOutput{Body: toProject(p)}, nil
}

// handleDeleteProject handles deleteProject: Delete a project and everything in it.
func (s *Server) handleDeleteProject(ctx context.Context, in *ProjectRef) (*struct{}, error) {
	id := projectID(ctx)
	if err := s.store.DeleteProject(ctx, id); err != nil {
		return nil, err
	}
	s.keys.forget("", id)
	s.schemas.forget(id)
	return nil, nil
}

// slugify derives a slug from a display name.
func slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 63 {
			break
		}
	}
	return strings.TrimRight(b.String(), "-")
}
