package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/platforms"
)

// MaxProviderRetryAfter bounds how long a send waits for a provider's 429
// before its one retry.
const MaxProviderRetryAfter = 5 * time.Second

type messageOut struct {
	ID                string    `json:"id"`
	PlatformID        string    `json:"platformId"`
	To                string    `json:"to"`
	Text              string    `json:"text"`
	ProviderMessageID string    `json:"providerMessageId" doc:"The provider's ID of the message; empty when it failed"`
	Status            string    `json:"status" enum:"sent,failed"`
	Error             string    `json:"error,omitempty" doc:"Why the provider refused or could not be reached"`
	CreatedAt         time.Time `json:"createdAt"`
}

func toMessage(m *hookgate.Message) messageOut {
	return messageOut{ID: m.ID, PlatformID: m.PlatformID, To: m.To, Text: m.Text, ProviderMessageID: m.ProviderMessageID,
		Status: m.Status, Error: m.Error, CreatedAt: utc(m.CreatedAt)}
}

// messageRoutes are the operations on messages sent through platforms.
func (s *Server) messageRoutes() []route {
	tags := "Platforms"
	path := base + "/projects/{project}/messages"
	send := op("sendMessage", http.MethodPost, path, "Send a message through a platform", accessPublisher, http.StatusCreated, tags)
	send.Description = "Sends text through the platform's provider (Telegram sendMessage, a Discord channel message, " +
		"WhatsApp Cloud messages, Slack chat.postMessage) and records it. A provider's 429 is retried once after its " +
		"Retry-After (at most 5 s); any other refusal is a 502 with the provider's message, and is recorded too."
	send.Errors = append(send.Errors, http.StatusConflict, http.StatusBadGateway)
	return []route{
		{op: send, handle: handle(s.handleSendMessage)},
		{op: op("listMessages", http.MethodGet, path, "List sent messages", accessOwner, http.StatusOK, tags), handle: handle(s.handleListMessages)},
	}
}

// handleSendMessage handles sendMessage: Send a message through a platform.
func (s *Server) handleSendMessage(ctx context.Context, in *struct {
	ProjectRef
	Body struct {
		PlatformID string `json:"platformId" maxLength:"64"`
		To         string `json:"to" minLength:"1" maxLength:"256" doc:"Chat, channel or phone number, as the provider names it"`
		Text       string `json:"text" minLength:"1" maxLength:"4096"`
	}
}) (*struct{ Body messageOut }, error) {
	p, prov, err := s.platform(ctx, in.Body.PlatformID)
	if hookgate.ErrorCode(err) == hookgate.ENotFound {
		return nil, hookgate.InvalidParam("platformId", in.Body.PlatformID, "platformId names no platform of this project")
	}
	if err != nil {
		return nil, err
	}
	call := s.call(p, prov)
	sent, err := prov.Send(ctx, call, in.Body.To, in.Body.Text)
	var pe *platforms.ProviderError
	if errors.As(err, &pe) && pe.Status == http.StatusTooManyRequests && pe.RetryAfter <= MaxProviderRetryAfter {
		t := time.NewTimer(max(pe.RetryAfter, 100*time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
			sent, err = prov.Send(ctx, call, in.Body.To, in.Body.Text)
		}
	}
	if errors.Is(err, platforms.ErrUnsupported) {
		return nil, hookgate.InvalidParam("platformId", p.ID, "a %s platform cannot send messages", p.Provider)
	}
	var he *hookgate.Error
	if errors.As(err, &he) {
		return nil, err // the input does not fit the platform: nothing was sent
	}
	now := s.now()
	m := &hookgate.Message{ID: hookgate.NewID(hookgate.PrefixMessage, now), ProjectID: p.ProjectID, PlatformID: p.ID,
		To: in.Body.To, Text: in.Body.Text, Status: hookgate.MessageSent, CreatedAt: now}
	failure := error(nil)
	if err != nil {
		failure = s.providerFailure(err, p)
		m.Status, m.Error = hookgate.MessageFailed, hookgate.ErrorMessage(failure)
	} else {
		m.ProviderMessageID = sent.ProviderMessageID
	}
	if err := s.store.CreateMessage(context.WithoutCancel(ctx), m); err != nil {
		return nil, err
	}
	if failure != nil {
		return nil, failure
	}
	return &struct{ Body messageOut }{Body: toMessage(m)}, nil
}

// handleListMessages handles listMessages: List sent messages.
func (s *Server) handleListMessages(ctx context.Context, in *struct {
	ProjectRef
	PageParams
	Platform string `query:"platform" maxLength:"64" doc:"Only messages sent through this platform"`
}) (*listOutput[messageOut], error) {
	list, next, err := s.store.ListMessages(ctx, projectID(ctx), in.Platform, in.page())
	if err != nil {
		return nil, err
	}
	return listOf(list, next, toMessage), nil
}
