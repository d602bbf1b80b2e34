package client

import (
	"bytes"
	"encoding/json"
	"errors"
)

// encoded is a request body already encoded, sent as it is.
type encoded []byte

// encodeData encodes an event's or a trigger's data: a json.RawMessage as
// its bytes, unchanged (encoding/json would compact it and escape <, >
// and &), anything else with encoding/json. The server stores and delivers
// the bytes it receives, so a receiver gets what the caller wrote.
func encodeData(v any) ([]byte, error) {
	raw, ok := v.(json.RawMessage)
	if !ok {
		return json.Marshal(v)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return []byte("null"), nil
	}
	if !json.Valid(raw) {
		return nil, errors.New("data is a json.RawMessage that is not valid JSON")
	}
	return raw, nil
}

// withData puts "data": data first in obj, a JSON object encoded by
// encoding/json.
func withData(obj, data []byte) []byte {
	out := make([]byte, 0, len(obj)+len(data)+9)
	out = append(out, `{"data":`...)
	out = append(out, data...)
	if rest := bytes.TrimSpace(obj[1:]); len(rest) > 1 { // not just "}"
		out = append(out, ',')
	}
	return append(out, obj[1:]...)
}

// encode encodes e as the API takes it, its Data as encodeData does.
func (e EventSend) encode() ([]byte, error) {
	data, err := encodeData(e.Data)
	if err != nil {
		return nil, err
	}
	obj, err := json.Marshal(struct {
		Type           string `json:"type"`
		IdempotencyKey string `json:"idempotencyKey,omitempty"`
	}{e.Type, e.IdempotencyKey})
	if err != nil {
		return nil, err
	}
	return withData(obj, data), nil
}

// encode encodes t as the API takes it, its Data as encodeData does.
func (t Trigger) encode() ([]byte, error) {
	obj, err := json.Marshal(struct {
		Headers     map[string]string `json:"headers,omitempty"`
		QueryParams map[string]any    `json:"queryParams,omitempty"`
		Timeout     string            `json:"timeout,omitempty"`
	}{t.Headers, t.QueryParams, t.Timeout})
	if err != nil || t.Data == nil {
		return obj, err
	}
	data, err := encodeData(t.Data)
	if err != nil {
		return nil, err
	}
	return withData(obj, data), nil
}

// encodeBatch encodes events as the batch operation takes them.
func encodeBatch(events []EventSend) ([]byte, error) {
	out := []byte(`{"events":[`)
	for i, e := range events {
		b, err := e.encode()
		if err != nil {
			return nil, err
		}
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, b...)
	}
	return append(out, "]}"...), nil
}
