// Package testamqp gives a test a virtual host of its own on the machine's
// RabbitMQ (127.0.0.1:5672, guest/guest), made with rabbitmqctl and
// deleted when the test ends, and a loopback TCP proxy in front of the
// broker that the test stops and starts: RabbitMQ cannot easily run twice,
// so "the broker is down" is the proxy stopped (its listener closed and
// every connection through it cut), and "the broker restarts" is the
// connections closed from the server's side (CloseConnections). A machine
// where RabbitMQ does not answer skips the test, except under CI, where it
// fails: CI's machine runs RabbitMQ (.ci/run).
package testamqp

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Ctl is where Debian's rabbitmq-server package puts rabbitmqctl.
const Ctl = "/usr/sbin/rabbitmqctl"

// Addr is the machine's RabbitMQ.
const Addr = "127.0.0.1:5672"

// The broker's default user, allowed from loopback alone.
const (
	User     = "guest"
	Password = "guest"
)

// VHost is a virtual host made for one test.
type VHost struct {
	t    testing.TB
	Name string
}

// New makes a virtual host hg-<random> where guest may do anything, and
// deletes it (with its queues, exchanges and connections) when t ends. It
// skips t when RabbitMQ does not answer, or fails it when CI=true.
func New(t testing.TB) *VHost {
	t.Helper()
	Require(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	v := &VHost{t: t, Name: "hg-" + hex.EncodeToString(b[:])}
	v.Run("add_vhost", v.Name)
	t.Cleanup(func() { _, _ = run("delete_vhost", v.Name) })
	v.Run("set_permissions", "-p", v.Name, User, ".*", ".*", ".*")
	return v
}

// Require skips t when RabbitMQ or rabbitmqctl is missing, or fails it
// under CI.
func Require(t testing.TB) {
	t.Helper()
	why := ""
	if _, err := os.Stat(Ctl); err != nil {
		why = Ctl + " is missing (apt-get install rabbitmq-server)"
	} else if c, err := net.DialTimeout("tcp", Addr, 2*time.Second); err != nil {
		why = "RabbitMQ does not answer on " + Addr + " (rabbitmq-server -detached): " + err.Error()
	} else {
		_ = c.Close()
	}
	if why == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s: CI runs the amqp tests against the machine's RabbitMQ", why)
	}
	t.Skipf("%s: the amqp tests need a real RabbitMQ", why)
}

// run runs rabbitmqctl quietly.
func run(args ...string) (string, error) {
	out, err := exec.Command(Ctl, append([]string{"-q"}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("rabbitmqctl %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Run runs rabbitmqctl with args and returns what it printed, failing the
// test on an error.
func (v *VHost) Run(args ...string) string {
	v.t.Helper()
	out, err := run(args...)
	if err != nil {
		v.t.Fatal(err)
	}
	return out
}

// URL is the virtual host's address through addr (Addr, or a proxy's).
func (v *VHost) URL(addr string) string {
	return "amqp://" + addr + "/" + url.PathEscape(v.Name)
}

// AddUser adds a user with password and, on this virtual host, the
// configure, write and read permissions given (regular expressions; ""
// allows nothing; perms nil gives no permissions at all on the virtual
// host); the user is deleted when the test ends.
func (v *VHost) AddUser(name, password string, perms ...string) {
	v.t.Helper()
	name = v.Name + "-" + name
	v.Run("add_user", name, password)
	v.t.Cleanup(func() { _, _ = run("delete_user", name) })
	if len(perms) == 3 {
		v.Run("set_permissions", "-p", v.Name, name, perms[0], perms[1], perms[2])
	}
}

// UserName is the broker's name of a user AddUser added as name.
func (v *VHost) UserName(name string) string { return v.Name + "-" + name }

// Connections names the connections open on the virtual host by their
// process IDs, as close_connection takes them.
func (v *VHost) Connections() []string {
	v.t.Helper()
	var pids []string
	for line := range strings.Lines(v.Run("list_connections", "--no-table-headers", "pid", "vhost")) {
		pid, vhost, ok := strings.Cut(strings.TrimRight(line, "\n"), "\t")
		if ok && vhost == v.Name {
			pids = append(pids, pid)
		}
	}
	return pids
}

// CloseConnections closes every connection open on the virtual host from
// the server's side, as a broker that restarts does, and returns how many
// it closed.
func (v *VHost) CloseConnections() int {
	v.t.Helper()
	pids := v.Connections()
	for _, pid := range pids {
		// A connection that closed meanwhile is not an error.
		_, _ = run("close_connection", pid, "closed by the test")
	}
	return len(pids)
}

// URLOf is the address of the virtual host named vhost on the machine's
// RabbitMQ, made by New or not.
func URLOf(vhost string) string { return "amqp://" + Addr + "/" + url.PathEscape(vhost) }
