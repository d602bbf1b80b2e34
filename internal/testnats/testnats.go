// Package testnats runs a real nats-server with JetStream for a test, on a
// free loopback port, storing in the test's temporary directory, stopped
// when the test ends. A machine without the binary skips the test, except
// under CI, where it fails: CI installs it (.ci/run).
package testnats

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookgate/hookgate/internal/testwait"
)

// Binary is where Debian's nats-server package puts the server.
const Binary = "/usr/sbin/nats-server"

// User is an account's user of the server, with the subjects it may not
// publish to.
type User struct {
	Name, Password string
	// DenyPublish lists subjects (wildcards allowed) the user may not
	// publish to; the server answers a publish there with a permissions
	// violation.
	DenyPublish []string
}

// Option configures the server's authorization.
type Option func(*Server)

// WithToken makes the server require token.
func WithToken(token string) Option { return func(s *Server) { s.token = token } }

// WithUsers makes the server require one of users' names and passwords.
func WithUsers(users ...User) Option { return func(s *Server) { s.users = users } }

// WithTLS makes the server require TLS with the certificate and key given
// (PEM); roots are what the test's own connections trust.
func WithTLS(certPEM, keyPEM string, roots *x509.CertPool) Option {
	return func(s *Server) { s.certPEM, s.keyPEM, s.roots = certPEM, keyPEM, roots }
}

// WithClientCertificates makes a TLS server (WithTLS) require client
// certificates of the CA of caPEM; the test's own connections present
// client.
func WithClientCertificates(caPEM string, client tls.Certificate) Option {
	return func(s *Server) { s.clientCAPEM, s.clientCert = caPEM, &client }
}

// Server is a running nats-server with JetStream.
type Server struct {
	t               testing.TB
	port            int
	dir             string
	token           string
	users           []User
	certPEM, keyPEM string
	roots           *x509.CertPool
	clientCAPEM     string
	clientCert      *tls.Certificate
	cmd             *exec.Cmd
}

// Start starts a nats-server with JetStream on a free loopback port; it
// stops when t ends. A missing binary skips t, or fails it when CI=true.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	if _, err := os.Stat(Binary); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: CI installs nats-server (.ci/run)", Binary)
		}
		t.Skipf("%s is missing (apt-get install nats-server): the nats tests need a real NATS server", Binary)
	}
	s := &Server{t: t, port: freePort(t), dir: t.TempDir()}
	for _, o := range opts {
		o(s)
	}
	s.writeConfig()
	s.start()
	t.Cleanup(s.Kill)
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

// URL is the server's address as a destination.url: tls:// when the
// server requires TLS.
func (s *Server) URL() string {
	if s.certPEM != "" {
		return "tls://" + s.Addr()
	}
	return "nats://" + s.Addr()
}

// configFile is where the server's configuration is written.
func (s *Server) configFile() string { return filepath.Join(s.dir, "nats.conf") }

// writeConfig writes the server's configuration: the loopback port, the
// JetStream store in the test's directory, and the authorization.
func (s *Server) writeConfig() {
	var b strings.Builder
	fmt.Fprintf(&b, "listen: %q\n", s.Addr())
	fmt.Fprintf(&b, "jetstream {\n  store_dir: %q\n}\n", filepath.Join(s.dir, "js"))
	if s.certPEM != "" {
		cert, key := filepath.Join(s.dir, "server.pem"), filepath.Join(s.dir, "server-key.pem")
		if os.WriteFile(cert, []byte(s.certPEM), 0o600) != nil || os.WriteFile(key, []byte(s.keyPEM), 0o600) != nil {
			s.t.Fatal("writing the server's certificate")
		}
		fmt.Fprintf(&b, "tls {\n  cert_file: %q\n  key_file: %q\n", cert, key)
		if s.clientCAPEM != "" {
			ca := filepath.Join(s.dir, "client-ca.pem")
			if os.WriteFile(ca, []byte(s.clientCAPEM), 0o600) != nil {
				s.t.Fatal("writing the clients' CA")
			}
			fmt.Fprintf(&b, "  ca_file: %q\n  verify: true\n", ca)
		}
		b.WriteString("}\n")
	}
	switch {
	case s.token != "":
		fmt.Fprintf(&b, "authorization {\n  token: %q\n}\n", s.token)
	case len(s.users) > 0:
		b.WriteString("authorization {\n  users = [\n")
		for _, u := range s.users {
			fmt.Fprintf(&b, "    {user: %q, password: %q", u.Name, u.Password)
			if len(u.DenyPublish) > 0 {
				quoted := make([]string, len(u.DenyPublish))
				for i, d := range u.DenyPublish {
					quoted[i] = strconv.Quote(d)
				}
				fmt.Fprintf(&b, ", permissions: {publish: {deny: [%s]}}", strings.Join(quoted, ", "))
			}
			b.WriteString("}\n")
		}
		b.WriteString("  ]\n}\n")
	}
	if err := os.WriteFile(s.configFile(), []byte(b.String()), 0o600); err != nil {
		s.t.Fatal(err)
	}
}

// start runs the server and waits until its JetStream answers.
func (s *Server) start() {
	s.t.Helper()
	s.cmd = exec.Command(Binary, "-c", s.configFile())
	s.cmd.Dir = s.dir
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("starting nats-server: %v", err)
	}
	testwait.For(s.t, "nats-server to answer on "+s.Addr(), func() bool {
		nc, err := s.Connect()
		if err != nil {
			return false
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			return false
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err = js.AccountInfo(ctx)
		return err == nil
	})
}

// Stop stops the server as an operator would (SIGTERM), waiting for it to
// end: what JetStream stored stays in the store directory. Stopping a
// stopped server does nothing.
func (s *Server) Stop() { s.signal(syscall.SIGTERM) }

// Kill kills the server (SIGKILL) and waits for it to end.
func (s *Server) Kill() { s.signal(syscall.SIGKILL) }

func (s *Server) signal(sig os.Signal) {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(sig)
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart stops the server and starts it again on the same port, with the
// same store: streams, consumers and messages survive.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

// Start starts a stopped server again on the same port and store.
func (s *Server) Start() {
	s.t.Helper()
	if s.cmd == nil {
		s.start()
	}
}

// Connect opens a connection of the test's own, with the server's
// credentials (the first user's), without reconnecting; the caller
// closes it.
func (s *Server) Connect() (*nats.Conn, error) {
	opts := []nats.Option{nats.NoReconnect(), nats.Timeout(time.Second)}
	if s.roots != nil {
		cfg := &tls.Config{RootCAs: s.roots, MinVersion: tls.VersionTLS12}
		if s.clientCert != nil {
			cfg.Certificates = []tls.Certificate{*s.clientCert}
		}
		opts = append(opts, nats.Secure(cfg))
	}
	switch {
	case s.token != "":
		opts = append(opts, nats.Token(s.token))
	case len(s.users) > 0:
		opts = append(opts, nats.UserInfo(s.users[0].Name, s.users[0].Password))
	}
	return nats.Connect(s.URL(), opts...)
}

// JetStream returns a JetStream client on a connection of the test's own,
// closed when the test ends.
func (s *Server) JetStream() jetstream.JetStream {
	s.t.Helper()
	nc, err := s.Connect()
	if err != nil {
		s.t.Fatalf("connecting to nats-server: %v", err)
	}
	s.t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		s.t.Fatal(err)
	}
	return js
}

// CreateStream creates a file-stored stream capturing subjects.
func (s *Server) CreateStream(name string, subjects ...string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := s.JetStream().CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: subjects, Storage: jetstream.FileStorage}); err != nil {
		s.t.Fatalf("creating stream %s: %v", name, err)
	}
}
