package client_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// server is a `hookgate serve` process on a SQLite store in a temporary
// directory, for the examples and the tests of this package.
//
// It runs as a separate process, built from ../cmd/hookgate, rather than
// in this test binary: a test of package client that imported the server's
// packages would make `go mod tidy`, in every program importing client,
// fetch the server's dependencies (tidy follows the imports of the tests of
// the packages a program imports). TestClientTestsPullNoOtherModule keeps
// it so.
type server struct {
	url     string
	dataDir string // holds admin.key, as a real data dir does
	dir     string
	cmd     *exec.Cmd
	mu      sync.Mutex
	log     []string // the last lines of the server's log
}

// startServer builds the hookgate binary and starts `hookgate serve` on a
// free loopback port, with loopback allowed as a webhook destination.
func startServer() (*server, error) {
	dir, err := os.MkdirTemp("", "hookgate-client-test-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, dataDir: filepath.Join(dir, "hookgate-data")}
	bin := filepath.Join(dir, "hookgate")
	build := exec.Command("go", "build", "-o", bin, "github.com/hookgate/hookgate/cmd/hookgate")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		s.close()
		return nil, fmt.Errorf("building hookgate: %v\n%s", err, out)
	}
	s.cmd = exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data-dir", s.dataDir, "--metrics-addr", "")
	s.cmd.Env = append(os.Environ(), "HOOKGATE_ALLOW_NETWORKS=127.0.0.0/8",
		"HOOKGATE_ADMIN_KEY=", "HOOKGATE_ENCRYPTION_KEY=", "HOOKGATE_DATABASE_URL=", "HOOKGATE_PUBLIC_URL=")
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		s.close()
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		s.close()
		return nil, err
	}
	addr := make(chan string, 1)
	go func() {
		// Read the log to its end, or the server would block on a full pipe.
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			s.keep(sc.Text())
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "hookgate listening" {
				addr <- line.Addr
			}
		}
		close(addr)
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			s.close()
			return nil, errors.New("hookgate serve exited:\n" + s.lastLog())
		}
		s.url = "http://" + a
	case <-time.After(60 * time.Second):
		s.close()
		return nil, errors.New("hookgate serve did not start within 60 s:\n" + s.lastLog())
	}
	return s, nil
}

// adminKey reads admin.key as a program would, newline included.
func (s *server) adminKey() (string, error) {
	b, err := os.ReadFile(filepath.Join(s.dataDir, "admin.key"))
	return string(b), err
}

func (s *server) keep(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.log = append(s.log, line); len(s.log) > 20 {
		s.log = s.log[1:]
	}
}

func (s *server) lastLog() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.log, "\n")
}

// close stops the server and removes its directory.
func (s *server) close() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
	_ = os.RemoveAll(s.dir)
}

// logTo writes the server's last log lines to w.
func (s *server) logTo(w io.Writer) {
	fmt.Fprintf(w, "the last lines of the hookgate serve log:\n%s\n", s.lastLog())
}
