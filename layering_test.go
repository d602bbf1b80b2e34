package hookgate_test

import (
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
)

// Issue 23, step 3: the layering rules of docs/architecture.md, checked over
// the production imports (`go list -deps`, tests excluded) of every package
// of the module. A package not in layers fails the test: a new package
// comes with its rule, here and in the document.

const module = "github.com/hookgate/hookgate"

// layers lists, for each production package (relative to the module, "."
// the root), the packages of this module it may import directly.
var layers = map[string][]string{
	// The domain imports nothing of ours.
	".": nil,
	// Leaves: the network policy, the secret box, the SDK.
	"netguard": nil,
	"secrets":  nil,
	"client":   nil,
	"signing":  {"."},
	// CEL filters and transforms of webhooks (issue 29): the domain's errors.
	"expressions": {"."},
	// Spans: OpenTelemetry when configured, W3C trace contexts always.
	"tracing": {"."},
	// The provider interface and one package per provider; providers lists them.
	"platforms":           {".", "netguard"},
	"platforms/discord":   {".", "platforms"},
	"platforms/generic":   {".", "platforms"},
	"platforms/slack":     {".", "platforms"},
	"platforms/telegram":  {".", "platforms"},
	"platforms/whatsapp":  {".", "platforms"},
	"platforms/providers": {"platforms", "platforms/discord", "platforms/generic", "platforms/slack", "platforms/telegram", "platforms/whatsapp"},
	// The engines: the store wraps the databases, delivery takes a
	// hookgate.Queue, the API a hookgate.Store, the dashboard a ui.API.
	"sqlstore": {".", "expressions", "secrets"},
	"delivery": {".", "expressions", "netguard", "secrets", "signing", "tracing"},
	// Destination kinds take what delivery sends with; all registers them.
	"destinations/http":        {".", "delivery"},
	"destinations/redisstream": {".", "delivery", "signing"},
	"destinations/mqtt":        {".", "delivery", "signing"},
	"destinations/all":         {".", "delivery", "destinations/amqp", "destinations/http", "destinations/mqtt", "destinations/nats", "destinations/redisstream"},
	"destinations/amqp":        {".", "delivery", "signing"},
	"destinations/nats":        {".", "delivery", "signing"},
	"api":                      {".", "delivery", "expressions", "netguard", "platforms", "tracing"},
	"ui":                       {".", "client", "signing"},
	// The runner of broker sources takes the store, the kinds and an
	// ingester (the API server) as interfaces.
	"sources": {"."},
	"bench":   {"client"},
	// The composition root wires a node's API, dashboard and dispatcher;
	// the binary knows every package.
	"internal/app": {".", "api", "delivery", "destinations/all", "netguard", "sources", "ui"},
	"cmd/hookgate": {".", "api", "bench", "client", "delivery", "destinations/redisstream", "internal/app", "netguard", "platforms", "platforms/providers", "secrets", "signing", "sqlstore", "tracing", "ui"},
	// Test helpers, imported by tests alone (see testHelpers).
	"internal/testwait":          nil,
	"internal/testlog":           nil,
	"internal/testcert":          nil,
	"internal/testredis":         {"internal/testwait", "internal/testcert"},
	"internal/testmqtt":          {"internal/testwait"},
	"internal/testamqp":          nil,
	"internal/testnats":          {"internal/testwait"},
	"sqlstore/sqltest":           {"internal/testlog", "secrets", "sqlstore"},
	"api/apitest":                {"api", "delivery", "internal/app", "internal/testlog", "netguard", "platforms/providers", "sqlstore", "sqlstore/sqltest", "ui"},
	"client/internal/servertest": nil,
}

// testHelpers are the packages that only tests and other test helpers may
// import, even indirectly.
var testHelpers = []string{"internal/testwait", "internal/testlog", "internal/testcert", "internal/testredis", "internal/testmqtt", "sqlstore/sqltest", "api/apitest", "client/internal/servertest", "internal/testamqp", "internal/testnats"}

// drivers are the database drivers: only the store and what wires it may
// depend on them.
var drivers = []string{"modernc.org/sqlite", "github.com/jackc/pgx/v5/stdlib"}

// driverFree are the packages that must not depend on a database driver,
// even indirectly: they take the root package's interfaces.
var driverFree = []string{".", "api", "delivery", "ui", "platforms", "signing", "netguard", "secrets", "client", "tracing"}

// pkgInfo is what go list says of one package.
type pkgInfo struct {
	imports []string // this module's packages, relative
	deps    []string // this module's packages, transitively, relative
	extDeps []string // other modules' and the standard library's, transitively
}

func rel(path string) string {
	if path == module {
		return "."
	}
	if r, ok := strings.CutPrefix(path, module+"/"); ok {
		return r
	}
	return path
}

func listPackages(t *testing.T) map[string]pkgInfo {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to list the imports with")
	}
	out, err := exec.Command(goBin, "list", "-deps", "-f",
		"{{with .Module}}{{if eq .Path \""+module+"\"}}{{$.ImportPath}}|{{join $.Imports \",\"}}|{{join $.Deps \",\"}}{{end}}{{end}}",
		"./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]pkgInfo{}
	for line := range strings.Lines(string(out)) {
		f := strings.Split(strings.TrimSpace(line), "|")
		if len(f) != 3 {
			continue
		}
		var info pkgInfo
		for _, imp := range strings.Split(f[1], ",") {
			if strings.HasPrefix(imp, module) {
				info.imports = append(info.imports, rel(imp))
			}
		}
		for _, d := range strings.Split(f[2], ",") {
			if d == module || strings.HasPrefix(d, module+"/") {
				info.deps = append(info.deps, rel(d))
			} else if d != "" {
				info.extDeps = append(info.extDeps, d)
			}
		}
		pkgs[rel(f[0])] = info
	}
	if len(pkgs) < len(layers)/2 {
		t.Fatalf("go list found only %d packages of the module:\n%s", len(pkgs), out)
	}
	return pkgs
}

func TestLayering(t *testing.T) {
	t.Parallel()
	pkgs := listPackages(t)
	names := make([]string, 0, len(pkgs))
	for p := range pkgs {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		info := pkgs[p]
		allowed, ok := layers[p]
		if !ok {
			t.Errorf("package %s has no layering rule: add what it may import to layers in layering_test.go and to docs/architecture.md", p)
			continue
		}
		for _, imp := range info.imports {
			if !slices.Contains(allowed, imp) {
				t.Errorf("package %s imports %s, which its layering rule does not allow (allowed: %v)", p, imp, allowed)
			}
		}
		if !slices.Contains(testHelpers, p) {
			for _, h := range testHelpers {
				if slices.Contains(info.deps, h) {
					t.Errorf("production package %s depends on the test helper %s", p, h)
				}
			}
		}
		if slices.Contains(driverFree, p) {
			for _, d := range drivers {
				if slices.Contains(info.extDeps, d) {
					t.Errorf("package %s depends on the database driver %s; it should take a hookgate.Store or hookgate.Queue", p, d)
				}
			}
		}
	}
	for p := range layers {
		if _, ok := pkgs[p]; !ok {
			t.Errorf("layers has a rule for %s, which is not a package of the module", p)
		}
	}
}
