package api_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The served OpenAPI document makes a Go client that compiles: oapi-codegen
// (pinned by testdata/oapicheck/go.mod) generates types and a client from
// it, and go build compiles them. It needs the go command and the module
// proxy (or a warm module cache); without them it skips, except under
// CI=true. Under -short (make test-short) it skips.
func TestOpenAPIGeneratesACompilingClient(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: builds another module with oapi-codegen, which may need the module proxy")
	}
	if _, err := exec.LookPath("go"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the go command is needed to check the OpenAPI document")
		}
		t.Skip("no go command")
	}
	e := setup(t, "sqlite", withPlatforms)
	spec := e.req("GET", "/openapi.json", "", nil).must(t, 200).Raw

	var doc struct {
		Servers []struct{ URL string } `json:"servers"`
		Paths   map[string]map[string]struct {
			Responses map[string]any `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(spec, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Servers) == 0 || doc.Servers[0].URL == "" {
		t.Fatal("the document names no server")
	}
	for path, ops := range doc.Paths {
		for method, o := range ops {
			if _, ok := o.Responses["422"]; ok {
				t.Errorf("%s %s declares a 422 the server never sends", method, path)
			}
		}
	}

	dir := t.TempDir()
	for _, f := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join("testdata", "oapicheck", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "spec.json"), spec, 0o644); err != nil {
		t.Fatal(err)
	}
	gen := exec.Command("go", "tool", "oapi-codegen", "-generate", "types,client", "-package", "client", "-o", "client.go", "spec.json")
	gen.Dir = dir
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("oapi-codegen: %v\n%s", err, out)
	}
	build := exec.Command("go", "build", "./...")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("the generated client does not compile: %v\n%s", err, out)
	}
	client, _ := os.ReadFile(filepath.Join(dir, "client.go"))
	if strings.Contains(string(client), "Data *[]") {
		t.Error("a list's data is generated as a pointer to a slice: the document says it may be null")
	}
}

// The served document passes Redocly's recommended lint with no error and
// no warning (testdata/redocly.yaml). It runs the pinned CLI through npx;
// without npx it skips, except under CI=true. Under -short (make
// test-short) it skips.
func TestOpenAPILints(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: runs Redocly CLI through npx, which may need the npm registry")
	}
	if _, err := exec.LookPath("npx"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("npx (Node.js) is needed to lint the OpenAPI document")
		}
		t.Skip("no npx")
	}
	e := setup(t, "sqlite", withPlatforms)
	spec := e.req("GET", "/openapi.json", "", nil).must(t, 200).Raw
	dir := t.TempDir()
	cfg, err := os.ReadFile(filepath.Join("testdata", "redocly.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"spec.json": spec, "redocly.yaml": cfg} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lint := exec.Command("npx", "--yes", "@redocly/cli@2.77.0", "lint", "--config", "redocly.yaml", "--max-problems", "50", "spec.json")
	lint.Dir = dir
	lint.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true")
	out, err := lint.CombinedOutput()
	// A clean run ends "Your API description is valid" with no "You have N
	// warnings/errors" line.
	if err != nil || strings.Contains(string(out), "You have") || !strings.Contains(string(out), "is valid") {
		t.Fatalf("redocly lint: %v\n%s", err, out)
	}
}
