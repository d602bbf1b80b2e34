package platforms

import (
	"encoding/json"
	"fmt"
	"slices"
)

// Info is what a provider says about itself when it registers: the
// credential fields it reads, which of them are secret, and what it can
// do. The API, the CLI, the dashboard and the docs read it instead of
// repeating provider names.
type Info struct {
	// Title is the provider's name for people, such as "Telegram".
	Title string
	// Fields are the fields of its credentials object.
	Fields []Field
	// Capabilities are the operations it offers; an operation not listed
	// answers ErrUnsupported (or, for register, registers nothing and
	// gives instructions).
	Capabilities []Capability
}

// Field is one field of a provider's credentials object.
type Field struct {
	// Name is the field's JSON name, such as "botToken".
	Name string
	// Secret fields are answered as Redacted, never echoed.
	Secret bool
	// Fields are the fields of an object-valued field (a generic source's
	// verification); its secrets are redacted too.
	Fields []Field
}

// Capability is an operation a provider may offer.
type Capability string

// Capabilities.
const (
	// CanRegister: the provider takes the inbound URL through its API.
	CanRegister Capability = "register"
	// CanUnregister: the provider withdraws it through its API.
	CanUnregister Capability = "unregister"
	// CanStatus: the provider tells what it has registered.
	CanStatus Capability = "status"
	// CanSend: the provider sends messages.
	CanSend Capability = "send"
	// CanNormalize: the provider's posts become message events (every
	// provider's posts become at least platform.event).
	CanNormalize Capability = "normalize"
)

// Can says whether the provider offers c.
func (i Info) Can(c Capability) bool { return slices.Contains(i.Capabilities, c) }

// Redactor is implemented by providers that redact their credentials
// themselves; Redact uses the provider's Info for the others.
type Redactor interface {
	// Redact returns creds for an answer: every secret value replaced by
	// Redacted, identifiers kept.
	Redact(creds json.RawMessage) json.RawMessage
}

// Redact returns a platform's credentials for an answer: by the
// provider's own Redact when it has one, else with every field its Info
// marks secret replaced by Redacted. Fields Info does not list are left
// out, and credentials that cannot be read become {}: what cannot be
// sorted into secrets and identifiers is not shown.
func Redact(p Provider, creds json.RawMessage) json.RawMessage {
	if r, ok := p.(Redactor); ok {
		return r.Redact(creds)
	}
	return redactFields(creds, p.Info().Fields)
}

func redactFields(creds json.RawMessage, fields []Field) json.RawMessage {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(creds, &m); err != nil || m == nil {
		return json.RawMessage("{}")
	}
	out := make(map[string]json.RawMessage, len(fields))
	for _, f := range fields {
		v, ok := m[f.Name]
		switch {
		case !ok:
		case f.Secret:
			out[f.Name] = json.RawMessage(`"` + Redacted + `"`)
		case len(f.Fields) > 0:
			if string(v) != "null" {
				out[f.Name] = redactFields(v, f.Fields)
			}
		default:
			out[f.Name] = v
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return json.RawMessage("{}")
	}
	return b
}

// Registry holds the providers a server knows, in the order they were
// registered. A new provider is a package under platforms/ and one
// Register call (platforms/providers registers those Hookgate ships). A
// nil *Registry holds none.
type Registry struct {
	byName map[string]Provider
	names  []string
}

// Register adds p under its name; a provider with no name, or a second
// one of the same name, is a programming error and panics.
func (r *Registry) Register(p Provider) {
	n := p.Name()
	if n == "" {
		panic("platforms: a provider with no name")
	}
	if _, dup := r.byName[n]; dup {
		panic(fmt.Sprintf("platforms: provider %q registered twice", n))
	}
	if r.byName == nil {
		r.byName = map[string]Provider{}
	}
	r.byName[n] = p
	r.names = append(r.names, n)
}

// Get returns the provider of name.
func (r *Registry) Get(name string) (Provider, bool) {
	if r == nil {
		return nil, false
	}
	p, ok := r.byName[name]
	return p, ok
}

// Names returns the providers' names in the order they were registered.
func (r *Registry) Names() []string {
	if r == nil {
		return nil
	}
	return slices.Clone(r.names)
}
