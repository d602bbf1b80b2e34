package platforms_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/hookgate/hookgate/platforms"
	"github.com/hookgate/hookgate/platforms/generic"
	"github.com/hookgate/hookgate/platforms/telegram"
)

// Issue 23, step 2: the registry keeps the order of registration and
// refuses a name twice.
func TestRegistryKeepsOrderAndRefusesDuplicates(t *testing.T) {
	var r platforms.Registry
	r.Register(telegram.New())
	r.Register(generic.New())
	if got := r.Names(); !slices.Equal(got, []string{"telegram", "generic"}) {
		t.Fatalf("names %v", got)
	}
	if p, ok := r.Get("generic"); !ok || p.Name() != "generic" {
		t.Fatal("generic not found")
	}
	if _, ok := r.Get("nope"); ok {
		t.Fatal("an unregistered name was found")
	}
	var none *platforms.Registry
	if _, ok := none.Get("telegram"); ok || none.Names() != nil {
		t.Fatal("a nil registry holds something")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a second telegram was registered")
		}
	}()
	r.Register(telegram.New())
}

// metaOnly is a provider that redacts by its Info alone.
type metaOnly struct{ platforms.Provider }

func (metaOnly) Info() platforms.Info {
	return platforms.Info{Fields: []platforms.Field{{Name: "id"}, {Name: "token", Secret: true},
		{Name: "auth", Fields: []platforms.Field{{Name: "user"}, {Name: "pass", Secret: true}}}}}
}

func TestRedactByInfo(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"id":"a1","token":"s3cret","auth":{"user":"u","pass":"p"}}`, `{"auth":{"pass":"********","user":"u"},"id":"a1","token":"********"}`},
		// A field Info does not list is not shown: it cannot be told safe.
		{`{"id":"a1","other":"x"}`, `{"id":"a1"}`},
		{`{"auth":null}`, `{}`},
		{`{"auth":"flat"}`, `{"auth":{}}`},
		{`[1]`, `{}`},
		{`{"id":`, `{}`},
	} {
		if got := platforms.Redact(metaOnly{}, json.RawMessage(tc.in)); string(got) != tc.want {
			t.Errorf("Redact(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
