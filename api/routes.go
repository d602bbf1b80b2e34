package api

import (
	"context"
	"slices"

	"github.com/danielgtaylor/huma/v2"

	"github.com/hookgate/hookgate"
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

// portalNever marks, in portalAccess, an operation no portal session may
// call.
const portalNever = ""

// portalAccess decides, for every operation, the capability a consumer
// portal session needs to call it, or portalNever. A portal session acts in
// its own project only, and any operation it may not call answers 404, as a
// route that does not exist. An operation without an entry is refused too;
// TestEveryOperationHasAPortalDecision fails until it has one.
var portalAccess = map[string]string{
	"listWebhooks":      hookgate.CapWebhooks,
	"getWebhook":        hookgate.CapWebhooks,
	"createWebhook":     hookgate.CapWebhooks,
	"updateWebhook":     hookgate.CapWebhooks,
	"deleteWebhook":     hookgate.CapWebhooks,
	"activateWebhook":   hookgate.CapWebhooks,
	"deactivateWebhook": hookgate.CapWebhooks,
	"testWebhook":       hookgate.CapWebhooks,
	// Who may write a webhook may try its expressions (on an event given
	// in full: the portal sees no events).
	"testWebhookExpression": hookgate.CapWebhooks,
	"recoverWebhook":        hookgate.CapWebhooks,
	"getWebhookStats":       hookgate.CapWebhooks,

	"listDeliveries": hookgate.CapDeliveries,
	"getDelivery":    hookgate.CapDeliveries,
	"listAttempts":   hookgate.CapDeliveries,
	"retryDelivery":  hookgate.CapDeliveries,

	"getWebhookSecret":    hookgate.CapSecrets,
	"rotateWebhookSecret": hookgate.CapSecrets,

	"listEventTypes": hookgate.CapEventTypes,
	"getEventType":   hookgate.CapEventTypes,

	// The producer's side: its projects, keys, catalog, events, triggers,
	// redrives, platforms, messages, portal links and broker sources.
	"createProject": portalNever, "listProjects": portalNever, "getProject": portalNever,
	"updateProject": portalNever, "deleteProject": portalNever, "getProjectStats": portalNever,
	"createKey": portalNever, "listKeys": portalNever, "deleteKey": portalNever,
	"createEventType": portalNever, "updateEventType": portalNever, "deleteEventType": portalNever,
	"sendEvent": portalNever, "sendEvents": portalNever, "listEvents": portalNever, "getEvent": portalNever,
	"listEventDeliveries": portalNever, "triggerWebhook": portalNever,
	"redriveDeliveries": portalNever, "getRedrive": portalNever,
	"createPlatform": portalNever, "listPlatforms": portalNever, "getPlatform": portalNever,
	"updatePlatform": portalNever, "deletePlatform": portalNever, "platformWebhookStatus": portalNever,
	"registerPlatformWebhook": portalNever, "unregisterPlatformWebhook": portalNever,
	"sendMessage": portalNever, "listMessages": portalNever,
	"createPortalLink": portalNever, "listPortalLinks": portalNever, "revokePortalLink": portalNever,
	"createSource": portalNever, "listSources": portalNever, "getSource": portalNever, "updateSource": portalNever,
	"deleteSource": portalNever, "activateSource": portalNever, "deactivateSource": portalNever,
}

// portalAllows reports whether a portal session with caps may call the
// operation operationID.
func portalAllows(operationID string, caps []string) bool {
	need, ok := portalAccess[operationID]
	return ok && need != portalNever && slices.Contains(caps, need)
}
