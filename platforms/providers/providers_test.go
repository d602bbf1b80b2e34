package providers_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/platforms"
	"github.com/hookgate/hookgate/platforms/providers"
)

// Issue 23, step 2: what a provider's Info says of its fields is what its
// own Redact does: every field it marks secret is masked, every other
// field it lists is kept, so that the metadata the API, the CLI and the
// docs read cannot drift from what answers show.
func TestInfoMatchesRedaction(t *testing.T) {
	r := providers.All()
	if len(r.Names()) != 5 {
		t.Fatalf("providers %v", r.Names())
	}
	for _, name := range r.Names() {
		p, _ := r.Get(name)
		info := p.Info()
		if info.Title == "" || len(info.Fields) == 0 || !info.Can(platforms.CanNormalize) {
			t.Errorf("%s: incomplete info %+v", name, info)
		}
		in := sample(info.Fields, "")
		raw, _ := json.Marshal(in)
		var out map[string]any
		if err := json.Unmarshal(platforms.Redact(p, raw), &out); err != nil {
			t.Fatal(err)
		}
		check(t, name, info.Fields, in, out, "")
	}
}

// sample gives each field a distinct value, an object for nested fields.
func sample(fields []platforms.Field, prefix string) map[string]any {
	m := map[string]any{}
	for _, f := range fields {
		if len(f.Fields) > 0 {
			m[f.Name] = sample(f.Fields, prefix+f.Name+".")
			continue
		}
		m[f.Name] = "value-of-" + strings.ReplaceAll(prefix+f.Name, ".", "-")
	}
	return m
}

func check(t *testing.T, provider string, fields []platforms.Field, in, out map[string]any, prefix string) {
	t.Helper()
	for _, f := range fields {
		got, want := out[f.Name], in[f.Name]
		switch {
		case f.Secret && got != platforms.Redacted:
			t.Errorf("%s: secret %s%s answered as %v", provider, prefix, f.Name, got)
		case len(f.Fields) > 0:
			sub, _ := got.(map[string]any)
			check(t, provider, f.Fields, want.(map[string]any), sub, prefix+f.Name+".")
		case !f.Secret && got != want:
			t.Errorf("%s: %s%s answered as %v, want it kept (%v)", provider, prefix, f.Name, got, want)
		}
	}
}
