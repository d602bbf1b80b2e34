package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/hookgate/hookgate"
)

// MaxNodeName is the longest node name.
const MaxNodeName = 64

// NewNodeName names a node by its host and a short random part (web-1-3f9a2c),
// so that an operator reading the nodes table or an attempt can tell where
// each runs, and two processes on one host get two names. A node that must
// keep its name across restarts (a StatefulSet, a systemd unit) is given one
// instead (serve's --node-name).
func NewNodeName() string {
	host, err := os.Hostname()
	if err != nil {
		host = ""
	}
	clean := []byte(host)
	for i, c := range clean {
		if !nodeNameByte(c) {
			clean[i] = '-'
		}
	}
	if len(clean) == 0 {
		clean = []byte("node")
	}
	var b [3]byte
	_, _ = rand.Read(b[:])
	suffix := "-" + hex.EncodeToString(b[:])
	return string(clean[:min(len(clean), MaxNodeName-len(suffix))]) + suffix
}

// NewIncarnation returns a random value that tells this process from every
// other that ran, or runs, under the same node name.
func NewIncarnation() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// CheckNodeName accepts 1 to MaxNodeName letters, digits, '.', '-' and '_'.
func CheckNodeName(name string) error {
	if name == "" || len(name) > MaxNodeName {
		return fmt.Errorf("must be 1 to %d characters long, not %d", MaxNodeName, len(name))
	}
	for i := 0; i < len(name); i++ {
		if !nodeNameByte(name[i]) {
			return fmt.Errorf("%q has %q: a node name is made of letters, digits, '.', '-' and '_'", name, name[i])
		}
	}
	return nil
}

func nodeNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_'
}

// join registers this node before its first claim. Alone, it first takes
// back every lease left by the process before it; otherwise the rows of
// nodes whose heartbeat stopped are taken over at once.
func (d *Dispatcher) join(ctx context.Context) {
	now := d.cfg.Now()
	if !d.beat(ctx, now) {
		return
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
		if !d.beat(ctx, now) {
			continue
		}
		if !d.cfg.Alone {
			d.takeOver(ctx, now)
		}
	}
}

// beat records this node's heartbeat, and reports whether it did. When
// another process holds the node's name, it closes displaced.
func (d *Dispatcher) beat(ctx context.Context, now time.Time) bool {
	err := d.cfg.Queue.Heartbeat(ctx, d.cfg.Node, d.cfg.Incarnation, now)
	switch {
	case err == nil:
		return true
	case errors.Is(err, hookgate.ErrNodeNameTaken):
		d.displacedOnce.Do(func() {
			d.cfg.Logger.Error("another live process runs under this node's name (--node-name): this one stops claiming and exits; give each node a name of its own",
				"node", d.cfg.Node)
			close(d.displaced)
		})
	case ctx.Err() == nil:
		d.storeError(opHeartbeat)
		d.cfg.Logger.Error("node heartbeat; other nodes take this one's deliveries over when it lasts", "node", d.cfg.Node, "err", err)
	}
	return false
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
	n, err := d.cfg.Queue.Leave(ctx, d.cfg.Node, d.cfg.Incarnation)
	if err != nil {
		d.cfg.Logger.Warn("remove this node from the nodes table; the others forget it after the node timeout", "node", d.cfg.Node, "err", err)
	}
	d.mu.Lock()
	d.report.Left = n
	d.mu.Unlock()
}
