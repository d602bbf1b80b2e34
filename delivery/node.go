package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"
)

// NewNodeID names a node by its host, its process and a random part, so
// that an operator reading the nodes table can tell where each runs, and a
// restarted process never takes a dead one's name.
func NewNodeID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "node"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// join registers this node before its first claim. Alone, it first takes
// back every lease left by the process before it; otherwise the rows of
// nodes whose heartbeat stopped are taken over at once.
func (d *Dispatcher) join(ctx context.Context) {
	now := d.cfg.Now()
	if err := d.cfg.Queue.Heartbeat(ctx, d.cfg.Node, now); err != nil && ctx.Err() == nil {
		d.storeError(opHeartbeat)
		d.cfg.Logger.Error("node heartbeat", "node", d.cfg.Node, "err", err)
	}
	if d.cfg.Alone {
		n, err := d.cfg.Queue.ReleaseLeases(ctx, d.cfg.Node)
		switch {
		case err != nil && ctx.Err() == nil:
			d.storeError(opTakeOver)
			d.cfg.Logger.Error("take back the deliveries claimed before a crash; they wait for their lease", "err", err)
		case n > 0:
			d.cfg.Logger.Info("took back deliveries claimed before a crash", "count", n)
		}
		return
	}
	d.takeOver(ctx, now)
}

// heartbeat beats every third of the node timeout until ctx ends, and
// takes over the rows of nodes that stopped beating.
func (d *Dispatcher) heartbeat(ctx context.Context) {
	t := time.NewTicker(d.cfg.NodeTimeout / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := d.cfg.Now()
		if err := d.cfg.Queue.Heartbeat(ctx, d.cfg.Node, now); err != nil && ctx.Err() == nil {
			d.storeError(opHeartbeat)
			d.cfg.Logger.Error("node heartbeat; other nodes take this one's deliveries over when it lasts", "node", d.cfg.Node, "err", err)
			continue
		}
		if !d.cfg.Alone {
			d.takeOver(ctx, now)
		}
	}
}

// takeOver gives back the rows of the nodes silent for the node timeout,
// and wakes the claim loop when there were some.
func (d *Dispatcher) takeOver(ctx context.Context, now time.Time) {
	nodes, n, err := d.cfg.Queue.TakeOver(ctx, d.cfg.Node, now.Add(-d.cfg.NodeTimeout))
	if err != nil {
		if ctx.Err() == nil {
			d.storeError(opTakeOver)
			d.cfg.Logger.Error("take over the deliveries of silent nodes", "err", err)
		}
		return
	}
	if nodes > 0 {
		d.nodesLost.Add(float64(nodes))
		d.cfg.Logger.Warn("nodes whose heartbeat stopped were forgotten", "nodes", nodes, "timeout", d.cfg.NodeTimeout.String())
	}
	if n > 0 {
		d.cfg.Logger.Warn("took over the deliveries of a node whose heartbeat stopped", "count", n, "timeout", d.cfg.NodeTimeout.String())
		d.Wake()
	}
}

// leave forgets this node once it has given its rows back and recorded
// its outcomes.
func (d *Dispatcher) leave() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := d.cfg.Queue.Leave(ctx, d.cfg.Node)
	if err != nil {
		d.cfg.Logger.Warn("remove this node from the nodes table; the others forget it after the node timeout", "node", d.cfg.Node, "err", err)
	}
	d.mu.Lock()
	d.report.Left = n
	d.mu.Unlock()
}
