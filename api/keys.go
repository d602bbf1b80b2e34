package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/hookgate/hookgate"
)

type keyOut struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      string    `json:"role" enum:"owner,publisher"`
	Key       string    `json:"key,omitempty" doc:"The key itself; shown only in the answer to its creation"`
	CreatedAt time.Time `json:"createdAt"`
}

func toKey(k *hookgate.APIKey) keyOut {
	return keyOut{ID: k.ID, Name: k.Name, Role: string(k.Role), CreatedAt: utc(k.CreatedAt)}
}

// keyRoutes are the operations on a project's API keys.
func (s *Server) keyRoutes() []route {
	tags := "Keys"
	return []route{
		{op: op("createKey", http.MethodPost, base+"/projects/{project}/keys", "Create a project key", accessOwner, http.StatusCreated, tags), handle: handle(s.handleCreateKey)},
		{op: op("listKeys", http.MethodGet, base+"/projects/{project}/keys", "List project keys", accessOwner, http.StatusOK, tags), handle: handle(s.handleListKeys)},
		{op: op("deleteKey", http.MethodDelete, base+"/projects/{project}/keys/{id}", "Revoke a project key", accessOwner, http.StatusNoContent, tags), handle: handle(s.handleDeleteKey)},
	}
}

// handleCreateKey handles createKey: Create a project key.
func (s *Server) handleCreateKey(ctx context.Context, in *struct {
	ProjectRef
	Body struct {
		Name string `json:"name" maxLength:"200"`
		Role string `json:"role" enum:"owner,publisher" doc:"owner: everything in the project; publisher: send events and trigger webhooks only"`
	}
}) (*struct{ Body keyOut }, error) {
	if err := hookgate.ValidateName("name", in.Body.Name); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	id, token, hash := newKeyToken(now)
	k := &hookgate.APIKey{ID: id, ProjectID: projectID(ctx), Name: in.Body.Name, Role: hookgate.Role(in.Body.Role), Hash: hash, CreatedAt: now}
	if err := s.store.CreateAPIKey(ctx, k); err != nil {
		return nil, err
	}
	out := toKey(k)
	out.Key = token
	return &struct{ Body keyOut }{Body: out}, nil
}

// handleListKeys handles listKeys: List project keys.
func (s *Server) handleListKeys(ctx context.Context, in *struct {
	ProjectRef
	PageParams
}) (*listOutput[keyOut], error) {
	list, next, err := s.store.ListAPIKeys(ctx, projectID(ctx), in.page())
	if err != nil {
		return nil, err
	}
	return listOf(list, next, toKey), nil
}

// handleDeleteKey handles deleteKey: Revoke a project key.
func (s *Server) handleDeleteKey(ctx context.Context, in *struct {
	ProjectRef
	ID string `path:"id"`
}) (*struct{}, error) {
	if err := s.store.DeleteAPIKey(ctx, projectID(ctx), in.ID); err != nil {
		if hookgate.ErrorCode(err) == hookgate.ENotFound {
			// A revoked key is deleted: the store cannot tell one
			// revoked before from one that never was, so say both.
			return nil, &hookgate.Error{Code: hookgate.ENotFound, Param: "id", Value: in.ID,
				Message: fmt.Sprintf("key not found: %s is no key of this project; it was revoked already, or never existed", in.ID)}
		}
		return nil, err
	}
	s.keys.forget(in.ID, "")
	return nil, nil
}
