package sqlstore_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/sqlstore"
)

func newPortalLink(t *testing.T, s *sqlstore.Store, projectID string, in hookgate.PortalLinkInput, now time.Time) (*hookgate.PortalLink, string) {
	t.Helper()
	l, token, err := hookgate.NewPortalLink(projectID, "key_maker", in, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreatePortalLink(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	return l, token
}

func portalSession(hash string, now time.Time) *hookgate.Session {
	return &hookgate.Session{Hash: hash, CSRF: "csrf-" + hash, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
}

// A link opens once: the session it starts carries the link's project and
// capabilities, and every later use is refused as used; a token no link
// has is unknown. The token itself is never stored.
func TestPortalLinkSingleUse(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		p := newProject(t, s, "acme")
		l, token := newPortalLink(t, s, p.ID, hookgate.PortalLinkInput{Capabilities: []string{"deliveries", "webhooks"}, ReturnURL: "https://app.example/settings"}, now)

		got, err := s.FindPortalLink(ctx, p.ID, l.ID)
		if err != nil || got.TokenHash != hookgate.PortalTokenHash(token) || got.TokenHash == token || !got.UsedAt.IsZero() ||
			!slices.Equal(got.Capabilities, []string{"webhooks", "deliveries"}) || got.CreatedBy != "key_maker" || got.ReturnURL != "https://app.example/settings" {
			t.Fatalf("FindPortalLink = %+v, %v", got, err)
		}

		used, err := s.UsePortalLink(ctx, hookgate.PortalTokenHash(token), portalSession("s1", now), now.Add(time.Minute))
		if err != nil || used.ID != l.ID || !used.UsedAt.Equal(now.Add(time.Minute).Truncate(time.Microsecond)) {
			t.Fatalf("UsePortalLink = %+v, %v", used, err)
		}
		se, err := s.FindSession(ctx, "s1", now)
		if err != nil || se.PortalLinkID != l.ID || se.ProjectID != p.ID || se.KeyID != "" || se.AdminKey != "" ||
			!slices.Equal(se.Capabilities, []string{"webhooks", "deliveries"}) {
			t.Fatalf("the portal session = %+v, %v", se, err)
		}

		if _, err := s.UsePortalLink(ctx, hookgate.PortalTokenHash(token), portalSession("s2", now), now.Add(2*time.Minute)); hookgate.ErrorCode(err) != hookgate.EPortalLinkUsed {
			t.Fatalf("a second use: %v, want %s", err, hookgate.EPortalLinkUsed)
		}
		if _, err := s.FindSession(ctx, "s2", now); hookgate.ErrorCode(err) != hookgate.ENotFound {
			t.Fatalf("a refused use stored a session: %v", err)
		}
		if _, err := s.UsePortalLink(ctx, hookgate.PortalTokenHash("no such token"), portalSession("s3", now), now); hookgate.ErrorCode(err) != hookgate.ENotFound {
			t.Fatalf("an unknown token: %v, want %s", err, hookgate.ENotFound)
		}
	})
}

// Of 8 concurrent uses of one link exactly one wins; the others are refused
// as used and store no session.
func TestPortalLinkConcurrentUse(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		p := newProject(t, s, "acme")
		for round := range 5 {
			_, token := newPortalLink(t, s, p.ID, hookgate.PortalLinkInput{}, now)
			const n = 8
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = s.UsePortalLink(ctx, hookgate.PortalTokenHash(token), portalSession(token+string(rune('a'+i)), now), now)
				}()
			}
			wg.Wait()
			won := 0
			for _, err := range errs {
				switch hookgate.ErrorCode(err) {
				case hookgate.EInternal:
					if err != nil {
						t.Fatalf("round %d: %v", round, err)
					}
					won++
				case hookgate.EPortalLinkUsed:
				default:
					t.Fatalf("round %d: %v", round, err)
				}
			}
			if won != 1 {
				t.Fatalf("round %d: %d uses won, want exactly 1 (%v)", round, won, errs)
			}
		}
	})
}

// A link opened at or after its expiry is refused as expired.
func TestPortalLinkExpiry(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		p := newProject(t, s, "acme")
		l, token := newPortalLink(t, s, p.ID, hookgate.PortalLinkInput{ExpiresIn: 2 * time.Hour}, now)
		if !l.ExpiresAt.Equal(now.Add(2 * time.Hour)) {
			t.Fatalf("ExpiresAt = %v", l.ExpiresAt)
		}
		if _, err := s.UsePortalLink(ctx, hookgate.PortalTokenHash(token), portalSession("late", now), l.ExpiresAt); hookgate.ErrorCode(err) != hookgate.EPortalLinkExpired {
			t.Fatalf("a use at expiry: %v, want %s", err, hookgate.EPortalLinkExpired)
		}
		if _, err := s.UsePortalLink(ctx, hookgate.PortalTokenHash(token), portalSession("early", now), l.ExpiresAt.Add(-time.Millisecond)); err != nil {
			t.Fatalf("a use just before expiry: %v", err)
		}
	})
}

// Revoking a link ends its sessions at once, and only its own; a revoked
// link cannot be opened; the first revocation time stays.
func TestPortalLinkRevoke(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		p := newProject(t, s, "acme")
		l, token := newPortalLink(t, s, p.ID, hookgate.PortalLinkInput{}, now)
		_, otherToken := newPortalLink(t, s, p.ID, hookgate.PortalLinkInput{}, now)
		if _, err := s.UsePortalLink(ctx, hookgate.PortalTokenHash(token), portalSession("mine", now), now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UsePortalLink(ctx, hookgate.PortalTokenHash(otherToken), portalSession("other", now), now); err != nil {
			t.Fatal(err)
		}
		key := &hookgate.Session{Hash: "key", KeyID: "key_1", CSRF: "c", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := s.CreateSession(ctx, key); err != nil {
			t.Fatal(err)
		}

		got, err := s.RevokePortalLink(ctx, p.ID, l.ID, now.Add(time.Minute))
		if err != nil || !got.RevokedAt.Equal(now.Add(time.Minute).Truncate(time.Microsecond)) {
			t.Fatalf("RevokePortalLink = %+v, %v", got, err)
		}
		if _, err := s.FindSession(ctx, "mine", now); hookgate.ErrorCode(err) != hookgate.ENotFound {
			t.Fatalf("the revoked link's session lives on: %v", err)
		}
		for _, h := range []string{"other", "key"} {
			if _, err := s.FindSession(ctx, h, now); err != nil {
				t.Fatalf("session %s ended by another link's revocation: %v", h, err)
			}
		}
		if got, err := s.RevokePortalLink(ctx, p.ID, l.ID, now.Add(time.Hour)); err != nil || !got.RevokedAt.Equal(now.Add(time.Minute).Truncate(time.Microsecond)) {
			t.Fatalf("a second revocation = %+v, %v; want the first time kept", got, err)
		}

		fresh, freshToken := newPortalLink(t, s, p.ID, hookgate.PortalLinkInput{}, now)
		if _, err := s.RevokePortalLink(ctx, p.ID, fresh.ID, now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UsePortalLink(ctx, hookgate.PortalTokenHash(freshToken), portalSession("fresh", now), now); hookgate.ErrorCode(err) != hookgate.EPortalLinkRevoked {
			t.Fatalf("opening a revoked link: %v, want %s", err, hookgate.EPortalLinkRevoked)
		}
	})
}

// Another project's link is not found, cannot be revoked, and its
// sessions survive the attempt; deleting a project deletes its links and
// their sessions.
func TestPortalLinkOtherProject(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		acme, globex := newProject(t, s, "acme"), newProject(t, s, "globex")
		l, token := newPortalLink(t, s, acme.ID, hookgate.PortalLinkInput{}, now)
		if _, err := s.UsePortalLink(ctx, hookgate.PortalTokenHash(token), portalSession("acme", now), now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.FindPortalLink(ctx, globex.ID, l.ID); hookgate.ErrorCode(err) != hookgate.ENotFound {
			t.Fatalf("FindPortalLink from another project: %v", err)
		}
		if _, err := s.RevokePortalLink(ctx, globex.ID, l.ID, now); hookgate.ErrorCode(err) != hookgate.ENotFound {
			t.Fatalf("RevokePortalLink from another project: %v", err)
		}
		if list, _, err := s.ListPortalLinks(ctx, globex.ID, hookgate.Page{}); err != nil || len(list) != 0 {
			t.Fatalf("another project lists %d links, %v", len(list), err)
		}
		if _, err := s.FindSession(ctx, "acme", now); err != nil {
			t.Fatalf("the session ended by another project's revocation: %v", err)
		}
		if err := s.DeleteProject(ctx, acme.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.FindSession(ctx, "acme", now); hookgate.ErrorCode(err) != hookgate.ENotFound {
			t.Fatalf("a deleted project's portal session lives on: %v", err)
		}
		if _, err := s.FindPortalLink(ctx, acme.ID, l.ID); hookgate.ErrorCode(err) != hookgate.ENotFound {
			t.Fatalf("a deleted project's link: %v", err)
		}
	})
}

// Links list newest first, a page at a time.
func TestListPortalLinks(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		p := newProject(t, s, "acme")
		var ids []string
		for i := range 5 {
			l, _ := newPortalLink(t, s, p.ID, hookgate.PortalLinkInput{}, now.Add(time.Duration(i)*time.Millisecond))
			ids = append(ids, l.ID)
		}
		slices.Reverse(ids)
		var got []string
		cursor := ""
		for {
			page, next, err := s.ListPortalLinks(ctx, p.ID, hookgate.Page{Limit: 2, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range page {
				got = append(got, l.ID)
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if !slices.Equal(got, ids) {
			t.Fatalf("listed %v, want %v", got, ids)
		}
	})
}
