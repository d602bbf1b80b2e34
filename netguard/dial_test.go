package netguard_test

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/netguard"
)

// Only loopback is dialed here: the default policy must refuse it at
// connection time, and a policy that allows it must connect.
func TestClientChecksDialedAddress(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	_, err := netguard.New(nil).Client(5 * time.Second).Get(srv.URL + "/")
	if err == nil || !strings.Contains(err.Error(), "network policy") {
		t.Fatalf("default policy dialed loopback: %v", err)
	}
	// A name that resolves to loopback is refused too: the check is on the
	// resolved address, not the URL text.
	_, err = netguard.New(nil).Client(5 * time.Second).Get(strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/")
	if err == nil {
		t.Fatal("default policy dialed localhost")
	}

	allow := netguard.New([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")})
	c := allow.Client(5 * time.Second)
	res, err := c.Get(srv.URL + "/")
	if err != nil || res.StatusCode != http.StatusNoContent {
		t.Fatalf("allowed loopback: %v, %v", res, err)
	}
	res.Body.Close()
	res, err = c.Get(srv.URL + "/redirect")
	if err != nil || res.StatusCode != http.StatusFound {
		t.Fatalf("redirect must not be followed: %v, %v", res, err)
	}
	res.Body.Close()
}

func TestTransportIgnoresProxyEnvironment(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:9")
	tr := netguard.New(nil).Transport(time.Second)
	if tr.Proxy != nil {
		t.Fatal("the transport takes a proxy")
	}
}

// A failed lookup is told without the server's resolver.
func TestDescribeDNSError(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("Post %q: %w", "https://example.invalid/h", &net.OpError{Op: "dial", Net: "tcp",
		Err: &net.DNSError{Err: "no such host", Name: "example.invalid", Server: "10.255.255.53:53", IsNotFound: true}})
	got := netguard.Describe(err)
	if strings.Contains(got, "10.255.255.53") || !strings.Contains(got, "dns: no such host example.invalid") {
		t.Fatalf("Describe = %q", got)
	}
	if netguard.Describe(errors.New("plain")) != "plain" || netguard.Describe(nil) != "" {
		t.Fatal("other errors change")
	}
}
