package bench

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/hookgate/hookgate/client"
)

// mqttReader is an MQTT 5 client subscribed at QoS 1 to a topic of its
// own; nothing is retained, so close has only to disconnect.
type mqttReader struct {
	url, topic string
	client     *paho.Client
}

// openMQTT connects to b.MQTTURL over MQTT 5, with a clean session, and
// subscribes to a new topic at QoS 1.
func openMQTT(ctx context.Context, b Brokers, rec *receiver) (brokerReader, error) {
	u, err := url.Parse(b.MQTTURL)
	if err != nil {
		return nil, err
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "1883")
	}
	ctx, cancel := context.WithTimeout(ctx, brokerTimeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	suffix := randomHex(6)
	c := paho.NewClient(paho.ClientConfig{Conn: conn, OnPublishReceived: []func(paho.PublishReceived) (bool, error){
		func(p paho.PublishReceived) (bool, error) {
			rec.arrive(p.Packet.Payload, time.Now())
			return true, nil
		},
	}})
	if _, err := c.Connect(ctx, &paho.Connect{ClientID: "hookgate-bench-" + suffix, CleanStart: true, KeepAlive: 30}); err != nil {
		_ = conn.Close()
		return nil, err
	}
	r := &mqttReader{url: b.MQTTURL, topic: "hookgate/bench/" + suffix, client: c}
	sa, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: r.topic, QoS: 1}}})
	if err == nil && (len(sa.Reasons) != 1 || sa.Reasons[0] >= 0x80) {
		err = fmt.Errorf("the broker refused the subscription to %s (reason codes %v)", r.topic, sa.Reasons)
	}
	if err != nil {
		_ = r.close()
		return nil, err
	}
	return r, nil
}

func (r *mqttReader) destination() client.Destination {
	qos := 1
	return client.Destination{Kind: client.DestinationMQTT, URL: r.url, Topic: r.topic, QoS: &qos}
}

func (r *mqttReader) close() error {
	return r.client.Disconnect(&paho.Disconnect{ReasonCode: 0})
}
