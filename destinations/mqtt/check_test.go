package mqtt_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/destinations/mqtt"
	"github.com/hookgate/hookgate/internal/testmqtt"
	"github.com/hookgate/hookgate/internal/testwait"
)

// Check refuses a bad configuration naming the field.
func TestCheck(t *testing.T) {
	t.Parallel()
	srv := testmqtt.Start(t)
	d := newDestination(t)
	cases := []struct {
		name, param string
		change      func(w *hookgate.Webhook)
	}{
		{"Credentials", "destination.url", func(w *hookgate.Webhook) { w.DestinationConfig.URL = "mqtt://u:p@" + srv.Addr() }},
		{"Scheme", "destination.url", func(w *hookgate.Webhook) { w.DestinationConfig.URL = "tcp://" + srv.Addr() }},
		{"Path", "destination.url", func(w *hookgate.Webhook) { w.DestinationConfig.URL = srv.URL() + "/orders" }},
		{"Query", "destination.url", func(w *hookgate.Webhook) { w.DestinationConfig.URL = srv.URL() + "?x=1" }},
		{"Port", "destination.url", func(w *hookgate.Webhook) { w.DestinationConfig.URL = "mqtt://127.0.0.1:70000" }},
		{"NoTopic", "destination.topic", func(w *hookgate.Webhook) { delete(w.DestinationConfig.Fields, "topic") }},
		{"TopicNotString", "destination.topic", func(w *hookgate.Webhook) { w.DestinationConfig.Fields["topic"] = json.RawMessage(`7`) }},
		{"TopicPlus", "destination.topic", func(w *hookgate.Webhook) { w.DestinationConfig.Fields["topic"] = json.RawMessage(`"a/+/b"`) }},
		{"TopicHash", "destination.topic", func(w *hookgate.Webhook) { w.DestinationConfig.Fields["topic"] = json.RawMessage(`"a/#"`) }},
		{"TopicNUL", "destination.topic", func(w *hookgate.Webhook) { w.DestinationConfig.Fields["topic"] = json.RawMessage(`"a\u0000b"`) }},
		{"TopicLong", "destination.topic", func(w *hookgate.Webhook) {
			w.DestinationConfig.Fields["topic"] = json.RawMessage(`"` + strings.Repeat("a", mqtt.MaxTopicLength+1) + `"`)
		}},
		{"TopicSys", "destination.topic", func(w *hookgate.Webhook) { w.DestinationConfig.Fields["topic"] = json.RawMessage(`"$SYS/x"`) }},
		{"QoS3", "destination.qos", func(w *hookgate.Webhook) { w.DestinationConfig.Fields["qos"] = json.RawMessage(`3`) }},
		{"QoSString", "destination.qos", func(w *hookgate.Webhook) { w.DestinationConfig.Fields["qos"] = json.RawMessage(`"1"`) }},
		{"UnknownField", "destination.subject", func(w *hookgate.Webhook) { w.DestinationConfig.Fields["subject"] = json.RawMessage(`"x"`) }},
		{"ShareGroup", "destination.shareGroup", func(w *hookgate.Webhook) { w.DestinationConfig.Fields["shareGroup"] = json.RawMessage(`"g"`) }},
		{"UserOnly", "destination.auth.password", func(w *hookgate.Webhook) { w.DestinationConfig.Auth.Username = "u" }},
		{"Token", "destination.auth.token", func(w *hookgate.Webhook) { w.DestinationConfig.Auth.Token = "t" }},
	}
	for _, c := range cases {
		w := webhook(srv, "orders", 1)
		c.change(w)
		err := d.Check(w)
		he, ok := err.(*hookgate.Error)
		if !ok || he.Param != c.param || he.Code != hookgate.EInvalidParameter && he.Code != hookgate.EMissingParameter {
			t.Errorf("%s: %v, want an invalid %s", c.name, err, c.param)
			continue
		}
		if c.name == "Credentials" && strings.Contains(err.Error(), ":p@") {
			t.Errorf("the error repeats the password: %v", err)
		}
	}
	for _, topic := range []string{"orders", "a/b/c", "/leading", "ünïcode/topic"} {
		if err := d.Check(webhook(srv, topic, 2)); err != nil {
			t.Errorf("topic %q: %v", topic, err)
		}
	}
}

// Probe connects with the webhook's credentials and publishes nothing; a
// broker that does not answer is refused naming destination.url, bad
// credentials naming destination.auth.password.
func TestProbe(t *testing.T) {
	t.Parallel()
	srv := testmqtt.StartWith(t, testmqtt.Options{Users: map[string]string{"hookgate": "broker-pass-1", "reader": "reader-pass-1"}})
	d := newDestination(t)
	msgs := subscribe(t, srv, "#", "reader", "reader-pass-1")
	w := webhook(srv, "orders", 1)
	w.DestinationConfig.Auth = hookgate.DestinationAuth{Username: "hookgate", Password: "broker-pass-1"}
	if err := d.Probe(context.Background(), w); err != nil {
		t.Fatalf("probe of a live broker: %v", err)
	}
	if o := d.Send(context.Background(), w, message("dlv_after_probe")); o.Class != hookgate.OutcomeSuccess {
		t.Fatalf("send: %+v", o)
	}
	// The first message the subscriber gets is the send's: the probe
	// published nothing before it.
	p := testwait.Recv(t, "the send's message", msgs)
	if p.Properties.User.Get("webhook-id") != "dlv_after_probe" {
		t.Fatalf("the probe published %+v", p)
	}
	w.DestinationConfig.Auth.Password = "wrong"
	if err := d.Probe(context.Background(), w); !isParam(err, "destination.auth.password") || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("probe with a wrong password: %v", err)
	}
	srv.Stop()
	if err := d.Probe(context.Background(), w); !isParam(err, "destination.url") || !strings.Contains(err.Error(), "did not answer") {
		t.Fatalf("probe of a stopped broker: %v", err)
	}
}

// A broker that speaks only MQTT 3.1.1 answers an MQTT 5 CONNECT with a
// 3.1.1 CONNACK, return code 1: refused at registration, naming
// destination.url and saying why MQTT 5 is needed. (The listener plays
// the part of such a broker: the CONNACK bytes are all it says.)
func TestProbeRefusesMQTT311(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 2)
				if _, err := io.ReadFull(c, buf); err != nil {
					return
				}
				_, _ = io.CopyN(io.Discard, c, int64(buf[1]))
				_, _ = c.Write([]byte{0x20, 0x02, 0x00, 0x01})
			}()
		}
	}()
	w := &hookgate.Webhook{Destination: mqtt.Name, DestinationConfig: hookgate.DestinationConfig{URL: "mqtt://" + l.Addr().String(),
		Fields: map[string]json.RawMessage{"topic": json.RawMessage(`"orders"`)}}}
	err = newDestination(t).Probe(context.Background(), w)
	if !isParam(err, "destination.url") || !strings.Contains(err.Error(), "must speak MQTT 5") {
		t.Fatalf("probe of an MQTT 3.1.1 broker: %v", err)
	}
}

func isParam(err error, param string) bool {
	he, ok := err.(*hookgate.Error)
	return ok && he.Param == param
}
