// Package testredis runs a real redis-server for a test, on a free
// loopback port, in the test's temporary directory, killed when the test
// ends. A machine without the binary skips the test, except under CI,
// where it fails: CI installs it (.ci/run).
package testredis

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/testwait"
)

// Binary is where Debian's redis-server package puts the server.
const Binary = "/usr/bin/redis-server"

// Server is a running redis-server.
type Server struct {
	t    testing.TB
	port int
	dir  string
	cmd  *exec.Cmd
	// persist: an append-only file synced at every write, which a
	// restart reads back.
	persist bool
}

// Start starts a redis-server on a free loopback port; it stops when t
// ends. A missing binary skips t, or fails it when CI=true.
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t, false)
}

// StartPersistent is Start with an append-only file synced at every
// write (appendfsync always): a Restart, even after a kill, finds every
// write the server acknowledged.
func StartPersistent(t testing.TB) *Server {
	t.Helper()
	return start(t, true)
}

func start(t testing.TB, persist bool) *Server {
	t.Helper()
	if _, err := os.Stat(Binary); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: CI installs redis-server (.ci/run)", Binary)
		}
		t.Skipf("%s is missing (apt-get install redis-server): the redis-stream tests need a real Redis", Binary)
	}
	s := &Server{t: t, port: freePort(t), dir: t.TempDir(), persist: persist}
	s.start()
	t.Cleanup(s.Stop)
	return s
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// URL is the server's address as a destination.url, database 0.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// start runs the server and waits until it answers a PING.
func (s *Server) start() {
	s.t.Helper()
	aof := []string{"--appendonly", "no"}
	if s.persist {
		aof = []string{"--appendonly", "yes", "--appendfsync", "always"}
	}
	args := append([]string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--dir", s.dir, "--protected-mode", "no"}, aof...)
	s.cmd = exec.Command(Binary, args...)
	s.cmd.Dir = s.dir
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("starting redis-server: %v", err)
	}
	testwait.For(s.t, "redis-server to answer on "+s.Addr(), func() bool {
		_, err := s.Do("PING")
		return err == nil
	})
}

// Stop kills the server and waits for it to end; stopping a stopped
// server does nothing.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart starts the server again on the same port: empty, or with what
// it had for a StartPersistent server.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

// Do sends one command in RESP and returns the first line of the answer;
// an error answer (-ERR …) is an error. Enough for a test's set-up.
func (s *Server) Do(args ...string) (string, error) {
	conn, err := net.DialTimeout("tcp", s.Addr(), time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if strings.HasPrefix(line, "-") {
		return "", fmt.Errorf("redis: %s", line[1:])
	}
	return line, nil
}
