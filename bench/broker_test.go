package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/nats-io/nats.go/jetstream"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/internal/testmqtt"
	"github.com/hookgate/hookgate/internal/testnats"
	"github.com/hookgate/hookgate/internal/testredis"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/sqlstore"
)

func TestSeqBodyRoundTrip(t *testing.T) {
	t.Parallel()
	sent := time.Unix(1765051200, 123456789)
	rec, _ := newSeqReceiver(false)
	// The body as a destination delivers it: the envelope around the data.
	body := `{"type":"order.created","timestamp":"2026-12-06T20:00:00Z","data":` +
		strings.TrimSuffix(strings.TrimPrefix(string(seqBody(42, sent)), `{"type":"order.created","data":`), "}") + "}"
	at := sent.Add(3 * time.Millisecond)
	rec.arrive([]byte(body), at)
	rec.arrive([]byte(body), at.Add(time.Second))    // a repeat
	rec.arrive([]byte(`{"type":"x","data":{}}`), at) // not the bench's
	if got, repeats := rec.snapshot(); !got[deliveryKey("42", "")].Equal(at) || repeats != 2 {
		t.Fatalf("arrivals %v, %d repeats; want seq 42 at its first arrival, 2 repeats", got, repeats)
	}
	lat := sendToArrival(rec, []accepted{{id: "42"}, {id: "43"}})
	if len(lat) != 1 || lat[0] != 3*time.Millisecond {
		t.Fatalf("send to arrival %v; want [3ms] (43 never came)", lat)
	}
}

func TestParseBrokerScenarios(t *testing.T) {
	t.Parallel()
	if s, err := ParseScenarios("brokers"); err != nil || strings.Join(s, ",") != strings.Join(BrokerScenarios, ",") {
		t.Fatalf("brokers = %v, %v", s, err)
	}
	if s, err := ParseScenarios("throughput,broker-nats"); err != nil || len(s) != 2 || s[1] != "broker-nats" {
		t.Fatalf("a broker scenario by name = %v, %v", s, err)
	}
	if s, err := ParseScenarios("all,brokers"); err != nil || len(s) != len(Scenarios)+len(BrokerScenarios) {
		t.Fatalf("all,brokers = %v, %v", s, err)
	}
	if _, err := ParseScenarios("broker-kafka"); err == nil || !strings.Contains(err.Error(), "brokers") {
		t.Fatalf("an unknown broker scenario: %v", err)
	}
}

func TestBrokerURLsMustBeLoopback(t *testing.T) {
	t.Parallel()
	kind := brokerKinds["broker-nats"]
	for _, bad := range []string{"nats://10.0.0.1:4222", "nats://localhost:4222", "nats://[::1]:4222", "redis://127.0.0.1:4222", "nats://u:p@127.0.0.1:4222", "127.0.0.1:4222", ""} {
		if err := checkBrokerURL(kind, bad); err == nil || !strings.Contains(err.Error(), "--nats-url") {
			t.Errorf("checkBrokerURL(%q) = %v; want an error naming --nats-url", bad, err)
		}
	}
	if err := checkBrokerURL(kind, "nats://127.0.0.2:4222"); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), Config{Scenarios: []string{"broker-nats"}, Duration: time.Second, Concurrency: 1, Rate: 1, Backlog: 1, Fanout: 1,
		Brokers: Brokers{NATSURL: "nats://192.0.2.1:4222"}})
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("Run with a broker off loopback: %v", err)
	}
}

// TestKindMissingIsTheServersAnswer asks a real server for a webhook of a
// kind it does not have: that answer, and no other, skips a scenario.
func TestKindMissingIsTheServersAnswer(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t, sqlstore.EngineSQLite)
	c, err := client.New(srv.URL, apitest.AdminKey)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.CreateProject(ctx, client.ProjectCreate{Name: "bench", Slug: "bench"}); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateWebhook(ctx, "bench", client.WebhookCreate{Destination: &client.Destination{Kind: "pigeon", URL: "pigeon://127.0.0.1:1"}})
	if !kindMissing(err) {
		t.Fatalf("a kind the server lacks: %v; want it seen as missing", err)
	}
	// Another refusal of a destination is an error, not a skip.
	_, err = c.CreateWebhook(ctx, "bench", client.WebhookCreate{Destination: &client.Destination{Kind: client.DestinationRedisStream, URL: "redis://127.0.0.1:1/0"}})
	if err == nil || kindMissing(err) {
		t.Fatalf("a redis-stream destination without a stream: %v; want an error that is not a missing kind", err)
	}
}

// checkReader opens kind's reader on b, publishes one event's body as a
// destination of the kind would with publish, and checks that the reader
// records it with its send time; then closes the reader.
func checkReader(t *testing.T, kind string, b Brokers, publish func(d client.Destination, body []byte) error) {
	t.Helper()
	rec, _ := newSeqReceiver(false)
	r, err := brokerKinds[kind].open(context.Background(), b.withDefaults(), rec)
	if err != nil {
		t.Fatal(err)
	}
	sent := time.Now().Truncate(time.Microsecond)
	body := seqBody(7, sent)
	if err := publish(r.destination(), body); err != nil {
		_ = r.close()
		t.Fatal(err)
	}
	testwait.For(t, kind+"'s reader to read the message", func() bool { return rec.counted() == 1 })
	if lat := sendToArrival(rec, []accepted{{id: "7"}}); len(lat) != 1 || lat[0] <= 0 {
		t.Fatalf("send to arrival %v", lat)
	}
	if err := r.close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

func TestRedisReader(t *testing.T) {
	t.Parallel()
	srv := testredis.Start(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer c.Close()
	var stream string
	checkReader(t, "broker-redis-stream", Brokers{RedisURL: srv.URL()}, func(d client.Destination, body []byte) error {
		stream = d.Stream
		return c.XAdd(context.Background(), &redis.XAddArgs{Stream: d.Stream, Values: []any{"webhook-id", "msg_1", "body", body}}).Err()
	})
	if n, err := c.Exists(context.Background(), stream).Result(); err != nil || n != 0 {
		t.Fatalf("the stream is still there after close: %d, %v", n, err)
	}
}

func TestNATSReader(t *testing.T) {
	t.Parallel()
	srv := testnats.Start(t)
	u := srv.URL()
	js := srv.JetStream()
	ctx := context.Background()
	var stream string
	checkReader(t, "broker-nats", Brokers{NATSURL: u}, func(d client.Destination, body []byte) error {
		ack, err := js.Publish(ctx, d.Subject, body) // acked: a stream captures the subject
		if err == nil {
			stream = ack.Stream
		}
		return err
	})
	if _, err := js.Stream(ctx, stream); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("stream %q after close: %v; want it deleted", stream, err)
	}
}

func TestMQTTReader(t *testing.T) {
	t.Parallel()
	addr := testmqtt.Start(t).Addr()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	pub := paho.NewClient(paho.ClientConfig{Conn: conn})
	ctx := context.Background()
	if _, err := pub.Connect(ctx, &paho.Connect{ClientID: "bench-test-publisher", CleanStart: true, KeepAlive: 30}); err != nil {
		t.Fatal(err)
	}
	defer pub.Disconnect(&paho.Disconnect{}) //nolint:errcheck // the test is over
	checkReader(t, "broker-mqtt", Brokers{MQTTURL: "mqtt://" + addr}, func(d client.Destination, body []byte) error {
		if d.QoS == nil || *d.QoS != 1 {
			return fmt.Errorf("qos %v; want 1", d.QoS)
		}
		_, err := pub.Publish(ctx, &paho.Publish{Topic: d.Topic, QoS: 1, Payload: body})
		return err
	})
}

// TestAMQPReader uses the machine's RabbitMQ (guest/guest on
// 127.0.0.1:5672), as the amqp destination's tests do; the reader's
// exchange and queue have names of their own and are deleted.
func TestAMQPReader(t *testing.T) {
	t.Parallel()
	conn, err := amqp.DialConfig(DefaultAMQPURL, amqp.Config{Dial: amqp.DefaultDial(brokerTimeout)})
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("RabbitMQ does not answer at %s: CI runs it: %v", DefaultAMQPURL, err)
		}
		t.Skipf("RabbitMQ does not answer at %s (apt-get install rabbitmq-server): %v", DefaultAMQPURL, err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	var queue string
	checkReader(t, "broker-amqp", Brokers{}, func(d client.Destination, body []byte) error {
		queue = *d.Exchange
		if d.Auth == nil || d.Auth.Username != "guest" || d.RoutingKey != amqpRoutingKey {
			return fmt.Errorf("destination %+v", d)
		}
		conf, err := ch.PublishWithDeferredConfirmWithContext(context.Background(), *d.Exchange, d.RoutingKey, true, false,
			amqp.Publishing{ContentType: "application/json", DeliveryMode: amqp.Persistent, Body: body})
		if err != nil {
			return err
		}
		if ok, err := conf.WaitContext(context.Background()); !ok || err != nil {
			return fmt.Errorf("not confirmed: %v", err)
		}
		return nil
	})
	probe, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := probe.QueueDeclarePassive(queue, true, false, false, false, nil); err == nil {
		t.Fatalf("queue %s is still there after close", queue)
	}
}

// TestBrokerReport checks how a broker scenario that ran and one that was
// skipped read in the table and the JSON.
func TestBrokerReport(t *testing.T) {
	t.Parallel()
	rs := []*Result{
		{Scenario: "broker-redis-stream", Store: "sqlite", DeliveriesPerS: 900, Broker: &BrokerFigures{Kind: "redis-stream", DeliveriesPerS: 900, HTTPDeliveriesPerS: 1000,
			RatioToHTTP: 0.9, CPUMsPerDelivery: 0.25, HTTPCPUMsPerDelivery: 0.3, OfferedPerS: 1000, SendToArrivalMs: Latency{P50: 2, P99: 9}, HTTPSendToArrivalMs: Latency{P50: 1.5, P99: 7}}},
		{Scenario: "broker-nats", Store: "sqlite", Skipped: "this build has no nats destination"},
	}
	var table strings.Builder
	if err := WriteTable(&table, rs); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"broker-redis-stream: 900 deliveries/s, 0.90× HTTP's 1000/s under the same flood (CPU 0.250 vs 0.300 ms/dlv); send→arrival at 1000/s p50 2.0 ms, p99 9.0 ms (HTTP p50 1.5 ms, p99 7.0 ms)",
		"broker-nats: skipped: this build has no nats destination",
		"broker-*: the row is the kind's run",
	} {
		if !strings.Contains(table.String(), want) {
			t.Fatalf("the table lacks %q:\n%s", want, table.String())
		}
	}
	if strings.Count(table.String(), "broker-nats") != 1 {
		t.Fatalf("a skipped scenario has a row of figures:\n%s", table.String())
	}
	var out strings.Builder
	if err := WriteJSON(&out, Parameters{}, rs); err != nil {
		t.Fatal(err)
	}
	var doc struct{ Results []map[string]any }
	if err := json.Unmarshal([]byte(out.String()), &doc); err != nil {
		t.Fatal(err)
	}
	if skipped := doc.Results[1]; len(skipped) != 3 || skipped["skipped"] != "this build has no nats destination" {
		t.Fatalf("the skipped scenario in JSON: %v; want its scenario, store and why alone", skipped)
	}
	if b, _ := doc.Results[0]["broker"].(map[string]any); b["ratio_to_http"] != 0.9 || doc.Results[0]["deliveries_per_s"] != float64(900) {
		t.Fatalf("the broker scenario in JSON: %v", doc.Results[0])
	}
}
