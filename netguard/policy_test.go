package netguard_test

import (
	"net/netip"
	"testing"

	"github.com/hookgate/hookgate/netguard"
)

// The policy is a decision on addresses: nothing here dials.
func TestCheckAddr(t *testing.T) {
	t.Parallel()
	deny := netguard.New(nil)
	allowLoop := netguard.New([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")})
	for _, tc := range []struct {
		addr      string
		denied    bool
		allowLoop bool // allowed when loopback is allowed
	}{
		{"127.0.0.1", true, true},
		{"127.9.9.9", true, true},
		{"::1", true, true},
		{"::ffff:127.0.0.1", true, true},
		{"10.0.0.1", true, false},
		{"172.16.5.4", true, false},
		{"192.168.1.1", true, false},
		{"169.254.169.254", true, false},
		{"fe80::1", true, false},
		{"fc00::1", true, false},
		{"0.0.0.0", true, false},
		{"224.0.0.1", true, false},
		{"ff02::1", true, false},
		{"100.64.0.1", true, false},
		{"93.184.216.34", false, true},
		{"8.8.8.8", false, true},
		{"2606:4700:4700::1111", false, true},
	} {
		a := netip.MustParseAddr(tc.addr)
		if err := deny.CheckAddr(a); (err != nil) != tc.denied {
			t.Errorf("default policy on %s: err = %v, want denied=%v", tc.addr, err, tc.denied)
		}
		if err := allowLoop.CheckAddr(a); (err == nil) != tc.allowLoop {
			t.Errorf("loopback-allowing policy on %s: err = %v, want allowed=%v", tc.addr, err, tc.allowLoop)
		}
	}
}

func TestCheckHost(t *testing.T) {
	t.Parallel()
	p := netguard.New(nil)
	for host, denied := range map[string]bool{
		"localhost": true, "api.localhost": true, "LOCALHOST.": true, "127.0.0.1": true, "[::1]": true,
		"10.1.2.3": true, "example.invalid": false, "93.184.216.34": false,
	} {
		if err := p.CheckHost(host); (err != nil) != denied {
			t.Errorf("CheckHost(%q) = %v, want denied=%v", host, err, denied)
		}
	}
}

func TestParseAllowList(t *testing.T) {
	t.Parallel()
	got, err := netguard.ParseAllowList(" 127.0.0.0/8, ::1/128 ,10.0.0.5")
	if err != nil || len(got) != 3 || got[2].Bits() != 32 {
		t.Fatalf("ParseAllowList = %v, %v", got, err)
	}
	if _, err := netguard.ParseAllowList("not-a-cidr"); err == nil {
		t.Fatal("ParseAllowList accepted garbage")
	}
	if got, err := netguard.ParseAllowList(""); err != nil || len(got) != 0 {
		t.Fatalf("empty list = %v, %v", got, err)
	}
}

// Issue 22, item 20: serve warns about the allowed networks that open what
// the policy denies; public networks open nothing.
func TestOpensBlocked(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		prefix string
		opens  bool
	}{
		{"127.0.0.0/8", true},
		{"127.0.0.1/32", true},
		{"::1/128", true},
		{"10.1.2.0/24", true},
		{"0.0.0.0/0", true},   // everything, loopback included
		{"100.0.0.0/6", true}, // holds 100.64.0.0/10
		{"fe80::/10", true},
		{"::/0", true},
		{"2001:db8::/48", true},
		{"8.8.8.0/24", false},
		{"93.184.216.34/32", false},
		{"2606:4700::/32", false},
	} {
		got := netguard.OpensBlocked([]netip.Prefix{netip.MustParsePrefix(tc.prefix)})
		if (len(got) == 1) != tc.opens {
			t.Errorf("%s: opens blocked = %v, want %v", tc.prefix, got, tc.opens)
		}
	}
}
