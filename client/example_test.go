package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
)

// hookgateURL is the server the examples call; TestMain starts one on a
// SQLite store in a temporary directory (in real use, client.DefaultURL or
// HOOKGATE_URL).
var hookgateURL string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hookgate-client-example-")
	if err != nil {
		log.Fatal(err)
	}
	store, err := openSQLite(dir)
	if err != nil {
		log.Fatal(err)
	}
	s := apitest.Start(store)
	hookgateURL = s.URL
	code := m.Run()
	s.Close()
	store.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// A project, a webhook and an event: the receiver gets the event, signed.
func Example() {
	ctx := context.Background()
	admin, err := client.New(hookgateURL, adminKey) // the admin key from the server's data dir
	if err != nil {
		log.Fatal(err)
	}
	if _, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "Shop", Slug: "example-shop"}); err != nil {
		log.Fatal(err)
	}
	key, err := admin.CreateKey(ctx, "example-shop", client.KeyCreate{Name: "backend", Role: client.RoleOwner})
	if err != nil {
		log.Fatal(err)
	}
	c, err := client.New(hookgateURL, key.Key)
	if err != nil {
		log.Fatal(err)
	}

	got := make(chan string, 1)
	var secret string
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := client.Verify(secret, r.Header, body); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		got <- r.Header.Get("webhook-id")
	}))
	defer receiver.Close()

	wh, err := c.CreateWebhook(ctx, "example-shop", client.WebhookCreate{URL: receiver.URL + "/hooks", Events: []string{"order.*"}})
	if err != nil {
		log.Fatal(err)
	}
	secret = wh.Secret // shown here and by GetWebhookSecret
	ev, err := c.SendEvent(ctx, "example-shop", client.EventSend{Type: "order.paid", Data: map[string]any{"order": 1042}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("deliveries:", ev.Deliveries)
	select {
	case id := <-got:
		d, err := c.GetDelivery(ctx, "example-shop", id) // webhook-id is the delivery's ID
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("received a signed", d.EventType)
	case <-time.After(10 * time.Second):
		fmt.Println("nothing received")
	}
	// Output:
	// deliveries: 1
	// received a signed order.paid
}

// A receiver checks each request before it trusts the body.
func ExampleVerify() {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // the webhook's secret
	handler := func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "cannot read the body", http.StatusBadRequest)
			return
		}
		if err := client.Verify(secret, r.Header, body); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent) // then handle body
	}
	// A forged request:
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/hooks", nil)
	req.Header.Set("webhook-id", "dlv_1")
	req.Header.Set("webhook-timestamp", fmt.Sprint(time.Now().Unix()))
	req.Header.Set("webhook-signature", "v1,Zm9yZ2Vk")
	handler(rec, req)
	fmt.Println(rec.Code)
	// Output: 401
}

// Iterate over every page of a list.
func ExampleClient_Webhooks() {
	ctx := context.Background()
	c, err := client.New(hookgateURL, adminKey)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.CreateProject(ctx, client.ProjectCreate{Name: "Many", Slug: "example-many"}); err != nil {
		log.Fatal(err)
	}
	for i := range 3 {
		_, err := c.CreateWebhook(ctx, "example-many", client.WebhookCreate{URL: fmt.Sprintf("http://127.0.0.1:9/hook/%d", i)})
		if err != nil {
			log.Fatal(err)
		}
	}
	n := 0
	for wh, err := range c.Webhooks(ctx, "example-many") {
		if err != nil {
			log.Fatal(err)
		}
		_ = wh.URL
		n++
	}
	fmt.Println(n, "webhooks")
	// Output: 3 webhooks
}

// Errors carry the API's problem: its code and the parameter at fault.
func ExampleError() {
	ctx := context.Background()
	c, err := client.New(hookgateURL, adminKey)
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.CreateProject(ctx, client.ProjectCreate{Name: "Bad", Slug: "Not A Slug"})
	var e *client.Error
	if errors.As(err, &e) {
		fmt.Println(e.Status, e.Code, e.Parameter)
	}
	// Output: 400 invalid_parameter slug
}

// An Idempotency-Key makes a retried send safe: the repeat answers the
// event created the first time.
func ExampleClient_SendEvent() {
	ctx := context.Background()
	c, err := client.New(hookgateURL, adminKey)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.CreateProject(ctx, client.ProjectCreate{Name: "Orders", Slug: "example-orders"}); err != nil {
		log.Fatal(err)
	}
	ev := client.EventSend{Type: "order.created", Data: map[string]any{"order": 7}, IdempotencyKey: "order-7-created"}
	first, err := c.SendEvent(ctx, "example-orders", ev)
	if err != nil {
		log.Fatal(err)
	}
	again, err := c.SendEvent(ctx, "example-orders", ev)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(first.ID == again.ID, again.Replayed)
	// Output: true true
}

// Trigger calls a receiver now and answers its response; the caller never
// sees the URL or the receiver's credentials.
func ExampleClient_TriggerWebhook() {
	ctx := context.Background()
	c, err := client.New(hookgateURL, adminKey)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.CreateProject(ctx, client.ProjectCreate{Name: "Sync", Slug: "example-sync"}); err != nil {
		log.Fatal(err)
	}
	quote := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"price":42}`)
	}))
	defer quote.Close()
	if _, err := c.CreateWebhook(ctx, "example-sync", client.WebhookCreate{URL: quote.URL, UID: "quote", TriggerOnly: true}); err != nil {
		log.Fatal(err)
	}
	res, err := c.TriggerWebhook(ctx, "example-sync", "quote", client.Trigger{Data: map[string]any{"sku": "A1"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Status, string(res.Data))
	// Output: 200 {"price":42}
}
