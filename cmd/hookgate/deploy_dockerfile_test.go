package main_test

import (
	"bufio"
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The image cannot be built on a machine without a container daemon or
// without the base images, so these tests check what can be checked
// without one: the binary the Dockerfile's own build line makes, and that
// the final stage's paths, user, port and health check fit together and
// fit that binary. They do not prove that `docker build` succeeds.

// dockerInstr is one instruction of a Dockerfile: its keyword in capitals
// and the rest of its line, continuations joined.
type dockerInstr struct {
	cmd, args string
}

// dockerStage is one FROM … of a Dockerfile and its instructions.
type dockerStage struct {
	from, name string
	instrs     []dockerInstr
}

// readDockerfile parses the repository's Dockerfile into its stages.
func readDockerfile(t *testing.T) []dockerStage {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stages []dockerStage
	var line string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		text := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(text, "#") || (text == "" && line == "") {
			continue
		}
		if cont, ok := strings.CutSuffix(text, `\`); ok {
			line += cont + " "
			continue
		}
		line += text
		word, rest, _ := strings.Cut(line, " ")
		in := dockerInstr{strings.ToUpper(word), strings.Join(strings.Fields(rest), " ")}
		line = ""
		if in.cmd == "FROM" {
			from := strings.Fields(in.args)
			st := dockerStage{from: from[0]}
			if len(from) == 3 && strings.EqualFold(from[1], "AS") {
				st.name = from[2]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) > 0 {
			stages[len(stages)-1].instrs = append(stages[len(stages)-1].instrs, in)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(stages) < 2 {
		t.Fatalf("Dockerfile: %d stages, want a build stage and a final one", len(stages))
	}
	return stages
}

// all returns the arguments of every instruction cmd of the stage.
func (s dockerStage) all(cmd string) []string {
	var out []string
	for _, in := range s.instrs {
		if in.cmd == cmd {
			out = append(out, in.args)
		}
	}
	return out
}

// execForm decodes an instruction's JSON array (ENTRYPOINT ["…"]).
func execForm(t *testing.T, what, args string) []string {
	t.Helper()
	var v []string
	if err := json.Unmarshal([]byte(args), &v); err != nil || len(v) == 0 {
		t.Fatalf("Dockerfile: %s %s is not in exec form (a JSON array): %v", what, args, err)
	}
	return v
}

// dockerEnv is the final stage's ENV, KEY=value pairs.
func (s dockerStage) env() map[string]string {
	env := map[string]string{}
	for _, args := range s.all("ENV") {
		for _, kv := range strings.Fields(args) {
			if k, v, ok := strings.Cut(kv, "="); ok {
				env[k] = v
			}
		}
	}
	return env
}

// copyFrom returns the source of the final stage's COPY --from=build to dst.
func copyFrom(t *testing.T, final dockerStage, build, dst string) string {
	t.Helper()
	for _, args := range final.all("COPY") {
		f := strings.Fields(args)
		if slices.Contains(f, "--from="+build) && f[len(f)-1] == dst {
			return f[len(f)-2]
		}
	}
	t.Fatalf("Dockerfile: no COPY --from=%s of %s in the final stage", build, dst)
	return ""
}

// The final stage runs a binary the build stage made, as a user that is not
// root, on a minimal base, with /data its volume, owned by that user, the
// data dir, and its health check the binary's own healthcheck command.
func TestDockerfileFinalStage(t *testing.T) {
	t.Parallel()
	stages := readDockerfile(t)
	build, final := stages[0], stages[len(stages)-1]
	if !strings.HasPrefix(final.from, "gcr.io/distroless/static") && final.from != "scratch" {
		t.Fatalf("final stage FROM %s: want distroless/static or scratch, no libc, no shell", final.from)
	}
	users := final.all("USER")
	if len(users) != 1 {
		t.Fatalf("final stage: USER %q, want one", users)
	}
	uid, _, _ := strings.Cut(users[0], ":")
	if uid == "0" || uid == "root" || uid == "" || strings.Trim(uid, "0123456789") != "" {
		t.Fatalf("USER %s: want a numeric user other than root (Kubernetes' runAsNonRoot checks a number)", users[0])
	}
	entry := execForm(t, "ENTRYPOINT", strings.Join(final.all("ENTRYPOINT"), ""))
	src := copyFrom(t, final, build.name, entry[0])
	if runs := strings.Join(build.all("RUN"), "\n"); !strings.Contains(runs, "-o "+src+" ./cmd/hookgate") {
		t.Fatalf("the ENTRYPOINT %s is a copy of %s, which no go build of the build stage writes:\n%s", entry[0], src, runs)
	}
	if cmd := execForm(t, "CMD", strings.Join(final.all("CMD"), "")); !slices.Equal(cmd, []string{"serve"}) {
		t.Fatalf("CMD %q, want [serve]", cmd)
	}
	env := final.env()
	if v := final.all("VOLUME"); len(v) != 1 || v[0] != env["HOOKGATE_DATA_DIR"] {
		t.Fatalf("VOLUME %q, HOOKGATE_DATA_DIR %q: the data dir must be the volume", v, env["HOOKGATE_DATA_DIR"])
	}
	var owned bool
	for _, args := range final.all("COPY") {
		f := strings.Fields(args)
		owned = owned || (f[len(f)-1] == env["HOOKGATE_DATA_DIR"] && slices.Contains(f, "--chown="+users[0]))
	}
	if !owned {
		t.Fatalf("no COPY --chown=%s makes %s: the user could not write its data dir", users[0], env["HOOKGATE_DATA_DIR"])
	}
	_, port, err := net.SplitHostPort(env["HOOKGATE_ADDR"])
	if err != nil {
		t.Fatalf("HOOKGATE_ADDR %q: %v", env["HOOKGATE_ADDR"], err)
	}
	if e := final.all("EXPOSE"); len(e) != 1 || e[0] != port {
		t.Fatalf("EXPOSE %q, want the port of HOOKGATE_ADDR, %s", e, port)
	}
	hc := final.all("HEALTHCHECK")
	if len(hc) != 1 {
		t.Fatalf("HEALTHCHECK %q, want one", hc)
	}
	_, probe, ok := strings.Cut(hc[0], " CMD ")
	if argv := execForm(t, "HEALTHCHECK CMD", probe); !ok || !slices.Equal(argv, []string{entry[0], "healthcheck"}) {
		t.Fatalf("HEALTHCHECK %s: want CMD [%q, \"healthcheck\"]", hc[0], entry[0])
	}
}

// The Dockerfile's build line, run here as the build stage runs it (with
// sh, VERSION set), makes a static binary that runs: it prints the
// version given, and its health check, as HEALTHCHECK runs it with the
// image's HOOKGATE_ADDR, answers for a server it serves.
func TestDockerfileBuildsAStaticBinary(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: the Dockerfile's build line (-trimpath) is a build of its own, minutes on a cold cache")
	}
	stages := readDockerfile(t)
	build, final := stages[0], stages[len(stages)-1]
	entry := execForm(t, "ENTRYPOINT", strings.Join(final.all("ENTRYPOINT"), ""))
	src := copyFrom(t, final, build.name, entry[0])
	var line string
	for _, run := range build.all("RUN") {
		if strings.Contains(run, "go build") {
			line = run
		}
	}
	for _, want := range []string{"CGO_ENABLED=0 ", "-trimpath", "-X main.version=${VERSION}"} {
		if !strings.Contains(line, want) {
			t.Fatalf("the build line lacks %q: %s", want, line)
		}
	}
	bin := filepath.Join(t.TempDir(), path.Base(src))
	cmd := exec.Command("sh", "-c", strings.ReplaceAll(line, src, bin))
	cmd.Dir = filepath.Join("..", "..")
	const version = "v0.0.0-dockerfile-test"
	// No VCS stamp, as in the image, whose build context has no .git.
	cmd.Env = append(os.Environ(), "VERSION="+version, "CGO_ENABLED=", "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}

	ef, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Fatalf("the binary is dynamically linked (%v): it would not run on distroless/static", p.Type)
		}
	}
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if settings["CGO_ENABLED"] != "0" || settings["-trimpath"] != "true" {
		t.Fatalf("build settings %v: want CGO_ENABLED=0 and -trimpath", settings)
	}
	// -s drops the symbol table, -w the DWARF (go does not record
	// -ldflags under -trimpath).
	for _, sec := range []string{".symtab", ".debug_info"} {
		if ef.Section(sec) != nil {
			t.Fatalf("the binary has %s: built without -ldflags \"-s -w\"", sec)
		}
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "hookgate "+version {
		t.Fatalf("version: %v %q, want %q", err, out, "hookgate "+version)
	}

	// The health check, with the image's HOOKGATE_ADDR pointed at a free
	// port here: its wildcard host is asked on loopback.
	serve := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--metrics-addr", "")
	serve.Env = append(cleanEnv(), "HOOKGATE_ADMIN_KEY=dockerfile-admin-key-0123456789abcdef")
	base, _, _ := startCmd(t, serve)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(u.Host)
	host, _, _ := net.SplitHostPort(final.env()["HOOKGATE_ADDR"])
	hc := exec.Command(bin, "healthcheck")
	hc.Env = append(cleanEnv(), "HOOKGATE_ADDR="+net.JoinHostPort(host, port))
	if out, err := hc.CombinedOutput(); err != nil {
		t.Fatalf("the HEALTHCHECK command against a running server: %v\n%s", err, out)
	}
}

// The build context keeps out what must not reach an image layer (keys and
// databases, environment files, VCS data) and keeps every file the build
// reads: go.mod, go.sum and each package the binary is made of, embedded
// files included.
func TestDockerignore(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			if strings.HasPrefix(l, "!") {
				t.Fatalf(".dockerignore: %s: the test does not know exceptions", l)
			}
			patterns = append(patterns, strings.TrimSuffix(strings.TrimPrefix(l, "/"), "/"))
		}
	}
	ignored := func(rel string) bool {
		for _, p := range patterns {
			for _, pat := range []string{p, strings.TrimPrefix(p, "**/")} {
				// A pattern names a path and everything under it; **/ any depth.
				parts := strings.Split(rel, "/")
				for i := range parts {
					for j := i + 1; j <= len(parts); j++ {
						if (i == 0 || strings.HasPrefix(p, "**/")) && matchPath(pat, strings.Join(parts[i:j], "/")) {
							return true
						}
					}
				}
			}
		}
		return false
	}
	for _, must := range []string{".git", "hookgate-data/admin.key", "cmd/hookgate/hookgate-data/hookgate.db", "deploy/.env", ".env"} {
		if !ignored(must) {
			t.Errorf(".dockerignore lets %s into the build context", must)
		}
	}
	// Each package of the module the binary is made of: its directory
	// (a file in it stands for its Go files) and its embedded files.
	out, err := exec.Command("go", "list", "-deps", "-f",
		`{{if .Module}}{{if .Module.Main}}{{.Dir}}/x.go{{range .EmbedFiles}}`+"\n"+`{{$.Dir}}/{{.}}{{end}}{{end}}{{end}}`, "./").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	needed := []string{"go.mod", "go.sum"}
	for _, f := range strings.Fields(string(out)) {
		rel, err := filepath.Rel(root, f)
		if err != nil {
			t.Fatal(err)
		}
		needed = append(needed, filepath.ToSlash(rel))
	}
	if len(needed) < 10 {
		t.Fatalf("only %d files and packages found: %s", len(needed), out)
	}
	for _, f := range needed {
		if ignored(f) {
			t.Errorf(".dockerignore keeps %s out of the build context; the build needs it", f)
		}
	}
}

// matchPath is filepath.Match on slash paths, false on a bad pattern.
func matchPath(pattern, name string) bool {
	ok, err := path.Match(pattern, name)
	return err == nil && ok
}
