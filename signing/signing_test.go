package signing_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/signing"
)

// The example of the Standard Webhooks specification.
func TestSpecVector(t *testing.T) {
	t.Parallel()
	s, err := signing.NewSigner("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := s.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}

// An independent implementation verifies what we sign, with each secret of
// a rotation.
func TestVerifiedByStandardWebhooks(t *testing.T) {
	t.Parallel()
	oldSecret, newSecret := hookgate.NewSecret(), hookgate.NewSecret()
	s, err := signing.NewSigner(newSecret, oldSecret)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"type":"order.created","timestamp":"2026-11-23T00:00:00Z","data":{"id":1}}`)
	now := time.Now()
	sig := s.Sign("msg_1", now.Unix(), body)
	if n := len(strings.Fields(sig)); n != 2 {
		t.Fatalf("%d signatures during a rotation, want 2: %q", n, sig)
	}
	h := http.Header{}
	h.Set(signing.HeaderID, "msg_1")
	h.Set(signing.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(signing.HeaderSignature, sig)
	for _, secret := range []string{newSecret, oldSecret} {
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify(body, h); err != nil {
			t.Fatalf("verify with one of the secrets: %v", err)
		}
	}
	other, _ := standardwebhooks.NewWebhook(hookgate.NewSecret())
	if err := other.Verify(body, h); err == nil {
		t.Fatal("a foreign secret verified the signature")
	}
	if err := func() error {
		wh, _ := standardwebhooks.NewWebhook(newSecret)
		return wh.Verify(append(body, ' '), h)
	}(); err == nil {
		t.Fatal("a changed body verified")
	}
}

func TestNewSignerRefusesBadSecret(t *testing.T) {
	t.Parallel()
	if _, err := signing.NewSigner("whsec_short"); err == nil {
		t.Fatal("NewSigner accepted a bad secret")
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	old, cur := hookgate.NewSecret(), hookgate.NewSecret()
	both, _ := signing.NewSigner(cur, old)
	receiver, _ := signing.NewSigner(old)
	now := time.Unix(1764590000, 0)
	body := []byte(`{"a":1}`)
	h := http.Header{}
	h.Set(signing.HeaderID, "msg_1")
	h.Set(signing.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(signing.HeaderSignature, both.Sign("msg_1", now.Unix(), body))
	if err := receiver.Verify(h, body, now.Add(time.Minute)); err != nil {
		t.Fatalf("a receiver with the old secret, during a rotation: %v", err)
	}
	for name, c := range map[string]struct {
		body []byte
		at   time.Time
		edit func(http.Header)
	}{
		"ErrBody":      {[]byte(`{"a":2}`), now, nil},
		"ErrStale":     {body, now.Add(6 * time.Minute), nil},
		"ErrFuture":    {body, now.Add(-6 * time.Minute), nil},
		"ErrNoID":      {body, now, func(h http.Header) { h.Del(signing.HeaderID) }},
		"ErrBadSig":    {body, now, func(h http.Header) { h.Set(signing.HeaderSignature, "v1,AAAA") }},
		"ErrOtherID":   {body, now, func(h http.Header) { h.Set(signing.HeaderID, "msg_2") }},
		"ErrTimestamp": {body, now, func(h http.Header) { h.Set(signing.HeaderTimestamp, "soon") }},
	} {
		hh := h.Clone()
		if c.edit != nil {
			c.edit(hh)
		}
		if err := receiver.Verify(hh, c.body, c.at); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
}
