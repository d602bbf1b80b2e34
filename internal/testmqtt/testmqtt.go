// Package testmqtt runs a real mosquitto broker for a test, on a free
// loopback port, in the test's temporary directory, killed when the test
// ends. It keeps its sessions on disk (persistence), so that a broker
// stopped and started again on the same port still holds the QoS 1
// messages of persistent sessions. A machine without the binary skips
// the test, except under CI, where it fails: CI installs it (.ci/run).
package testmqtt

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/testwait"
)

// Binary is where Debian's mosquitto package puts the broker.
const Binary = "/usr/sbin/mosquitto"

// passwdBinary makes the broker's password file.
const passwdBinary = "/usr/bin/mosquitto_passwd"

// Options configure a broker.
type Options struct {
	// Users, by name, with their passwords: when set, anonymous clients
	// are refused.
	Users map[string]string
	// ACL is the text of an acl_file (user lines and topic lines), used
	// only with Users.
	ACL string
	// TLS, when set, makes the listener TLS only (mqtts://).
	TLS *TLS
	// Conf are more lines of mosquitto.conf (max_qos 1, say).
	Conf []string
}

// TLS is a TLS listener's certificate, key and CA, in PEM.
type TLS struct {
	CertPEM, KeyPEM, CAPEM string
}

// Server is a running mosquitto.
type Server struct {
	t    testing.TB
	port int
	dir  string
	conf string
	cmd  *exec.Cmd
	tls  bool
}

// Start starts a broker that takes anonymous clients.
func Start(t testing.TB) *Server { return StartWith(t, Options{}) }

// StartWith starts a broker on a free loopback port; it stops when t
// ends. A missing binary skips t, or fails it when CI=true.
func StartWith(t testing.TB, o Options) *Server {
	t.Helper()
	for _, bin := range []string{Binary, passwdBinary} {
		if _, err := os.Stat(bin); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is missing: CI installs mosquitto (.ci/run)", bin)
			}
			t.Skipf("%s is missing (apt-get install mosquitto mosquitto-clients): the mqtt tests need a real broker", bin)
		}
	}
	s := &Server{t: t, port: freePort(t), dir: t.TempDir()}
	s.conf = filepath.Join(s.dir, "mosquitto.conf")
	lines := []string{
		// Run as the test's user: mosquitto started by root drops to the
		// mosquitto user, who cannot read the test's directory.
		"user " + currentUser(t),
		"listener " + strconv.Itoa(s.port) + " 127.0.0.1",
		"persistence true",
		"persistence_location " + s.dir + "/",
		"log_dest file " + filepath.Join(s.dir, "mosquitto.log"),
		"log_type all",
		"max_queued_messages 10000",
	}
	lines = append(lines, o.Conf...)
	if o.TLS != nil {
		s.tls = true
		for name, text := range map[string]string{"cert.pem": o.TLS.CertPEM, "key.pem": o.TLS.KeyPEM, "ca.pem": o.TLS.CAPEM} {
			if err := os.WriteFile(filepath.Join(s.dir, name), []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, map[string]string{"cert.pem": "certfile ", "key.pem": "keyfile ", "ca.pem": "cafile "}[name]+filepath.Join(s.dir, name))
		}
	}
	if len(o.Users) == 0 {
		lines = append(lines, "allow_anonymous true")
	} else {
		pw := filepath.Join(s.dir, "passwd")
		first := true
		for user, pass := range o.Users {
			args := []string{"-b", pw, user, pass}
			if first {
				args = []string{"-b", "-c", pw, user, pass}
				first = false
			}
			if out, err := exec.Command(passwdBinary, args...).CombinedOutput(); err != nil {
				t.Fatalf("mosquitto_passwd: %v: %s", err, out)
			}
		}
		lines = append(lines, "allow_anonymous false", "password_file "+pw)
		if o.ACL != "" {
			acl := filepath.Join(s.dir, "acl")
			if err := os.WriteFile(acl, []byte(o.ACL), 0o600); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, "acl_file "+acl)
		}
	}
	if err := os.WriteFile(s.conf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.start()
	t.Cleanup(s.Stop)
	return s
}

// currentUser is the name of the user the test runs as.
func currentUser(t testing.TB) string {
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u.Username
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

// Addr is the broker's host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// URL is the broker's address as a destination.url: mqtts:// for a TLS
// listener.
func (s *Server) URL() string {
	if s.tls {
		return "mqtts://" + s.Addr()
	}
	return "mqtt://" + s.Addr()
}

// start runs the broker and waits until it takes connections.
func (s *Server) start() {
	s.t.Helper()
	s.cmd = exec.Command(Binary, "-c", s.conf)
	s.cmd.Dir = s.dir
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("starting mosquitto: %v", err)
	}
	testwait.For(s.t, "mosquitto to listen on "+s.Addr(), func() bool {
		c, err := net.DialTimeout("tcp", s.Addr(), time.Second)
		if err != nil {
			return false
		}
		_ = c.Close()
		return true
	})
}

// Stop ends the broker gracefully (SIGTERM: it writes its persistence
// file) and waits for it; stopping a stopped broker does nothing.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

// Restart starts the broker again on the same port, with the sessions
// and queued messages it saved when it stopped.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

// Log returns what the broker logged so far, for a failing test.
func (s *Server) Log() string {
	b, err := os.ReadFile(filepath.Join(s.dir, "mosquitto.log"))
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	return string(b)
}
