package servertest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/sqlstore"
)

// Every operation of the served OpenAPI document has a method of the same
// name on Client (createWebhook is CreateWebhook), so a new operation
// without one fails here.
func TestEveryOperationHasAMethod(t *testing.T) {
	t.Parallel()
	s, _ := setup(t, sqlstore.EngineSQLite)
	res, err := http.Get(s.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	typ := reflect.TypeFor[*client.Client]()
	var ops, missing []string
	for path, methods := range doc.Paths {
		for method, raw := range methods {
			var op struct {
				OperationID string `json:"operationId"`
			}
			if json.Unmarshal(raw, &op) != nil || op.OperationID == "" {
				continue
			}
			ops = append(ops, op.OperationID)
			name := string(unicode.ToUpper(rune(op.OperationID[0]))) + op.OperationID[1:]
			m, ok := typ.MethodByName(name)
			if !ok {
				missing = append(missing, name+" ("+strings.ToUpper(method)+" "+path+")")
				continue
			}
			if m.Type.NumIn() < 2 || m.Type.In(1) != reflect.TypeFor[context.Context]() {
				t.Errorf("%s does not take a context first", name)
			}
		}
	}
	if len(ops) < 40 {
		t.Fatalf("only %d operations in /openapi.json", len(ops))
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Fatalf("operations without a Client method:\n%s", strings.Join(missing, "\n"))
	}
}

// The whole life of a project through the SDK: every call against a real
// server and store, the receiver checking signatures with client.Verify.
func TestLifecycle(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		s, admin := setup(t, engine)
		ctx := context.Background()

		p, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "Shop", Slug: "shop"})
		if err != nil {
			t.Fatal(err)
		}
		if p.Slug != "shop" || p.ID == "" || p.CreatedAt.IsZero() {
			t.Fatalf("project = %+v", p)
		}
		if got, err := admin.GetProject(ctx, "shop"); err != nil || got.ID != p.ID {
			t.Fatalf("GetProject = %+v, %v", got, err)
		}
		if got, err := admin.UpdateProject(ctx, "shop", client.ProjectUpdate{Name: client.Ptr("Shop EU"), RetrySchedule: []string{"1s", "1s"}}); err != nil || got.Name != "Shop EU" || len(got.RetrySchedule) != 2 {
			t.Fatalf("UpdateProject = %+v, %v", got, err)
		}
		projects, err := admin.ListProjects(ctx, nil)
		if err != nil || len(projects.Data) != 1 {
			t.Fatalf("ListProjects = %+v, %v", projects, err)
		}

		key, err := admin.CreateKey(ctx, "shop", client.KeyCreate{Name: "ci", Role: client.RoleOwner})
		if err != nil || key.Key == "" || key.Role != client.RoleOwner {
			t.Fatalf("CreateKey = %+v, %v", key, err)
		}
		owner := newClient(t, s.URL, key.Key)
		pub, err := owner.CreateKey(ctx, "shop", client.KeyCreate{Name: "producer", Role: client.RolePublisher})
		if err != nil {
			t.Fatal(err)
		}
		keys, err := owner.ListKeys(ctx, "shop", nil)
		if err != nil || len(keys.Data) != 2 || keys.Data[0].Key != "" {
			t.Fatalf("ListKeys = %+v, %v", keys, err)
		}

		// Webhooks.
		rec := newReceiver(t)
		wh, err := owner.CreateWebhook(ctx, "shop", client.WebhookCreate{
			URL: rec.srv.URL + "/hooks", UID: "orders", Events: []string{"order.*"}, Description: "orders",
			Headers: map[string]string{"X-Team": "billing"}, Metadata: map[string]string{"owner": "ana"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(wh.Secret, "whsec_") || wh.Status != client.WebhookActive || wh.UID != "orders" || wh.Auth.Type != client.AuthNone {
			t.Fatalf("webhook = %+v", wh)
		}
		rec.set(wh.Secret, false)
		if got, err := owner.GetWebhook(ctx, "shop", "orders"); err != nil || got.ID != wh.ID || got.Secret != "" {
			t.Fatalf("GetWebhook = %+v, %v", got, err)
		}
		upd, err := owner.UpdateWebhook(ctx, "shop", "orders", client.WebhookUpdate{Description: client.Ptr("all orders"), RateLimit: client.Ptr(50)})
		if err != nil || upd.Description != "all orders" || upd.RateLimit != 50 || upd.Headers["X-Team"] == "" {
			t.Fatalf("UpdateWebhook = %+v, %v", upd, err)
		}
		hooks, err := owner.ListWebhooks(ctx, "shop", nil)
		if err != nil || len(hooks.Data) != 1 {
			t.Fatalf("ListWebhooks = %+v, %v", hooks, err)
		}
		sec, err := owner.GetWebhookSecret(ctx, "shop", wh.ID)
		if err != nil || sec.Secret != wh.Secret || !sec.PreviousSecretExpiresAt.IsZero() {
			t.Fatalf("GetWebhookSecret = %+v, %v", sec, err)
		}

		// Events, sent by the publisher key; an idempotent repeat is replayed.
		producer := newClient(t, s.URL, pub.Key)
		acc, err := producer.SendEvent(ctx, "shop", client.EventSend{Type: "order.paid", Data: map[string]any{"id": 1}, IdempotencyKey: "order-1-paid"})
		if err != nil || acc.Deliveries != 1 || acc.Replayed {
			t.Fatalf("SendEvent = %+v, %v", acc, err)
		}
		again, err := producer.SendEvent(ctx, "shop", client.EventSend{Type: "order.paid", Data: map[string]any{"id": 1}, IdempotencyKey: "order-1-paid"})
		if err != nil || again.ID != acc.ID || !again.Replayed {
			t.Fatalf("SendEvent repeated = %+v, %v", again, err)
		}
		batch, err := producer.SendEvents(ctx, "shop", []client.EventSend{
			{Type: "order.created", Data: json.RawMessage(`{"id":2}`)},
			{Type: "user.created", Data: "ignored by the filter"},
		})
		if err != nil || len(batch) != 2 || batch[0].Deliveries != 1 || batch[1].Deliveries != 0 {
			t.Fatalf("SendEvents = %+v, %v", batch, err)
		}
		testwait.For(t, "two verified deliveries", func() bool { n, _ := rec.received(); return n == 2 })
		ev, err := owner.GetEvent(ctx, "shop", acc.ID)
		if err != nil || string(ev.Data) != `{"id":1}` || ev.IdempotencyKey != "order-1-paid" {
			t.Fatalf("GetEvent = %+v (%s), %v", ev, ev.Data, err)
		}
		evs, err := owner.ListEvents(ctx, "shop", &client.EventListOptions{Type: "order.created"})
		if err != nil || len(evs.Data) != 1 || evs.Data[0].ID != batch[0].ID {
			t.Fatalf("ListEvents = %+v, %v", evs, err)
		}
		eds, err := owner.ListEventDeliveries(ctx, "shop", acc.ID, nil)
		if err != nil || len(eds.Data) != 1 || eds.Data[0].WebhookID != wh.ID {
			t.Fatalf("ListEventDeliveries = %+v, %v", eds, err)
		}
		dl := eds.Data[0].ID
		testwait.For(t, "the delivery to succeed", func() bool {
			d, err := owner.GetDelivery(ctx, "shop", dl)
			return err == nil && d.Status == client.DeliverySucceeded
		})
		atts, err := owner.ListAttempts(ctx, "shop", dl, nil)
		if err != nil || len(atts.Data) != 1 || atts.Data[0].StatusCode != 200 || atts.Data[0].Attempt != 1 || !strings.Contains(atts.Data[0].ResponseBody, `"ok":true`) {
			t.Fatalf("ListAttempts = %+v, %v", atts, err)
		}
		if atts.Data[0].Duration <= 0 && atts.Data[0].StartedAt.IsZero() {
			t.Fatalf("attempt without its timing: %+v", atts.Data[0])
		}
		if _, err := owner.RetryDelivery(ctx, "shop", dl); err != nil {
			t.Fatal(err)
		}
		testwait.For(t, "the retried delivery's second attempt", func() bool {
			a, err := owner.ListAttempts(ctx, "shop", dl, nil)
			return err == nil && len(a.Data) == 2
		})
		ok, err := owner.ListDeliveries(ctx, "shop", &client.DeliveryListOptions{Webhook: "orders", Status: client.DeliverySucceeded})
		if err != nil || len(ok.Data) != 2 {
			t.Fatalf("ListDeliveries = %+v, %v", ok, err)
		}

		// Rotation: the receiver knows only the new secret and still verifies.
		rot, err := owner.RotateWebhookSecret(ctx, "shop", "orders", client.SecretRotation{GracePeriod: "1h"})
		if err != nil || rot.Secret == wh.Secret || rot.PreviousSecretExpiresAt.IsZero() {
			t.Fatalf("RotateWebhookSecret = %+v, %v", rot, err)
		}
		rec.set(rot.Secret, false)
		test, err := owner.TestWebhook(ctx, "shop", "orders")
		if err != nil || test.EventType != "webhook.test" {
			t.Fatalf("TestWebhook = %+v, %v", test, err)
		}
		testwait.For(t, "the test event's success", func() bool {
			d, err := owner.GetDelivery(ctx, "shop", test.ID)
			return err == nil && d.Status == client.DeliverySucceeded
		})

		// Trigger: the receiver's answer comes back.
		tr, err := producer.TriggerWebhook(ctx, "shop", "orders", client.Trigger{Data: map[string]any{"q": "stock"}})
		if err != nil || tr.Status != 200 || tr.Error || !strings.Contains(string(tr.Data), `"ok":true`) || tr.ReferenceID == "" {
			t.Fatalf("TriggerWebhook = %+v (%s), %v", tr, tr.Data, err)
		}

		// Deactivate, fail, recover.
		if d, err := owner.DeactivateWebhook(ctx, "shop", "orders"); err != nil || d.Status != client.WebhookDeactivated {
			t.Fatalf("DeactivateWebhook = %+v, %v", d, err)
		}
		if a, err := owner.ActivateWebhook(ctx, "shop", "orders"); err != nil || a.Status != client.WebhookActive {
			t.Fatalf("ActivateWebhook = %+v, %v", a, err)
		}
		rec.set(rot.Secret, true)
		since := time.Now().Add(-time.Minute)
		failing, err := producer.SendEvent(ctx, "shop", client.EventSend{Type: "order.refunded", Data: map[string]any{"id": 3}})
		if err != nil {
			t.Fatal(err)
		}
		testwait.For(t, "the delivery to fail", func() bool {
			for d, err := range owner.EventDeliveries(ctx, "shop", failing.ID) {
				return err == nil && d.Status == client.DeliveryFailed
			}
			return false
		})
		rec.set(rot.Secret, false)
		recd, err := owner.RecoverWebhook(ctx, "shop", "orders", since)
		if err != nil || recd.Requeued != 1 {
			t.Fatalf("RecoverWebhook = %+v, %v", recd, err)
		}
		testwait.For(t, "the recovered delivery", func() bool { n, _ := rec.received(); return n == 6 })
		var st *client.Stats
		testwait.For(t, "six successful attempts in the stats", func() bool { // the recovered one is recorded just after it arrives
			st, err = owner.GetWebhookStats(ctx, "shop", "orders", &client.StatsOptions{Window: time.Hour, Interval: time.Minute})
			return err == nil && st.Successes == 6
		})
		if st.Window != "1h" || st.Attempts != 9 || len(st.Series) != 60 || st.Series[59].Attempts == 0 || st.Failures.Status5xx != 3 || st.LastFailure == nil || st.LastFailure.StatusCode != 500 || st.P95 < st.P50 {
			t.Fatalf("GetWebhookStats = %+v, %v", st, err)
		}
		if ps, err := owner.GetProjectStats(ctx, "shop", nil); err != nil || ps.Window != "24h" || ps.Attempts != st.Attempts || len(ps.Series) != 0 {
			t.Fatalf("GetProjectStats = %+v, %v", ps, err)
		}
		if _, refused := rec.received(); refused != 0 {
			t.Fatalf("%d requests failed client.Verify", refused)
		}

		// Event types.
		et, err := owner.CreateEventType(ctx, "shop", client.EventTypeCreate{Name: "order.paid", Description: "paid", Schema: json.RawMessage(`{"type":"object","required":["id"]}`)})
		if err != nil || et.Name != "order.paid" {
			t.Fatalf("CreateEventType = %+v, %v", et, err)
		}
		_, err = producer.SendEvent(ctx, "shop", client.EventSend{Type: "order.paid", Data: map[string]any{"no": "id"}})
		if !client.IsCode(err, client.CodeInvalidParameter) {
			t.Fatalf("an event against its schema: %v", err)
		}
		if got, err := owner.UpdateEventType(ctx, "shop", "order.paid", client.EventTypeUpdate{Description: client.Ptr("paid orders")}); err != nil || got.Description != "paid orders" {
			t.Fatalf("UpdateEventType = %+v, %v", got, err)
		}
		if got, err := owner.GetEventType(ctx, "shop", "order.paid"); err != nil || got.Description != "paid orders" {
			t.Fatalf("GetEventType = %+v, %v", got, err)
		}
		if l, err := owner.ListEventTypes(ctx, "shop", nil); err != nil || len(l.Data) != 1 {
			t.Fatalf("ListEventTypes = %+v, %v", l, err)
		}
		if err := owner.DeleteEventType(ctx, "shop", "order.paid"); err != nil {
			t.Fatal(err)
		}

		// Platforms and messages, against a fake Telegram.
		tg := apitest.NewFakeTelegram(t)
		pl, err := owner.CreatePlatform(ctx, "shop", client.PlatformCreate{Provider: "telegram", Name: "support", Credentials: map[string]string{"botToken": apitest.BotToken}, APIBaseURL: tg.URL})
		if err != nil || pl.Provider != "telegram" || strings.Contains(string(pl.Credentials), apitest.BotToken) {
			t.Fatalf("CreatePlatform = %+v (%s), %v", pl, pl.Credentials, err)
		}
		if got, err := owner.GetPlatform(ctx, "shop", pl.ID); err != nil || got.InboundURL == "" {
			t.Fatalf("GetPlatform = %+v, %v", got, err)
		}
		if got, err := owner.UpdatePlatform(ctx, "shop", pl.ID, client.PlatformUpdate{Name: client.Ptr("help desk")}); err != nil || got.Name != "help desk" {
			t.Fatalf("UpdatePlatform = %+v, %v", got, err)
		}
		if l, err := owner.ListPlatforms(ctx, "shop", nil); err != nil || len(l.Data) != 1 {
			t.Fatalf("ListPlatforms = %+v, %v", l, err)
		}
		reg, err := owner.RegisterPlatformWebhook(ctx, "shop", pl.ID)
		if err != nil || !reg.Registered || tg.Registered() != reg.InboundURL {
			t.Fatalf("RegisterPlatformWebhook = %+v, %v (fake has %q)", reg, err, tg.Registered())
		}
		if st, err := owner.PlatformWebhookStatus(ctx, "shop", pl.ID); err != nil || !st.Registered || st.URL != reg.InboundURL {
			t.Fatalf("PlatformWebhookStatus = %+v, %v", st, err)
		}
		msg, err := producer.SendMessage(ctx, "shop", client.MessageSend{PlatformID: pl.ID, To: "42", Text: "your order shipped"})
		if err != nil || msg.Status != client.MessageSent || msg.ProviderMessageID == "" {
			t.Fatalf("SendMessage = %+v, %v", msg, err)
		}
		_, err = producer.SendMessage(ctx, "shop", client.MessageSend{PlatformID: pl.ID, To: "blocked", Text: "hello"})
		var apiErr *client.Error
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadGateway || apiErr.Code != client.CodeProviderError {
			t.Fatalf("SendMessage refused = %v", err)
		}
		msgs, err := owner.ListMessages(ctx, "shop", &client.MessageListOptions{Platform: pl.ID})
		if err != nil || len(msgs.Data) != 2 || msgs.Data[0].Status != client.MessageFailed {
			t.Fatalf("ListMessages = %+v, %v", msgs, err)
		}
		if un, err := owner.UnregisterPlatformWebhook(ctx, "shop", pl.ID); err != nil || un.Registered || tg.Registered() != "" {
			t.Fatalf("UnregisterPlatformWebhook = %+v, %v", un, err)
		}
		if err := owner.DeletePlatform(ctx, "shop", pl.ID); err != nil {
			t.Fatal(err)
		}

		// Deletions.
		if err := owner.DeleteKey(ctx, "shop", pub.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := producer.SendEvent(ctx, "shop", client.EventSend{Type: "order.paid", Data: 1}); !client.IsCode(err, client.CodeUnauthorized) {
			t.Fatalf("a revoked key sends: %v", err)
		}
		if err := owner.DeleteWebhook(ctx, "shop", "orders"); err != nil {
			t.Fatal(err)
		}
		if _, err := owner.GetWebhook(ctx, "shop", "orders"); !client.IsCode(err, client.CodeNotFound) {
			t.Fatalf("GetWebhook after delete: %v", err)
		}
		if err := admin.DeleteProject(ctx, "shop"); err != nil {
			t.Fatal(err)
		}
	})
}

// API errors come back as *client.Error with the problem's fields.
func TestErrors(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		s, admin := setup(t, engine)
		ctx := context.Background()
		if _, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "E", Slug: "e"}); err != nil {
			t.Fatal(err)
		}
		_, err := admin.CreateWebhook(ctx, "e", client.WebhookCreate{URL: "ftp://files.invalid/in"})
		var e *client.Error
		if !errors.As(err, &e) {
			t.Fatalf("err = %T %v, want *client.Error", err, err)
		}
		if e.Status != 400 || e.Code != client.CodeInvalidParameter || e.Parameter != "url" || e.Detail == "" || e.ErrorID == "" {
			t.Fatalf("error = %+v", e)
		}
		if !strings.Contains(e.Error(), "parameter url") {
			t.Fatalf("Error() = %q does not name the parameter", e.Error())
		}
		if _, err := admin.GetProject(ctx, "nope"); !client.IsCode(err, client.CodeNotFound) {
			t.Fatalf("GetProject(nope) = %v", err)
		}
		anon := newClient(t, s.URL, "")
		if _, err := anon.ListProjects(ctx, nil); !client.IsCode(err, client.CodeUnauthorized) {
			t.Fatalf("no key: %v", err)
		}
		if _, err := admin.ListEvents(ctx, "e", &client.EventListOptions{ListOptions: client.ListOptions{Limit: 1000}}); !client.IsCode(err, client.CodeInvalidParameter) {
			t.Fatalf("limit 1000: %v", err)
		}
	})
}

// Iterators walk every page once.
func TestIterators(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		_, admin := setup(t, engine)
		ctx := context.Background()
		if _, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "I", Slug: "i"}); err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{}
		for range 7 {
			wh, err := admin.CreateWebhook(ctx, "i", client.WebhookCreate{URL: "http://127.0.0.1:9/closed"})
			if err != nil {
				t.Fatal(err)
			}
			want[wh.ID] = true
		}
		pages := 0
		got := map[string]bool{}
		for wh, err := range client.All(ctx, func(ctx context.Context, cursor string) (*client.Page[client.Webhook], error) {
			pages++
			return admin.ListWebhooks(ctx, "i", &client.ListOptions{Limit: 3, Cursor: cursor})
		}) {
			if err != nil {
				t.Fatal(err)
			}
			if got[wh.ID] {
				t.Fatalf("%s twice", wh.ID)
			}
			got[wh.ID] = true
		}
		if !reflect.DeepEqual(got, want) || pages != 3 {
			t.Fatalf("got %d webhooks in %d pages, want 7 in 3", len(got), pages)
		}
		n := 0
		for _, err := range admin.Webhooks(ctx, "i") {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		if n != 7 {
			t.Fatalf("Webhooks yielded %d", n)
		}
		// An error ends the iteration, yielded once.
		errs := 0
		for _, err := range admin.Webhooks(ctx, "missing") {
			if !client.IsCode(err, client.CodeNotFound) {
				t.Fatalf("err = %v", err)
			}
			errs++
		}
		if errs != 1 {
			t.Fatalf("%d errors yielded", errs)
		}
	})
}

// Issue 22, item 6: the retry of a trigger is answered 200 (an event
// delivery's, 202), and RetryDelivery takes both.
func TestRetryDeliveryOfATrigger(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		s, admin := setup(t, engine)
		ctx := context.Background()
		if _, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "T", Slug: "t"}); err != nil {
			t.Fatal(err)
		}
		rec := newReceiver(t)
		wh, err := admin.CreateWebhook(ctx, "t", client.WebhookCreate{URL: rec.srv.URL, TriggerOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		rec.set(wh.Secret, false)
		tr, err := admin.TriggerWebhook(ctx, "t", wh.ID, client.Trigger{Data: map[string]any{"q": 1}})
		if err != nil || tr.Status != 200 {
			t.Fatalf("TriggerWebhook = %+v, %v", tr, err)
		}
		d, err := newClient(t, s.URL, adminKey).RetryDelivery(ctx, "t", tr.ReferenceID)
		if err != nil || d.Attempts != 2 || d.Kind != "trigger" {
			t.Fatalf("RetryDelivery of a trigger = %+v, %v", d, err)
		}
	})
}

// Issue 22, item 3: data given as a json.RawMessage is sent byte for byte
// (encoding/json would compact it and escape <): receivers get it as
// written, from events, batches and triggers alike, and the same JSON
// sent again by another client with the same idempotency key is a repeat,
// not a conflict.
func TestRawDataIsSentAsWritten(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		s, admin := setup(t, engine)
		ctx := context.Background()
		if _, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "R", Slug: "r"}); err != nil {
			t.Fatal(err)
		}
		rec := newReceiver(t)
		wh, err := admin.CreateWebhook(ctx, "r", client.WebhookCreate{URL: rec.srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		rec.set(wh.Secret, false)
		const data = `{"id": 1001, "note": "<b>&</b>",  "n": 1.50}`
		if _, err := admin.SendEvent(ctx, "r", client.EventSend{Type: "order.created", Data: json.RawMessage(data), IdempotencyKey: "raw-1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.SendEvents(ctx, "r", []client.EventSend{{Type: "order.created", Data: json.RawMessage(data + "\n")}}); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.TriggerWebhook(ctx, "r", wh.ID, client.Trigger{Data: json.RawMessage(data), Timeout: "5s"}); err != nil {
			t.Fatal(err)
		}
		testwait.For(t, "three requests at the receiver", func() bool { n, _ := rec.received(); return n == 3 })
		rec.mu.Lock()
		got := append([]string(nil), rec.bodies...)
		rec.mu.Unlock()
		var inEnvelope, asBody int
		for _, b := range got {
			switch {
			case b == data:
				asBody++
			case strings.Contains(b, `"data":`+data):
				inEnvelope++
			}
		}
		if inEnvelope != 2 || asBody != 1 {
			t.Fatalf("the receiver got %q; want %s in two envelopes and as one trigger's body", got, data)
		}

		// The same JSON as another client writes it is the same event.
		req, _ := http.NewRequest("POST", s.URL+"/api/v1/projects/r/events",
			strings.NewReader(`{"type":"order.created","data":{"n":1.50,"id":1001,"note":"\u003cb\u003e\u0026\u003c/b\u003e"}}`))
		req.Header.Set("Authorization", "Bearer "+adminKey)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "raw-1")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusAccepted || res.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("the same JSON sent otherwise: %d, replayed %q", res.StatusCode, res.Header.Get("Idempotent-Replayed"))
		}
		if _, err := admin.SendEvent(ctx, "r", client.EventSend{Type: "a.b", Data: json.RawMessage(`{"id":`)}); err == nil {
			t.Fatal("a RawMessage that is not JSON was sent")
		}
	})
}
