package apitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// BotToken is the one token FakeTelegram accepts.
const BotToken = "123456789:AAH-secret-bot-token-abcdefghijklmnop"

// FakeTelegram speaks the four Bot API methods Hookgate calls (setWebhook,
// deleteWebhook, getWebhookInfo, sendMessage) on loopback. Give its URL as
// the platform's apiBaseUrl. A sendMessage to chat "blocked" is refused
// with 403, as Telegram refuses a bot the user blocked.
type FakeTelegram struct {
	URL string
	// LimitOnce answers the next sendMessage 429 (retry after 1 s).
	LimitOnce atomic.Bool
	// Refuse answers every call 401, quoting the token as Telegram may:
	// Hookgate must not pass it on.
	Refuse atomic.Bool
	mu     sync.Mutex
	url    string
	secret string
	sent   []string // the texts of accepted messages
}

// NewFakeTelegram starts a fake for the test's length.
func NewFakeTelegram(t testing.TB) *FakeTelegram {
	f := &FakeTelegram{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		method, ok := strings.CutPrefix(r.URL.Path, "/bot"+BotToken+"/")
		if !ok || f.Refuse.Load() {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"ok":false,"error_code":401,"description":"Unauthorized: token %s rejected"}`, BotToken)
			return
		}
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		defer f.mu.Unlock()
		switch method {
		case "setWebhook":
			f.url, _ = body["url"].(string)
			f.secret, _ = body["secret_token"].(string)
			_, _ = w.Write([]byte(`{"ok":true,"result":true,"description":"Webhook was set"}`))
		case "deleteWebhook":
			f.url, f.secret = "", ""
			_, _ = w.Write([]byte(`{"ok":true,"result":true,"description":"Webhook was deleted"}`))
		case "getWebhookInfo":
			fmt.Fprintf(w, `{"ok":true,"result":{"url":%q,"has_custom_certificate":false,"pending_update_count":3}}`, f.url)
		case "sendMessage":
			if f.LimitOnce.CompareAndSwap(true, false) {
				w.WriteHeader(http.StatusTooManyRequests)
				_, _ = w.Write([]byte(`{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}`))
				return
			}
			if body["chat_id"] == "blocked" {
				w.WriteHeader(http.StatusForbidden)
				_, _ = w.Write([]byte(`{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`))
				return
			}
			f.sent = append(f.sent, fmt.Sprint(body["text"]))
			fmt.Fprintf(w, `{"ok":true,"result":{"message_id":%d,"chat":{"id":42,"type":"private"},"text":%q}}`, 100+len(f.sent), body["text"])
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"ok":false,"error_code":404,"description":"Not Found"}`))
		}
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// Registered is the URL setWebhook last set; "" after deleteWebhook.
func (f *FakeTelegram) Registered() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.url
}

// RegisteredSecret is the secret_token setWebhook last set.
func (f *FakeTelegram) RegisteredSecret() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.secret
}

// Sent is the texts of the messages accepted so far.
func (f *FakeTelegram) Sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.sent...)
}
