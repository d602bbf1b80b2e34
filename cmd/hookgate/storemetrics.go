package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hookgate/hookgate/sqlstore"
	"github.com/prometheus/client_golang/prometheus"
)

// topStreaks is how many webhooks hookgate_webhook_failure_streak names at
// most: the label pairs (project, webhook) of a scrape are bounded by it,
// however many webhooks fail.
const topStreaks = 20

// storeCollector exports the figures of the store an operator alerts on,
// read from the database at most every queueStatsEvery; like the queue's,
// they are the whole cluster's, the same on every node.
type storeCollector struct {
	store       *sqlstore.Store
	nodeTimeout time.Duration
	log         *slog.Logger

	webhooks, nodes, streaks *prometheus.Desc

	mu         sync.Mutex
	readAt     time.Time
	byStatus   map[string]int64
	nodeCounts map[string]int64
	top        []sqlstore.FailureStreak
}

// registerStoreMetrics registers the webhooks by status, the nodes alive
// and missing, and the longest failure streaks. A node is missing once its
// heartbeat is older than nodeTimeout.
func registerStoreMetrics(reg *prometheus.Registry, store *sqlstore.Store, nodeTimeout time.Duration, log *slog.Logger) {
	reg.MustRegister(&storeCollector{
		store: store, nodeTimeout: nodeTimeout, log: log,
		webhooks: prometheus.NewDesc("hookgate_webhooks", "Webhooks by status (active, deactivated, disabled), the whole cluster's.",
			[]string{"status"}, nil),
		nodes: prometheus.NewDesc("hookgate_nodes", "Nodes registered on the store by state: alive (heartbeat within the node timeout) or missing (silent for longer, not yet taken over).",
			[]string{"state"}, nil),
		streaks: prometheus.NewDesc("hookgate_webhook_failure_streak",
			fmt.Sprintf("Consecutive failed attempts (no answer, 5xx, 429) of the webhooks with the longest runs, at most %d, as their circuit breakers count them.", topStreaks),
			[]string{"project", "webhook"}, nil),
	})
}

// Describe implements prometheus.Collector.
func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.webhooks
	ch <- c.nodes
	ch <- c.streaks
}

// Collect implements prometheus.Collector. A figure the database does not
// give is left out of the scrape rather than made up; the others are sent.
func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := time.Now(); now.Sub(c.readAt) >= queueStatsEvery {
		c.readAt = now
		c.read(now)
	}
	for status, n := range c.byStatus {
		ch <- prometheus.MustNewConstMetric(c.webhooks, prometheus.GaugeValue, float64(n), status)
	}
	for state, n := range c.nodeCounts {
		ch <- prometheus.MustNewConstMetric(c.nodes, prometheus.GaugeValue, float64(n), state)
	}
	for _, s := range c.top {
		ch <- prometheus.MustNewConstMetric(c.streaks, prometheus.GaugeValue, float64(s.Failures), s.ProjectID, s.WebhookID)
	}
}

// read replaces the figures with the store's; each that fails is dropped
// until the next read. c.mu is held.
func (c *storeCollector) read(now time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var err error
	if c.byStatus, err = c.store.WebhookStatusCounts(ctx); err != nil {
		c.log.Debug("metrics: count the webhooks by status", "err", err)
	}
	c.nodeCounts = nil
	if alive, missing, err := c.store.NodeCounts(ctx, now.Add(-c.nodeTimeout)); err != nil {
		c.log.Debug("metrics: count the nodes", "err", err)
	} else {
		c.nodeCounts = map[string]int64{"alive": alive, "missing": missing}
	}
	if c.top, err = c.store.TopFailureStreaks(ctx, topStreaks); err != nil {
		c.log.Debug("metrics: read the longest failure streaks", "err", err)
	}
}
