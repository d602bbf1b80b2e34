package ui

import (
	"net/url"
	"strings"

	"github.com/hookgate/hookgate/client"
)

// A webhook's ordering in its create and edit forms (issue 24, item 1),
// beside its delivery settings: a select, Parallel (none) or In order per
// key (fifo), and the ordering key, a JSON Pointer into the event as
// delivered (empty: the whole webhook is one key). As for the delivery
// settings, the API's checks are the rules: a key with Parallel, or one
// that is not a JSON Pointer, is refused by the API next to its field.

// The form fields of the ordering, named as the API's fields.
const (
	fieldOrdering    = "ordering"
	fieldOrderingKey = "orderingKey"
)

// orderingOf is an ordering as the form sends it: "" is none, the
// default, so that a form that sends no choice asks for no change.
func orderingOf(v string) client.Ordering {
	if v = strings.TrimSpace(v); v == "" {
		return client.OrderingNone
	}
	return client.Ordering(v)
}

// createOrdering sets the ordering chosen in the registration form on in.
func createOrdering(in *client.WebhookCreate, v url.Values) {
	if v.Has(fieldOrdering) {
		in.Ordering = orderingOf(v.Get(fieldOrdering))
	}
	in.OrderingKey = strings.TrimSpace(v.Get(fieldOrderingKey))
}

// ownOrdering is wh's ordering as the edit form shows it.
func ownOrdering(wh *client.Webhook) url.Values {
	return url.Values{fieldOrdering: {string(orderingOf(string(wh.Ordering)))}, fieldOrderingKey: {wh.OrderingKey}}
}

// patchOrdering adds to p the ordering and the key typed where they
// differ from was (ownOrdering), and reports whether it added either. A
// key is compared trimmed, so that a key shown and sent back as it was is
// no change. Choosing Parallel with the key left as it was sends the
// ordering alone, which removes the key with it (the API's PATCH).
func patchOrdering(p *client.WebhookUpdate, was, typed url.Values) (changed bool) {
	if o := orderingOf(typed.Get(fieldOrdering)); o != orderingOf(was.Get(fieldOrdering)) {
		p.Ordering, changed = &o, true
	}
	if k := strings.TrimSpace(typed.Get(fieldOrderingKey)); k != strings.TrimSpace(was.Get(fieldOrderingKey)) {
		p.OrderingKey, changed = &k, true
	}
	return changed
}

// waitsBehindItsKey reports whether d is a pending delivery of a FIFO
// webhook with no attempt scheduled: it waits until the older deliveries
// of its ordering key are done.
func waitsBehindItsKey(d client.Delivery) bool {
	return d.Status == client.DeliveryPending && d.NextAttemptAt.IsZero() && d.OrderingKey != nil
}

// waitingRetryHint is what a waiting delivery's page says instead of
// offering Retry now: the API would only put it back in its key's line,
// where it is already.
const waitingRetryHint = "It waits behind an older delivery of its key and is sent once that one is done: Retry now would leave it where it is, in its key's line."

// orderingKey is d's ordering key; "" when it has none or it is empty.
func orderingKey(d client.Delivery) string {
	if d.OrderingKey == nil {
		return ""
	}
	return *d.OrderingKey
}

// keyLength is how many characters of an ordering key a list shows; the
// key is whole in the title and on the delivery's page.
const keyLength = 32

// listKey is an ordering key as a list shows it.
func listKey(key string) string { return clip(key, keyLength) }
