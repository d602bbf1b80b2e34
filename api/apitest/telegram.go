package apitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// BotToken is the one token FakeTelegram accepts.
const BotToken = "123456789:AAFapitest-token-0123456789abcdefgh"

// FakeTelegram speaks the four Bot API methods Hookgate calls (setWebhook,
// deleteWebhook, getWebhookInfo, sendMessage) on loopback. Give its URL as
// the platform's apiBaseUrl. A sendMessage to chat "blocked" is refused
// with 403, as Telegram refuses a bot the user blocked.
type FakeTelegram struct {
	URL string
	mu  sync.Mutex
	url string
	// sent holds the texts of accepted messages.
	sent []string
}

// NewFakeTelegram starts a fake for the test's length.
func NewFakeTelegram(t testing.TB) *FakeTelegram {
	f := &FakeTelegram{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		method, ok := strings.CutPrefix(r.URL.Path, "/bot"+BotToken+"/")
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"ok":false,"error_code":401,"description":"Unauthorized"}`))
			return
		}
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		defer f.mu.Unlock()
		switch method {
		case "setWebhook":
			f.url, _ = body["url"].(string)
			_, _ = w.Write([]byte(`{"ok":true,"result":true,"description":"Webhook was set"}`))
		case "deleteWebhook":
			f.url = ""
			_, _ = w.Write([]byte(`{"ok":true,"result":true,"description":"Webhook was deleted"}`))
		case "getWebhookInfo":
			fmt.Fprintf(w, `{"ok":true,"result":{"url":%q,"has_custom_certificate":false,"pending_update_count":0}}`, f.url)
		case "sendMessage":
			if body["chat_id"] == "blocked" {
				w.WriteHeader(http.StatusForbidden)
				_, _ = w.Write([]byte(`{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`))
				return
			}
			f.sent = append(f.sent, fmt.Sprint(body["text"]))
			fmt.Fprintf(w, `{"ok":true,"result":{"message_id":%d,"chat":{"id":42,"type":"private"}}}`, 100+len(f.sent))
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

// Sent is the texts of the messages accepted so far.
func (f *FakeTelegram) Sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.sent...)
}
