// Package netguard decides which network addresses Hookgate may send requests
// to, so that a registered URL cannot reach the server's own network (SSRF).
package netguard

import (
	"fmt"
	"net/netip"
	"strings"

	"code.dny.dev/ssrf"
)

// Policy denies loopback, private, link-local, multicast, unspecified and the
// other special-purpose ranges of the IANA registries, except for networks
// explicitly allowed. The zero value is not usable; call New.
type Policy struct {
	guard *ssrf.Guardian
	allow []netip.Prefix
}

// New returns a policy that allows the given prefixes in addition to the
// public internet.
func New(allow []netip.Prefix) *Policy {
	var v4, v6 []netip.Prefix
	for _, p := range allow {
		if p.Addr().Is4() {
			v4 = append(v4, p)
		} else {
			v6 = append(v6, p)
		}
	}
	return &Policy{
		guard: ssrf.New(ssrf.WithAnyPort(), ssrf.WithAllowedV4Prefixes(v4...), ssrf.WithAllowedV6Prefixes(v6...)),
		allow: allow,
	}
}

// ParseAllowList parses a comma-separated list of CIDRs such as the value of
// HOOKGATE_ALLOW_NETWORKS. A bare address counts as a single-host prefix.
func ParseAllowList(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("netguard: %q is not a CIDR or an address", f)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("netguard: %q is not a CIDR", f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// OpensBlocked returns the prefixes of allow that reach addresses the
// policy denies by default (loopback, private, link-local, the other
// special-purpose ranges): those that weaken the SSRF protection, which
// serve warns about. A prefix of public addresses only is left out.
func OpensBlocked(allow []netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range allow {
		if opensBlocked(p) {
			out = append(out, p)
		}
	}
	return out
}

func opensBlocked(p netip.Prefix) bool {
	if p.Addr().Is4() {
		for _, d := range ssrf.IPv4DeniedPrefixes {
			if d.Overlaps(p) {
				return true
			}
		}
		return false
	}
	// Outside the global unicast range everything is denied; inside it,
	// the denied special-purpose prefixes.
	if !ssrf.IPv6GlobalUnicast.Contains(p.Addr()) || p.Bits() < ssrf.IPv6GlobalUnicast.Bits() {
		return true
	}
	for _, d := range ssrf.IPv6DeniedPrefixes {
		if d.Overlaps(p) {
			return true
		}
	}
	return false
}

// CheckAddr returns an error when a connection to addr is not allowed.
func (p *Policy) CheckAddr(addr netip.Addr) error {
	// An IPv4-mapped IPv6 address is judged as the IPv4 address it carries,
	// so that ::ffff:127.0.0.1 is loopback like 127.0.0.1.
	addr = addr.Unmap()
	return p.guard.SafeAddr(addr)
}

// CheckHost judges a URL's host as written, without resolving it: a literal
// address is checked with CheckAddr, and "localhost" (and names under it) as
// the loopback address it always names. Other names are checked when the
// connection is made, on the address they resolve to.
func (p *Policy) CheckHost(host string) error {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return p.CheckAddr(netip.MustParseAddr("127.0.0.1"))
	}
	if a, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
		return p.CheckAddr(a.WithZone(""))
	}
	return nil
}
