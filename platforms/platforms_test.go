package platforms_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/platforms"
)

func TestScrub(t *testing.T) {
	t.Parallel()
	secret := "123:abc/def+ghi"
	msg := "bad token " + secret + " in /bot123:abc%2Fdef+ghi/x and ?t=123%3Aabc%2Fdef%2Bghi"
	got := platforms.Scrub(msg, secret, "ab")
	if strings.Contains(got, "abc") || strings.Count(got, platforms.Redacted) != 3 {
		t.Fatalf("Scrub = %q", got)
	}
}

func TestRetryAfterHeader(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]time.Duration{"3": 3 * time.Second, "1.5": 1500 * time.Millisecond, "": 0, "-1": 0, "soon": 0, "1e300": 24 * time.Hour} {
		if got := platforms.RetryAfterHeader(http.Header{"Retry-After": {v}}); got != want {
			t.Errorf("Retry-After %q = %s, want %s", v, got, want)
		}
	}
}

// What a provider could not be asked never quotes the URL, which may hold a
// token.
func TestDoNamesNoURL(t *testing.T) {
	t.Parallel()
	_, err := platforms.Do(context.Background(), &http.Client{Timeout: 5 * time.Second}, "POST", "http://127.0.0.1:9/botSECRET-TOKEN/x", nil, map[string]string{})
	var pe *platforms.ProviderError
	if !errors.As(err, &pe) || pe.Status != 0 || strings.Contains(err.Error(), "SECRET-TOKEN") {
		t.Fatalf("closed port: %v", err)
	}
	_, err = platforms.Do(context.Background(), &http.Client{}, "POST", "http://bad host/botSECRET-TOKEN", nil, nil)
	if !errors.As(err, &pe) || strings.Contains(err.Error(), "SECRET-TOKEN") {
		t.Fatalf("bad URL: %v", err)
	}
	if _, err := platforms.Do(context.Background(), nil, "GET", "http://127.0.0.1:9/", nil, nil); err == nil {
		t.Fatal("no client, no error")
	}
}

func TestEventData(t *testing.T) {
	t.Parallel()
	e := platforms.Event{Type: platforms.EventMessageReceived, Message: &platforms.Message{ID: "7", Text: "hi", Timestamp: time.Unix(1764590000, 0).UTC()},
		Chat: &platforms.Chat{ID: "42", Type: "private"}, Raw: json.RawMessage(`{"update_id":1}`)}
	got := string(e.Data(&hookgate.Platform{ID: "plat_1", Provider: "telegram"}))
	want := `{"platform":{"id":"plat_1","provider":"telegram"},"message":{"id":"7","text":"hi","timestamp":"2025-12-01T11:53:20Z"},"chat":{"id":"42","type":"private"},"raw":{"update_id":1}}`
	if got != want {
		t.Fatalf("Data =\n%s\nwant\n%s", got, want)
	}
	if got := string((&platforms.Event{Raw: json.RawMessage("not json")}).Data(&hookgate.Platform{})); !strings.HasSuffix(got, `"raw":null}`) {
		t.Fatalf("invalid raw: %s", got)
	}
}
