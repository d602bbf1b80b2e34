package api_test

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/internal/testwait"
)

// Issue 30, item 3: each attempt names the node that made it, a delivery's
// (the dispatcher's) and a trigger's (the API's, the same node) alike.
func TestAttemptsNameTheirNode(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setupDelivering(t, engine)
		_, owner, pub := e.project("nodes")
		recv, got := receiver(t, func(rw http.ResponseWriter, _ *http.Request) { rw.WriteHeader(204) })
		wh := e.webhook("nodes", owner, map[string]any{"url": recv.URL})
		ev := e.req("POST", "/api/v1/projects/nodes/events", pub, map[string]any{"type": "t", "data": 1}).must(t, 202)
		testwait.For(t, "the delivery", func() bool { return len(got()) == 1 })
		dls := e.req("GET", "/api/v1/projects/nodes/events/"+ev.str("id")+"/deliveries", owner, nil).must(t, 200).items(t)
		if len(dls) != 1 {
			t.Fatalf("%d deliveries", len(dls))
		}
		var node string
		testwait.For(t, "the attempt recorded", func() bool {
			as := e.req("GET", "/api/v1/projects/nodes/deliveries/"+dls[0]["id"].(string)+"/attempts", owner, nil).must(t, 200).items(t)
			if len(as) == 1 {
				node, _ = as[0]["node"].(string)
			}
			return len(as) == 1
		})
		host, _ := os.Hostname()
		if node == "" || !strings.HasPrefix(node, host) {
			t.Fatalf("the attempt's node = %q; want this node's name, beginning with %q", node, host)
		}
		ref := e.trigger("nodes", wh.str("id"), owner, map[string]any{"data": map[string]any{}}).must(t, 200).str("referenceId")
		as := e.req("GET", "/api/v1/projects/nodes/deliveries/"+ref+"/attempts", owner, nil).must(t, 200).items(t)
		if len(as) != 1 || as[0]["node"] != node {
			t.Fatalf("the trigger's attempts = %v; want one made by %q", as, node)
		}
	})
}
