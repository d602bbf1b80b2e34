package mqtt_test

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"

	"github.com/eclipse/paho.golang/paho"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/internal/testmqtt"
	"github.com/hookgate/hookgate/internal/testwait"
)

// persistentSubscriber subscribes to filter at QoS 1 on a session the
// broker keeps (on disk, across its restarts); connect connects it again.
type persistentSubscriber struct {
	t    *testing.T
	srv  *testmqtt.Server
	mu   sync.Mutex
	seen map[string]bool
}

func (s *persistentSubscriber) connect(filter string) {
	s.t.Helper()
	conn, err := net.Dial("tcp", s.srv.Addr())
	if err != nil {
		s.t.Fatal(err)
	}
	c := paho.NewClient(paho.ClientConfig{Conn: conn, OnPublishReceived: []func(paho.PublishReceived) (bool, error){
		func(r paho.PublishReceived) (bool, error) {
			s.mu.Lock()
			s.seen[r.Packet.Properties.User.Get("webhook-id")] = true
			s.mu.Unlock()
			return true, nil
		},
	}})
	expiry := uint32(600)
	if _, err := c.Connect(context.Background(), &paho.Connect{ClientID: "fault-sub", CleanStart: false, KeepAlive: 30,
		Properties: &paho.ConnectProperties{SessionExpiryInterval: &expiry}}); err != nil {
		s.t.Fatalf("subscriber's CONNECT: %v", err)
	}
	s.t.Cleanup(func() { _ = c.Disconnect(&paho.Disconnect{}) })
	if _, err := c.Subscribe(context.Background(), &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: 1}}}); err != nil {
		s.t.Fatalf("SUBSCRIBE: %v", err)
	}
}

func (s *persistentSubscriber) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen)
}

// A broker that restarts in the middle of a stream of deliveries loses
// none: each attempt is either acknowledged or retryable, and the retries
// of the retryable ones (as the dispatcher makes them) land once the
// broker is back; a subscriber's persistent session receives every one.
func TestRestartMidStreamLosesNothing(t *testing.T) {
	t.Parallel()
	srv := testmqtt.Start(t)
	sub := &persistentSubscriber{t: t, srv: srv, seen: map[string]bool{}}
	sub.connect("stream")
	d := newDestination(t)
	w := webhook(srv, "stream", 1)
	const n = 200
	var wg sync.WaitGroup
	pending := make(chan string, n)
	for i := range n {
		if i == n/2 { // while the first half is in flight
			srv.Restart()
			sub.connect("stream")
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := "dlv_" + strconv.Itoa(i)
			switch o := d.Send(context.Background(), w, message(id)); o.Class {
			case hookgate.OutcomeSuccess:
			case hookgate.OutcomeRetryable:
				pending <- id
			default:
				t.Errorf("%s: %+v", id, o)
			}
		}()
	}
	wg.Wait()
	close(pending)
	t.Logf("%d of %d attempts failed, retryable, during the restart", len(pending), n)
	for id := range pending {
		testwait.For(t, "a retry of "+id+" to succeed", func() bool {
			return d.Send(context.Background(), w, message(id)).Class == hookgate.OutcomeSuccess
		})
	}
	testwait.For(t, "the subscriber to have every delivery", func() bool { return sub.count() == n })
}
