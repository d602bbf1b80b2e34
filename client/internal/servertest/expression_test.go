package servertest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/client"
)

// Issue 29, item 3: the SDK tries expressions on a sample event and on a
// stored one, and a compile error is an *Error naming the expression.
func TestTestWebhookExpression(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		_, admin := setup(t, engine)
		ctx := context.Background()
		if _, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "Shop", Slug: "shop"}); err != nil {
			t.Fatal(err)
		}
		sample := &client.SampleEvent{Type: "order.created", Data: map[string]any{"total": 149.5, "region": "eu"},
			Timestamp: time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)}
		got, err := admin.TestWebhookExpression(ctx, "shop", client.ExpressionTestInput{
			Filter:           `data.total > 100.0 && data.region == metadata.region && timestamp.getHours() == 10`,
			Transform:        `{"amount": data.total}`,
			TransformHeaders: `{"X-Region": data.region}`,
			Event:            sample,
			Metadata:         map[string]string{"region": "eu"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if f := got.Filter; f == nil || !f.Matched || f.Cost == 0 || f.Error != "" {
			t.Errorf("filter: %+v", f)
		}
		if tr := got.Transform; tr == nil || string(tr.Body) != `{"amount":149.5}` || tr.ContentType != "application/json" || tr.Cost == 0 {
			t.Errorf("transform: %+v", tr)
		}
		if h := got.TransformHeaders; h == nil || h.Headers["X-Region"] != "eu" || h.Cost == 0 {
			t.Errorf("transformHeaders: %+v", h)
		}

		ev, err := admin.SendEvent(ctx, "shop", client.EventSend{Type: "order.paid", Data: map[string]any{"total": 20}})
		if err != nil {
			t.Fatal(err)
		}
		got, err = admin.TestWebhookExpression(ctx, "shop", client.ExpressionTestInput{Filter: `data.total > 100`, EventID: ev.ID})
		if err != nil || got.Filter == nil || got.Filter.Matched || got.Transform != nil {
			t.Fatalf("stored event: %+v, %v", got, err)
		}
		got, err = admin.TestWebhookExpression(ctx, "shop", client.ExpressionTestInput{Filter: `data.missing == 1`, EventID: ev.ID})
		if err != nil || got.Filter.Matched || !strings.Contains(got.Filter.Error, "no such key") {
			t.Fatalf("a failing filter: %+v, %v", got.Filter, err)
		}

		_, err = admin.TestWebhookExpression(ctx, "shop", client.ExpressionTestInput{Transform: `{"a": data.}`, Event: sample})
		var e *client.Error
		if !errors.As(err, &e) || e.Status != 400 || e.Parameter != "transform" || !strings.Contains(e.Detail, "line 1, column") {
			t.Fatalf("a compile error: %v", err)
		}
	})
}
