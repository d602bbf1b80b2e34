package mqtt_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/internal/testmqtt"
)

// BenchmarkSend measures one Send to a mosquitto on loopback, on the
// pool's connection, at each QoS: the signature, the PUBLISH and, at QoS
// 1 and 2, the wait for the broker's acknowledgement.
func BenchmarkSend(b *testing.B) {
	srv := testmqtt.Start(b)
	for _, qos := range []int{0, 1, 2} {
		b.Run("QoS"+strconv.Itoa(qos), func(b *testing.B) {
			d := newDestination(b)
			w := webhook(srv, "bench", qos)
			m := message("dlv_bench")
			if o := d.Send(context.Background(), w, m); o.Class != hookgate.OutcomeSuccess {
				b.Fatalf("%+v", o)
			}
			b.ReportAllocs()
			for b.Loop() {
				if o := d.Send(context.Background(), w, m); o.Class != hookgate.OutcomeSuccess {
					b.Fatalf("%+v", o)
				}
			}
		})
	}
}
