package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v2"
)

// composeFile is what the test reads of deploy/compose.yaml.
type composeFile struct {
	Services map[string]composeService
	Volumes  map[string]any
}

type composeService struct {
	Image       string
	Build       struct{ Context string }
	Environment map[string]string
	Ports       []string
	Volumes     []string
	Healthcheck struct{ Test []string }
	DependsOn   map[string]struct{ Condition string } `yaml:"depends_on"`
	StopGrace   string                                `yaml:"stop_grace_period"`
}

// deployFile is a file under deploy/.
func deployFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// serveEnvNames are the environment variables serve reads: each flag's
// twin, as `serve --help` names them, and those its sources read by name.
func serveEnvNames(t *testing.T, bin string) map[string]bool {
	t.Helper()
	out, err := exec.Command(bin, "serve", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("serve --help: %v\n%s", err, out)
	}
	names := map[string]bool{}
	for _, m := range regexp.MustCompile(`\(env (HOOKGATE_[A-Z_]+)\)`).FindAllStringSubmatch(string(out), -1) {
		names[m[1]] = true
	}
	srcs, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	read := regexp.MustCompile(`(?:Getenv|LookupEnv)\("(HOOKGATE_[A-Z_]+)"\)`)
	for _, src := range srcs {
		if strings.HasSuffix(src, "_test.go") {
			continue
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range read.FindAllStringSubmatch(string(b), -1) {
			names[m[1]] = true
		}
	}
	if !names["HOOKGATE_ADDR"] || !names["HOOKGATE_ADMIN_KEY"] {
		t.Fatalf("serve's variables not found: %v", names)
	}
	return names
}

// envExample reads a KEY=value file; it fails t on a secret given a value.
func envExample(t *testing.T, name string, secrets ...string) map[string]string {
	t.Helper()
	vars := map[string]string{}
	for _, l := range strings.Split(deployFile(t, name), "\n") {
		if l = strings.TrimSpace(l); l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf("deploy/%s: %q is no KEY=value", name, l)
		}
		vars[k] = v
	}
	for _, s := range secrets {
		if v, ok := vars[s]; !ok || v != "" {
			t.Errorf("deploy/%s: %s must be there and empty (an example holds no secret), not %q", name, s, v)
		}
	}
	return vars
}

// The compose file runs the repository's image twice on one PostgreSQL:
// the same keys, each node its own data dir at the image's, the image's
// port, the image's health check, started once the database is healthy,
// given time to drain; every variable it takes is in .env.example, and
// every Hookgate variable it sets is one serve reads.
func TestComposeFile(t *testing.T) {
	t.Parallel()
	var c composeFile
	if err := yaml.Unmarshal([]byte(deployFile(t, "compose.yaml")), &c); err != nil {
		t.Fatalf("deploy/compose.yaml: %v", err)
	}
	stages := readDockerfile(t)
	final := stages[len(stages)-1]
	entry := execForm(t, "ENTRYPOINT", strings.Join(final.all("ENTRYPOINT"), ""))
	dataDir, port := final.env()["HOOKGATE_DATA_DIR"], final.all("EXPOSE")[0]
	known := serveEnvNames(t, buildBinary(t))

	pg, ok := c.Services["postgres"]
	if !ok || !strings.HasPrefix(pg.Image, "postgres:17") || len(pg.Healthcheck.Test) == 0 {
		t.Fatalf("no postgres:17 service with a health check: %+v", pg)
	}
	var nodes []string
	volumes := map[string]bool{}
	for name, s := range c.Services {
		if name == "postgres" {
			continue
		}
		nodes = append(nodes, name)
		if ctx := filepath.Join("..", "..", "deploy", s.Build.Context, "Dockerfile"); s.Build.Context == "" || !fileExists(ctx) {
			t.Errorf("%s: its build context %q has no Dockerfile", name, s.Build.Context)
		}
		if s.Environment["HOOKGATE_ADMIN_KEY"] != "${HOOKGATE_ADMIN_KEY:?set HOOKGATE_ADMIN_KEY in deploy/.env}" ||
			s.Environment["HOOKGATE_ENCRYPTION_KEY"] != "${HOOKGATE_ENCRYPTION_KEY:?set HOOKGATE_ENCRYPTION_KEY in deploy/.env}" {
			t.Errorf("%s: the keys are not the shared, required ones of deploy/.env: %v", name, s.Environment)
		}
		wantURL := "postgres://" + pg.Environment["POSTGRES_USER"] + ":${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in deploy/.env}@postgres:5432/" + pg.Environment["POSTGRES_DB"] + "?sslmode=disable"
		if s.Environment["HOOKGATE_DATABASE_URL"] != wantURL {
			t.Errorf("%s: HOOKGATE_DATABASE_URL %q, want %q", name, s.Environment["HOOKGATE_DATABASE_URL"], wantURL)
		}
		for k := range s.Environment {
			if !known[k] {
				t.Errorf("%s: serve reads no %s", name, k)
			}
		}
		if len(s.Volumes) != 1 || !strings.HasSuffix(s.Volumes[0], ":"+dataDir) {
			t.Errorf("%s: volumes %q, want one on the image's data dir %s", name, s.Volumes, dataDir)
		} else {
			vol := strings.TrimSuffix(s.Volumes[0], ":"+dataDir)
			if volumes[vol] {
				t.Errorf("%s: the data dir volume %s is another node's too", name, vol)
			}
			if _, ok := c.Volumes[vol]; !ok {
				t.Errorf("%s: volume %s is not declared", name, vol)
			}
			volumes[vol] = true
		}
		if len(s.Ports) != 1 || !strings.HasSuffix(s.Ports[0], ":"+port) {
			t.Errorf("%s: ports %q, want one to the image's %s", name, s.Ports, port)
		}
		if !slices.Equal(s.Healthcheck.Test, []string{"CMD", entry[0], "healthcheck"}) {
			t.Errorf("%s: health check %q, want the image's binary's healthcheck", name, s.Healthcheck.Test)
		}
		if s.DependsOn["postgres"].Condition != "service_healthy" {
			t.Errorf("%s: does not wait for a healthy postgres: %+v", name, s.DependsOn)
		}
		grace, err1 := time.ParseDuration(s.StopGrace)
		delay, err2 := time.ParseDuration(s.Environment["HOOKGATE_DRAIN_DELAY"])
		drain, err3 := time.ParseDuration(s.Environment["HOOKGATE_DRAIN_TIMEOUT"])
		if err1 != nil || err2 != nil || err3 != nil || grace <= delay+drain {
			t.Errorf("%s: stop_grace_period %q must exceed HOOKGATE_DRAIN_DELAY %q and HOOKGATE_DRAIN_TIMEOUT %q together", name, s.StopGrace,
				s.Environment["HOOKGATE_DRAIN_DELAY"], s.Environment["HOOKGATE_DRAIN_TIMEOUT"])
		}
	}
	if len(nodes) != 2 {
		t.Fatalf("Hookgate services %q, want two nodes", nodes)
	}

	example := envExample(t, ".env.example", "POSTGRES_PASSWORD", "HOOKGATE_ADMIN_KEY", "HOOKGATE_ENCRYPTION_KEY")
	for _, m := range regexp.MustCompile(`\$\{([A-Z_]+)`).FindAllStringSubmatch(deployFile(t, "compose.yaml"), -1) {
		if _, ok := example[m[1]]; !ok {
			t.Errorf("deploy/compose.yaml takes ${%s}, which deploy/.env.example does not have", m[1])
		}
	}
}

// fileExists reports whether path names a file.
func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// `docker compose config` reads the file as Compose does, with an .env
// filled in as .env.example asks; where the compose plugin is missing the
// test says so and skips.
func TestComposeConfig(t *testing.T) {
	t.Parallel()
	if err := exec.Command("docker", "compose", "version").Run(); err != nil {
		skipVisibly(t, "docker compose is not installed: deploy/compose.yaml is checked by TestComposeFile only, not by Compose itself")
	}
	dir := t.TempDir()
	env := "POSTGRES_PASSWORD=0123456789abcdef\nHOOKGATE_ADMIN_KEY=compose-test-admin-key-0123456789abcdef\n" +
		"HOOKGATE_ENCRYPTION_KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
	compose, err := filepath.Abs(filepath.Join("..", "..", "deploy", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("docker", "compose", "-f", compose, "--env-file", filepath.Join(dir, ".env"), "config", "--quiet").CombinedOutput()
	if err != nil {
		t.Fatalf("docker compose config: %v\n%s", err, out)
	}
	// Without the keys, Compose refuses, naming the one missing.
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("POSTGRES_PASSWORD=x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command("docker", "compose", "-f", compose, "--env-file", filepath.Join(dir, ".env"), "config", "--quiet").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "HOOKGATE_") {
		t.Fatalf("docker compose config without the keys: %v\n%s", err, out)
	}
}
