package api

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hookgate/hookgate"
)

// MaxSchemaDepth bounds the nesting of a JSON Schema document: compiling
// one is work for the server that grows with its nesting (1,000 levels
// took 4 s of CPU), so a schema stays far below where that shows. Its size
// is bounded by hookgate.MaxSchemaBytes.
const MaxSchemaDepth = 32

// checkSchemaShape refuses a schema document that is too large or nested
// too deep, before anything parses it into a tree.
func checkSchemaShape(doc []byte) error {
	if len(doc) > hookgate.MaxSchemaBytes {
		return fmt.Errorf("it is larger than %d bytes", hookgate.MaxSchemaBytes)
	}
	depth := 0
	inString, escaped := false, false
	for _, c := range doc {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			if depth++; depth > MaxSchemaDepth {
				return fmt.Errorf("it nests deeper than %d levels", MaxSchemaDepth)
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

// compileSchema compiles a JSON Schema document within the bounds above.
// It never loads anything from outside the document: a $ref to a file or
// URL fails.
func compileSchema(doc []byte) (*jsonschema.Schema, error) {
	if err := checkSchemaShape(doc); err != nil {
		return nil, err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(jsonschema.SchemeURLLoader{}) // no schemes: no file or network access
	const loc = "urn:hookgate:schema"
	if err := c.AddResource(loc, v); err != nil {
		return nil, err
	}
	return c.Compile(loc)
}

// validateData checks event data against the schema of its type, if the
// project's catalog has one.
func (s *Server) validateData(ctx context.Context, projectID, param, eventType string, data []byte) error {
	sch, err := s.schemas.get(ctx, projectID, eventType)
	if err != nil || sch == nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return hookgate.InvalidParam(param, nil, "%s is not valid JSON", param)
	}
	if err := sch.Validate(inst); err != nil {
		return hookgate.InvalidParam(param, inst, "%s does not match the schema of event type %s: %s", param, eventType, schemaFailures(param, inst, err))
	}
	return nil
}

// schemaCache keeps each project's compiled event type schemas for a TTL;
// changes made through this node drop a project's entry at once.
type schemaCache struct {
	store hookgate.Store
	ttl   time.Duration
	now   func() time.Time
	mu    sync.Mutex
	m     map[string]*projectSchemas
	gen   uint64 // counts forgets; a load older than one is used once, not kept
}

type projectSchemas struct {
	loaded time.Time
	byType map[string]*jsonschema.Schema
}

func newSchemaCache(store hookgate.Store, ttl time.Duration, now func() time.Time) *schemaCache {
	return &schemaCache{store: store, ttl: ttl, now: now, m: map[string]*projectSchemas{}}
}

func (c *schemaCache) get(ctx context.Context, projectID, eventType string) (*jsonschema.Schema, error) {
	c.mu.Lock()
	ps, ok := c.m[projectID]
	gen := c.gen
	c.mu.Unlock()
	if !ok || c.now().Sub(ps.loaded) > c.ttl {
		var err error
		if ps, err = c.load(ctx, projectID); err != nil {
			return nil, err
		}
		c.mu.Lock()
		if len(c.m) > 10000 {
			clear(c.m)
		}
		if gen == c.gen {
			c.m[projectID] = ps
		}
		c.mu.Unlock()
	}
	return ps.byType[eventType], nil
}

func (c *schemaCache) load(ctx context.Context, projectID string) (*projectSchemas, error) {
	ps := &projectSchemas{loaded: c.now(), byType: map[string]*jsonschema.Schema{}}
	page := hookgate.Page{Limit: hookgate.MaxPageLimit}
	for {
		list, next, err := c.store.ListEventTypes(ctx, projectID, page)
		if err != nil {
			return nil, err
		}
		for _, t := range list {
			if len(t.Schema) == 0 {
				continue
			}
			sch, err := compileSchema(t.Schema)
			if err != nil {
				return nil, fmt.Errorf("event type %s: stored schema does not compile: %w", t.Name, err)
			}
			ps.byType[t.Name] = sch
		}
		if next == "" {
			return ps, nil
		}
		page.Cursor = next
	}
}

func (c *schemaCache) forget(projectID string) {
	c.mu.Lock()
	delete(c.m, projectID)
	c.gen++
	c.mu.Unlock()
}

// forgetAll drops every project's cached schemas.
func (c *schemaCache) forgetAll() {
	c.mu.Lock()
	clear(c.m)
	c.gen++
	c.mu.Unlock()
}
