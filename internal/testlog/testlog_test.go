package testlog

import (
	"fmt"
	"strings"
	"testing"
)

// The writer keeps the last Lines lines and the unfinished one, and
// says how many it left out.
func TestTailKeepsTheLastLines(t *testing.T) {
	t.Parallel()
	w := &tail{}
	for i := range 2 * Lines {
		fmt.Fprintf(w, "line %d\n", i)
	}
	fmt.Fprint(w, "unfinished")
	got := w.String()
	lines := strings.Split(got, "\n")
	want := fmt.Sprintf(" (the last %d of %d lines):", Lines+1, 2*Lines+1)
	if lines[0] != want || len(lines) != Lines+2 || lines[1] != fmt.Sprintf("line %d", Lines) || lines[Lines+1] != "unfinished" {
		t.Fatalf("kept:\n%s", got)
	}
	if s := (&tail{}).String(); s != "" {
		t.Fatalf("nothing written, yet %q", s)
	}
}
