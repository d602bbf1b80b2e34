package ui

import (
	"strings"
	"testing"
)

// Issue 22, item 12: each kind of error a delivery records is told as a
// kind and a short sentence.
func TestUnansweredTellsTheKindOfError(t *testing.T) {
	t.Parallel()
	for err, want := range map[string]string{
		`Post "http://127.0.0.1:9/x": dial tcp 127.0.0.1:9: connect: connection refused`:                                 "Connection refused: nothing accepts connections at 127.0.0.1:9",
		`Post "https://hooks.example.invalid/x": dial tcp: dns: no such host hooks.example.invalid`:                      "Unknown host: hooks.example.invalid is not in DNS",
		`Post "https://a.example/x": dial tcp: dns: timeout a.example`:                                                   "DNS lookup failed: timeout a.example",
		`Post "http://10.0.0.1/x": blocked by the network policy`:                                                        "Blocked: the network policy does not let Hookgate connect to this address (a private, loopback or link-local one)",
		`blocked by the network policy`:                                                                                  "Blocked: the network policy does not let Hookgate connect to this address (a private, loopback or link-local one)",
		`Post "http://127.0.0.1:8/x": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`:        "Timed out: no answer within the time allowed",
		`Post "http://127.0.0.1:8/x": dial tcp 127.0.0.1:8: i/o timeout`:                                                 "Timed out: no answer at 127.0.0.1:8 within the time allowed",
		`reading the answer: context deadline exceeded`:                                                                  "Timed out: the answer's body did not arrive in time",
		`Post "http://127.0.0.1:8/x": read tcp 127.0.0.1:5->127.0.0.1:8: read: connection reset by peer`:                 "Connection reset: the receiver closed the connection before answering",
		`Post "http://127.0.0.1:8/x": EOF`:                                                                               "Connection closed: the receiver closed the connection without an answer",
		`Post "https://127.0.0.1:8/x": tls: failed to verify certificate: x509: certificate signed by unknown authority`: "TLS failed: tls: failed to verify certificate: x509: certificate signed by unknown authority",
		`Post "http://10.1.1.1/x": dial tcp 10.1.1.1:80: connect: no route to host`:                                      "Unreachable: no route at 10.1.1.1:80",
		`oauth2 token from https://auth.example/token: oauth2: "invalid_client"`:                                         `OAuth2 token refused: oauth2 token from https://auth.example/token: oauth2: "invalid_client"`,
		`not sent: the webhook's secrets could not be decrypted with this node's encryption key`:                         "Not sent: the webhook's secrets could not be decrypted with this node's encryption key",
		`payloadEncoding is base64 but the event's data is not valid base64`:                                             "Not sent: payloadEncoding is base64 but the event's data is not valid base64",
		`Post "http://127.0.0.1:8/x": something new`:                                                                     "Request failed: something new",
		``: "No answer",
	} {
		if got := unanswered(err).Sentence(); got != want {
			t.Errorf("unanswered(%q)\n got %q\nwant %q", err, got, want)
		}
	}
}

// Issue 22, item 12: an answer is told by its status and the beginning of
// its body, its whitespace collapsed.
func TestAnsweredQuotesTheBody(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status         int
		body, encoding string
		want           string
	}{
		{404, "no such\n  page", "", "HTTP 404 Not Found: “no such page”"},
		{503, "", "", "HTTP 503 Service Unavailable: an empty body"},
		{500, "AAEC", "base64", "HTTP 500 Internal Server Error: a body that is not text"},
		{400, strings.Repeat("x", 300), "", "HTTP 400 Bad Request: “" + strings.Repeat("x", bodySnippet-1) + "…”"},
	} {
		if got := answered(tc.status, tc.body, tc.encoding).Sentence(); got != tc.want {
			t.Errorf("answered(%d, %q)\n got %q\nwant %q", tc.status, tc.body, got, tc.want)
		}
	}
}

// Issue 22, item 11: list IDs are shortened to pieces of the full ID.
func TestShortID(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]string{
		"wh_01m95wgw3r0q6q6q2jpvj6y80k":                            "wh_…pvj6y80k",
		"msg_01m95wpam260d1swkj948fgv0n01m95wpakya94brd9y4wf8e12e": "msg_…948fgv0n…e12e",
		"orders":       "orders",
		"evt_short":    "evt_short",
		"no-separator": "no-separator",
	} {
		if got := shortID(id); got != want {
			t.Errorf("shortID(%q) = %q, want %q", id, got, want)
		}
	}
}
