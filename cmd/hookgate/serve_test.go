package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/testlog"
	"github.com/hookgate/hookgate/secrets"
)

var binary struct {
	once sync.Once
	path string
	err  error
}

// TestMain removes the binary that the tests build.
func TestMain(m *testing.M) {
	code := m.Run()
	if binary.path != "" {
		os.RemoveAll(filepath.Dir(binary.path))
	}
	os.Exit(code)
}

// buildBinary builds hookgate once, with CGO_ENABLED=0 as releases are built.
func buildBinary(t testing.TB) string {
	t.Helper()
	binary.once.Do(func() {
		dir, err := os.MkdirTemp("", "hookgate-bin")
		if err != nil {
			binary.err = err
			return
		}
		binary.path = filepath.Join(dir, "hookgate")
		cmd := exec.Command("go", "build", "-o", binary.path, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binary.err = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// syncBuffer is a buffer that the process writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs `hookgate serve` on a free loopback port and returns its base
// URL, its stdout so far, and the process.
func start(t *testing.T, bin, dataDir string) (string, *syncBuffer, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--metrics-addr", "127.0.0.1:0", "--metrics-token", "test-metrics-token")
	cmd.Env = append(os.Environ(), "HOOKGATE_ADMIN_KEY=", "HOOKGATE_DATABASE_URL=", "HOOKGATE_ENCRYPTION_KEY=")
	return startCmd(t, cmd)
}

// startCmd starts cmd and waits for its "hookgate listening" log line. Its
// log (stderr) is printed, its last lines, only if t fails.
func startCmd(t testing.TB, cmd *exec.Cmd) (string, *syncBuffer, *exec.Cmd) {
	t.Helper()
	stdout := &syncBuffer{}
	cmd.Stdout = stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Before the kill's cleanup, so as to run after it, with the last lines.
	log := testlog.Writer(t, filepath.Base(cmd.Path)+" "+strings.Join(cmd.Args[1:2], "")+"'s log")
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			fmt.Fprintf(log, "%s\n", sc.Bytes())
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "hookgate listening" {
				addr <- line.Addr
			}
		}
	}()
	select {
	case a := <-addr:
		return "http://" + a, stdout, cmd
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start within 30s")
	}
	return "", nil, nil
}

func TestServeStartsDrainsAndKeepsKeys(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dataDir := t.TempDir()

	url, stdout, cmd := start(t, bin, dataDir)
	res, err := http.Get(url + "/readyz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", res, err)
	}
	res.Body.Close()
	key, err := os.ReadFile(filepath.Join(dataDir, "admin.key"))
	if err != nil || strings.Contains(stdout.String(), strings.TrimSpace(string(key))) || !strings.Contains(stdout.String(), filepath.Join(dataDir, "admin.key")) {
		t.Fatalf("start-up should name the key file and not print the key: %q, %v", stdout.String(), err)
	}
	for _, f := range []string{"admin.key", "encryption.key", "hookgate.db", "hookgate.db-wal"} {
		if st, err := os.Stat(filepath.Join(dataDir, f)); err != nil || st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s: %v, mode %v", f, err, st.Mode())
		}
	}
	mreq, _ := http.NewRequest("GET", url+"/metrics", nil)
	mreq.Header.Set("Authorization", "Bearer test-metrics-token")
	if m, err := http.DefaultClient.Do(mreq); err != nil {
		t.Fatal(err)
	} else {
		b, _ := io.ReadAll(m.Body)
		m.Body.Close()
		for _, name := range []string{"hookgate_queue_due 0", "hookgate_queue_scheduled 0", "hookgate_queue_oldest_due_age_seconds 0", "hookgate_http_requests_total", `hookgate_circuit_state{state="open"} 0`} {
			if !strings.Contains(string(b), name) {
				t.Errorf("/metrics lacks %s", name)
			}
		}
	}
	req, _ := http.NewRequest("GET", url+"/api/v1/projects", nil)
	req.Header.Set("X-API-Key", strings.TrimSpace(string(key)))
	res, err = http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("admin key refused: %v %v", res, err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()

	terminate(t, cmd, 30*time.Second, "SIGTERM")

	// A second start keeps the keys and prints nothing secret.
	_, stdout2, _ := start(t, bin, dataDir)
	if strings.Contains(stdout2.String(), "admin key") {
		t.Fatalf("the admin key was printed again: %q", stdout2.String())
	}
}

func TestMigrateAndVersion(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	files, err := filepath.Glob("../../sqlstore/migrations/sqlite/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migrations: %v", err)
	}
	want := fmt.Sprintf("schema at version %d of %d (sqlite)", len(files), len(files))
	out, err := exec.Command(bin, "migrate", "--data-dir", t.TempDir()).CombinedOutput()
	if err != nil || !strings.Contains(string(out), want) {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "hookgate ") {
		t.Fatalf("version: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "serve", "--database-url", "mysql://x", "--data-dir", t.TempDir()).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "unsupported database URL") {
		t.Fatalf("a bad --database-url must fail clearly: %v\n%s", err, out)
	}
}

// A second server on the same data dir is refused, naming the dir and the
// first one's pid; once the first stops, the dir is free again.
func TestDataDirLocked(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dir := t.TempDir()
	_, _, first := start(t, bin, dir)
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data-dir", dir)
	cmd.Env = append(os.Environ(), "HOOKGATE_ADMIN_KEY=", "HOOKGATE_DATABASE_URL=", "HOOKGATE_ENCRYPTION_KEY=")
	out, err := cmd.CombinedOutput()
	pid := fmt.Sprint(first.Process.Pid)
	if err == nil || !strings.Contains(string(out), dir) || !strings.Contains(string(out), "pid "+pid) {
		t.Fatalf("second server: %v\n%s", err, out)
	}
	_ = first.Process.Signal(syscall.SIGTERM)
	_ = first.Wait()
	start(t, bin, dir)
}

// Every serve flag has its environment twin, named in --help; the flag
// wins, and a bad value names the variable.
func TestServeFlagsHaveEnv(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	out, err := exec.Command(bin, "serve", "--help").CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	flags := 0
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "--") {
			continue
		}
		flags++
		name := strings.Fields(line)[0][2:]
		want := "(env HOOKGATE_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + ")"
		if !strings.Contains(line, want) {
			t.Errorf("--%s: no %s in %q", name, want, line)
		}
	}
	if flags < 13 {
		t.Fatalf("%d flags in --help:\n%s", flags, out)
	}
	cmd := exec.Command(bin, "serve", "--data-dir", t.TempDir())
	cmd.Env = append(os.Environ(), "HOOKGATE_SEND_TIMEOUT=soon")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "HOOKGATE_SEND_TIMEOUT") {
		t.Fatalf("a bad HOOKGATE_SEND_TIMEOUT: %v\n%s", err, out)
	}
	// The flag wins over the variable.
	cmd = exec.Command(bin, "serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "HOOKGATE_ADDR=not-an-address", "HOOKGATE_ADMIN_KEY=", "HOOKGATE_DATABASE_URL=", "HOOKGATE_ENCRYPTION_KEY=")
	startCmd(t, cmd)
}

// Refused at start: a short HOOKGATE_ADMIN_KEY, a profiler on a
// non-loopback address; and a data dir readable by others is made private.
func TestServeRefusesWeakSettings(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	run := func(env []string, args ...string) string {
		cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir()}, args...)...)
		cmd.Env = append(append(os.Environ(), "HOOKGATE_DATABASE_URL=", "HOOKGATE_ENCRYPTION_KEY="), env...)
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Fatalf("serve %v started", args)
		}
		return string(out)
	}
	if out := run([]string{"HOOKGATE_ADMIN_KEY=short"}); !strings.Contains(out, "at least 32") {
		t.Fatalf("short key: %s", out)
	}
	if out := run([]string{"HOOKGATE_ADMIN_KEY="}, "--pprof-addr", "0.0.0.0:0"); !strings.Contains(out, "pprof-allow-remote") {
		t.Fatalf("remote pprof: %s", out)
	}
	if out := run([]string{"HOOKGATE_ADMIN_KEY="}, "--send-timeout", "2h", "--lease", "3h"); !strings.Contains(out, "--send-timeout (2h0m0s) must be above 0 and at most 30m0s") {
		t.Fatalf("a send timeout of 2h: %s", out)
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	start(t, bin, dir)
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Fatalf("data dir mode %o", st.Mode().Perm())
	}
}

// Issue 23, step 5: the dispatcher's settings are checked by
// delivery.Config.Validate, and serve's refusals still name its flags.
func TestServeRefusesDeliverySettings(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--lease", "10s"}, "--lease (10s) must be longer than --send-timeout (15s)"},
		{[]string{"--lease", "0s"}, "--lease (0s) must be longer than --send-timeout (15s)"},
		{[]string{"--node-timeout", "2s"}, "--node-timeout must be at least 3s"},
		{[]string{"--node-timeout", "0s"}, "--node-timeout must be at least 3s"},
		{[]string{"--endpoint-concurrency", "10", "--max-endpoint-concurrency", "5"}, "--endpoint-concurrency must be positive and at most --max-endpoint-concurrency, itself at most 1024"},
		{[]string{"--max-endpoint-concurrency", "2000"}, "itself at most 1024"},
		{[]string{"--endpoint-concurrency", "0"}, "--endpoint-concurrency must be positive"},
		{[]string{"--recovery-schedule", ""}, "--recovery-schedule must have at least one wait"},
		{[]string{"--recovery-schedule", "5m,soon"}, "--recovery-schedule: retry schedule[1] is not a duration"},
		{[]string{"--recovery-schedule", "5m,200h"}, "--recovery-schedule: retry schedule[1] must be between 1s and 168h0m0s"},
		{[]string{"--recovery-for", "-1h"}, "--recovery-for must be 0 (no recovery probes) or more"},
		{[]string{"--breaker-failures", "-1"}, "--breaker-failures (-1) must be between 1 and 1000, or 0 to turn the breaker off"},
		{[]string{"--breaker-failures", "1001"}, "--breaker-failures (1001) must be between 1 and 1000, or 0 to turn the breaker off"},
		{[]string{"--breaker-failures", "ten"}, `invalid argument "ten" for "--breaker-failures"`},
		{[]string{"--breaker-cooldown", "0s"}, "--breaker-cooldown (0s) must be between 1s and 10m"},
		{[]string{"--breaker-cooldown", "500ms"}, "--breaker-cooldown (500ms) must be between 1s and 10m"},
		{[]string{"--breaker-cooldown", "11m"}, "--breaker-cooldown (11m) must be between 1s and 10m"},
		{[]string{"--sqlite-commit-delay", "11ms"}, "--sqlite-commit-delay (HOOKGATE_SQLITE_COMMIT_DELAY) must be between 0 and 10ms, not 11ms"},
		{[]string{"--sqlite-commit-delay", "-1ms"}, "--sqlite-commit-delay (HOOKGATE_SQLITE_COMMIT_DELAY) must be between 0 and 10ms, not -1ms"},
		{[]string{"--node-name", "web/1"}, `--node-name: "web/1" has '/': a node name is made of letters, digits, '.', '-' and '_'`},
		{[]string{"--node-name", strings.Repeat("n", 65)}, "--node-name: must be 1 to 64 characters long, not 65"},
	} {
		cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir()}, tc.args...)...)
		cmd.Env = append(os.Environ(), "HOOKGATE_DATABASE_URL=", "HOOKGATE_ENCRYPTION_KEY=", "HOOKGATE_ADMIN_KEY=")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("serve %v: %v, %s; want %q", tc.args, err, out, tc.want)
		}
	}
}

// rotate-key seals every stored secret again with a new key: a server on
// the new key then reads them, one on the old key no longer does.
func TestRotateKey(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	dir := t.TempDir()
	admin := "rotate-admin-key-0123456789abcdef0123"
	oldKey, newKey := strings.Repeat("ab", 32), strings.Repeat("cd", 32)
	run := func(key string, args ...string) *exec.Cmd {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "HOOKGATE_ADMIN_KEY="+admin, "HOOKGATE_DATABASE_URL=", "HOOKGATE_ENCRYPTION_KEY="+key)
		return cmd
	}
	url, _, srv := startCmd(t, run(oldKey, "serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--metrics-addr", ""))
	if st, _ := postJSON(url, admin, "/projects", map[string]any{"name": "rot"}); st != 201 {
		t.Fatalf("project: %d", st)
	}
	st, wh := postJSON(url, admin, "/projects/rot/webhooks", map[string]any{"url": "https://a.example.invalid/?token=t0k3n",
		"auth": map[string]any{"type": "basic", "username": "u", "password": "p"}})
	if st != 201 {
		t.Fatalf("webhook: %d", st)
	}
	_ = srv.Process.Signal(syscall.SIGTERM)
	_ = srv.Wait()
	// Issue 21, item 9: the database records its key; a server on another
	// one is refused, naming the fingerprints, until rotate-key records
	// the new key; then the old one is refused.
	fingerprint := func(hexKey string) string {
		k, _ := secrets.ParseKey(hexKey)
		b, _ := secrets.NewBox(k)
		return b.Fingerprint()
	}
	serveArgs := []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--metrics-addr", ""}
	if out, err := run(newKey, serveArgs...).CombinedOutput(); err == nil ||
		!strings.Contains(string(out), "(fingerprint "+fingerprint(newKey)+") is not the cluster's (fingerprint "+fingerprint(oldKey)+")") {
		t.Fatalf("serve on the new key before rotate-key: %v\n%s", err, out)
	}
	if out, err := run(newKey, "rotate-key", "--data-dir", dir).CombinedOutput(); err == nil || !strings.Contains(string(out), "give that key as --old-encryption-key") {
		t.Fatalf("rotate-key without the old key: %v\n%s", err, out)
	}
	out, err := run(newKey, "rotate-key", "--data-dir", dir, "--old-encryption-key", oldKey).CombinedOutput()
	// The URL, the secret, auth and headers (issue 21, item 11: the URL too).
	if err != nil || !strings.Contains(string(out), "sealed 4 values again") || !strings.Contains(string(out), "records its fingerprint, "+fingerprint(newKey)) {
		t.Fatalf("rotate-key: %v\n%s", err, out)
	}
	if out, err := run(oldKey, serveArgs...).CombinedOutput(); err == nil || !strings.Contains(string(out), "is not the cluster's (fingerprint "+fingerprint(newKey)+")") {
		t.Fatalf("serve on the old key after rotate-key: %v\n%s", err, out)
	}
	url, _, _ = startCmd(t, run(newKey, serveArgs...))
	req, _ := http.NewRequest("GET", url+"/api/v1/projects/rot/webhooks/"+wh["id"].(string)+"/secret", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("read with the new key: %v %v", res, err)
	}
	defer res.Body.Close()
	var sec struct{ URL string }
	if err := json.NewDecoder(res.Body).Decode(&sec); err != nil || sec.URL != "https://a.example.invalid/?token=t0k3n" {
		t.Fatalf("the URL read with the new key: %q, %v", sec.URL, err)
	}
}

// Issue 21, item 10: serve syncs every SQLite commit unless
// --sqlite-synchronous=normal (or its variable) asks for less, says which
// at start, and refuses any other value, naming the flag.
func TestServeSyncsEveryCommitByDefault(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	listening := func(env []string, args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--metrics-addr", ""}, args...)...)
		cmd.Env = append(append(os.Environ(), "HOOKGATE_ADMIN_KEY=", "HOOKGATE_DATABASE_URL=", "HOOKGATE_ENCRYPTION_KEY=", "HOOKGATE_SQLITE_SYNCHRONOUS="), env...)
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) == nil && line["msg"] == "hookgate listening" {
				go func() { _, _ = io.Copy(io.Discard, stderr) }()
				return line
			}
		}
		t.Fatalf("serve %v exited before listening", args)
		return nil
	}
	if got := listening(nil)["synchronous"]; got != "full" {
		t.Fatalf("synchronous %v by default, want full", got)
	}
	if got := listening(nil, "--sqlite-synchronous", "normal")["synchronous"]; got != "normal" {
		t.Fatalf("synchronous %v with --sqlite-synchronous normal", got)
	}
	if got := listening([]string{"HOOKGATE_SQLITE_SYNCHRONOUS=NORMAL"})["synchronous"]; got != "normal" {
		t.Fatalf("synchronous %v with HOOKGATE_SQLITE_SYNCHRONOUS=NORMAL", got)
	}
	for _, bad := range [][]string{{"--sqlite-synchronous", "off"}, {"--sqlite-synchronous", ""}} {
		cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir()}, bad...)...)
		cmd.Env = append(os.Environ(), "HOOKGATE_ADMIN_KEY=", "HOOKGATE_DATABASE_URL=", "HOOKGATE_ENCRYPTION_KEY=", "HOOKGATE_SQLITE_SYNCHRONOUS=")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "--sqlite-synchronous (HOOKGATE_SQLITE_SYNCHRONOUS) must be full or normal") {
			t.Fatalf("serve %v: %v\n%s", bad, err, out)
		}
	}
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir())
	cmd.Env = append(os.Environ(), "HOOKGATE_ADMIN_KEY=", "HOOKGATE_DATABASE_URL=", "HOOKGATE_ENCRYPTION_KEY=", "HOOKGATE_SQLITE_SYNCHRONOUS=sometimes")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), `must be full or normal, not "sometimes"`) {
		t.Fatalf("HOOKGATE_SQLITE_SYNCHRONOUS=sometimes: %v\n%s", err, out)
	}
}

// terminate sends SIGTERM to cmd and waits for it to exit with status 0,
// failing the test when it has not within d: how soon it exits is what the
// callers check.
func terminate(t *testing.T, cmd *exec.Cmd, d time.Duration, what string) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after %s: %v", what, err)
		}
	case <-time.After(d):
		t.Fatalf("the process still runs %s after %s", d, what)
	}
}
