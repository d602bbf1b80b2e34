package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/hookgate/hookgate/client"
)

// destinationFlags choose a webhook's destination kind on create and
// update; with a kind other than http, the URL argument (or update's
// --url) is the broker's address.
type destinationFlags struct {
	kind, stream, username, password string
	maxLen                           int64
}

func (f *destinationFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.kind, "destination-kind", "", "where deliveries go: http (the default) or redis-stream, with the URL as the broker's address (redis://host:6379/0)")
	fs.StringVar(&f.stream, "destination-stream", "", "redis-stream: the stream deliveries are appended to")
	fs.Int64Var(&f.maxLen, "destination-max-len", 0, "redis-stream: trim the stream to about this many entries (XADD MAXLEN ~); 0 for no trimming")
	fs.StringVar(&f.username, "destination-username", "", "the broker's user, with --destination-password")
	fs.StringVar(&f.password, "destination-password", "", "the broker's password")
}

// destination builds the destination the flags name, at url; nil when no
// kind other than http is chosen. Another kind's flags without a kind are
// an error, not ignored.
func (f *destinationFlags) destination(url string) (*client.Destination, error) {
	if f.kind == "" || f.kind == client.DestinationHTTP {
		if f.stream != "" || f.maxLen != 0 || f.username != "" || f.password != "" {
			return nil, errors.New("--destination-stream, --destination-max-len, --destination-username and --destination-password need --destination-kind")
		}
		if f.kind == client.DestinationHTTP {
			return &client.Destination{Kind: client.DestinationHTTP}, nil
		}
		return nil, nil
	}
	if url == "" {
		return nil, fmt.Errorf("--destination-kind %s needs the broker's address: %s", f.kind, "give --url")
	}
	d := &client.Destination{Kind: f.kind, URL: url, Stream: f.stream, MaxLen: f.maxLen}
	if f.username != "" || f.password != "" {
		d.Auth = &client.DestinationAuth{Username: f.username, Password: f.password}
	}
	return d, nil
}

// destinationLine describes a webhook's destination in one line.
func destinationLine(d *client.Destination) string {
	if d == nil || d.Kind == "" || d.Kind == client.DestinationHTTP {
		return client.DestinationHTTP
	}
	parts := []string{d.Kind, d.URL}
	if d.Stream != "" {
		parts = append(parts, "stream "+d.Stream)
	}
	if d.MaxLen > 0 {
		parts = append(parts, fmt.Sprintf("max length ~%d", d.MaxLen))
	}
	if d.Auth != nil && d.Auth.Username != "" {
		parts = append(parts, "as "+d.Auth.Username)
	}
	return strings.Join(parts, ", ")
}
