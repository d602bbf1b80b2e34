package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/hookgate/hookgate/client"
)

// apiCmd holds what every command that calls the API shares: the server,
// the key, the project and the output format.
type apiCmd struct {
	server, apiKey, project, output string
	// newClient builds the client; tests keep the default.
	stdout, stderr io.Writer
}

// group returns a command grouping API subcommands, with the flags they
// share as persistent flags; withProject adds --project.
func (a *apiCmd) group(use, short string, withProject bool) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs}
	pf := cmd.PersistentFlags()
	pf.StringVar(&a.server, "server", envOr("HOOKGATE_URL", client.DefaultURL), "the Hookgate server's URL (env HOOKGATE_URL)")
	pf.StringVar(&a.apiKey, "api-key", os.Getenv("HOOKGATE_API_KEY"), "API key: the admin key or a project key (env HOOKGATE_API_KEY; default the admin.key of ./hookgate-data or $HOOKGATE_DATA_DIR)")
	pf.StringVarP(&a.output, "output", "o", "table", "output format: table or json")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp))
	if withProject {
		pf.StringVarP(&a.project, "project", "p", os.Getenv("HOOKGATE_PROJECT"), "project ID or slug (env HOOKGATE_PROJECT)")
	}
	cmd.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		a.stdout, a.stderr = cmd.OutOrStdout(), cmd.ErrOrStderr()
		if a.output != "table" && a.output != "json" {
			return fmt.Errorf("--output %q: want table or json", a.output)
		}
		if withProject && a.project == "" && cmd.Name() != "help" {
			return errors.New("--project is required (or set HOOKGATE_PROJECT): the project's ID or slug")
		}
		return nil
	}
	return cmd
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// client returns a client of the server with the key: --api-key, else
// HOOKGATE_API_KEY, else the admin key a local `hookgate serve` generated.
func (a *apiCmd) client() (*client.Client, error) {
	key := a.apiKey
	if key == "" {
		dir := envOr("HOOKGATE_DATA_DIR", "./hookgate-data")
		if b, err := os.ReadFile(filepath.Join(dir, "admin.key")); err == nil {
			key = strings.TrimSpace(string(b))
		}
	}
	if key == "" {
		return nil, errors.New("no API key: pass --api-key or set HOOKGATE_API_KEY (the admin key is in the server's data dir, admin.key)")
	}
	return client.New(a.server, key, client.WithUserAgent("hookgate-cli/"+version))
}

// show prints v: as indented JSON with -o json, else with table, which
// writes tab-separated lines.
func (a *apiCmd) show(v any, table func(w io.Writer)) error {
	if a.output == "json" {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	table(tw)
	return tw.Flush()
}

// fields writes one object as FIELD and VALUE lines.
func fields(w io.Writer, kv ...string) {
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(w, "%s\t%s\n", kv[i], kv[i+1])
	}
}

// row writes one tab-separated line.
func row(w io.Writer, cols ...string) { fmt.Fprintln(w, strings.Join(cols, "\t")) }

// listFlags are the paging flags of list commands.
type listFlags struct {
	limit  int
	cursor string
	all    bool
}

func (l *listFlags) add(cmd *cobra.Command) {
	cmd.Flags().IntVar(&l.limit, "limit", 0, "items per page (server default 50, at most 250)")
	cmd.Flags().StringVar(&l.cursor, "cursor", "", "start after this cursor (a previous page's next cursor)")
	cmd.Flags().BoolVar(&l.all, "all", false, "list every page")
}

func (l *listFlags) options() client.ListOptions {
	return client.ListOptions{Limit: l.limit, Cursor: l.cursor}
}

// collect fetches one page, or with --all every page, and tells on stderr
// where the next page starts when there is one.
func collect[T any](a *apiCmd, l *listFlags, page func(cursor string) (*client.Page[T], error)) ([]T, error) {
	var out []T
	cursor := l.cursor
	for {
		p, err := page(cursor)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Data...)
		if p.NextCursor == "" || p.NextCursor == cursor {
			return out, nil
		}
		if !l.all {
			fmt.Fprintf(a.stderr, "more: --cursor %s (or --all)\n", p.NextCursor)
			return out, nil
		}
		cursor = p.NextCursor
	}
}

// ts formats a time for tables; zero is "-".
func ts(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// millis formats a duration the API gave in whole milliseconds, cut
// down: under one is "<1ms", not "0s", for the request did take time.
func millis(d time.Duration) string {
	if d < time.Millisecond {
		return "<1ms"
	}
	return d.String()
}

// durationOf formats a duration of stats over n attempts: "-" without any.
func durationOf(n int, d time.Duration) string {
	if n == 0 {
		return "-"
	}
	return millis(d)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func join(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, ",")
}

// pairs formats a map as sorted k=v pairs.
func pairs[V any](m map[string]V) string {
	if len(m) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = fmt.Sprintf("%s=%v", k, m[k])
	}
	return strings.Join(out, " ")
}

// parsePairs reads K=V flag values into a map; flag names the flag.
func parsePairs(flag string, vals []string) (map[string]string, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(vals))
	for _, v := range vals {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--%s %q: want NAME=VALUE", flag, v)
		}
		m[k] = val
	}
	return m, nil
}

// readJSON reads a flag's JSON value: inline, @file, or - for stdin.
func readJSON(flag, v string, stdin io.Reader) (json.RawMessage, error) {
	var b []byte
	switch {
	case v == "-":
		var err error
		if b, err = io.ReadAll(stdin); err != nil {
			return nil, fmt.Errorf("--%s: reading stdin: %w", flag, err)
		}
	case strings.HasPrefix(v, "@"):
		var err error
		if b, err = os.ReadFile(v[1:]); err != nil {
			return nil, fmt.Errorf("--%s: %w", flag, err)
		}
	default:
		b = []byte(v)
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("--%s: not valid JSON (give JSON, @file or - for stdin)", flag)
	}
	return json.RawMessage(b), nil
}

// parseTimeFlag reads a time flag: an RFC 3339 time, or a duration meaning
// that long ago.
func parseTimeFlag(flag, v string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("--%s %q: want an RFC 3339 time (2026-12-01T00:00:00Z) or a duration ago (24h)", flag, v)
}

// printError prints a command's error; an API error shows its title,
// detail and parameter, each on a line.
func printError(w io.Writer, err error) {
	var e *client.Error
	if !errors.As(err, &e) {
		fmt.Fprintln(w, "hookgate:", err)
		if hint := unreachable(err); hint != "" {
			fmt.Fprintln(w, "  hint:", hint)
		}
		return
	}
	// What the command was doing, when it wrapped the API's error.
	if ctx, _, ok := strings.Cut(err.Error(), e.Error()); ok && strings.TrimSuffix(ctx, ": ") != "" {
		fmt.Fprintln(w, "hookgate:", strings.TrimSuffix(ctx, ": "))
	}
	title := e.Title
	if title == "" {
		title = "error"
	}
	fmt.Fprintf(w, "hookgate: %s (%d)", title, e.Status)
	if e.Detail != "" {
		fmt.Fprintf(w, ": %s", e.Detail)
	}
	fmt.Fprintln(w)
	if e.Parameter != "" {
		fmt.Fprintf(w, "  parameter: %s\n", e.Parameter)
	}
	if e.Value != nil {
		fmt.Fprintf(w, "  value:     %s\n", jsonValue(e.Value, 200))
	}
	if e.Code != "" {
		fmt.Fprintf(w, "  code:      %s\n", e.Code)
	}
	if e.ErrorID != "" {
		fmt.Fprintf(w, "  error id:  %s\n", e.ErrorID)
	}
}

// unreachable returns a hint when err says that no server could be
// reached, naming where the command looked and how to point it elsewhere;
// otherwise "".
func unreachable(err error) string {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return ""
	}
	var oe *net.OpError
	var de *net.DNSError
	if !(errors.As(err, &oe) && oe.Op == "dial") && !errors.As(err, &de) {
		return ""
	}
	where := ue.URL
	if u, perr := url.Parse(ue.URL); perr == nil {
		where = u.Scheme + "://" + u.Host
	}
	return fmt.Sprintf("no server answers at %s. Start one with `hookgate serve`, or give the server's URL with --server or HOOKGATE_URL.", where)
}

// jsonValue writes v, a value decoded from JSON, as compact JSON of at
// most max bytes, as the user would have written it.
func jsonValue(v any, max int) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	s := strings.TrimSuffix(b.String(), "\n")
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// listCmd makes a command that lists: page reads one page at o, and show
// prints what was gathered (one page, or every page with --all).
func listCmd[T any](a *apiCmd, use, short string, nargs int,
	page func(ctx context.Context, c *client.Client, args []string, o client.ListOptions) (*client.Page[T], error),
	show func(items []T) error) *cobra.Command {
	var lf listFlags
	cmd := &cobra.Command{Use: use, Short: short, Args: cobra.ExactArgs(nargs), RunE: func(cmd *cobra.Command, args []string) error {
		c, err := a.client()
		if err != nil {
			return err
		}
		items, err := collect(a, &lf, func(cursor string) (*client.Page[T], error) {
			o := lf.options()
			o.Cursor = cursor
			return page(cmd.Context(), c, args, o)
		})
		if err != nil {
			return err
		}
		return show(items)
	}}
	lf.add(cmd)
	return cmd
}

// rows shows items as a table with the header, a row each, or as a JSON
// array.
func rows[T any](a *apiCmd, header []string, cols func(T) []string) func([]T) error {
	return func(items []T) error {
		return a.show(items, func(w io.Writer) {
			row(w, header...)
			for _, it := range items {
				row(w, cols(it)...)
			}
		})
	}
}

// removeCmd makes a command that deletes what its one argument names with
// call, and says so: "{done} {arg}".
func removeCmd(a *apiCmd, use, short, done string, call func(ctx context.Context, c *client.Client, id string) error) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
		c, err := a.client()
		if err != nil {
			return err
		}
		if err := call(cmd.Context(), c, args[0]); err != nil {
			return err
		}
		return a.done(done + " " + args[0])
	}}
}

// statsCmd makes a command that shows the stats call answers for its
// argument and --window.
func statsCmd(a *apiCmd, use, short string, call func(ctx context.Context, c *client.Client, ref string, opts *client.StatsOptions) (*client.Stats, error)) *cobra.Command {
	var opts client.StatsOptions
	cmd := &cobra.Command{Use: use, Short: short, Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
		c, err := a.client()
		if err != nil {
			return err
		}
		st, err := call(cmd.Context(), c, args[0], &opts)
		if err != nil {
			return err
		}
		return a.show(st, func(w io.Writer) {
			fields(w, "window", st.Window+" (since "+ts(st.Since)+")", "attempts", strconv.Itoa(st.Attempts),
				"successes", strconv.Itoa(st.Successes), "success rate", fmt.Sprintf("%.1f %%", 100*st.SuccessRate),
				"failures", fmt.Sprintf("4xx %d, 5xx %d, no answer %d, other %d", st.Failures.Status4xx, st.Failures.Status5xx, st.Failures.NoAnswer, st.Failures.Other),
				"duration p50", durationOf(st.Attempts, st.P50), "duration p95", durationOf(st.Attempts, st.P95), "last success", ts(st.LastSuccessAt))
			if st.Filter.Rejected+st.Filter.Failed > 0 {
				fields(w, "filtered", fmt.Sprintf("rejected %d, failed %d", st.Filter.Rejected, st.Filter.Failed))
			}
			if f := st.LastFailure; f != nil {
				what := strconv.Itoa(f.StatusCode)
				if f.Error != "" {
					what += " " + oneLine(f.Error, 80)
				}
				fields(w, "last failure", ts(f.At)+" "+what, "  delivery", f.DeliveryID, "  webhook", f.WebhookID)
			} else {
				fields(w, "last failure", "-")
			}
			if len(st.Series) > 0 {
				fmt.Fprintln(w)
				row(w, "FROM", "ATTEMPTS", "SUCCESSES", "P50", "P95")
				for _, p := range st.Series {
					row(w, ts(p.At), strconv.Itoa(p.Attempts), strconv.Itoa(p.Successes), durationOf(p.Attempts, p.P50), durationOf(p.Attempts, p.P95))
				}
			}
		})
	}}
	cmd.Flags().DurationVar(&opts.Window, "window", 0, "how far back from now, 1m to 720h (default 24h)")
	cmd.Flags().DurationVar(&opts.Interval, "interval", 0, "also split the window into intervals of this long, such as 1m (at most 1,440)")
	return cmd
}
