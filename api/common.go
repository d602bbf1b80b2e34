package api

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/hookgate/hookgate"
)

// PageParams are the query parameters of every list.
type PageParams struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"250" default:"50" doc:"Page size"`
	Cursor string `query:"cursor" maxLength:"128" pattern:"^[A-Za-z0-9_.\\-]*$" doc:"nextCursor of the previous page"`
}

func (p PageParams) page() hookgate.Page { return hookgate.Page{Limit: p.Limit, Cursor: p.Cursor} }

// listBody is the shape of every list: newest first, nextCursor null on the
// last page.
type listBody[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"nextCursor"`
}

type listOutput[T any] struct {
	Body listBody[T]
}

// listOf converts a page of domain values.
func listOf[D, T any](items []D, next string, conv func(D) T) *listOutput[T] {
	out := &listOutput[T]{Body: listBody[T]{Data: make([]T, len(items))}}
	for i, it := range items {
		out.Body.Data[i] = conv(it)
	}
	if next != "" {
		out.Body.NextCursor = &next
	}
	return out
}

// rawJSON holds a JSON value as it was sent, so that event data is stored
// byte for byte. Its schema accepts any JSON value.
type rawJSON json.RawMessage

// MarshalJSON implements json.Marshaler.
func (r rawJSON) MarshalJSON() ([]byte, error) {
	if len(r) == 0 {
		return []byte("null"), nil
	}
	return r, nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *rawJSON) UnmarshalJSON(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}

// Schema implements huma.SchemaProvider: any JSON value.
func (rawJSON) Schema(huma.Registry) *huma.Schema { return &huma.Schema{} }

// isNull reports whether the value is absent or JSON null.
func (r rawJSON) isNull() bool { return len(r) == 0 || string(r) == "null" }

// utc drops the monotonic clock reading and the zone, for stable JSON.
func utc(t time.Time) time.Time { return t.UTC().Round(0) }

// emptyIfNil keeps lists and maps from encoding as null.
func emptyIfNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func emptyMapIfNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// rejectUnknownQuery is huma middleware, after authenticate: a query
// parameter the operation does not declare is a 400 naming it, so that a
// misspelt filter (webhookID for webhook) never silently lists everything.
func (s *Server) rejectUnknownQuery(ctx huma.Context, next func(huma.Context)) {
	u := ctx.URL()
	if u.RawQuery == "" {
		next(ctx)
		return
	}
	op := ctx.Operation()
	known := queryNames(op)
	for name, vals := range u.Query() {
		if known[name] {
			continue
		}
		names := make([]string, 0, len(known))
		for n := range known {
			names = append(names, n)
		}
		sort.Strings(names)
		list := "none"
		if len(names) > 0 {
			list = strings.Join(names, ", ")
		}
		var v any
		if len(vals) > 0 {
			v = vals[0]
		}
		_ = huma.WriteErr(s.api, ctx, http.StatusBadRequest, "unknown query parameter",
			&huma.ErrorDetail{Location: "query." + name, Message: "unknown query parameter; this operation takes: " + list, Value: v})
		return
	}
	next(ctx)
}

var queryNameCache sync.Map // *huma.Operation -> map[string]bool

func queryNames(op *huma.Operation) map[string]bool {
	if m, ok := queryNameCache.Load(op); ok {
		return m.(map[string]bool)
	}
	m := map[string]bool{}
	for _, p := range op.Parameters {
		if p.In == "query" {
			m[p.Name] = true
		}
	}
	queryNameCache.Store(op, m)
	return m
}
