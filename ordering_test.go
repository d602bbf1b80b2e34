package hookgate_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
)

func TestOrderingKeyOf(t *testing.T) {
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	data := json.RawMessage(`{"customerId":"c_1","n":42,"obj":{"b":1, "a":[1, 2]},"list":["x","y"],"a/b":"slash","t~":"tilde","long":"` + strings.Repeat("z", 201) + `"}`)
	for _, c := range []struct{ pointer, want string }{
		{"", ""},
		{"/data/customerId", "c_1"},
		{"/data/n", "42"},
		{"/data/obj", `{"b":1,"a":[1,2]}`},
		{"/data/list/1", "y"},
		{"/data/list/01", ""},
		{"/data/list/2", ""},
		{"/data/a~1b", "slash"},
		{"/data/t~0", "tilde"},
		{"/data/missing", ""},
		{"/data/customerId/deeper", ""},
		{"/type", "order.paid"},
		{"/timestamp", "2026-12-06T10:00:00Z"},
		{"/other", ""},
		{"/data/long", "sha256:"},
	} {
		got := hookgate.OrderingKeyOf(c.pointer, "order.paid", at, data)
		if c.want == "sha256:" {
			if !strings.HasPrefix(got, "sha256:") || len(got) != 7+64 {
				t.Errorf("%s: key %q, want the digest of a long value", c.pointer, got)
			}
			continue
		}
		if got != c.want {
			t.Errorf("%s: key %q, want %q", c.pointer, got, c.want)
		}
	}
}
