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
// CI=true.
func TestOpenAPIGeneratesACompilingClient(t *testing.T) {
	t.Parallel()
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
