package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/client"
)

// hookgateURL is the server the examples call; TestMain starts one on a
// SQLite store in a temporary directory (in real use, client.DefaultURL or
// HOOKGATE_URL).
var hookgateURL string

// adminKey is the server's admin key as a program reads it from the data
// dir's admin.key: with the file's newline, which client.New trims.
var adminKey string

func TestMain(m *testing.M) {
	s, err := startServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	hookgateURL = s.url
	key, err := s.adminKey()
	if err != nil {
		s.close()
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	adminKey = key
	code := m.Run()
	if code != 0 {
		s.logTo(os.Stderr)
	}
	s.close()
	os.Exit(code)
}

// ownerClient creates the project slug with the admin key and returns a
// client holding a new owner key of it: what a backend is given.
func ownerClient(ctx context.Context, slug string) (*client.Client, error) {
	admin, err := client.New(hookgateURL, adminKey)
	if err != nil {
		return nil, err
	}
	if _, err := admin.CreateProject(ctx, client.ProjectCreate{Name: slug, Slug: slug}); err != nil {
		return nil, err
	}
	key, err := admin.CreateKey(ctx, slug, client.KeyCreate{Name: "backend", Role: client.RoleOwner})
	if err != nil {
		return nil, err
	}
	return client.New(hookgateURL, key.Key)
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

// List one page with options, or iterate over every page of a list.
func ExampleClient_Webhooks() {
	ctx := context.Background()
	c, err := ownerClient(ctx, "example-many")
	if err != nil {
		log.Fatal(err)
	}
	for i := range 3 {
		_, err := c.CreateWebhook(ctx, "example-many", client.WebhookCreate{URL: fmt.Sprintf("http://127.0.0.1:9/hook/%d", i)})
		if err != nil {
			log.Fatal(err)
		}
	}
	page, err := c.ListWebhooks(ctx, "example-many", &client.ListOptions{Limit: 2}) // nil: the defaults
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(page.Data), "on the first page; more:", page.NextCursor != "")
	n := 0
	for wh, err := range c.Webhooks(ctx, "example-many") {
		if err != nil {
			log.Fatal(err)
		}
		_ = wh.URL
		n++
	}
	fmt.Println(n, "webhooks")
	// Output:
	// 2 on the first page; more: true
	// 3 webhooks
}

// Errors carry the API's problem: its code and the parameter at fault.
func ExampleError() {
	ctx := context.Background()
	c, err := ownerClient(ctx, "example-errors")
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.CreateWebhook(ctx, "example-errors", client.WebhookCreate{URL: "http://10.0.0.1/hooks"})
	var e *client.Error
	if errors.As(err, &e) {
		fmt.Println(e.Status, e.Code, e.Parameter)
	}
	// Output: 400 invalid_parameter url
}

// An Idempotency-Key makes a retried send safe: the repeat answers the
// event created the first time.
func ExampleClient_SendEvent() {
	ctx := context.Background()
	c, err := ownerClient(ctx, "example-orders")
	if err != nil {
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
	c, err := ownerClient(ctx, "example-sync")
	if err != nil {
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

// A portal link hands a customer a page where they manage their own
// webhooks in one project: create it server-side and send the customer to
// its URL, which opens once.
func ExampleClient_CreatePortalLink() {
	ctx := context.Background()
	c, err := ownerClient(ctx, "example-portal")
	if err != nil {
		log.Fatal(err)
	}
	link, err := c.CreatePortalLink(ctx, "example-portal", client.PortalLinkCreate{
		ExpiresIn:    "2h",
		Capabilities: []string{client.CapabilityWebhooks, client.CapabilityDeliveries},
		ReturnURL:    "https://app.example.com/settings/webhooks",
	})
	if err != nil {
		log.Fatal(err)
	}
	// Redirect the signed-in customer to link.URL, or show it to them once.
	fmt.Println(strings.Contains(link.URL, "/ui/portal/"), link.Capabilities, link.ExpiresAt.Sub(link.CreatedAt))
	// Output: true [webhooks deliveries] 2h0m0s
}

// A project's portal may be framed by the producer's app and wear its
// name, colour and logo; the accent is kept readable (4.5:1 contrast).
func ExampleClient_UpdateProject_portal() {
	ctx := context.Background()
	admin, err := client.New(hookgateURL, adminKey)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "Acme", Slug: "example-themed"}); err != nil {
		log.Fatal(err)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 64, 32))); err != nil {
		log.Fatal(err)
	}
	pngBytes := b.Bytes()
	origins := []string{"https://app.example.com"}
	p, err := admin.UpdateProject(ctx, "example-themed", client.ProjectUpdate{Portal: &client.PortalSettings{
		AllowedOrigins: &origins,
		Theme: &client.PortalThemeUpdate{
			ProductName: client.Ptr("Acme webhooks"),
			AccentColor: client.Ptr("#ffcc00"),
			Logo:        client.Ptr(client.LogoDataURL(pngBytes)),
		},
	}})
	if err != nil {
		log.Fatal(err)
	}
	// p.Portal.Theme.Applied.Light.Color is the accent as shown: "#8f7200".
	fmt.Println(p.Portal.AllowedOrigins, p.Portal.Theme.Applied.Light.Color, p.Portal.Theme.Logo.Width)
	// Output: [https://app.example.com] #8f7200 64
}
