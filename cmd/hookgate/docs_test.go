package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/internal/testwait"
)

// docCommand is one `$ hookgate …` line of docs/cli.md and the output the
// page shows after it.
type docCommand struct {
	line   int
	args   []string
	shown  []string
	export [2]string // NAME, VALUE of an `export` line instead
}

// readDocCommands reads the console blocks of a Markdown page: lines
// starting with "$ " are commands (a trailing \ continues them), the lines
// after one until the next are its output.
func readDocCommands(t *testing.T, path string) []docCommand {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []docCommand
	in := false
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```console"):
			in = true
			continue
		case strings.HasPrefix(line, "```"):
			in = false
			continue
		case !in:
			continue
		}
		cmd, ok := strings.CutPrefix(line, "$ ")
		if !ok {
			if len(out) > 0 && strings.TrimSpace(line) != "" {
				out[len(out)-1].shown = append(out[len(out)-1].shown, line)
			}
			continue
		}
		start := n
		for strings.HasSuffix(cmd, `\`) && sc.Scan() {
			n++
			cmd = strings.TrimSuffix(cmd, `\`) + " " + strings.TrimSpace(sc.Text())
		}
		words, err := shellWords(cmd)
		if err != nil {
			t.Fatalf("%s:%d: %v", path, start, err)
		}
		dc := docCommand{line: start}
		switch {
		case len(words) == 2 && words[0] == "export":
			name, value, _ := strings.Cut(words[1], "=")
			dc.export = [2]string{name, value}
		case len(words) > 0 && words[0] == "hookgate":
			dc.args = words[1:]
		default:
			t.Fatalf("%s:%d: a console line that is neither hookgate nor export: %s", path, start, cmd)
		}
		out = append(out, dc)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// shellWords splits a command line as a POSIX shell would, for the quoting
// the docs use: single quotes, double quotes and backslash escapes.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unclosed ' in %s", s)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`"\$`, s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf(`unclosed " in %s`, s)
			}
			inWord = true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// varying matches output that differs from run to run: IDs, times, keys,
// the time an expression took.
var varying = regexp.MustCompile(`[a-z]+_[0-9a-z]{12,}|\d{4}-\d\d-\d\dT\d\d:|whsec_|hgk_| in [0-9.]+[nµm]?s$`)

// Every command of docs/cli.md runs, in order, against a real server, and
// prints what the page shows (but IDs and times).
func TestCLIDocs(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t, "sqlite")
	rcv := newSink(t)
	tg := apitest.NewFakeTelegram(t)
	c := &cli{t: t, server: srv.URL, key: apitest.AdminKey}
	sdk, err := client.New(srv.URL, apitest.AdminKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	orders := filepath.Join(dir, "orders.jsonl")
	var lines []string
	for i := range 3 {
		lines = append(lines, fmt.Sprintf(`{"type": "order.created", "data": {"id": %d}, "idempotencyKey": "order-%d-created"}`, 1002+i, 1002+i))
	}
	if err := os.WriteFile(orders, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	project := ""
	// newest resolves a placeholder to the newest ID of its kind.
	newest := func(placeholder string) string {
		var id string
		testwait.For(t, "an ID for "+placeholder, func() bool {
			switch placeholder {
			case "KEY_ID":
				p, err := sdk.ListKeys(ctx, project, nil)
				if err == nil && len(p.Data) > 0 {
					id = p.Data[0].ID
				}
			case "EVENT_ID":
				p, err := sdk.ListEvents(ctx, project, nil)
				if err == nil && len(p.Data) > 0 {
					id = p.Data[0].ID
				}
			case "DELIVERY_ID": // a finished one, which may be retried
				p, err := sdk.ListDeliveries(ctx, project, &client.DeliveryListOptions{Status: client.DeliverySucceeded})
				if err == nil && len(p.Data) > 0 {
					id = p.Data[0].ID
				}
			case "PORTAL_LINK_ID":
				p, err := sdk.ListPortalLinks(ctx, project, nil)
				if err == nil && len(p.Data) > 0 {
					id = p.Data[0].ID
				}
			case "PLATFORM_ID":
				p, err := sdk.ListPlatforms(ctx, project, nil)
				if err == nil && len(p.Data) > 0 {
					id = p.Data[0].ID
				}
			}
			return id != ""
		})
		return id
	}
	cmds := readDocCommands(t, filepath.Join("..", "..", "docs", "cli.md"))
	if len(cmds) < 40 {
		t.Fatalf("only %d commands in docs/cli.md", len(cmds))
	}
	for _, dc := range cmds {
		if dc.export[0] != "" {
			if dc.export[0] != "HOOKGATE_PROJECT" {
				t.Fatalf("docs/cli.md:%d: export of %s, which the test does not know", dc.line, dc.export[0])
			}
			project = dc.export[1]
			continue
		}
		args := make([]string, len(dc.args))
		for i, a := range dc.args {
			for _, ph := range []string{"KEY_ID", "EVENT_ID", "DELIVERY_ID", "PORTAL_LINK_ID", "PLATFORM_ID"} {
				if strings.Contains(a, ph) {
					a = strings.ReplaceAll(a, ph, newest(ph))
				}
			}
			a = strings.ReplaceAll(a, "http://127.0.0.1:9000", rcv.srv.URL)
			a = strings.ReplaceAll(a, "123456789:AAF-your-token-from-BotFather-000000", apitest.BotToken)
			if a == "orders.jsonl" {
				a = orders
			}
			args[i] = a
		}
		root, _, err := newRootCmd().Find(args)
		if err != nil {
			t.Fatalf("docs/cli.md:%d: %v", dc.line, err)
		}
		if project != "" && root.Flag("project") != nil {
			args = append(args, "--project", project)
		}
		if root.CommandPath() == "hookgate platform create" {
			args = append(args, "--api-base-url", tg.URL)
		}
		out, errOut, err := c.run(args...)
		wantFail := len(dc.shown) > 0 && strings.HasPrefix(dc.shown[0], "hookgate: ")
		if (err != nil) != wantFail {
			t.Fatalf("docs/cli.md:%d: hookgate %s: error %v (want one: %v)\n%s%s", dc.line, strings.Join(dc.args, " "), err, wantFail, out, errOut)
		}
		printed := out + errOut
		for _, want := range dc.shown {
			if varying.MatchString(want) {
				continue
			}
			if !strings.Contains(printed, want) {
				t.Errorf("docs/cli.md:%d: hookgate %s printed\n%s\nwithout the line the page shows:\n%s", dc.line, strings.Join(dc.args, " "), printed, want)
			}
		}
	}
	if len(tg.Sent()) != 1 {
		t.Fatalf("the fake Telegram got %d messages", len(tg.Sent()))
	}
}

func TestShellWords(t *testing.T) {
	t.Parallel()
	got, err := shellWords(`a 'b c' "d \"e\"" f\ g --x='{"k": 1}'`)
	want := []string{"a", "b c", `d "e"`, "f g", `--x={"k": 1}`}
	if err != nil || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("shellWords = %q, %v; want %q", got, err, want)
	}
	if _, err := shellWords(`a 'b`); err == nil {
		t.Fatal("an unclosed quote split")
	}
}
