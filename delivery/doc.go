// Package delivery sends deliveries: the dispatcher that claims due rows
// from the store, sends each through its webhook's destination
// (hookgate.Destinations) and records the outcome, the HTTP sender that the
// HTTP destination and triggers share, and triggers themselves. The retry
// schedule is hookgate.Schedule; what counts as a retryable failure is the
// destination's to say.
package delivery
