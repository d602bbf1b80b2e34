package client

import (
	"context"
	"net/http"
)

// CreateProject creates a project (admin key).
func (c *Client) CreateProject(ctx context.Context, in ProjectCreate) (*Project, error) {
	var out Project
	return &out, c.do(ctx, request{method: http.MethodPost, path: pathOf("projects"), body: in, want: http.StatusCreated, out: &out})
}

// ListProjects lists projects (admin key), the newest first.
func (c *Client) ListProjects(ctx context.Context, opts *ListOptions) (*Page[Project], error) {
	var out Page[Project]
	return &out, c.do(ctx, request{method: http.MethodGet, path: pathOf("projects"), query: opts.values(), want: http.StatusOK, out: &out})
}

// GetProject reads a project by ID or slug.
func (c *Client) GetProject(ctx context.Context, project string) (*Project, error) {
	var out Project
	return &out, c.do(ctx, request{method: http.MethodGet, path: projectPath(project), want: http.StatusOK, out: &out})
}

// UpdateProject changes a project (admin key).
func (c *Client) UpdateProject(ctx context.Context, project string, in ProjectUpdate) (*Project, error) {
	var out Project
	return &out, c.do(ctx, request{method: http.MethodPatch, path: projectPath(project), body: in, want: http.StatusOK, out: &out})
}

// DeleteProject deletes a project and everything in it (admin key).
func (c *Client) DeleteProject(ctx context.Context, project string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: projectPath(project), want: http.StatusNoContent})
}

// CreateKey creates a project key; the answer's Key is the only time the
// secret is shown.
func (c *Client) CreateKey(ctx context.Context, project string, in KeyCreate) (*Key, error) {
	var out Key
	return &out, c.do(ctx, request{method: http.MethodPost, path: projectPath(project, "keys"), body: in, want: http.StatusCreated, out: &out})
}

// ListKeys lists a project's keys, without their secrets.
func (c *Client) ListKeys(ctx context.Context, project string, opts *ListOptions) (*Page[Key], error) {
	var out Page[Key]
	return &out, c.do(ctx, request{method: http.MethodGet, path: projectPath(project, "keys"), query: opts.values(), want: http.StatusOK, out: &out})
}

// DeleteKey revokes a project key.
func (c *Client) DeleteKey(ctx context.Context, project, id string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: projectPath(project, "keys", id), want: http.StatusNoContent})
}
