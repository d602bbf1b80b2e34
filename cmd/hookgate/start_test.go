package main_test

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 22, item 20: the start-up log names the dashboard's URL, the data
// dir, where metrics are served and the allowed networks (a warning when
// they open what the SSRF policy denies); metrics take no port unless asked
// for, so that two servers start side by side with the same flags, and a
// --metrics-addr that is taken stops the start, naming the flag.
func TestServersSayWhereEverythingIsAndShareAMachine(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	run := func(dir, allow string, args ...string) *exec.Cmd {
		cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir}, args...)...)
		cmd.Env = append(os.Environ(), "HOOKGATE_ALLOW_NETWORKS="+allow, "HOOKGATE_ADMIN_KEY=", "HOOKGATE_DATABASE_URL=",
			"HOOKGATE_ENCRYPTION_KEY=", "HOOKGATE_METRICS_ADDR=", "HOOKGATE_METRICS_TOKEN=")
		return cmd
	}
	dirA, dirB := t.TempDir(), t.TempDir()
	// The same flags for both, as a second `hookgate serve` on a machine
	// gets them.
	urlA, logA := startLogged(t, run(dirA, "127.0.0.0/8"))
	// A relative --data-dir is logged as the absolute path it names.
	cmdB := run(filepath.Base(dirB), "8.8.8.0/24")
	cmdB.Dir = filepath.Dir(dirB)
	urlB, logB := startLogged(t, cmdB)

	for _, s := range []struct {
		url, dir, allow string
		log             *serveLog
	}{{urlA, dirA, "127.0.0.0/8", logA}, {urlB, dirB, "8.8.8.0/24", logB}} {
		l := s.log.find("hookgate listening")
		dashboard, _ := l["dashboard"].(string)
		metrics, _ := l["metrics"].(string)
		if dashboard != s.url+"/ui/" || l["dataDir"] != s.dir || l["allowNetworks"] != s.allow || !strings.HasPrefix(metrics, "off") {
			t.Fatalf("listening line: %v; want dashboard %s/ui/, dataDir %s, allowNetworks %s, metrics off", l, s.url, s.dir, s.allow)
		}
		if m := s.log.find("metrics listener"); m != nil {
			t.Errorf("a metrics listener was tried: %v", m)
		}
		res, err := http.Get(dashboard)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", dashboard, res.StatusCode)
		}
	}
	if w := logA.find("HOOKGATE_ALLOW_NETWORKS lets"); w == nil || w["level"] != "WARN" || w["opened"] != "127.0.0.0/8" {
		t.Errorf("loopback allowed: warning %v", w)
	}
	if w := logB.find("HOOKGATE_ALLOW_NETWORKS lets"); w != nil {
		t.Errorf("a public network allowed: warning %v", w)
	}
	if i := logB.find("HOOKGATE_ALLOW_NETWORKS is set"); i == nil || i["level"] != "INFO" {
		t.Errorf("a public network allowed: line %v", i)
	}

	// Metrics asked for on a port that is taken: the start fails, naming
	// the flag.
	taken := strings.TrimPrefix(urlA, "http://")
	out, err := run(t.TempDir(), "", "--metrics-addr", taken).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--metrics-addr: listen tcp "+taken) {
		t.Fatalf("--metrics-addr on a taken port: %v\n%s", err, out)
	}
	// Asked for on a free one, they are served there, and the line says so.
	cmd := run(t.TempDir(), "", "--metrics-addr", "127.0.0.1:0", "--metrics-token", "tok")
	_, logC := startLogged(t, cmd)
	m, _ := logC.find("hookgate listening")["metrics"].(string)
	at, _, _ := strings.Cut(m, "; ")
	if !strings.HasPrefix(at, "http://127.0.0.1:") || !strings.HasSuffix(at, "/metrics") || !strings.Contains(m, "Bearer {--metrics-token}") {
		t.Fatalf("metrics: %q", m)
	}
	res, err := http.Get(at)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", at, res.StatusCode)
	}
}
