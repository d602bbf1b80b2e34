package ui

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/hookgate/hookgate/client"
)

// How lists name things. Hookgate's IDs are a prefix and 26 characters
// whose first ten are the time of creation, so that IDs made in the same
// minute begin alike; a delivery's ID is its event's and its webhook's
// characters together, 58 in all. Lists show an ID shortened to the end
// of its random part, where IDs differ, and keep it whole in the link and
// the title.

// shortTail is how many of an ID part's last characters a list shows.
const shortTail = 8

// shortID shortens an ID for a list: "wh_…k3f9x2ab"; a delivery of an
// event, "msg_…" and the tails of the event's and the webhook's parts,
// each a piece of the full ID. An ID that is not of that shape is kept.
func shortID(id string) string {
	prefix, rest, ok := strings.Cut(id, "_")
	switch {
	case !ok || len(rest) <= 2*shortTail:
		return id
	case len(rest) == 52:
		return prefix + "_…" + rest[26-shortTail:26] + "…" + rest[52-4:]
	}
	return prefix + "_…" + rest[len(rest)-shortTail:]
}

// webhookNames maps the IDs of webhooks to how lists name them: their uid,
// or their ID shortened (shortID). A webhook deleted since is named by its
// ID shortened.
type webhookNames map[string]string

// Name is the name of the webhook id, for the templates.
func (n webhookNames) Name(id string) string {
	if s, ok := n[id]; ok && s != "" {
		return s
	}
	return shortID(id)
}

// namesOf finds how to name the webhooks with the given IDs, one lookup a
// webhook.
func namesOf(ctx context.Context, se *session, project string, ids ...string) (webhookNames, error) {
	names := webhookNames{}
	for _, id := range ids {
		if _, seen := names[id]; seen || id == "" {
			continue
		}
		wh, err := se.c.GetWebhook(ctx, project, id)
		if isNotFound(err) {
			names[id] = shortID(id)
			continue
		}
		if err != nil {
			return nil, err
		}
		names[id] = listName(wh)
	}
	return names, nil
}

// listName is how lists name a webhook: its uid, or its ID shortened.
func listName(wh *client.Webhook) string {
	if wh.UID != "" {
		return wh.UID
	}
	return shortID(wh.ID)
}

// webhookIDs are the webhooks of deliveries.
func webhookIDs(ds []client.Delivery) []string {
	ids := make([]string, 0, len(ds))
	for _, d := range ds {
		ids = append(ids, d.WebhookID)
	}
	return ids
}

// isNotFound reports whether err is the API's 404.
func isNotFound(err error) bool {
	var e *client.Error
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}
