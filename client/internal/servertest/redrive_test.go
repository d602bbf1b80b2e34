package servertest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/internal/testwait"
)

// Issue 24, item 5: the SDK starts a redrive, follows it to finished, and
// an idempotency key answers the same redrive again.
func TestRedriveDeliveries(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		_, admin := setup(t, engine)
		ctx := context.Background()
		if _, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "R", Slug: "r"}); err != nil {
			t.Fatal(err)
		}
		in := client.RedriveRequest{Filter: &client.RedriveFilter{EventType: "order.created", Since: time.Now().Add(-time.Hour)}, IdempotencyKey: "k"}
		r, err := admin.RedriveDeliveries(ctx, "r", in)
		if err != nil || r.ID == "" || r.StartedAt.IsZero() {
			t.Fatalf("RedriveDeliveries = %+v, %v", r, err)
		}
		testwait.For(t, "the redrive to finish", func() bool {
			got, err := admin.GetRedrive(ctx, "r", r.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got.State == client.RedriveFinished && !got.FinishedAt.IsZero()
		})
		again, err := admin.RedriveDeliveries(ctx, "r", in)
		if err != nil || again.ID != r.ID {
			t.Fatalf("the same key started %+v, %v; want %s", again, err, r.ID)
		}
		in.Filter.EventType = "order.paid"
		_, err = admin.RedriveDeliveries(ctx, "r", in)
		var he *client.Error
		if !errors.As(err, &he) || he.Code != "idempotency_conflict" {
			t.Fatalf("another body with the same key = %v, want idempotency_conflict", err)
		}
	})
}
