package main_test

import (
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// On SIGTERM the node turns unready at once and, for --drain-delay, still
// serves (so that a load balancer takes it out before its listener
// closes); the delay then ends by itself, or at a second SIGTERM. The
// `hookgate healthcheck` the images use says the same.
func TestDrainDelayServesUnready(t *testing.T) {
	sqltest.EachEngine(t, func(t *testing.T, engine string) {
		bin := buildBinary(t)
		serve := func(delay string) (*exec.Cmd, string, *serveLog) {
			cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--metrics-addr", "", "--drain-delay", delay)
			cmd.Env = append(cleanEnv(), "HOOKGATE_ADMIN_KEY=drain-delay-admin-key-0123456789abcdef")
			if engine == "postgres" {
				cmd.Env = append(cmd.Env, "HOOKGATE_DATABASE_URL="+sqltest.Schema(t))
			}
			base, log := startLogged(t, cmd)
			u, err := url.Parse(base)
			if err != nil {
				t.Fatal(err)
			}
			return cmd, u.Host, log
		}
		probe := func(addr string, args ...string) (string, error) {
			out, err := exec.Command(bin, append([]string{"healthcheck", "--addr", addr}, args...)...).CombinedOutput()
			return string(out), err
		}
		status := func(addr, path string) int {
			res, err := http.Get("http://" + addr + path)
			if err != nil {
				t.Fatalf("GET %s while draining: %v", path, err)
			}
			res.Body.Close()
			return res.StatusCode
		}

		t.Run("CutBySecondSignal", func(t *testing.T) {
			cmd, addr, log := serve("10m")
			if out, err := probe(addr, "--ready"); err != nil {
				t.Fatalf("healthcheck --ready before SIGTERM: %v\n%s", err, out)
			}
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			log.wait(t, "draining: /readyz answers 503", 30*time.Second)
			if got := status(addr, "/readyz"); got != 503 {
				t.Fatalf("readyz while draining: %d, want 503", got)
			}
			if got := status(addr, "/healthz"); got != 200 {
				t.Fatalf("healthz while draining: %d, want 200", got)
			}
			if out, err := probe(addr, "--ready"); err == nil || !strings.Contains(out, "draining") {
				t.Fatalf("healthcheck --ready while draining: %v\n%s", err, out)
			}
			if out, err := probe(addr); err != nil {
				t.Fatalf("healthcheck while draining: %v\n%s", err, out)
			}
			// Far within the 10m delay: the second signal ended it.
			terminate(t, cmd, 30*time.Second, "a second SIGTERM during --drain-delay")
		})

		t.Run("EndsByItself", func(t *testing.T) {
			cmd, addr, log := serve("1s")
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			log.wait(t, "draining: /readyz answers 503", 30*time.Second)
			// Read before Wait, which closes the log's pipe and could drop
			// the last lines unread.
			log.wait(t, "stopped", 30*time.Second)
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			if err := testwait.Recv(t, "serve to exit after its 1s drain delay", exited); err != nil {
				t.Fatalf("exit: %v", err)
			}
			if _, err := probe(addr); err == nil {
				t.Fatal("healthcheck succeeds with the server gone")
			}
		})
	})
}
