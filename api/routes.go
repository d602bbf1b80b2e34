package api

import (
	"context"

	"github.com/danielgtaylor/huma/v2"
)

// route is one operation of the API and the method that handles it. Each
// group of operations lists its routes in one table (platformRoutes, …),
// and New registers the tables in order: an operation is found by its
// operationId, as the method handle<OperationId>.
type route struct {
	op huma.Operation
	// handle registers op with its method; see handle.
	handle func(huma.API, huma.Operation)
	// after, when set, amends the operation's entry in the OpenAPI
	// document once it is registered (a second success status, say).
	after func()
}

// handle makes a route's registration of a handler method, whose input
// and output types huma reads for validation and the document.
func handle[I, O any](h func(context.Context, *I) (*O, error)) func(huma.API, huma.Operation) {
	return func(api huma.API, op huma.Operation) { huma.Register(api, op, h) }
}

// register registers each route of a table, in order.
func (s *Server) register(routes []route) {
	for _, r := range routes {
		r.handle(s.api, r.op)
		if r.after != nil {
			r.after()
		}
	}
}
