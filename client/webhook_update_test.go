package client_test

import (
	"encoding/json"
	"testing"

	"github.com/hookgate/hookgate/client"
)

// Issue 24, item 4: an update sends a webhook's own delivery settings as
// PATCH takes them: set, left out, or null to clear.
func TestWebhookUpdateOverridesJSON(t *testing.T) {
	t.Parallel()
	timeout, attempts := "5s", 3
	for _, c := range []struct {
		in   client.WebhookUpdate
		want string
	}{
		{client.WebhookUpdate{}, `{}`},
		{client.WebhookUpdate{RetrySchedule: []string{"1s"}, Timeout: &timeout, MaxAttempts: &attempts}, `{"retrySchedule":["1s"],"timeout":"5s","maxAttempts":3}`},
		{client.WebhookUpdate{RetrySchedule: []string{}, ClearTimeout: true, ClearMaxAttempts: true}, `{"maxAttempts":null,"retrySchedule":[],"timeout":null}`},
		{client.WebhookUpdate{AutoRecover: client.Ptr(false)}, `{"autoRecover":false}`},
		{client.WebhookUpdate{ClearAutoRecover: true}, `{"autoRecover":null}`},
		{client.WebhookUpdate{Breaker: &client.Breaker{Failures: &attempts, Cooldown: &timeout}}, `{"breaker":{"failures":3,"cooldown":"5s"}}`},
		{client.WebhookUpdate{ClearBreaker: true}, `{"breaker":null}`},
	} {
		b, err := json.Marshal(c.in)
		if err != nil || string(b) != c.want {
			t.Errorf("%+v marshals as %s (%v), want %s", c.in, b, err, c.want)
		}
	}
}

// Issue 24, items 2 and 3: a project update sends its autoRecover and
// breaker settings set, left out, or null to clear them.
func TestProjectUpdateSettingsJSON(t *testing.T) {
	t.Parallel()
	n := 0
	for _, c := range []struct {
		in   client.ProjectUpdate
		want string
	}{
		{client.ProjectUpdate{}, `{}`},
		{client.ProjectUpdate{AutoRecover: client.Ptr(true)}, `{"autoRecover":true}`},
		{client.ProjectUpdate{ClearAutoRecover: true}, `{"autoRecover":null}`},
		{client.ProjectUpdate{Breaker: &client.Breaker{Failures: &n}}, `{"breaker":{"failures":0}}`},
		{client.ProjectUpdate{ClearBreaker: true}, `{"breaker":null}`},
	} {
		b, err := json.Marshal(c.in)
		if err != nil || string(b) != c.want {
			t.Errorf("%+v marshals as %s (%v), want %s", c.in, b, err, c.want)
		}
	}
}
