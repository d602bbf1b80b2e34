package main_test

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// A dashboard session names the admin key it was signed in with by a digest
// keyed by the encryption key: a copy of the database gives nothing to test
// guesses of the admin key against (issue 21, item 9's review).
func TestSessionsNameTheAdminKeyByAKeyedDigest(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dir := t.TempDir()
	admin := "session-admin-key-0123456789abcdef0123"
	cmd := newServe(bin, dir, "HOOKGATE_ADMIN_KEY="+admin, "HOOKGATE_ENCRYPTION_KEY="+strings.Repeat("ef", 32))
	base, _, _ := startCmd(t, cmd)
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodPost, base+"/ui/sign-in", strings.NewReader(url.Values{"key": {admin}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", res.StatusCode)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "hookgate.db")+"?_pragma=busy_timeout(10000)&mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var tag string
	if err := db.QueryRow(`SELECT admin_key FROM ui_sessions`).Scan(&tag); err != nil {
		t.Fatal(err)
	}
	plain := sha256.Sum256([]byte("hookgate admin key " + admin))
	if tag == hex.EncodeToString(plain[:8]) || len(tag) != 32 {
		t.Fatalf("the session names the admin key by %q, an unkeyed hash", tag)
	}
}

// newServe is `hookgate serve` on a free loopback port with dir as its data
// dir, on SQLite, with env added.
func newServe(bin, dir string, env ...string) *exec.Cmd {
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--metrics-addr", "")
	cmd.Env = append(append(os.Environ(), "HOOKGATE_DATABASE_URL="), env...)
	return cmd
}
