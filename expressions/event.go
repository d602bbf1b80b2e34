package expressions

import (
	"encoding/json"
	"fmt"
	"time"
)

// Event is what an expression sees of an event.
type Event struct {
	// ID is the event's ID, the variable id.
	ID string
	// Type is the event's type, the variable type.
	Type string
	// Timestamp is when the event was received, the variable timestamp.
	Timestamp time.Time
	// Data is the event's JSON payload, the variable data; empty is null.
	Data json.RawMessage
	// Metadata is the event's metadata, the variable metadata; nil is an
	// empty map.
	Metadata map[string]string
}

// noMetadata stands for a nil Metadata, so that metadata is always a map.
var noMetadata = map[string]string{}

// vars returns the activation of e: the variables by name.
func (e Event) vars() (map[string]any, error) {
	var data any
	if len(e.Data) > 0 {
		if err := json.Unmarshal(e.Data, &data); err != nil {
			return nil, fmt.Errorf("expressions: the event's data is not JSON: %w", err)
		}
	}
	md := e.Metadata
	if md == nil {
		md = noMetadata
	}
	return map[string]any{
		"id":        e.ID,
		"type":      e.Type,
		"timestamp": e.Timestamp,
		"data":      data,
		"metadata":  md,
	}, nil
}
