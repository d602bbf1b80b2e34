package client_test

import (
	"os"
	"strings"
	"testing"
)

// Every Go block of docs/sdk.md is a piece of client/example_test.go: its
// lines appear there in the same order, so the page shows code that runs.
func TestSDKDocsMirrorExamples(t *testing.T) {
	t.Parallel()
	page, err := os.ReadFile("../docs/sdk.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(src), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	blocks := 0
	for i, part := range strings.Split(string(page), "```go\n")[1:] {
		block, _, ok := strings.Cut(part, "```")
		if !ok {
			t.Fatalf("block %d is not closed", i+1)
		}
		blocks++
		var want []string
		for _, l := range strings.Split(block, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				want = append(want, l)
			}
		}
		if !mirrored(lines, want) {
			t.Errorf("docs/sdk.md's Go block %d is not in example_test.go as it stands:\n%s", i+1, block)
		}
	}
	if blocks < 6 {
		t.Fatalf("only %d Go blocks in docs/sdk.md", blocks)
	}
}

// mirrored reports whether want appears in lines as a run of consecutive
// lines.
func mirrored(lines, want []string) bool {
	for start := range lines {
		if start+len(want) > len(lines) {
			return false
		}
		ok := true
		for j, w := range want {
			if lines[start+j] != w {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
