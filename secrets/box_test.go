package secrets_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/secrets"
)

func TestBox(t *testing.T) {
	t.Parallel()
	key := bytes.Repeat([]byte{7}, secrets.KeySize)
	b, err := secrets.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed := b.Seal("hunter2")
	if strings.Contains(sealed, "hunter2") || sealed == b.Seal("hunter2") {
		t.Fatalf("Seal leaks or repeats: %q", sealed)
	}
	if got, err := b.Open(sealed); err != nil || got != "hunter2" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if b.Seal("") != "" {
		t.Fatal("empty values must stay empty")
	}
	other, _ := secrets.NewBox(bytes.Repeat([]byte{8}, secrets.KeySize))
	if _, err := other.Open(sealed); err == nil {
		t.Fatal("Open with another key succeeded")
	}
	// Change one character of the ciphertext (to another one, always: a
	// fixed replacement equals the original once in 64 tries).
	last := sealed[len(sealed)-2]
	repl := byte('A')
	if last == 'A' {
		repl = 'B'
	}
	if _, err := b.Open(sealed[:len(sealed)-2] + string(repl) + sealed[len(sealed)-1:]); err == nil {
		t.Fatal("Open of a changed value succeeded")
	}
	if _, err := secrets.NewBox([]byte("short")); err == nil {
		t.Fatal("NewBox accepted a short key")
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "sub", "encryption.key")
	k1, err := secrets.LoadOrCreateKey("", file)
	if err != nil || len(k1) != secrets.KeySize {
		t.Fatalf("create: %v", err)
	}
	st, err := os.Stat(file)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v, %v", st, err)
	}
	k2, err := secrets.LoadOrCreateKey("", file)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatal("a second start must load the same key")
	}
	hex := strings.Repeat("ab", secrets.KeySize)
	k3, err := secrets.LoadOrCreateKey(hex, file)
	if err != nil || k3[0] != 0xab {
		t.Fatalf("env key (hex): %v", err)
	}
	if _, err := secrets.LoadOrCreateKey("too-short", file); err == nil {
		t.Fatal("a bad env key was accepted")
	}
}

func TestSealForBindsWhere(t *testing.T) {
	t.Parallel()
	key := make([]byte, secrets.KeySize)
	b, _ := secrets.NewBox(key)
	sealed := b.SealFor("hunter2", "webhooks.auth/p1/w1")
	if got, err := b.OpenFor(sealed, "webhooks.auth/p1/w1"); err != nil || got != "hunter2" {
		t.Fatalf("open where sealed: %q, %v", got, err)
	}
	if _, err := b.OpenFor(sealed, "webhooks.secret/p1/w2"); err == nil {
		t.Fatal("opened elsewhere")
	}
	other := make([]byte, secrets.KeySize)
	other[0] = 1
	b2, _ := secrets.NewBox(other)
	if _, err := b2.OpenFor(sealed, "webhooks.auth/p1/w1"); err == nil || !strings.Contains(err.Error(), b.KeyID()) {
		t.Fatalf("another key: %v", err)
	}
	legacy := b.Seal("old")
	if got, err := b.OpenFor(legacy, "anywhere"); err != nil || got != "old" || b.Current(legacy) || !b.Current(sealed) {
		t.Fatalf("legacy value: %q, %v", got, err)
	}
}

// Issue 21, item 9: a key's fingerprint and digests are stable for one key,
// differ for another, and show nothing of the key or the digested value.
func TestFingerprintAndDigest(t *testing.T) {
	t.Parallel()
	key := bytes.Repeat([]byte{7}, secrets.KeySize)
	a, _ := secrets.NewBox(key)
	again, _ := secrets.NewBox(key)
	other, _ := secrets.NewBox(bytes.Repeat([]byte{8}, secrets.KeySize))
	fp := a.Fingerprint()
	if len(fp) != 16 || fp != again.Fingerprint() || fp == other.Fingerprint() || strings.HasPrefix(fp, a.KeyID()) {
		t.Fatalf("fingerprints %q, %q, %q (key id %s)", fp, again.Fingerprint(), other.Fingerprint(), a.KeyID())
	}
	if strings.Contains(fmt.Sprintf("%x", key), fp) {
		t.Fatal("the fingerprint is part of the key")
	}
	d := a.Digest("admin key", "the-admin-key")
	switch {
	case len(d) != 32, d != again.Digest("admin key", "the-admin-key"):
		t.Fatalf("digest %q is not stable", d)
	case d == other.Digest("admin key", "the-admin-key"):
		t.Fatal("the digest does not depend on the key")
	case d == a.Digest("admin key", "another-admin-key"), d == a.Digest("other purpose", "the-admin-key"):
		t.Fatal("the digest does not depend on the value and the purpose")
	}
}
