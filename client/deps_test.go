package client_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// Issue 22, item 9: `go mod tidy` in a program importing client follows the
// imports of client's tests too; if they imported the server, every
// program would fetch the server's dependencies. They import the standard
// library and packages of this module that need nothing else.
func TestClientTestsPullNoOtherModule(t *testing.T) {
	t.Parallel()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to list the imports with")
	}
	out, err := exec.Command(goBin, "list", "-deps", "-test", "-f", "{{with .Module}}{{.Path}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	var others []string
	for _, m := range strings.Fields(string(out)) {
		if m != "github.com/hookgate/hookgate" && !slices.Contains(others, m) {
			others = append(others, m)
		}
	}
	if len(others) > 0 {
		t.Fatalf("package client or its tests import packages of other modules, which go mod tidy would fetch for every program using the SDK: %s", strings.Join(others, ", "))
	}
}
