package hookgate

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"image"
	_ "image/gif"  // logos may be GIF
	_ "image/jpeg" // or JPEG
	_ "image/png"  // or PNG
	"math"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// PortalSettings is how a project's consumer portal is embedded and looks.
type PortalSettings struct {
	// AllowedOrigins are the origins (scheme://host[:port]) whose pages
	// may frame the portal; none: it cannot be framed.
	AllowedOrigins []string
	Theme          PortalTheme
}

// Embeddable reports whether some origin may frame the portal.
func (s PortalSettings) Embeddable() bool { return len(s.AllowedOrigins) > 0 }

// PortalTheme is the portal's look; the zero value is Hookgate's own.
type PortalTheme struct {
	// ProductName replaces "Webhooks portal" in the portal's header and
	// page titles; "" keeps it.
	ProductName string
	// AccentColor is "#rrggbb", the colour of links and buttons before
	// contrast is enforced (see Applied); "" for Hookgate's blue.
	AccentColor string
	// Mode is ThemeLight (the default, also for ""), ThemeDark or
	// ThemeAuto (the browser's preference).
	Mode string
	// Logo is nil without a logo.
	Logo *PortalLogo
}

// Portal theme modes.
const (
	ThemeLight = "light"
	ThemeDark  = "dark"
	ThemeAuto  = "auto"
)

// PortalLogo is an image uploaded for the portal's header. Data is
// loaded only where it is served (Store.FindPortalLogo); a Project read
// carries the rest.
type PortalLogo struct {
	ContentType string
	Size        int
	// SHA256 is the hex SHA-256 of Data; it names the version served.
	SHA256 string
	Width  int
	Height int
	Data   []byte
}

// Portal limits.
const (
	// MaxAllowedOrigins bounds portal.allowedOrigins.
	MaxAllowedOrigins = 20
	// MaxProductName bounds portal.theme.productName, in characters.
	MaxProductName = 60
	// MaxLogoBytes bounds the decoded logo.
	MaxLogoBytes = 64 << 10
	// MaxLogoSide bounds the logo's width and height, in pixels.
	MaxLogoSide = 512
	// MinContrast is the WCAG AA contrast ratio for normal text, which
	// the portal's text keeps whatever the accent.
	MinContrast = 4.5
)

// Default theme colours: the accent, and the page backgrounds of light
// and dark mode, which links and buttons are measured against.
const (
	DefaultAccent   = "#0969da"
	LightBackground = "#ffffff"
	DarkBackground  = "#0d1117"
)

// hostPattern is a host name or IPv4 address; IPv6 literals are checked
// with net.ParseIP.
var hostPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$`)

// CheckAllowedOrigins returns origins normalized (lower-case, without a
// default port, without repeats), or EInvalidParameter naming
// param[i]. An origin is scheme://host[:port] with scheme http or https:
// no path, query, fragment, credentials or wildcard, so that it can be put
// in a Content-Security-Policy as it is.
func CheckAllowedOrigins(param string, origins []string) ([]string, error) {
	if len(origins) > MaxAllowedOrigins {
		return nil, InvalidParam(param, len(origins), "%s may name at most %d origins", param, MaxAllowedOrigins)
	}
	var out []string
	for i, raw := range origins {
		name := param + "[" + strconv.Itoa(i) + "]"
		o, ok := normalOrigin(raw)
		if !ok {
			return nil, InvalidParam(name, raw, "%s must be an origin such as https://app.example.com: http or https, a host and an optional port, nothing after", name)
		}
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out, nil
}

// normalOrigin returns raw as a normalized origin, or false.
func normalOrigin(raw string) (string, bool) {
	u, err := url.Parse(strings.TrimSuffix(raw, "/"))
	if err != nil || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Path != "" || u.Opaque != "" || strings.Contains(raw, "?") || strings.Contains(raw, "#") {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	if ip := net.ParseIP(host); ip != nil && strings.Contains(host, ":") {
		host = "[" + ip.String() + "]"
	} else if !hostPattern.MatchString(host) {
		return "", false
	}
	port := u.Port()
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", false
		}
		if (scheme == "http" && n == 80) || (scheme == "https" && n == 443) {
			port = ""
		} else {
			port = strconv.Itoa(n)
		}
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host, true
}

var colorPattern = regexp.MustCompile(`^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

// CheckPortalTheme checks t's product name, accent colour and mode, and
// returns t with the colour as lower-case #rrggbb; EInvalidParameter
// naming param.productName, param.accentColor or param.mode. The logo is
// checked by ParseLogo.
func CheckPortalTheme(param string, t PortalTheme) (PortalTheme, error) {
	if t.ProductName != "" {
		n := utf8.RuneCountInString(t.ProductName)
		if n > MaxProductName || !utf8.ValidString(t.ProductName) || strings.IndexFunc(t.ProductName, unicode.IsControl) >= 0 || strings.TrimSpace(t.ProductName) == "" {
			return t, InvalidParam(param+".productName", t.ProductName, "%s.productName must be 1 to %d printable characters", param, MaxProductName)
		}
	}
	if t.AccentColor != "" {
		c := t.AccentColor
		if !colorPattern.MatchString(c) {
			return t, InvalidParam(param+".accentColor", c, "%s.accentColor must be a colour as #rrggbb or #rgb", param)
		}
		c = strings.ToLower(c)
		if len(c) == 4 {
			c = "#" + strings.Repeat(c[1:2], 2) + strings.Repeat(c[2:3], 2) + strings.Repeat(c[3:4], 2)
		}
		t.AccentColor = c
	}
	switch t.Mode {
	case "", ThemeLight, ThemeDark, ThemeAuto:
	default:
		return t, InvalidParam(param+".mode", t.Mode, "%s.mode must be light, dark or auto", param)
	}
	return t, nil
}

// ParseLogo reads a logo given as a data URL (data:image/png;base64,…;
// PNG, JPEG or GIF, at most MaxLogoBytes and MaxLogoSide pixels a side);
// EInvalidParameter naming param.
func ParseLogo(param, dataURL string) (*PortalLogo, error) {
	const prefix = "data:"
	head, payload, ok := strings.Cut(dataURL, ",")
	if !ok || !strings.HasPrefix(head, prefix) || !strings.HasSuffix(head, ";base64") {
		return nil, InvalidParam(param, abbreviate(dataURL), "%s must be a data URL such as data:image/png;base64,…", param)
	}
	ct := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(head, prefix), ";base64"))
	format := map[string]string{"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif"}[ct]
	if format == "" {
		return nil, InvalidParam(param, head, "%s must be a PNG, JPEG or GIF image (SVG is refused: it can carry script)", param)
	}
	if base64.StdEncoding.DecodedLen(len(payload)) > MaxLogoBytes+3 {
		return nil, InvalidParam(param, abbreviate(dataURL), "%s must be at most %d KiB", param, MaxLogoBytes>>10)
	}
	data, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return nil, InvalidParam(param, abbreviate(dataURL), "%s is not valid base64: %v", param, err)
	}
	if len(data) > MaxLogoBytes {
		return nil, InvalidParam(param, abbreviate(dataURL), "%s must be at most %d KiB", param, MaxLogoBytes>>10)
	}
	cfg, got, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || got != format {
		return nil, InvalidParam(param, head, "%s is not a %s image", param, strings.ToUpper(format))
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > MaxLogoSide || cfg.Height > MaxLogoSide {
		return nil, InvalidParam(param, fmt.Sprintf("%dx%d", cfg.Width, cfg.Height), "%s must be at most %d×%d pixels", param, MaxLogoSide, MaxLogoSide)
	}
	sum := sha256.Sum256(data)
	return &PortalLogo{ContentType: ct, Size: len(data), SHA256: hex.EncodeToString(sum[:]), Width: cfg.Width, Height: cfg.Height, Data: data}, nil
}

// abbreviate keeps an error's echo of a long value short.
func abbreviate(s string) string {
	if len(s) <= 64 {
		return s
	}
	return s[:64] + "…"
}

// Accent is an accent colour as the portal applies it in one mode:
// Color for links and button backgrounds, OnColor for the text on those
// buttons. Each has at least MinContrast against the other and Color
// against the mode's background.
type Accent struct {
	Color   string
	OnColor string
}

// Applied returns the accent t's colour gives in light and in dark mode:
// the colour itself when it has MinContrast against the mode's
// background, otherwise the colour mixed towards black (light) or white
// (dark) by the least whole percent that reaches it.
func (t PortalTheme) Applied() (light, dark Accent) {
	c := t.AccentColor
	if c == "" {
		c = DefaultAccent
	}
	return applyAccent(c, LightBackground, "#000000"), applyAccent(c, DarkBackground, "#ffffff")
}

func applyAccent(c, bg, toward string) Accent {
	rgb, b, t := parseHex(c), parseHex(bg), parseHex(toward)
	for pct := 0; pct <= 100; pct++ {
		m := mix(rgb, t, float64(pct)/100)
		if contrastRGB(m, b) >= MinContrast {
			// The background on the accent has the same ratio.
			return Accent{Color: hexOf(m), OnColor: bg}
		}
	}
	return Accent{Color: toward, OnColor: bg}
}

// Contrast returns the WCAG 2 contrast ratio of two #rrggbb colours.
func Contrast(a, b string) float64 { return contrastRGB(parseHex(a), parseHex(b)) }

func contrastRGB(a, b [3]uint8) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// luminance is WCAG 2's relative luminance of an sRGB colour.
func luminance(c [3]uint8) float64 {
	lin := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c[0]) + 0.7152*lin(c[1]) + 0.0722*lin(c[2])
}

func mix(a, b [3]uint8, f float64) [3]uint8 {
	var out [3]uint8
	for i := range out {
		out[i] = uint8(math.Round(float64(a[i])*(1-f) + float64(b[i])*f))
	}
	return out
}

// parseHex reads "#rrggbb"; anything else is black.
func parseHex(s string) [3]uint8 {
	var out [3]uint8
	if len(s) != 7 || s[0] != '#' {
		return out
	}
	for i := range out {
		v, err := strconv.ParseUint(s[1+2*i:3+2*i], 16, 8)
		if err != nil {
			return [3]uint8{}
		}
		out[i] = uint8(v)
	}
	return out
}

func hexOf(c [3]uint8) string { return fmt.Sprintf("#%02x%02x%02x", c[0], c[1], c[2]) }
