package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// systemdUnit reads deploy/systemd/hookgate.service: each setting's values,
// in order (a setting may be given more than once).
func systemdUnit(t *testing.T) (text string, settings map[string][]string) {
	t.Helper()
	text = deployFile(t, filepath.Join("systemd", "hookgate.service"))
	settings = map[string][]string{}
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "[") {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf("hookgate.service: %q is no Key=value", l)
		}
		settings[k] = append(settings[k], v)
	}
	return text, settings
}

// The unit runs serve on its state directory, as a user of its own with no
// capability, behind the sandbox the deploy docs promise, and waits for
// the drain before SIGKILL; its example environment sets only variables
// serve reads, and no secret.
func TestSystemdUnitSettings(t *testing.T) {
	t.Parallel()
	_, s := systemdUnit(t)
	one := func(k string) string {
		t.Helper()
		if len(s[k]) != 1 {
			t.Fatalf("hookgate.service: %s=%q, want one", k, s[k])
		}
		return s[k][0]
	}
	argv := strings.Fields(one("ExecStart"))
	want := []string{"/usr/local/bin/hookgate", "serve", "--data-dir", "/var/lib/" + one("StateDirectory")}
	if strings.Join(argv, " ") != strings.Join(want, " ") {
		t.Fatalf("ExecStart=%s, want %s: serve's data dir is the state directory", one("ExecStart"), strings.Join(want, " "))
	}
	if one("DynamicUser") != "yes" && one("User") == "" {
		t.Fatal("neither DynamicUser=yes nor a User=")
	}
	for k, v := range map[string]string{
		"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
		"ProtectKernelTunables": "yes", "ProtectKernelModules": "yes", "ProtectKernelLogs": "yes",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "CapabilityBoundingSet": "", "MemoryDenyWriteExecute": "yes",
		"LockPersonality": "yes", "RestrictNamespaces": "yes", "Restart": "on-failure",
		"EnvironmentFile": "-/etc/hookgate/hookgate.env",
	} {
		if got := one(k); got != v {
			t.Errorf("%s=%s, want %s", k, got, v)
		}
	}
	if s["SystemCallFilter"][0] != "@system-service" {
		t.Errorf("SystemCallFilter=%q: want @system-service first", s["SystemCallFilter"])
	}
	// serve's drain: up to --drain-timeout for API requests, then up to
	// that again and 10s for deliveries in flight (cmd/hookgate/stop.go).
	stop, err := time.ParseDuration(one("TimeoutStopSec"))
	if drain := 30 * time.Second; err != nil || stop <= 2*drain+10*time.Second {
		t.Errorf("TimeoutStopSec=%s: want more than twice serve's default --drain-timeout (%s) and 10s", one("TimeoutStopSec"), drain)
	}

	known := serveEnvNames(t, buildBinary(t))
	for k := range envExample(t, filepath.Join("systemd", "hookgate.env.example"), "HOOKGATE_ADMIN_KEY", "HOOKGATE_ENCRYPTION_KEY") {
		if !known[k] {
			t.Errorf("hookgate.env.example sets %s, which serve does not read", k)
		}
	}
}

// needSystemdAnalyze skips t, visibly, where systemd-analyze is missing.
func needSystemdAnalyze(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		skipVisibly(t, "systemd-analyze not found: deploy/systemd/hookgate.service is checked by TestSystemdUnitSettings only")
	}
}

// unitWithBinary writes the unit into a directory of its own with
// ExecStart pointing at a built hookgate, since systemd-analyze checks
// that the program exists.
func unitWithBinary(t *testing.T) string {
	t.Helper()
	text, _ := systemdUnit(t)
	unit := filepath.Join(t.TempDir(), "hookgate.service")
	text = strings.ReplaceAll(text, "ExecStart=/usr/local/bin/hookgate ", "ExecStart="+buildBinary(t)+" ")
	if err := os.WriteFile(unit, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return unit
}

// systemd itself accepts the unit: every setting known and well formed.
func TestSystemdUnitVerifies(t *testing.T) {
	t.Parallel()
	needSystemdAnalyze(t)
	unit := unitWithBinary(t)
	out, err := exec.Command("systemd-analyze", "verify", unit).CombinedOutput()
	if err != nil || strings.Contains(string(out), "hookgate.service") {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// maxExposure is the exposure score, out of 10, systemd-analyze security
// may give the unit; docs/deploy.md gives the score measured.
const maxExposure = 1.5

// systemd's own review of the sandbox rates the unit's exposure low.
func TestSystemdUnitExposure(t *testing.T) {
	t.Parallel()
	needSystemdAnalyze(t)
	unit := unitWithBinary(t)
	out, err := exec.Command("systemd-analyze", "security", "--offline=yes", "--no-pager", unit).CombinedOutput()
	m := regexp.MustCompile(`Overall exposure level for hookgate\.service: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		if strings.Contains(string(out), "offline") && err != nil {
			skipVisibly(t, "this systemd-analyze has no security --offline: the exposure is not measured")
		}
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	score, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil || score > maxExposure {
		t.Fatalf("exposure %s, want at most %.1f:\n%s", m[1], maxExposure, out)
	}
	t.Logf("systemd-analyze security: exposure %.1f", score)
}
