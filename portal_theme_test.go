package hookgate_test

import (
	"fmt"
	"testing"

	"github.com/hookgate/hookgate"
)

// Issue 25, item 4: whatever the accent, the portal's links and buttons
// keep 4.5:1 against the page and against their text, in both modes; an
// accent that has it already is kept as given.
func TestAppliedAccentKeepsContrast(t *testing.T) {
	for r := 0; r < 16; r++ {
		for g := 0; g < 16; g++ {
			for b := 0; b < 16; b++ {
				c := fmt.Sprintf("#%x%x%x", r, g, b)
				th, err := hookgate.CheckPortalTheme("theme", hookgate.PortalTheme{AccentColor: c})
				if err != nil {
					t.Fatal(err)
				}
				light, dark := th.Applied()
				for _, tc := range []struct {
					a  hookgate.Accent
					bg string
				}{{light, hookgate.LightBackground}, {dark, hookgate.DarkBackground}} {
					if hookgate.Contrast(tc.a.Color, tc.bg) < hookgate.MinContrast || hookgate.Contrast(tc.a.Color, tc.a.OnColor) < hookgate.MinContrast {
						t.Fatalf("%s on %s: %s (%.2f:1), text %s (%.2f:1)", c, tc.bg, tc.a.Color, hookgate.Contrast(tc.a.Color, tc.bg), tc.a.OnColor, hookgate.Contrast(tc.a.Color, tc.a.OnColor))
					}
					if hookgate.Contrast(th.AccentColor, tc.bg) >= hookgate.MinContrast && tc.a.Color != th.AccentColor {
						t.Fatalf("%s has %.2f:1 on %s but was changed to %s", c, hookgate.Contrast(th.AccentColor, tc.bg), tc.bg, tc.a.Color)
					}
				}
			}
		}
	}
	if got := hookgate.Contrast("#000000", "#ffffff"); got < 20.99 || got > 21.01 {
		t.Fatalf("black on white %.3f:1, want 21:1", got)
	}
}

// Origins are normalized so that a Content-Security-Policy can name them
// as they are; anything else is refused.
func TestCheckAllowedOrigins(t *testing.T) {
	got, err := hookgate.CheckAllowedOrigins("o", []string{"HTTPS://A.example:443", "http://a.example:80", "http://127.0.0.1:8080/", "https://a.example", "http://[0:0::1]:3000"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"https://a.example", "http://a.example", "http://127.0.0.1:8080", "http://[::1]:3000"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for _, bad := range []string{"", "*", "null", "a.example", "https://*.a.example", "https://a.example/x", "https://a.example?x", "https://a.example#x",
		"javascript:alert(1)", "https://a.example:0", "https://a.example:99999", "https://a b.example", "https://a.example 'unsafe-inline'", "data:text/html,x", "https://-a.example"} {
		if _, err := hookgate.CheckAllowedOrigins("o", []string{bad}); hookgate.ErrorCode(err) != hookgate.EInvalidParameter {
			t.Errorf("%q: %v, want invalid_parameter", bad, err)
		}
	}
}
