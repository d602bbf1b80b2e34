// Package secrets encrypts credentials at rest with AES-256-GCM.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the length of an encryption key in bytes.
const KeySize = 32

// sealedPrefix marks a value sealed by the first scheme: no key id, and not
// bound to where it is stored. Such values still open, with OpenFor, and
// are sealed again in the current scheme (Store.Reseal).
const sealedPrefix = "v1:"

// boundPrefix marks the current scheme: "v2:{key id}:{base64 of nonce and
// ciphertext}", the ciphertext bound (as AES-GCM associated data) to where
// the value is stored, so that a value copied to another row or column no
// longer opens.
const boundPrefix = "v2:"

// Box seals and opens values with one key. It is safe for concurrent use.
type Box struct {
	aead        cipher.AEAD
	keyID       string
	fingerprint string
	// digestKey is derived from the key for Digest, so that the key itself
	// serves AES-GCM alone.
	digestKey []byte
}

// NewBox returns a Box for a 32-byte key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secrets: key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(key)
	fp := keyed(key, "hookgate encryption key fingerprint")
	return &Box{aead: aead, keyID: hex.EncodeToString(sum[:4]), fingerprint: hex.EncodeToString(fp[:8]),
		digestKey: keyed(key, "hookgate digest key")}, nil
}

// keyed is the HMAC-SHA256 of label under key.
func keyed(key []byte, label string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// Fingerprint names the key for comparing the keys of nodes: 16 hex digits
// (64 bits) of the HMAC-SHA256, under the key, of a fixed label. Two keys
// are told apart by it, and it helps no one guess the key.
func (b *Box) Fingerprint() string { return b.fingerprint }

// Digest returns a keyed digest of value for purpose: 32 hex digits of the
// HMAC-SHA256 of purpose and value under a key derived from the box's key.
// Equal values give equal digests under one key; without the key, a
// digest cannot be used to test guesses of value.
func (b *Box) Digest(purpose, value string) string {
	m := hmac.New(sha256.New, b.digestKey)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// KeyID names the box's key (a digest, not the key): sealed values carry it,
// so that a value sealed with another key is told apart from a damaged one.
func (b *Box) KeyID() string { return b.keyID }

// SealFor encrypts plaintext bound to where, a name of the place it is
// stored (such as "webhooks.secret/{project}/{id}"). Empty stays empty.
func (b *Box) SealFor(plaintext, where string) string {
	if plaintext == "" {
		return ""
	}
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	_, _ = rand.Read(nonce)
	out := b.aead.Seal(nonce, nonce, []byte(plaintext), []byte(where))
	return boundPrefix + b.keyID + ":" + base64.RawStdEncoding.EncodeToString(out)
}

// OpenFor decrypts a value sealed for where, or one sealed by the first
// scheme (Seal), which is bound to nothing.
func (b *Box) OpenFor(sealed, where string) (string, error) {
	rest, ok := strings.CutPrefix(sealed, boundPrefix)
	if !ok {
		return b.Open(sealed)
	}
	id, enc, ok := strings.Cut(rest, ":")
	if !ok {
		return "", ErrOpen
	}
	if id != b.keyID {
		return "", fmt.Errorf("secrets: the value was sealed with key %s, not this key (%s): %w", id, b.keyID, ErrOpen)
	}
	raw, err := base64.RawStdEncoding.DecodeString(enc)
	if err != nil || len(raw) < b.aead.NonceSize() {
		return "", ErrOpen
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(where))
	if err != nil {
		return "", ErrOpen
	}
	return string(plain), nil
}

// Sealed reports whether v has the form of a sealed value, of either
// scheme, rather than being plain text.
func Sealed(v string) bool {
	return strings.HasPrefix(v, sealedPrefix) || strings.HasPrefix(v, boundPrefix)
}

// Current reports whether sealed is empty or sealed by this box in the
// current scheme: nothing to seal again.
func (b *Box) Current(sealed string) bool {
	return sealed == "" || strings.HasPrefix(sealed, boundPrefix+b.keyID+":")
}

// Seal encrypts plaintext. The empty string stays empty, so that "not set"
// needs no ciphertext.
func (b *Box) Seal(plaintext string) string {
	if plaintext == "" {
		return ""
	}
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	_, _ = rand.Read(nonce)
	out := b.aead.Seal(nonce, nonce, []byte(plaintext), nil)
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(out)
}

// ErrOpen is returned when a sealed value cannot be opened: it was made with
// another key, or was changed.
var ErrOpen = errors.New("secrets: cannot open sealed value (wrong HOOKGATE_ENCRYPTION_KEY?)")

// Open decrypts a value made by Seal.
func (b *Box) Open(sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	if !strings.HasPrefix(sealed, sealedPrefix) {
		return "", ErrOpen
	}
	raw, err := base64.RawStdEncoding.DecodeString(sealed[len(sealedPrefix):])
	if err != nil || len(raw) < b.aead.NonceSize() {
		return "", ErrOpen
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return "", ErrOpen
	}
	return string(plain), nil
}

// ParseKey decodes a key given as base64 (standard or URL alphabet) or hex.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == KeySize {
			return k, nil
		}
	}
	if k, err := hex.DecodeString(s); err == nil && len(k) == KeySize {
		return k, nil
	}
	return nil, fmt.Errorf("secrets: the key must be %d bytes in base64 or hex", KeySize)
}

// LoadOrCreateKey returns the key from env when it is set, else the key in
// file, creating that file with a new random key (mode 0600) the first time.
func LoadOrCreateKey(env, file string) ([]byte, error) {
	if env != "" {
		return ParseKey(env)
	}
	if b, err := os.ReadFile(file); err == nil {
		return ParseKey(string(b))
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	key := make([]byte, KeySize)
	_, _ = rand.Read(key)
	if err := writeNew(file, base64.StdEncoding.EncodeToString(key)+"\n"); err != nil {
		if errors.Is(err, os.ErrExist) { // another node created it first
			return LoadOrCreateKey("", file)
		}
		return nil, err
	}
	return key, nil
}

// writeNew writes a file that must not exist yet, readable by its owner only.
func writeNew(file, content string) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
