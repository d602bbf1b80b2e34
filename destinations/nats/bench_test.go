package natsdest_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/internal/testnats"
)

// BenchmarkSend measures one Send to a nats-server on loopback: the
// message signed and published, and the stream's ack awaited (a file
// stream, each delivery a new message ID).
func BenchmarkSend(b *testing.B) {
	srv := testnats.Start(b)
	srv.CreateStream("ORDERS", "orders.>")
	d := newDestination(b, 5*time.Second)
	w := webhook(srv, "orders.created")
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = "dlv_" + strconv.Itoa(i)
	}
	if o := d.Send(context.Background(), w, message("dlv_warm")); o.Class != hookgate.OutcomeSuccess {
		b.Fatalf("warm-up: %+v", o)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if o := d.Send(context.Background(), w, message(ids[i])); o.Class != hookgate.OutcomeSuccess {
			b.Fatalf("send %d: %+v", i, o)
		}
	}
}
