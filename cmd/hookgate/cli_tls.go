package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/hookgate/hookgate/client"
)

// tlsFlags are the TLS settings of webhook create and update: files of
// PEM text, read by the CLI and sent in the request.
type tlsFlags struct {
	cert, key, ca string
	none          bool
	// prefix begins the flags' names (destination- for a broker's).
	prefix string
}

func (f *tlsFlags) add(fs *pflag.FlagSet, create bool) {
	fs.StringVar(&f.cert, "tls-cert", "", "a PEM file: the client certificate presented to the receiver and its token URL (mTLS); with --tls-key")
	fs.StringVar(&f.key, "tls-key", "", "a PEM file: the private key of --tls-cert")
	fs.StringVar(&f.ca, "tls-ca", "", "a PEM file of CA certificates: the only CAs trusted for the receiver, instead of the system's")
	if !create {
		fs.BoolVar(&f.none, "tls-none", false, "remove the webhook's TLS settings (client certificate and CAs)")
	}
}

// settings reads the files the flags name; nil when none is set. An
// update replaces the settings whole, so it sends every file wanted.
func (f *tlsFlags) settings() (*client.TLS, error) {
	set := f.cert != "" || f.key != "" || f.ca != ""
	if !set {
		return nil, nil
	}
	if f.none {
		return nil, errors.New("choose --tls-none or --tls-cert, --tls-key and --tls-ca")
	}
	var t client.TLS
	for _, r := range []struct {
		flag, file string
		dst        *string
	}{{"tls-cert", f.cert, &t.ClientCertificate}, {"tls-key", f.key, &t.ClientKey}, {"tls-ca", f.ca, &t.CABundle}} {
		if r.file == "" {
			continue
		}
		b, err := os.ReadFile(r.file)
		if err != nil {
			return nil, fmt.Errorf("--%s%s: %w", f.prefix, r.flag, err)
		}
		*r.dst = string(b)
	}
	return &t, nil
}

// tlsLine describes a webhook's TLS settings in one line.
func tlsLine(t *client.TLSInfo) string {
	if t == nil {
		return "-"
	}
	var parts []string
	if c := t.ClientCertificate; c != nil {
		parts = append(parts, fmt.Sprintf("client certificate %s, issued by %s, valid until %s, sha256 %s", c.Subject, c.Issuer, ts(c.NotAfter), c.SHA256))
	}
	if b := t.CABundle; b != nil {
		parts = append(parts, fmt.Sprintf("trusts only %d CA(s): %s", b.Certificates, strings.Join(b.Subjects, "; ")))
	}
	return strings.Join(parts, "; ")
}
