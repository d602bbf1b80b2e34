package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// bodyCase is a request body sent as is and the answer it must get: a
// problem, written as "status code parameter_name parameter_value | detail"
// (parameter_value as JSON, - when absent), or "202" for an accepted event,
// whose type, data and idempotency key are then read back.
type bodyCase struct {
	name, contentType, body string
	want                    string
	// typ, data and key are what an accepted event stores.
	typ, data, key string
}

// problemLine writes a problem answer as bodyCase.want does.
func problemLine(t testing.TB, r resp) string {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json: %s", ct, r.Raw)
	}
	value := "-"
	if v, ok := r.Body["parameter_value"]; ok {
		b, _ := json.Marshal(v)
		value = string(b)
	}
	param, _ := r.Body["parameter_name"].(string)
	if param == "" {
		param = "-"
	}
	code, _ := r.Body["code"].(string)
	if r.Body["type"] != "https://hookgate.dev/problems/"+strings.ReplaceAll(code, "_", "-") {
		t.Fatalf("problem type %v for code %s", r.Body["type"], code)
	}
	return fmt.Sprintf("%d %s %s %s | %v", r.Status, code, param, value, r.Body["detail"])
}

// contract posts each case to path of project acme on each engine, as its
// publisher, and compares the answers; a case without want takes want's
// entry of its name.
func contract(t *testing.T, path string, cases []bodyCase, want map[string]string) {
	t.Helper()
	for i := range cases {
		if cases[i].want == "" {
			cases[i].want = want[cases[i].name]
		}
	}
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, owner, pub := e.project("acme")
		checkBodies(t, e, path, pub, owner, cases)
	})
}

// checkBodies posts each case to path and compares the answers.
func checkBodies(t *testing.T, e *env, path, key, owner string, cases []bodyCase) {
	t.Helper()
	for _, c := range cases {
		ct := c.contentType
		if ct == "" {
			ct = "application/json"
		}
		h := map[string]string{"Authorization": "Bearer " + key, "Content-Type": ct}
		var body any
		if c.body != "" {
			body = c.body
		}
		r := e.reqH("POST", path, h, body)
		if c.want == "202" {
			r.must(t, 202)
			if c.typ == "" {
				continue
			}
			id := r.str("id")
			if id == "" { // a batch's answer
				id = fmt.Sprint(r.items(t)[0]["id"])
			}
			ev := e.req("GET", "/api/v1/projects/acme/events/"+id, owner, nil).must(t, 200)
			var got struct {
				Type           string          `json:"type"`
				Data           json.RawMessage `json:"data"`
				IdempotencyKey string          `json:"idempotencyKey"`
			}
			if err := json.Unmarshal(ev.Raw, &got); err != nil {
				t.Fatal(err)
			}
			if got.Type != c.typ || string(got.Data) != c.data || got.IdempotencyKey != c.key {
				t.Errorf("%s: stored type %q data %s key %q, want %q %s %q", c.name, got.Type, got.Data, got.IdempotencyKey, c.typ, c.data, c.key)
			}
			continue
		}
		if got := problemLine(t, r); got != c.want {
			t.Errorf("%s: body %.80q\n got %s\nwant %s", c.name, c.body, got, c.want)
		}
	}
}

var tooLong, tooLongRunes = strings.Repeat("t", 257), strings.Repeat("é", 257)

// TestEventBodyContract pins what sendEvent answers to each kind of bad
// body, field by field, and what it stores of good ones written in unusual
// ways: the body is decoded once, and this is the answer huma's schema
// validation gave before.
func TestEventBodyContract(t *testing.T) {
	cases := []bodyCase{
		{name: "missing type", body: `{"data":1}`},
		{name: "missing data", body: `{"type":"a.b"}`},
		{name: "data null", body: `{"type":"a.b","data":null}`},
		{name: "missing both", body: `{}`},
		{name: "type too long", body: `{"type":"` + tooLong + `","data":1}`},
		{name: "type too long in runes", body: `{"type":"` + tooLongRunes + `","data":1}`},
		{name: "type 256 runes of two bytes", body: `{"type":"` + tooLongRunes[2:] + `","data":1}`},
		{name: "type a number", body: `{"type":5,"data":1}`},
		{name: "type null", body: `{"type":null,"data":1}`},
		{name: "type an array", body: `{"type":["a.b"],"data":1}`},
		{name: "type an object", body: `{"type":{"a":"b"},"data":1}`},
		{name: "type false", body: `{"type":false,"data":1}`},
		{name: "type empty", body: `{"type":"","data":1}`},
		{name: "type invalid", body: `{"type":"a b","data":1}`},
		{name: "idempotencyKey too long", body: `{"type":"a.b","data":1,"idempotencyKey":"` + tooLong + `"}`},
		{name: "idempotencyKey a number", body: `{"type":"a.b","data":1,"idempotencyKey":5}`},
		{name: "extra field", body: `{"type":"a.b","data":1,"extra":{"x":1}}`},
		{name: "misspelt field", body: `{"eventType":"a.b","data":1}`},
		{name: "extra field and type a number", body: `{"type":5,"data":1,"extra":true}`},
		{name: "not JSON", body: `nope`},
		{name: "truncated", body: `{"type":"a.b","data":`},
		{name: "trailing garbage", body: `{"type":"a.b","data":1}x`},
		{name: "two values", body: `{"type":"a.b","data":1} {}`},
		{name: "only spaces", body: `   `},
		{name: "empty", body: ``},
		{name: "array", body: `[{"type":"a.b","data":1}]`},
		{name: "string", body: `"a.b"`},
		{name: "number", body: `5`},
		{name: "null", body: `null`},
		{name: "true", body: `true`},
		{name: "duplicate type, bad first", body: `{"type":5,"type":"a.b","data":1}`},
		{name: "duplicate type, bad last", body: `{"type":"a.b","type":5,"data":1}`},
		{name: "type in capitals and type", body: `{"TYPE":5,"type":"a.b","data":1}`},
		{name: "text/plain", contentType: "text/plain", body: `{"type":"a.b","data":1}`},
		{name: "text/plain, not JSON", contentType: "text/plain", body: `nope`},
		{name: "operational type", body: `{"type":"hookgate.webhook.disabled","data":1}`},

		{name: "accepted", body: `{"type":"a.b","data":{"b":1, "a":[1, 2.50]}}`, want: "202", typ: "a.b", data: `{"b":1,"a":[1,2.50]}`},
		{name: "spaced", body: " \n{ \"data\" :\t[ ] , \"type\" : \"a.b\" }\n ", want: "202", typ: "a.b", data: `[]`},
		{name: "idempotencyKey", body: `{"type":"a.b","data":"x","idempotencyKey":"k1"}`, want: "202", typ: "a.b", data: `"x"`, key: "k1"},
		{name: "idempotencyKey null", body: `{"type":"a.b","data":"y","idempotencyKey":null}`, want: "202", typ: "a.b", data: `"y"`},
		{name: "idempotencyKey empty", body: `{"type":"a.b","data":"z","idempotencyKey":""}`, want: "202", typ: "a.b", data: `"z"`},
		{name: "escaped type", body: `{"type":"a\u002eb","data":0}`, want: "202", typ: "a.b", data: `0`},
		{name: "escaped key", body: `{"ty\u0070e":"a.b","data":false}`, want: "202", typ: "a.b", data: `false`},
		{name: "keys in capitals", body: `{"TYPE":"c.d","Data":{"x":"}"}}`, want: "202", typ: "c.d", data: `{"x":"}"}`},
		{name: "type 256 bytes", body: `{"type":"` + tooLong[1:] + `","data":"\"{["}`, want: "202", typ: tooLong[1:], data: `"\"{["`},
		{name: "duplicate type, last kept", body: `{"type":"x.y","type":"a.b","data":1}`, want: "202", typ: "a.b", data: `1`},
		{name: "duplicate data, last kept", body: `{"type":"a.b","data":1,"data":2}`, want: "202", typ: "a.b", data: `2`},
		{name: "json suffix", contentType: "application/vnd.acme+json", body: `{"type":"a.b","data":3}`, want: "202", typ: "a.b", data: `3`},
		{name: "no content type", contentType: " ", body: `{"type":"a.b","data":4}`, want: "202", typ: "a.b", data: `4`},
	}
	contract(t, "/api/v1/projects/acme/events", cases, wantEventBody)
}

var wantEventBody = map[string]string{
	"missing type":                  "400 missing_parameter type - | type is required",
	"missing data":                  "400 missing_parameter data - | data is required",
	"data null":                     "400 missing_parameter data - | data is required",
	"missing both":                  "400 missing_parameter data - | data is required",
	"type too long":                 "400 invalid_parameter type \"" + tooLong + "\" | type: expected length <= 256",
	"type too long in runes":        "400 invalid_parameter type \"" + tooLongRunes + "\" | type: expected length <= 256",
	"type 256 runes of two bytes":   "400 invalid_parameter type \"" + tooLongRunes[2:] + "\" | type is 1-256 letters, digits, '_', '-' or '.'",
	"type a number":                 "400 invalid_parameter type 5 | type: expected string",
	"type null":                     "400 invalid_parameter type - | type: expected string",
	"type an array":                 "400 invalid_parameter type [\"a.b\"] | type: expected string",
	"type an object":                "400 invalid_parameter type {\"a\":\"b\"} | type: expected string",
	"type false":                    "400 invalid_parameter type false | type: expected string",
	"type empty":                    "400 missing_parameter type - | type is required",
	"type invalid":                  "400 invalid_parameter type \"a b\" | type is 1-256 letters, digits, '_', '-' or '.'",
	"idempotencyKey too long":       "400 invalid_parameter idempotencyKey \"" + tooLong + "\" | idempotencyKey: expected length <= 256",
	"idempotencyKey a number":       "400 invalid_parameter idempotencyKey 5 | idempotencyKey: expected string",
	"extra field":                   "400 invalid_parameter extra {\"x\":1} | extra is not a field of this request",
	"misspelt field":                "400 invalid_parameter eventType \"a.b\" | eventType is not a field of this request; type is required",
	"extra field and type a number": "400 invalid_parameter extra true | extra is not a field of this request",
	"not JSON":                      "400 invalid_json - - | the request body is not valid JSON: invalid character 'o' in literal null (expecting 'u')",
	"truncated":                     "400 invalid_json - - | the request body is not valid JSON: unexpected end of JSON input",
	"trailing garbage":              "400 invalid_json - - | the request body is not valid JSON: invalid character 'x' after top-level value",
	"two values":                    "400 invalid_json - - | the request body is not valid JSON: invalid character '{' after top-level value",
	"only spaces":                   "400 invalid_json - - | the request body is not valid JSON: unexpected end of JSON input",
	"empty":                         "400 missing_parameter body - | a JSON request body is required",
	"array":                         "400 invalid_parameter body [{\"data\":1,\"type\":\"a.b\"}] | body: expected object",
	"string":                        "400 invalid_parameter body \"a.b\" | body: expected object",
	"number":                        "400 invalid_parameter body 5 | body: expected object",
	"null":                          "400 invalid_parameter body - | body: expected object",
	"true":                          "400 invalid_parameter body true | body: expected object",
	// A repeated field is taken as its last value, but the struct the
	// body is decoded into takes each in turn.
	"duplicate type, bad first": `400 invalid_parameter body "{\"type\":5,\"type\":\"a.b\",\"data\":1}" | body: json: cannot unmarshal number into Go struct field eventIn.type of type string`,
	"duplicate type, bad last":  "400 invalid_parameter type 5 | type: expected string",
	"type in capitals and type": `400 invalid_parameter body "{\"TYPE\":5,\"type\":\"a.b\",\"data\":1}" | body: json: cannot unmarshal number into Go struct field eventIn.type of type string`,
	"text/plain":                "415 unsupported_media_type - - | send the body as application/json",
	"text/plain, not JSON":      "415 unsupported_media_type - - | send the body as application/json",
	"operational type":          "400 invalid_parameter type \"hookgate.webhook.disabled\" | type may not begin with \"hookgate.\": those types are Hookgate's operational events",
}

// TestEventBatchBodyContract is TestEventBodyContract for sendEvents.
func TestEventBatchBodyContract(t *testing.T) {
	ev := `{"type":"a.b","data":1}`
	items := func(n int) string { return `{"events":[` + strings.Repeat(ev+",", n-1) + ev + `]}` }
	cases := []bodyCase{
		{name: "no events", body: `{}`},
		{name: "events empty", body: `{"events":[]}`},
		{name: "1001 events", body: items(1001)},
		{name: "events null", body: `{"events":null}`},
		{name: "events a string", body: `{"events":"a.b"}`},
		{name: "events an object", body: `{"events":` + ev + `}`},
		{name: "an event a number", body: `{"events":[` + ev + `,1]}`},
		{name: "an event null", body: `{"events":[` + ev + `,null]}`},
		{name: "missing type", body: `{"events":[` + ev + `,{"data":1}]}`},
		{name: "data null", body: `{"events":[` + ev + `,{"type":"a.b","data":null}]}`},
		{name: "type a number", body: `{"events":[` + ev + `,{"type":5,"data":1}]}`},
		{name: "type too long", body: `{"events":[{"type":"` + tooLong + `","data":1}]}`},
		{name: "idempotencyKey too long", body: `{"events":[{"type":"a.b","data":1,"idempotencyKey":"` + tooLong + `"}]}`},
		{name: "extra field in an event", body: `{"events":[` + ev + `,{"type":"a.b","data":1,"x":1}]}`},
		{name: "extra field", body: `{"events":[` + ev + `],"x":1}`},
		{name: "misspelt field", body: `{"event":[` + ev + `]}`},
		{name: "not JSON", body: `{"events":[`},
		{name: "array", body: `[` + ev + `]`},
		{name: "null", body: `null`},
		{name: "empty", body: ``},
		{name: "duplicate type, bad first", body: `{"events":[{"type":5,"type":"a.b","data":1}]}`},
		{name: "text/plain", contentType: "text/plain", body: items(1)},

		{name: "accepted", body: `{"events":[{"type":"a.b","data":{"b":1, "a":[1, 2.50]},"idempotencyKey":"k1"}]}`, want: "202", typ: "a.b", data: `{"b":1,"a":[1,2.50]}`, key: "k1"},
		{name: "spaced", body: " { \"events\" : [ { \"data\" : [ ] , \"type\" : \"a.b\" } ] } ", want: "202", typ: "a.b", data: `[]`},
		{name: "escaped", body: `{"ev\u0065nts":[{"type":"a\u002eb","data":"\"]}"}]}`, want: "202", typ: "a.b", data: `"\"]}"`},
		{name: "capitals", body: `{"Events":[{"TYPE":"c.d","data":7}]}`, want: "202", typ: "c.d", data: `7`},
		{name: "1000 events", body: items(1000), want: "202"},
	}
	contract(t, "/api/v1/projects/acme/events/batch", cases, wantBatchBody)
}

var wantBatchBody = map[string]string{
	"no events":                 "400 missing_parameter events - | events is required",
	"events empty":              "400 invalid_parameter events [] | events: expected array length >= 1",
	"1001 events":               "400 invalid_parameter events [" + strings.Repeat(`{"data":1,"type":"a.b"},`, 1000) + `{"data":1,"type":"a.b"}] | events: expected array length <= 1000`,
	"events null":               "400 invalid_parameter events - | events: expected array",
	"events a string":           "400 invalid_parameter events \"a.b\" | events: expected array",
	"events an object":          "400 invalid_parameter events {\"data\":1,\"type\":\"a.b\"} | events: expected array",
	"an event a number":         "400 invalid_parameter events[1] 1 | events[1]: expected object",
	"an event null":             "400 invalid_parameter events[1] - | events[1]: expected object",
	"missing type":              "400 missing_parameter events[1].type - | events[1].type is required",
	"data null":                 "400 missing_parameter events[1].data - | events[1].data is required",
	"type a number":             "400 invalid_parameter events[1].type 5 | events[1].type: expected string",
	"type too long":             "400 invalid_parameter events[0].type \"" + tooLong + "\" | events[0].type: expected length <= 256",
	"idempotencyKey too long":   "400 invalid_parameter events[0].idempotencyKey \"" + tooLong + "\" | events[0].idempotencyKey: expected length <= 256",
	"extra field in an event":   "400 invalid_parameter events[1].x 1 | events[1].x is not a field of this request",
	"extra field":               "400 invalid_parameter x 1 | x is not a field of this request",
	"misspelt field":            "400 invalid_parameter event [{\"data\":1,\"type\":\"a.b\"}] | event is not a field of this request; events is required",
	"not JSON":                  "400 invalid_json - - | the request body is not valid JSON: unexpected end of JSON input",
	"array":                     "400 invalid_parameter body [{\"data\":1,\"type\":\"a.b\"}] | body: expected object",
	"null":                      "400 invalid_parameter body - | body: expected object",
	"empty":                     "400 missing_parameter body - | a JSON request body is required",
	"duplicate type, bad first": `400 invalid_parameter body "{\"events\":[{\"type\":5,\"type\":\"a.b\",\"data\":1}]}" | body: json: cannot unmarshal number into Go struct field eventIn.events.type of type string`,
	"text/plain":                "415 unsupported_media_type - - | send the body as application/json",
}
