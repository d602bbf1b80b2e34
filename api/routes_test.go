package api_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 23, step 4: every operation of the OpenAPI document is handled by
// a method of Server named after its operationId (sendEvent:
// handleSendEvent), so that an operation is found by its name.
func TestEveryOperationHasANamedHandler(t *testing.T) {
	e := setup(t, "sqlite", withPlatforms)
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(e.req("GET", "/openapi.json", "", nil).must(t, 200).Raw, &doc); err != nil {
		t.Fatal(err)
	}

	methods := map[string]bool{}
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv != nil {
				methods[fn.Name.Name] = true
			}
		}
	}

	n := 0
	for path, ops := range doc.Paths {
		for method, o := range ops {
			n++
			want := "handle" + strings.ToUpper(o.OperationID[:1]) + o.OperationID[1:]
			if !methods[want] {
				t.Errorf("%s %s (%s) has no method %s", method, path, o.OperationID, want)
			}
		}
	}
	if n < 40 {
		t.Fatalf("only %d operations in the document", n)
	}
}
