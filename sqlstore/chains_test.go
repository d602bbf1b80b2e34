package sqlstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/sqlstore"
)

// Issue 21, item 6: the store checks a chain in the transaction that writes
// it, whatever the caller checked before. A link that closes a cycle, or
// makes a chain too long, is refused naming then; a chain an update keeps as
// stored is not checked again, so that a webhook whose chain grew too long
// through a later link can still be changed (a secret rotated).
func TestWebhookChainCheckedInTheWrite(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "chains")
		link := func(w *hookgate.Webhook, to string) error {
			w.Then = &hookgate.Chain{Webhook: to}
			return s.UpdateWebhook(ctx, w)
		}
		// w[0] → w[1] → w[2] → w[3] → w[4]: five calls.
		var w []*hookgate.Webhook
		for range 6 {
			w = append(w, newWebhook(t, s, p.ID))
		}
		for i := 3; i >= 0; i-- {
			if err := link(w[i], w[i+1].ID); err != nil {
				t.Fatalf("link %d: %v", i, err)
			}
		}
		for _, tc := range []struct {
			name     string
			from, to int
		}{{"cycle", 4, 0}, {"self", 2, 2}} {
			was := w[tc.from].Then
			err := link(w[tc.from], w[tc.to].ID)
			wantCode(t, err, hookgate.EInvalidParameter)
			if e := (*hookgate.Error)(nil); !errors.As(err, &e) || e.Param != "then" {
				t.Fatalf("%s: %v", tc.name, err)
			}
			w[tc.from].Then = was
		}
		got, err := s.FindWebhook(ctx, p.ID, w[4].ID)
		if err != nil || got.Then != nil {
			t.Fatalf("the refused link was stored: %+v, %v", got.Then, err)
		}
		// Creation is checked alike: a webhook before w[0] would make six calls.
		six := newWebhook(t, s, p.ID)
		six.ID, six.Then = hookgate.NewID(hookgate.PrefixWebhook, six.CreatedAt), &hookgate.Chain{Webhook: w[0].ID}
		wantCode(t, s.CreateWebhook(ctx, six), hookgate.EInvalidParameter)
		// w[4] → w[5] is one link of two calls; w[0]'s chain now makes six,
		// and w[0] may still change as long as its own link stays.
		if err := link(w[4], w[5].ID); err != nil {
			t.Fatal(err)
		}
		w[0].Description = "rotated"
		if err := s.UpdateWebhook(ctx, w[0]); err != nil {
			t.Fatalf("an update that keeps the stored chain: %v", err)
		}
		// An update of a webhook that is gone is ENotFound, with a chain or without.
		gone := *w[5]
		gone.ID = hookgate.NewID(hookgate.PrefixWebhook, gone.CreatedAt)
		wantCode(t, link(&gone, w[0].ID), hookgate.ENotFound)
	})
}
