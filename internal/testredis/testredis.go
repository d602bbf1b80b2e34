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
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/testcert"
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
	// tls, when set, is the TLS listener's port and files.
	tls     *TLS
	tlsPort int
	// persist: an append-only file synced at every write, which a
	// restart reads back.
	persist bool
}

// TLS configures a server's TLS listener (beside its plain one, which
// Do uses): PEM files of its certificate, key and the CA that client
// certificates must chain to.
type TLS struct {
	CertFile, KeyFile, CAFile string
	// ClientCerts makes a client certificate required.
	ClientCerts bool
}

// Start starts a redis-server on a free loopback port; it stops when t
// ends. A missing binary skips t, or fails it when CI=true.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartTLS(t, nil)
}

// StartTLS is Start with a TLS listener too, when tl is not nil.
func StartTLS(t testing.TB, tl *TLS) *Server {
	t.Helper()
	return start(t, tl, false)
}

// StartPersistent is Start with an append-only file synced at every
// write (appendfsync always): a Restart, even after a kill, finds every
// write the server acknowledged.
func StartPersistent(t testing.TB) *Server {
	t.Helper()
	return start(t, nil, true)
}

func start(t testing.TB, tl *TLS, persist bool) *Server {
	t.Helper()
	if _, err := os.Stat(Binary); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: CI installs redis-server (.ci/run)", Binary)
		}
		t.Skipf("%s is missing (apt-get install redis-server): the redis-stream tests need a real Redis", Binary)
	}
	s := &Server{t: t, port: freePort(t), dir: t.TempDir(), tls: tl, persist: persist}
	if tl != nil {
		s.tlsPort = freePort(t)
	}
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

// TLSURL is the server's TLS address as a destination.url, database 0.
func (s *Server) TLSURL() string { return "rediss://127.0.0.1:" + strconv.Itoa(s.tlsPort) + "/0" }

// StartMutualTLS starts a server that also listens for TLS (TLSURL) with
// a certificate of a CA made for it, and requires a client certificate of
// that CA, which it returns to issue one.
func StartMutualTLS(t testing.TB) (*Server, *testcert.CA) {
	t.Helper()
	ca := testcert.NewCA(t, "Broker CA")
	server := ca.Issue(t, testcert.Spec{CommonName: "127.0.0.1", Server: true})
	dir := t.TempDir()
	for name, pem := range map[string]string{"server.pem": server.CertPEM, "server.key": server.KeyPEM, "ca.pem": ca.PEM} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(pem), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return StartTLS(t, &TLS{CertFile: filepath.Join(dir, "server.pem"), KeyFile: filepath.Join(dir, "server.key"),
		CAFile: filepath.Join(dir, "ca.pem"), ClientCerts: true}), ca
}

// start runs the server and waits until it answers a PING.
func (s *Server) start() {
	s.t.Helper()
	args := []string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--dir", s.dir, "--protected-mode", "no"}
	if s.persist {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--appendonly", "no")
	}
	if s.tls != nil {
		clients := "no"
		if s.tls.ClientCerts {
			clients = "yes"
		}
		args = append(args, "--tls-port", strconv.Itoa(s.tlsPort), "--tls-cert-file", s.tls.CertFile,
			"--tls-key-file", s.tls.KeyFile, "--tls-ca-cert-file", s.tls.CAFile, "--tls-auth-clients", clients)
	}
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
