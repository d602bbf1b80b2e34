// Package delivery sends deliveries: the dispatcher that claims due rows
// from the store, sends each through its webhook's destination
// (hookgate.Destinations) and records the outcome, the HTTP sender that the
// HTTP destination and triggers share, the body every kind sends (Render:
// the event's envelope, or what the webhook's transform makes of it), and
// triggers themselves. The retry
// schedule is hookgate.Schedule; what counts as a retryable failure is the
// destination's to say.
package delivery
