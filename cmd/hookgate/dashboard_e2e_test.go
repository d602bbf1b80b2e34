package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/client"
)

// chromium finds a headless Chromium: $HOOKGATE_CHROMIUM, else Debian's
// chromium-headless-shell or chromium.
func chromium() string {
	for _, p := range []string{os.Getenv("HOOKGATE_CHROMIUM"), "/usr/bin/chromium-headless-shell", "/usr/bin/chromium"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// skipVisibly skips t, and also writes why to the file HOOKGATE_TEST_SKIPS
// names, when it names one: `go test` shows a skip only with -v, and
// `make test` prints that file after the run.
func skipVisibly(t *testing.T, why string) {
	t.Helper()
	if path := os.Getenv("HOOKGATE_TEST_SKIPS"); path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatalf("HOOKGATE_TEST_SKIPS: %v", err)
		}
		_, err = fmt.Fprintf(f, "%s: %s\n", t.Name(), why)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatalf("HOOKGATE_TEST_SKIPS: %v", err)
		}
	}
	t.Skip(why)
}

// e2eTools are what the browser tests need, found and installed once.
var e2eTools struct {
	once                sync.Once
	node, browser, dir  string
	missing, installErr string
}

// browserTools returns Node.js, a headless Chromium and the e2e/ directory
// with playwright-core installed (npm ci, once for every test). Without
// Node.js, npm or Chromium the test skips, and says so in make test's
// output, except under CI=true, where .ci/run installs them and it fails.
func browserTools(t *testing.T) (node, browser, dir string) {
	t.Helper()
	e := &e2eTools
	e.once.Do(func() {
		e.browser = chromium()
		var nodeErr, npmErr error
		e.node, nodeErr = exec.LookPath("node")
		npm, npmErr := exec.LookPath("npm")
		if e.browser == "" || nodeErr != nil || npmErr != nil {
			e.missing = fmt.Sprintf("node %v, npm %v, chromium %q", nodeErr, npmErr, e.browser)
			return
		}
		dir, err := filepath.Abs(filepath.Join("..", "..", "e2e"))
		if err != nil {
			e.installErr = err.Error()
			return
		}
		e.dir = dir
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core")); err != nil {
			install := exec.Command(npm, "ci", "--no-audit", "--no-fund")
			install.Dir = dir
			if out, err := install.CombinedOutput(); err != nil {
				e.installErr = fmt.Sprintf("npm ci in e2e/: %v\n%s", err, out)
			}
		}
	})
	if e.missing != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the browser tests need Node.js, npm and Chromium (chromium-headless-shell): %s", e.missing)
		}
		skipVisibly(t, "the browser tests did not run: no Node.js, npm or Chromium (apt-get install nodejs npm chromium-headless-shell)")
	}
	if e.installErr != "" {
		t.Fatal(e.installErr)
	}
	return e.node, e.browser, e.dir
}

// The dashboard end to end, in headless Chromium driven by playwright-core
// (e2e/dashboard.test.mjs), against a real `hookgate serve`: sign in,
// register a webhook, watch a failing delivery appear, open its attempts,
// fix the receiver, press retry, see it succeed. Without Node.js or
// Chromium it skips, and says so in `make test`'s output, except under
// CI=true, where .ci/run installs them and it fails. Under -short (make
// test-short) it skips quietly.
func TestDashboardEndToEnd(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: drives a headless browser through npm's playwright-core")
	}
	node, browser, e2e := browserTools(t)

	// A receiver that fails until the browser's test fixes it.
	var healthy atomic.Bool
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fix" {
			healthy.Store(true)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if !healthy.Load() {
			http.Error(w, "upstream down for maintenance", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "thanks")
	}))
	defer recv.Close()

	base, admin := startE2EServer(t, "https://webhooks.gateway.example-company.invalid")
	ctx := context.Background()
	if _, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "Shop", Slug: "shop", RetrySchedule: []string{"1s"}}); err != nil {
		t.Fatal(err)
	}
	owner, err := admin.CreateKey(ctx, "shop", client.KeyCreate{Name: "operator", Role: client.RoleOwner})
	if err != nil {
		t.Fatal(err)
	}
	// Issue 22, item 8: a platform, so that the platforms page is checked
	// at 375 px with its table, and its inbound URL as long as a real
	// public URL makes it.
	if _, err := admin.CreatePlatform(ctx, "shop", client.PlatformCreate{Provider: "generic", Name: "GitHub organisation webhooks (production)",
		Credentials: map[string]any{"preset": "github", "secret": "e2e-github-secret"}}); err != nil {
		t.Fatal(err)
	}

	// Issue 25, item 2: an event type with a long name, description and
	// schema, so that the event types page and the webhook forms'
	// checkboxes are checked at 375 px with a catalog.
	if _, err := admin.CreateEventType(ctx, "shop", client.EventTypeCreate{Name: "subscription.payment_method.automatically_updated",
		Description: "The card on file of a subscription was replaced by the card network's account updater, without the customer doing anything.",
		Schema: json.RawMessage(`{"type":"object","required":["subscriptionId","paymentMethod"],"properties":{"subscriptionId":{"type":"string","format":"uuid"},` +
			`"paymentMethod":{"type":"object","properties":{"brand":{"enum":["visa","mastercard"]},"last4":{"type":"string"},"expiresAt":{"type":"string","format":"date"}}}}}`)}); err != nil {
		t.Fatal(err)
	}

	runNode(t, node, e2e, "dashboard.test.mjs", "", "HOOKGATE_URL="+base, "HOOKGATE_KEY="+owner.Key, "RECEIVER_URL="+recv.URL, "CHROMIUM="+browser)
}

// startE2EServer starts `hookgate serve` on SQLite for a browser test,
// sending to loopback, with publicURL as its --public-url; it returns its
// address and an admin client.
func startE2EServer(t *testing.T, publicURL string) (string, *client.Client) {
	t.Helper()
	const adminKey = "browser-e2e-admin-key-0123456789abcdef"
	cmd := exec.Command(buildBinary(t), "serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--metrics-addr", "",
		"--public-url", publicURL)
	cmd.Env = append(os.Environ(), "HOOKGATE_ALLOW_NETWORKS=127.0.0.0/8", "HOOKGATE_ADMIN_KEY="+adminKey,
		"HOOKGATE_ENCRYPTION_KEY="+strings.Repeat("cd", 32), "HOOKGATE_DATABASE_URL=")
	base, _, _ := startCmd(t, cmd)
	admin, err := client.New(base, adminKey)
	if err != nil {
		t.Fatal(err)
	}
	return base, admin
}

// runNode runs a browser test script of e2e/ with env, for up to three
// minutes; its artifacts go to $HOOKGATE_E2E_ARTIFACTS (default
// e2e/artifacts), under sub.
func runNode(t *testing.T, node, dir, script, sub string, env ...string) {
	t.Helper()
	artifacts := os.Getenv("HOOKGATE_E2E_ARTIFACTS")
	if artifacts == "" {
		artifacts = filepath.Join(dir, "artifacts")
	}
	run, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	js := exec.CommandContext(run, node, script)
	js.Dir = dir
	js.Env = append(append(os.Environ(), "ARTIFACTS="+filepath.Join(artifacts, sub)), env...)
	out, err := js.CombinedOutput()
	if err != nil {
		t.Fatalf("e2e/%s: %v\n%s", script, err, out)
	}
	t.Logf("%s", out)
}

// Issue 22, item 20: `make test` did not say when the browser test
// skipped. A skip through skipVisibly is written where HOOKGATE_TEST_SKIPS
// says, for the Makefile to print.
func TestSkipVisiblyTellsMakeTest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "skips")
	t.Setenv("HOOKGATE_TEST_SKIPS", path)
	for range 2 {
		t.Run("browserless", func(t *testing.T) { skipVisibly(t, "no browser here") })
	}
	got, err := os.ReadFile(path)
	want := "TestSkipVisiblyTellsMakeTest/browserless: no browser here\nTestSkipVisiblyTellsMakeTest/browserless#01: no browser here\n"
	if err != nil || string(got) != want {
		t.Fatalf("skips written: %q, %v; want %q", got, err, want)
	}
}
