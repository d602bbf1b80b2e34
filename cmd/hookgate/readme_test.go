package main_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
)

// tourStep is what the README's tour promises of one numbered step: the
// HTTP statuses of its curl calls, in order, and text its output shows.
type tourStep struct {
	statuses []int
	shows    []string
}

// tourSteps are the tour's numbered steps. Every status listed must also be
// written in the step's comment, so that the README says what it shows.
var tourSteps = map[int]tourStep{
	1: {statuses: []int{201}, shows: []string{`"slug":"acme"`}},
	2: {statuses: []int{201}},
	3: {statuses: []int{201}, shows: []string{`"secret":"whsec_`}},
	4: {statuses: []int{202}, shows: []string{`"id":"evt_`}},
	5: {statuses: []int{200, 200}, shows: []string{`"type":"order.created"`, `"id":"msg_`}},
	6: {statuses: []int{201}, shows: []string{`"uid":"get-randomapi"`}},
	7: {statuses: []int{200}, shows: []string{`"status":0`, `"error":true`}},
	8: {statuses: []int{201, 502}, shows: []string{`"code":"provider_error"`, "Unauthorized"}},
	9: {statuses: []int{502}, shows: []string{`"code":"provider_error"`}},
}

// tourVars are the shell variables the tour assigns and how each begins.
var tourVars = map[string]string{
	"ADMIN": "hga_", "API": "http://", "JSON": "Content-Type: application/json",
	"KEY": "hgk_", "PLAT": "plat_",
}

// readmeTour returns the ```sh blocks of the README's tour, each as its
// lines.
func readmeTour(t *testing.T) [][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, tour, ok := strings.Cut(string(b), "\n## A five-minute tour\n")
	if !ok {
		t.Fatal(`README.md has no "## A five-minute tour" section`)
	}
	tour, _, _ = strings.Cut(tour, "\n## ")
	var blocks [][]string
	for _, part := range strings.Split(tour, "```sh\n")[1:] {
		block, _, ok := strings.Cut(part, "```")
		if !ok {
			t.Fatal("README.md: a ```sh block of the tour is not closed")
		}
		blocks = append(blocks, strings.Split(strings.TrimRight(block, "\n"), "\n"))
	}
	if len(blocks) < 2 {
		t.Fatalf("README.md's tour has %d sh blocks", len(blocks))
	}
	return blocks
}

// needTool finds a command the README uses; without it the test skips,
// except under CI, where it fails.
func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is needed to run the README's tour: %v", name, err)
		}
		t.Skipf("%s not found: the README's tour is not run (install %s; under CI=true this fails)", name, name)
	}
}

// cleanEnv is the test's environment without HOOKGATE_ variables, as a
// new user's shell has it.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOOKGATE_") {
			env = append(env, kv)
		}
	}
	return env
}

// tourCommand returns a README command that runs `go run ./cmd/hookgate`
// as the built binary, run by bash in dir.
func tourCommand(t *testing.T, bin, dir, line string, extra ...string) *exec.Cmd {
	t.Helper()
	cmdline, _, _ := strings.Cut(line, " #")
	if !strings.Contains(cmdline, "go run ./cmd/hookgate ") {
		t.Fatalf("README.md: the tour's first block runs %q, not go run ./cmd/hookgate", line)
	}
	cmdline = strings.Replace(strings.TrimSpace(cmdline), "go run ./cmd/hookgate", bin, 1)
	cmd := exec.Command("bash", "-c", "exec env "+cmdline+" "+strings.Join(extra, " "))
	cmd.Dir, cmd.Env = dir, cleanEnv()
	return cmd
}

// startListener starts the tour's `hookgate listen` and returns its URL
// and a channel closed once it printed a line containing want.
func startListener(t *testing.T, cmd *exec.Cmd, want string) (string, <-chan struct{}, *syncBuffer) {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "listening on http://") {
		t.Fatalf("hookgate listen printed %q first", sc.Text())
	}
	url := strings.Fields(strings.TrimPrefix(sc.Text(), "listening on "))[0]
	got, printed := make(chan struct{}), &syncBuffer{}
	go func() {
		seen := false
		for sc.Scan() {
			_, _ = printed.Write([]byte(sc.Text() + "\n"))
			if !seen && strings.Contains(sc.Text(), want) {
				seen = true
				close(got)
			}
		}
	}()
	return url, got, printed
}

var (
	stepLine   = regexp.MustCompile(`^# (\d+)\. `)
	assignment = regexp.MustCompile(`^([A-Z][A-Z0-9_]*)=`)
	marker     = regexp.MustCompile(`(?m)^@@step (\d+)$`)
)

// tourScript turns the tour's blocks after the first into one bash script
// that marks each step's start on stdout and stderr, writes each curl's
// status to stderr, and the variables a step assigned after it. It also
// returns each step's comment.
func tourScript(t *testing.T, blocks [][]string) (string, map[int]string) {
	t.Helper()
	var sb strings.Builder
	sb.WriteString("set -eu -o pipefail\n")
	sb.WriteString(`curl() { command curl -w '%{stderr}@@status %{http_code}\n' "$@"; }` + "\n")
	comments := map[int]string{}
	step, inComment := 0, false
	var assigned []string
	flush := func() {
		for _, name := range assigned {
			fmt.Fprintf(&sb, "printf '@@var %s=%%s\\n' \"${%s-}\" >&2\n", name, name)
		}
		assigned = nil
	}
	for _, block := range blocks {
		for _, line := range block {
			if m := stepLine.FindStringSubmatch(line); m != nil {
				flush()
				n, _ := strconv.Atoi(m[1])
				if n != step+1 {
					t.Fatalf("README.md: tour step %d follows step %d", n, step)
				}
				step, inComment = n, true
				comments[n] = line
				fmt.Fprintf(&sb, "printf '\\n@@step %d\\n'; printf '@@step %d\\n' >&2\n", n, n)
				continue
			}
			if inComment && strings.HasPrefix(line, "#") {
				comments[step] += "\n" + line
				continue
			}
			inComment = false
			if m := assignment.FindStringSubmatch(line); m != nil && !slices.Contains(assigned, m[1]) {
				assigned = append(assigned, m[1])
			}
			sb.WriteString(line + "\n")
		}
	}
	flush()
	return sb.String(), comments
}

// tourOutput is what the script printed, by step.
type tourOutput struct {
	stdout   map[int]string
	statuses map[int][]int
	vars     map[string]string
	other    string // stderr lines that are not markers: curl's or bash's errors
	last     int    // the last step begun
}

func parseTourOutput(stdout, stderr string) tourOutput {
	o := tourOutput{stdout: map[int]string{}, statuses: map[int][]int{}, vars: map[string]string{}}
	idx := marker.FindAllStringSubmatchIndex(stdout, -1)
	for i, m := range idx {
		n, _ := strconv.Atoi(stdout[m[2]:m[3]])
		end := len(stdout)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		o.stdout[n] = stdout[m[1]:end]
	}
	step := 0
	for line := range strings.Lines(stderr) {
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "@@step "):
			step, _ = strconv.Atoi(strings.TrimPrefix(line, "@@step "))
			o.last = step
		case strings.HasPrefix(line, "@@status "):
			code, _ := strconv.Atoi(strings.TrimPrefix(line, "@@status "))
			o.statuses[step] = append(o.statuses[step], code)
		case strings.HasPrefix(line, "@@var "):
			name, value, _ := strings.Cut(strings.TrimPrefix(line, "@@var "), "=")
			o.vars[name] = value
		default:
			o.other += line + "\n"
		}
	}
	return o
}

// Issue 22, item 2: the README's tour runs verbatim, with bash and curl,
// against a real `hookgate serve` started as the README starts it, and each
// step shows what the README says: the statuses written in its comment, the
// output it describes, and variables that hold what they should. The
// listener is the README's own `hookgate listen`; Telegram is a local fake
// that refuses the README's made-up token with 401, as Telegram does, set
// as the platform's documented apiBaseUrl. Only the addresses change.
func TestReadmeTourRunsAsWritten(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "curl", "sed"} {
		needTool(t, tool)
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	blocks := readmeTour(t)

	var serveLine, listenLine string
	for _, line := range blocks[0] {
		switch {
		case strings.Contains(line, "./cmd/hookgate serve"):
			serveLine = line
		case strings.Contains(line, "./cmd/hookgate listen"):
			listenLine = line
		case strings.TrimSpace(line) != "":
			t.Fatalf("README.md: the tour's first block has %q, which the test does not know", line)
		}
	}
	if !strings.Contains(serveLine, "HOOKGATE_ALLOW_NETWORKS=127.0.0.0/8 ") || listenLine == "" {
		t.Fatalf("README.md: the tour's first block does not start the server with loopback allowed and the listener:\n%s", strings.Join(blocks[0], "\n"))
	}
	serverURL, serveOut, _ := startCmd(t, tourCommand(t, bin, dir, serveLine, "--addr", "127.0.0.1:0", "--metrics-addr", "''"))
	// "The first start generates an admin key into ./hookgate-data/admin.key
	// (mode 0600) and names that file."
	if fi, err := os.Stat(filepath.Join(dir, "hookgate-data", "admin.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin.key after the first start: %v, %v", fi, err)
	}
	if !strings.Contains(serveOut.String(), "hookgate-data/admin.key") {
		t.Fatalf("serve did not name the admin key's file:\n%s", serveOut)
	}
	listenURL, delivered, listened := startListener(t, tourCommand(t, bin, dir, listenLine, "--addr", "127.0.0.1:0"), "order.created")
	telegram := apitest.NewFakeTelegram(t)

	script, comments := tourScript(t, blocks[1:])
	for _, r := range []struct{ old, new string }{
		{"http://127.0.0.1:8080", serverURL},
		{"http://127.0.0.1:9000", listenURL},
		{`"provider": "telegram",`, fmt.Sprintf(`"provider": "telegram", "apiBaseUrl": %q,`, telegram.URL)},
	} {
		if strings.Count(script, r.old) != 1 {
			t.Fatalf("README.md: the tour holds %q %d times; the test replaces it once", r.old, strings.Count(script, r.old))
		}
		script = strings.Replace(script, r.old, r.new, 1)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := exec.CommandContext(ctx, "bash", "-c", script)
	run.Dir, run.Env = dir, cleanEnv()
	var stdout, stderr bytes.Buffer
	run.Stdout, run.Stderr = &stdout, &stderr
	err := run.Run()
	out := parseTourOutput(stdout.String(), stderr.String())
	if err != nil {
		// The steps before it are checked too: the first one that went
		// wrong is often earlier.
		t.Errorf("the tour failed in step %d: %v\n%s%s", out.last, err, out.stdout[out.last], out.other)
	}

	// A capture that went wrong (an error's JSON, or nothing) is often
	// the first cause: variables first.
	for name, value := range out.vars {
		prefix, ok := tourVars[name]
		if !ok {
			t.Errorf("README.md's tour assigns %s, which the test does not know: add it to tourVars", name)
			continue
		}
		if !strings.HasPrefix(value, prefix) || strings.ContainsAny(value, "{}\n") {
			t.Errorf("%s = %q, want a value beginning with %q", name, value, prefix)
		}
	}
	// Then the steps, up to the first that went wrong: those after it
	// mostly fail for its sake.
	for n := 1; n <= len(tourSteps) || n <= len(comments); n++ {
		if err != nil && n > out.last {
			break
		}
		want, ok := tourSteps[n]
		if !ok || comments[n] == "" {
			t.Fatalf("README.md's tour and this test disagree on step %d: update tourSteps", n)
		}
		for _, code := range want.statuses {
			if !regexp.MustCompile(`\b` + strconv.Itoa(code) + `\b`).MatchString(comments[n]) {
				t.Errorf("README.md: step %d answers %d, which its comment does not say:\n%s", n, code, comments[n])
			}
		}
		if got := out.statuses[n]; !slices.Equal(got, want.statuses) {
			t.Errorf("step %d answered %v, want %v:\n%s", n, got, want.statuses, out.stdout[n])
		}
		for _, s := range want.shows {
			if !strings.Contains(out.stdout[n], s) {
				t.Errorf("step %d did not show %s:\n%s", n, s, out.stdout[n])
			}
		}
		if t.Failed() {
			return
		}
	}
	if err != nil {
		return
	}
	for name := range tourVars {
		if _, ok := out.vars[name]; !ok {
			t.Errorf("README.md's tour no longer assigns %s: remove it from tourVars", name)
		}
	}
	// Step 4: "The listener prints it within a moment".
	select {
	case <-delivered:
	case <-time.After(30 * time.Second):
		t.Fatalf("the listener printed no order.created within 30 s:\n%s", listened)
	}
	if !strings.Contains(listened.String(), "POST /hooks/orders") {
		t.Fatalf("the listener printed:\n%s", listened)
	}
}

// readmeBlock returns the lines of the first ```sh block of the README's
// section titled title.
func readmeBlock(t *testing.T, title string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## "+title+"\n")
	if !ok {
		t.Fatalf("README.md has no %q section", title)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	_, block, ok := strings.Cut(section, "```sh\n")
	if !ok {
		t.Fatalf("README.md's %q section has no sh block", title)
	}
	block, _, _ = strings.Cut(block, "```")
	return strings.Split(strings.TrimRight(block, "\n"), "\n")
}

// Issue 22, item 2: the README's CLI example runs as written, each command
// with `hookgate` on the PATH beside a local server whose data dir holds
// the admin key, as the README puts it; HOOKGATE_URL, which the README
// names, points at the test's server, a local receiver stands in for
// 127.0.0.1:9000, and DELIVERY_ID is a delivery of the event sent.
func TestReadmeCLIExampleRuns(t *testing.T) {
	t.Parallel()
	needTool(t, "bash")
	bin := buildBinary(t)
	dir := t.TempDir()
	serve := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--metrics-addr", "")
	serve.Dir, serve.Env = dir, append(cleanEnv(), "HOOKGATE_ALLOW_NETWORKS=127.0.0.0/8")
	serverURL, _, _ := startCmd(t, serve)
	rcv := newReceiver(t, 0)
	orders := `{"type": "order.created", "data": {"id": 1002}, "idempotencyKey": "order-1002-created"}` + "\n" +
		`{"type": "order.created", "data": {"id": 1003}, "idempotencyKey": "order-1003-created"}` + "\n"
	if err := os.WriteFile(filepath.Join(dir, "orders.jsonl"), []byte(orders), 0o600); err != nil {
		t.Fatal(err)
	}

	lines := readmeBlock(t, "From the shell and from Go")
	if len(lines) < 5 || !strings.HasPrefix(lines[0], "hookgate ") {
		t.Fatalf("README.md: the CLI example is not a list of hookgate commands:\n%s", strings.Join(lines, "\n"))
	}
	env := append(cleanEnv(), "HOOKGATE_URL="+serverURL, "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	run := func(script string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "bash", "-c", "set -eu -o pipefail\n"+script)
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("README.md's CLI example failed: %v\n%s\n%s", err, script, out)
		}
	}
	// The lines before DELIVERY_ID make the delivery it stands for.
	script := strings.ReplaceAll(strings.Join(lines, "\n"), "http://127.0.0.1:9000", rcv.URL)
	before, after, ok := strings.Cut(script, "DELIVERY_ID")
	if !ok {
		run(script)
		return
	}
	i := strings.LastIndex(before, "\n")
	run(before[:i])
	exports := ""
	for _, l := range strings.Split(before[:i], "\n") {
		if strings.HasPrefix(l, "export ") {
			exports += l + "\n"
		}
	}
	key, err := os.ReadFile(filepath.Join(dir, "hookgate-data", "admin.key"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sdk, err := client.New(serverURL, string(key))
	if err != nil {
		t.Fatal(err)
	}
	page, err := sdk.ListDeliveries(ctx, "acme", &client.DeliveryListOptions{ListOptions: client.ListOptions{Limit: 1}})
	if err != nil || len(page.Data) == 0 {
		t.Fatalf("no delivery after the CLI example's first commands: %v", err)
	}
	run(exports + before[i+1:] + page.Data[0].ID + after)
}
