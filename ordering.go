package hookgate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Delivery orderings a webhook can ask for.
const (
	// OrderingNone delivers a webhook's events in parallel, each retried on
	// its own.
	OrderingNone = "none"
	// OrderingFIFO delivers the events of one ordering key in the order
	// they were accepted, one in flight at a time.
	OrderingFIFO = "fifo"
)

// Limits on ordering keys.
const (
	// MaxOrderingPointer bounds a webhook's orderingKey.
	MaxOrderingPointer = 256
	// maxOrderingKey is the longest key value stored as it is; a longer
	// one is stored as its SHA-256 (orderingKeyValue).
	maxOrderingKey = 200
)

// Ordered reports whether w delivers in order per key.
func (w *Webhook) Ordered() bool { return w.Ordering == OrderingFIFO }

// validateOrdering checks ordering and orderingKey.
func (w *Webhook) validateOrdering() error {
	switch w.Ordering {
	case "", OrderingNone, OrderingFIFO:
	default:
		return InvalidParam("ordering", w.Ordering, "ordering must be none or fifo")
	}
	if w.Ordered() && w.TriggerOnly {
		return InvalidParam("ordering", w.Ordering, "a triggerOnly webhook receives no events to order: leave ordering out")
	}
	if w.OrderingKey == "" {
		return nil
	}
	if !w.Ordered() {
		return InvalidParam("orderingKey", w.OrderingKey, "orderingKey needs ordering fifo")
	}
	if !strings.HasPrefix(w.OrderingKey, "/") {
		return InvalidParam("orderingKey", w.OrderingKey, "orderingKey is a JSON Pointer into the event, beginning with '/', such as /data/customerId")
	}
	if len(w.OrderingKey) > MaxOrderingPointer {
		return InvalidParam("orderingKey", w.OrderingKey, "orderingKey is at most %d bytes", MaxOrderingPointer)
	}
	for i := 0; i < len(w.OrderingKey); i++ {
		if w.OrderingKey[i] == '~' && (i+1 == len(w.OrderingKey) || (w.OrderingKey[i+1] != '0' && w.OrderingKey[i+1] != '1')) {
			return InvalidParam("orderingKey", w.OrderingKey, "in a JSON Pointer '~' is followed by 0 or 1 (~0 is '~', ~1 is '/')")
		}
	}
	return nil
}

// OrderingKeyOf is the ordering key of an event for a FIFO webhook whose
// orderingKey is pointer: the value at pointer in the event as delivered,
// {"type": …, "timestamp": …, "data": …}. A string is its key as it is;
// another value is its JSON text; a key longer than 200 bytes is
// "sha256:" and its hex digest. An event without the field (or a pointer
// left empty: the whole webhook is one key) has the key "".
func OrderingKeyOf(pointer, eventType string, at time.Time, data json.RawMessage) string {
	if pointer == "" {
		return ""
	}
	toks := strings.Split(pointer[1:], "/")
	for i, t := range toks {
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	var v json.RawMessage
	switch toks[0] {
	case "type":
		v, _ = json.Marshal(eventType)
	case "timestamp":
		v, _ = json.Marshal(at.UTC().Format(time.RFC3339Nano))
	case "data":
		v = data
	default:
		return ""
	}
	for _, t := range toks[1:] {
		var ok bool
		if v, ok = member(v, t); !ok {
			return ""
		}
	}
	return orderingKeyValue(v)
}

// member returns the member tok of the JSON object or array v.
func member(v json.RawMessage, tok string) (json.RawMessage, bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return nil, false
	}
	switch v[0] {
	case '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(v, &m) != nil {
			return nil, false
		}
		x, ok := m[tok]
		return x, ok
	case '[':
		i, err := strconv.Atoi(tok)
		if err != nil || i < 0 || (len(tok) > 1 && tok[0] == '0') {
			return nil, false
		}
		var a []json.RawMessage
		if json.Unmarshal(v, &a) != nil || i >= len(a) {
			return nil, false
		}
		return a[i], true
	}
	return nil, false
}

// orderingKeyValue is the key a JSON value stands for.
func orderingKeyValue(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	var key string
	if len(v) > 0 && v[0] == '"' {
		if json.Unmarshal(v, &key) != nil {
			return ""
		}
	} else {
		var b bytes.Buffer
		if json.Compact(&b, v) != nil {
			return ""
		}
		key = b.String()
	}
	if len(key) > maxOrderingKey {
		sum := sha256.Sum256([]byte(key))
		return "sha256:" + hex.EncodeToString(sum[:])
	}
	return key
}
