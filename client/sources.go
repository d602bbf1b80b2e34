package client

import (
	"context"
	"net/http"
	"time"
)

// SourceConfig is a broker source's configuration: the broker's URL, the
// kind's fields and the credentials. A read answers passwords and tokens
// as ********; sent back so in an update, they keep the stored ones for
// the same URL and username.
type SourceConfig struct {
	URL string `json:"url"`
	// Stream, Group and BodyField configure a redis-stream source: the
	// stream, the consumer group (default hookgate) and the entry's field
	// holding the message (default body; the others are its headers).
	Stream    string           `json:"stream,omitempty"`
	Group     string           `json:"group,omitempty"`
	BodyField string           `json:"bodyField,omitempty"`
	Auth      *DestinationAuth `json:"auth,omitempty"`
}

// SourceEventType says where a message's event type is found: a Header,
// or a JSON Pointer into the body (such as /type); Default when that
// finds none (empty: such a message is rejected).
type SourceEventType struct {
	Header  string `json:"header,omitempty"`
	Pointer string `json:"pointer,omitempty"`
	Default string `json:"default,omitempty"`
}

// SourceCreate adds a broker source; Name, Kind, Config and EventType are
// required.
type SourceCreate struct {
	Name string `json:"name"`
	// Kind is one the server registers: redis-stream, nats, amqp, mqtt.
	Kind      string          `json:"kind"`
	Config    SourceConfig    `json:"config"`
	EventType SourceEventType `json:"eventType"`
}

// SourceUpdate changes a source; nil fields stay. A new Config replaces
// the whole configuration, probed again.
type SourceUpdate struct {
	Name      *string          `json:"name,omitempty"`
	Config    *SourceConfig    `json:"config,omitempty"`
	EventType *SourceEventType `json:"eventType,omitempty"`
}

// SourceState is what the node consuming a source last saved.
type SourceState struct {
	// Node is the node consuming the source; empty when none is.
	Node      string `json:"node"`
	Connected bool   `json:"connected"`
	// Lag is how many messages wait in the broker; nil when unknown.
	Lag           *int64     `json:"lag"`
	Received      int64      `json:"received"`
	Accepted      int64      `json:"accepted"`
	Rejected      int64      `json:"rejected"`
	LastMessageAt *time.Time `json:"lastMessageAt"`
	// LastError is the last failure: the broker's, or a message's with
	// its ID and why.
	LastError   string     `json:"lastError"`
	LastErrorAt *time.Time `json:"lastErrorAt"`
	UpdatedAt   *time.Time `json:"updatedAt"`
}

// Source is a project's broker source: each message it takes becomes an
// event of the project.
type Source struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Kind      string          `json:"kind"`
	Config    SourceConfig    `json:"config"`
	EventType SourceEventType `json:"eventType"`
	// Status is active or deactivated.
	Status    string      `json:"status"`
	State     SourceState `json:"state"`
	CreatedAt time.Time   `json:"createdAt"`
	UpdatedAt time.Time   `json:"updatedAt"`
}

// CreateSource adds a broker source to the project (owner or admin key).
// The server checks the configuration and probes the broker (3 s): an
// error names the field at fault.
func (c *Client) CreateSource(ctx context.Context, project string, in SourceCreate) (*Source, error) {
	var out Source
	return &out, c.do(ctx, request{method: http.MethodPost, path: projectPath(project, "sources"), body: in, want: http.StatusCreated, out: &out})
}

// ListSources lists the project's sources, the newest first.
func (c *Client) ListSources(ctx context.Context, project string, opts *ListOptions) (*Page[Source], error) {
	var out Page[Source]
	return &out, c.do(ctx, request{method: http.MethodGet, path: projectPath(project, "sources"), query: opts.values(), want: http.StatusOK, out: &out})
}

// GetSource reads a source and its state.
func (c *Client) GetSource(ctx context.Context, project, id string) (*Source, error) {
	var out Source
	return &out, c.do(ctx, request{method: http.MethodGet, path: projectPath(project, "sources", id), want: http.StatusOK, out: &out})
}

// UpdateSource changes a source; its consumer starts again.
func (c *Client) UpdateSource(ctx context.Context, project, id string, in SourceUpdate) (*Source, error) {
	var out Source
	return &out, c.do(ctx, request{method: http.MethodPatch, path: projectPath(project, "sources", id), body: in, want: http.StatusOK, out: &out})
}

// DeleteSource deletes a source; its consumer stops.
func (c *Client) DeleteSource(ctx context.Context, project, id string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: projectPath(project, "sources", id), want: http.StatusNoContent})
}

// ActivateSource makes a deactivated source consumed again.
func (c *Client) ActivateSource(ctx context.Context, project, id string) (*Source, error) {
	var out Source
	return &out, c.do(ctx, request{method: http.MethodPost, path: projectPath(project, "sources", id, "activate"), want: http.StatusOK, out: &out})
}

// DeactivateSource stops a source's consumption; its messages wait in
// the broker.
func (c *Client) DeactivateSource(ctx context.Context, project, id string) (*Source, error) {
	var out Source
	return &out, c.do(ctx, request{method: http.MethodPost, path: projectPath(project, "sources", id, "deactivate"), want: http.StatusOK, out: &out})
}
