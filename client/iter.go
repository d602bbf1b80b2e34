package client

import (
	"context"
	"iter"
	"net/url"
	"strconv"
	"time"
)

func (o *ListOptions) values() url.Values {
	v := url.Values{}
	if o == nil {
		return v
	}
	if o.Limit > 0 {
		v.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Cursor != "" {
		v.Set("cursor", o.Cursor)
	}
	return v
}

func (o *EventListOptions) values() url.Values {
	if o == nil {
		return url.Values{}
	}
	v := o.ListOptions.values()
	if o.Type != "" {
		v.Set("type", o.Type)
	}
	if o.IncludeOperational {
		v.Set("include", "operational")
	}
	return v
}

func (o *DeliveryListOptions) values() url.Values {
	if o == nil {
		return url.Values{}
	}
	v := o.ListOptions.values()
	for k, s := range map[string]string{"webhook": o.Webhook, "event": o.Event, "status": string(o.Status), "kind": string(o.Kind), "eventType": o.EventType} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if !o.Since.IsZero() {
		v.Set("since", o.Since.UTC().Format(time.RFC3339Nano))
	}
	if !o.Until.IsZero() {
		v.Set("until", o.Until.UTC().Format(time.RFC3339Nano))
	}
	return v
}

func (o *MessageListOptions) values() url.Values {
	if o == nil {
		return url.Values{}
	}
	v := o.ListOptions.values()
	if o.Platform != "" {
		v.Set("platform", o.Platform)
	}
	return v
}

// All iterates over every item of a list, page after page, from the
// cursor in the page function's first call (""). The first error ends the
// iteration, yielded with a zero item.
//
//	for wh, err := range client.All(ctx, func(ctx context.Context, cursor string) (*client.Page[client.Webhook], error) {
//		return c.ListWebhooks(ctx, "shop", &client.ListOptions{Cursor: cursor})
//	}) { … }
func All[T any](ctx context.Context, page func(ctx context.Context, cursor string) (*Page[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		cursor := ""
		for {
			p, err := page(ctx, cursor)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, item := range p.Data {
				if !yield(item, nil) {
					return
				}
			}
			if p.NextCursor == "" || p.NextCursor == cursor {
				return
			}
			cursor = p.NextCursor
		}
	}
}

// Projects iterates over every project (admin key).
func (c *Client) Projects(ctx context.Context) iter.Seq2[Project, error] {
	return All(ctx, func(ctx context.Context, cursor string) (*Page[Project], error) {
		return c.ListProjects(ctx, &ListOptions{Cursor: cursor, Limit: 100})
	})
}

// Keys iterates over a project's keys.
func (c *Client) Keys(ctx context.Context, project string) iter.Seq2[Key, error] {
	return All(ctx, func(ctx context.Context, cursor string) (*Page[Key], error) {
		return c.ListKeys(ctx, project, &ListOptions{Cursor: cursor, Limit: 100})
	})
}

// Webhooks iterates over a project's webhooks.
func (c *Client) Webhooks(ctx context.Context, project string) iter.Seq2[Webhook, error] {
	return All(ctx, func(ctx context.Context, cursor string) (*Page[Webhook], error) {
		return c.ListWebhooks(ctx, project, &ListOptions{Cursor: cursor, Limit: 100})
	})
}

// Events iterates over a project's events that match opts (nil: all); its
// Cursor is where to start, its Limit the page size.
func (c *Client) Events(ctx context.Context, project string, opts *EventListOptions) iter.Seq2[Event, error] {
	o := EventListOptions{ListOptions: ListOptions{Limit: 100}}
	if opts != nil {
		o = *opts
	}
	return All(ctx, func(ctx context.Context, cursor string) (*Page[Event], error) {
		if cursor != "" {
			o.Cursor = cursor
		}
		return c.ListEvents(ctx, project, &o)
	})
}

// Deliveries iterates over a project's deliveries that match opts (nil:
// all); its Cursor is where to start, its Limit the page size.
func (c *Client) Deliveries(ctx context.Context, project string, opts *DeliveryListOptions) iter.Seq2[Delivery, error] {
	o := DeliveryListOptions{ListOptions: ListOptions{Limit: 100}}
	if opts != nil {
		o = *opts
	}
	return All(ctx, func(ctx context.Context, cursor string) (*Page[Delivery], error) {
		if cursor != "" {
			o.Cursor = cursor
		}
		return c.ListDeliveries(ctx, project, &o)
	})
}

// EventDeliveries iterates over an event's deliveries.
func (c *Client) EventDeliveries(ctx context.Context, project, event string) iter.Seq2[Delivery, error] {
	return All(ctx, func(ctx context.Context, cursor string) (*Page[Delivery], error) {
		return c.ListEventDeliveries(ctx, project, event, &ListOptions{Cursor: cursor, Limit: 100})
	})
}

// Attempts iterates over a delivery's attempts, the latest first.
func (c *Client) Attempts(ctx context.Context, project, delivery string) iter.Seq2[Attempt, error] {
	return All(ctx, func(ctx context.Context, cursor string) (*Page[Attempt], error) {
		return c.ListAttempts(ctx, project, delivery, &ListOptions{Cursor: cursor, Limit: 100})
	})
}

// EventTypes iterates over a project's event catalog.
func (c *Client) EventTypes(ctx context.Context, project string) iter.Seq2[EventType, error] {
	return All(ctx, func(ctx context.Context, cursor string) (*Page[EventType], error) {
		return c.ListEventTypes(ctx, project, &ListOptions{Cursor: cursor, Limit: 100})
	})
}

// Platforms iterates over a project's platforms.
func (c *Client) Platforms(ctx context.Context, project string) iter.Seq2[Platform, error] {
	return All(ctx, func(ctx context.Context, cursor string) (*Page[Platform], error) {
		return c.ListPlatforms(ctx, project, &ListOptions{Cursor: cursor, Limit: 100})
	})
}

// Messages iterates over a project's sent messages that match opts (nil:
// all).
func (c *Client) Messages(ctx context.Context, project string, opts *MessageListOptions) iter.Seq2[Message, error] {
	o := MessageListOptions{ListOptions: ListOptions{Limit: 100}}
	if opts != nil {
		o = *opts
	}
	return All(ctx, func(ctx context.Context, cursor string) (*Page[Message], error) {
		if cursor != "" {
			o.Cursor = cursor
		}
		return c.ListMessages(ctx, project, &o)
	})
}
