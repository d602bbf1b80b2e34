package netguard

import (
	"errors"
	"net"
	"strings"
)

// Describe returns err's text for a tenant: a failed name lookup names the
// host and the cause ("dns: no such host example.invalid"), not the
// server's own resolver and its address, which are the operator's network;
// a connection the policy refused is "blocked by the network policy",
// naming no address.
func Describe(err error) string {
	if err == nil {
		return ""
	}
	var be *BlockedError
	if errors.As(err, &be) {
		return "blocked by the network policy"
	}
	msg := err.Error()
	var de *net.DNSError
	if errors.As(err, &de) {
		cause := de.Err
		if de.IsNotFound {
			cause = "no such host"
		} else if de.IsTimeout {
			cause = "timeout"
		}
		msg = strings.ReplaceAll(msg, de.Error(), "dns: "+cause+" "+de.Name)
	}
	return msg
}
