package api

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/hookgate/hookgate"
)

// SourceProbeTimeout bounds the probe of a source's broker at
// registration and when its configuration changes.
const SourceProbeTimeout = 3 * time.Second

// MaxSourceNameLength bounds a source's name, in bytes.
const MaxSourceNameLength = 256

type sourceEventTypeIn struct {
	Header  string `json:"header,omitempty" maxLength:"256" doc:"The header (message header, AMQP property, MQTT 5 user property, Redis stream field) that holds the event type"`
	Pointer string `json:"pointer,omitempty" maxLength:"256" doc:"A JSON Pointer (RFC 6901) to the string in the body that is the event type, such as /type"`
	Default string `json:"default,omitempty" maxLength:"256" doc:"The event type of a message where the header or pointer finds none; without it such a message is rejected"`
}

type sourceIn struct {
	Name      string            `json:"name" maxLength:"256" doc:"The source's label"`
	Kind      string            `json:"kind" doc:"The broker's kind, one the server registers: redis-stream, nats, amqp, mqtt"`
	Config    rawJSON           `json:"config" doc:"The broker's url, the kind's fields (stream, group…) and auth ({username, password} or {token})"`
	EventType sourceEventTypeIn `json:"eventType" doc:"Where a message's event type is found"`
}

type sourcePatch struct {
	Name      *string            `json:"name,omitempty" maxLength:"256"`
	Config    rawJSON            `json:"config,omitempty" doc:"The whole configuration again; a password or token of ******** keeps the stored one for the same url and username"`
	EventType *sourceEventTypeIn `json:"eventType,omitempty"`
}

type sourceStateOut struct {
	Node          string     `json:"node" doc:"The node consuming the source; empty when none is"`
	Connected     bool       `json:"connected"`
	Lag           *int64     `json:"lag" doc:"Messages waiting in the broker, where it tells; null when unknown"`
	Received      int64      `json:"received" doc:"Messages taken since the consumer started"`
	Accepted      int64      `json:"accepted" doc:"Messages that became events, or were already by their ID"`
	Rejected      int64      `json:"rejected" doc:"Messages that cannot become events (not JSON, no type, refused by the type's schema)"`
	LastMessageAt *time.Time `json:"lastMessageAt"`
	LastError     string     `json:"lastError" doc:"The last failure: the broker's, or a message's, with its ID and why"`
	LastErrorAt   *time.Time `json:"lastErrorAt"`
	UpdatedAt     *time.Time `json:"updatedAt" doc:"When a node last saved this state"`
}

type sourceOut struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Kind      string            `json:"kind"`
	Config    map[string]any    `json:"config" doc:"Passwords and tokens read ********"`
	EventType sourceEventTypeIn `json:"eventType"`
	Status    string            `json:"status" doc:"active or deactivated"`
	State     sourceStateOut    `json:"state"`
	CreatedAt time.Time         `json:"createdAt"`
	UpdatedAt time.Time         `json:"updatedAt"`
}

// SourceRef names a source in a path.
type SourceRef struct {
	ProjectRef
	ID string `path:"id" maxLength:"64" doc:"Source ID"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := utc(t)
	return &u
}

// toSource renders src; a lease that ran out shows no node and no
// connection, whatever the node that held it last saved.
func (s *Server) toSource(src *hookgate.Source) sourceOut {
	st := src.State
	out := sourceOut{ID: src.ID, Name: src.Name, Kind: src.Kind, Config: toBrokerConfig(src.Config, false),
		EventType: sourceEventTypeIn(src.EventType), Status: src.Status, CreatedAt: utc(src.CreatedAt), UpdatedAt: utc(src.UpdatedAt),
		State: sourceStateOut{Node: st.Node, Connected: st.Connected, Received: st.Received, Accepted: st.Accepted, Rejected: st.Rejected,
			LastMessageAt: optTime(st.LastMessageAt), LastError: st.LastError, LastErrorAt: optTime(st.LastErrorAt), UpdatedAt: optTime(st.UpdatedAt)}}
	if src.LeaseNode == "" || !src.LeaseUntil.After(s.now()) {
		out.State.Node, out.State.Connected = "", false
	}
	if st.Lag >= 0 && out.State.Connected {
		lag := st.Lag
		out.State.Lag = &lag
	}
	return out
}

// sourceKind returns the registered source kind named name, or an error
// on kind naming those there are.
func (s *Server) sourceKind(name string) (hookgate.DestinationKind, error) {
	var names []string
	if s.cfg.Sources != nil {
		for _, k := range s.cfg.Sources.Kinds() {
			if k.Name == name {
				return k, nil
			}
			names = append(names, k.Name)
		}
	}
	if len(names) == 0 {
		return hookgate.DestinationKind{}, hookgate.InvalidParam("kind", name, "this server registers no source kind")
	}
	if name == "" {
		return hookgate.DestinationKind{}, hookgate.MissingParam("kind")
	}
	return hookgate.DestinationKind{}, hookgate.InvalidParam("kind", name, "kind must be one of %s, not %q", strings.Join(names, ", "), name)
}

// parseSourceConfig reads raw, a source's config object, against its
// kind: every field must be one the kind names (url, auth and tls for
// every kind); errors name config.<field>. tlsSent says whether it named
// tls.
func parseSourceConfig(k hookgate.DestinationKind, raw rawJSON) (hookgate.DestinationConfig, bool, error) {
	if raw.isNull() {
		return hookgate.DestinationConfig{}, false, hookgate.MissingParam("config")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return hookgate.DestinationConfig{}, false, hookgate.InvalidParam("config", nil, `config must be an object such as {"url": "redis://host:6379/0", "stream": "events"}`)
	}
	return brokerConfig("config", "a source", k, fields)
}

// checkSource checks src: its name, its event type, its configuration by
// its kind's driver, its broker's address against the network policy
// and, when probe is set, the broker itself.
func (s *Server) checkSource(ctx context.Context, src *hookgate.Source, probe bool) error {
	if strings.TrimSpace(src.Name) == "" {
		return hookgate.MissingParam("name")
	}
	if len(src.Name) > MaxSourceNameLength || strings.ContainsAny(src.Name, "\x00\r\n") {
		return hookgate.InvalidParam("name", src.Name, "name is at most %d bytes on one line", MaxSourceNameLength)
	}
	if err := src.EventType.Check(); err != nil {
		return err
	}
	if err := src.Config.TLS.CheckAt(s.now(), "config.tls"); err != nil {
		return err
	}
	if s.cfg.Sources == nil {
		return hookgate.InvalidParam("kind", src.Kind, "this server registers no source kind")
	}
	d, err := s.cfg.Sources.For(src)
	if err != nil {
		return err
	}
	if err := d.Check(src); err != nil {
		return err
	}
	if err := s.checkNetwork("config.url", src.Config.URL); err != nil {
		return err
	}
	if !probe {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, SourceProbeTimeout)
	defer cancel()
	return d.Probe(ctx, src)
}

// sourceRoutes are the operations on a project's broker sources.
func (s *Server) sourceRoutes() []route {
	tags := "Sources"
	path := base + "/projects/{project}/sources"
	create := op("createSource", http.MethodPost, path, "Add a broker source: its messages become events of the project", accessOwner, http.StatusCreated, tags)
	create.Description = "The configuration is checked by the kind, the broker's address by the network policy, and the broker " +
		"is probed (3 s): a broker that does not answer, or refuses what the source names, is refused naming the field. " +
		"A node of the server then consumes it (docs/sources.md)."
	return []route{
		{op: create, handle: handle(s.handleCreateSource)},
		{op: op("listSources", http.MethodGet, path, "List the project's sources, newest first", accessOwner, http.StatusOK, tags), handle: handle(s.handleListSources)},
		{op: op("getSource", http.MethodGet, path+"/{id}", "Read a source and its state", accessOwner, http.StatusOK, tags), handle: handle(s.handleGetSource)},
		{op: op("updateSource", http.MethodPatch, path+"/{id}", "Change a source; a new configuration is probed, and its consumer starts again", accessOwner, http.StatusOK, tags), handle: handle(s.handleUpdateSource)},
		{op: op("deleteSource", http.MethodDelete, path+"/{id}", "Delete a source; its consumer stops", accessOwner, http.StatusNoContent, tags), handle: handle(s.handleDeleteSource)},
		{op: op("deactivateSource", http.MethodPost, path+"/{id}/deactivate", "Deactivate a source; no node consumes it", accessOwner, http.StatusOK, tags), handle: handle(s.handleDeactivateSource)},
		{op: op("activateSource", http.MethodPost, path+"/{id}/activate", "Activate a source; a node consumes it again", accessOwner, http.StatusOK, tags), handle: handle(s.handleActivateSource)},
	}
}

type sourceOutput struct{ Body sourceOut }

// handleCreateSource handles createSource: Add a broker source: its messages become events of the project.
func (s *Server) handleCreateSource(ctx context.Context, in *struct {
	ProjectRef
	Body sourceIn
}) (*sourceOutput, error) {
	k, err := s.sourceKind(in.Body.Kind)
	if err != nil {
		return nil, err
	}
	config, _, err := parseSourceConfig(k, in.Body.Config)
	if err != nil {
		return nil, err
	}
	now := s.now()
	src := &hookgate.Source{ID: hookgate.NewID(hookgate.PrefixSource, now), ProjectID: projectID(ctx), Name: in.Body.Name, Kind: k.Name,
		Config: config, EventType: hookgate.SourceEventType(in.Body.EventType), Status: hookgate.SourceActive, CreatedAt: now, UpdatedAt: now}
	src.State.Lag = -1
	if err := s.checkSource(ctx, src, true); err != nil {
		return nil, err
	}
	if err := s.store.CreateSource(ctx, src); err != nil {
		return nil, err
	}
	s.sourcesChanged()
	return &sourceOutput{Body: s.toSource(src)}, nil
}

// handleListSources handles listSources: List the project's sources, newest first.
func (s *Server) handleListSources(ctx context.Context, in *struct {
	ProjectRef
	PageParams
}) (*listOutput[sourceOut], error) {
	list, next, err := s.store.ListSources(ctx, projectID(ctx), in.page())
	if err != nil {
		return nil, err
	}
	return listOf(list, next, s.toSource), nil
}

// handleGetSource handles getSource: Read a source and its state.
func (s *Server) handleGetSource(ctx context.Context, in *SourceRef) (*sourceOutput, error) {
	src, err := s.findSource(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &sourceOutput{Body: s.toSource(src)}, nil
}

// findSource finds a source of the caller's project; a 404 names id.
func (s *Server) findSource(ctx context.Context, id string) (*hookgate.Source, error) {
	src, err := s.store.FindSource(ctx, projectID(ctx), id)
	if hookgate.ErrorCode(err) == hookgate.ENotFound {
		return nil, &hookgate.Error{Code: hookgate.ENotFound, Param: "id", Value: id, Message: "source not found: " + id + " is no source of this project"}
	}
	return src, err
}

// handleUpdateSource handles updateSource: Change a source; a new configuration is probed, and its consumer starts again.
func (s *Server) handleUpdateSource(ctx context.Context, in *struct {
	SourceRef
	Body sourcePatch
}) (*sourceOutput, error) {
	src, err := s.findSource(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	before := *src
	if in.Body.Name != nil {
		src.Name = *in.Body.Name
	}
	if in.Body.EventType != nil {
		src.EventType = hookgate.SourceEventType(*in.Body.EventType)
	}
	if !in.Body.Config.isNull() {
		k, err := s.sourceKind(src.Kind)
		if err != nil {
			return nil, err
		}
		config, tlsSent, err := parseSourceConfig(k, in.Body.Config)
		if err != nil {
			return nil, err
		}
		if err := keepBrokerSecrets("config", &config, before.Config, tlsSent); err != nil {
			return nil, err
		}
		src.Config = config
	}
	if err := s.checkSource(ctx, src, !reflect.DeepEqual(before.Config, src.Config)); err != nil {
		return nil, err
	}
	src.UpdatedAt = s.now()
	if err := s.store.UpdateSource(ctx, src); err != nil {
		return nil, err
	}
	s.sourcesChanged()
	return &sourceOutput{Body: s.toSource(src)}, nil
}

// handleDeleteSource handles deleteSource: Delete a source; its consumer stops.
func (s *Server) handleDeleteSource(ctx context.Context, in *SourceRef) (*struct{}, error) {
	if _, err := s.findSource(ctx, in.ID); err != nil {
		return nil, err
	}
	if err := s.store.DeleteSource(ctx, projectID(ctx), in.ID); err != nil {
		return nil, err
	}
	s.sourcesChanged()
	return nil, nil
}

// sourcesChanged tells this node's runner that a source changed.
func (s *Server) sourcesChanged() {
	if s.cfg.OnSources != nil {
		s.cfg.OnSources()
	}
}

// handleDeactivateSource handles deactivateSource: Deactivate a source; no node consumes it.
func (s *Server) handleDeactivateSource(ctx context.Context, in *SourceRef) (*sourceOutput, error) {
	return s.setSourceStatus(ctx, in.ID, hookgate.SourceDeactivated)
}

// handleActivateSource handles activateSource: Activate a source; a node consumes it again.
func (s *Server) handleActivateSource(ctx context.Context, in *SourceRef) (*sourceOutput, error) {
	return s.setSourceStatus(ctx, in.ID, hookgate.SourceActive)
}

func (s *Server) setSourceStatus(ctx context.Context, id, status string) (*sourceOutput, error) {
	src, err := s.findSource(ctx, id)
	if err != nil {
		return nil, err
	}
	if src.Status != status {
		src.Status, src.UpdatedAt = status, s.now()
		if err := s.store.UpdateSource(ctx, src); err != nil {
			return nil, err
		}
		s.sourcesChanged()
	}
	return &sourceOutput{Body: s.toSource(src)}, nil
}
