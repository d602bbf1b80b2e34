package ui

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/signing"
)

// What a delivery's page shows of an attempt's request. A trigger's
// attempt records the headers it sent; an event's attempt records its
// method and URL only, since its headers are the registration's and the
// signature's and its body is the event's. For those the page puts the
// request together again: the Standard Webhooks headers (webhook-id is the
// delivery's ID, webhook-timestamp the attempt's start in Unix seconds),
// the webhook's headers and auth as the API shows them (credentials
// hidden), and the body, the event's envelope. A body the webhook's
// transform made is recorded (requestBody): the page shows it as sent.

// hidden stands in for what the page does not show: a credential, as the
// API hides it, or the signature, which is not kept.
const hidden = "********"

// header is one line of a request's head.
type header struct{ Name, Value string }

// requestView is an attempt's request: Line ("POST https://…"), headers
// and body. Reconstructed says the headers and body were put together
// again rather than recorded; Transformed that the body is the one the
// webhook's transform made, as recorded; Notes say what is missing or may
// differ.
type requestView struct {
	Line          string
	Headers       []header
	Body          string
	HasBody       bool
	Reconstructed bool
	Transformed   bool
	Notes         []string
}

// recordedRequest is a request as its attempt recorded it: a trigger's, or
// a broker's message.
func recordedRequest(a client.Attempt) *requestView {
	r := &requestView{Line: a.RequestMethod + " " + a.RequestURL, Headers: sortedHeaders(a.RequestHeaders)}
	if a.RequestBody != "" {
		r.Body, r.HasBody, r.Transformed = a.RequestBody, true, true
		return r
	}
	r.Notes = append(r.Notes, "The body, the trigger's data, is not shown: the API does not give it back.")
	return r
}

// transformedContentType is the Content-Type of a body a transform made:
// JSON for a map or a list, text for a string.
func transformedContentType(body string) string {
	if t := strings.TrimSpace(body); (strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) && json.Valid([]byte(t)) {
		return "application/json"
	}
	return "text/plain; charset=utf-8"
}

// eventRequest puts an event delivery's request together again from the
// attempt (its method, URL and start), the webhook as it is now (nil when
// deleted), the event (nil when gone) and the server's User-Agent.
func eventRequest(a client.Attempt, d *client.Delivery, wh *client.Webhook, ev *client.Event, userAgent string) *requestView {
	r := &requestView{Line: a.RequestMethod + " " + a.RequestURL, Reconstructed: true}
	h := map[string]string{}
	contentType := "application/json"
	if wh != nil {
		for k, v := range wh.Headers {
			h[http.CanonicalHeaderKey(k)] = v
		}
		if wh.PayloadEncoding == "base64" {
			contentType = "application/octet-stream"
		}
		if wh.UpdatedAt.After(a.StartedAt) {
			r.Notes = append(r.Notes, "The webhook was changed after this attempt, at "+wh.UpdatedAt.UTC().Format("2006-01-02 15:04:05 UTC")+
				": its headers may have differed then.")
		}
	} else {
		r.Notes = append(r.Notes, "The webhook was deleted: its own headers are not known.")
	}
	if a.RequestBody != "" {
		contentType = transformedContentType(a.RequestBody)
	}
	if _, set := h["Content-Type"]; !set {
		h["Content-Type"] = contentType
	}
	h["User-Agent"] = userAgent
	h[http.CanonicalHeaderKey(signing.HeaderID)] = d.ID
	h[http.CanonicalHeaderKey(signing.HeaderTimestamp)] = strconv.FormatInt(a.StartedAt.Unix(), 10)
	h[http.CanonicalHeaderKey(signing.HeaderSignature)] = hidden
	if wh != nil {
		switch wh.Auth.Type {
		case client.AuthBasic:
			h["Authorization"] = "Basic " + hidden
		case client.AuthClientCredential:
			h["Authorization"] = "Bearer " + hidden
		}
	}
	r.Headers = sortedHeaders(h)
	switch {
	case a.RequestBody != "":
		r.Body, r.HasBody, r.Transformed = a.RequestBody, true, true
		if wh != nil && wh.TransformHeaders != "" {
			r.Notes = append(r.Notes, "The headers its transformHeaders made are not shown: the attempt keeps none.")
		}
	case ev == nil:
		r.Notes = append(r.Notes, "The event is gone: the body is not known.")
	case wh != nil && wh.PayloadEncoding == "base64":
		var s string
		_ = json.Unmarshal(ev.Data, &s)
		r.Body, r.HasBody = s, true
		r.Notes = append(r.Notes, "The body was the event's data decoded from base64: it is shown here as the base64 text.")
	default:
		r.Body, r.HasBody = string(envelope(ev)), true
	}
	return r
}

// envelope is the body of an event's delivery, as the sender writes it:
// {"type":…,"timestamp":…,"data":…}, the data as stored.
func envelope(ev *client.Event) []byte {
	b := make([]byte, 0, len(ev.Data)+len(ev.Type)+64)
	b = append(b, `{"type":`...)
	b = strconv.AppendQuote(b, ev.Type)
	b = append(b, `,"timestamp":"`...)
	b = ev.CreatedAt.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","data":`...)
	if len(ev.Data) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, ev.Data...)
	}
	return append(b, '}')
}

// sortedHeaders lists headers by name, as Go's client writes them.
func sortedHeaders(m map[string]string) []header {
	out := make([]header, 0, len(m))
	for k, v := range m {
		out = append(out, header{Name: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
