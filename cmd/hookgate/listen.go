package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/signing"
)

type listenFlags struct {
	addr   string
	secret string
	jwks   string
	status int
}

// newListenCmd is a receiver for trying Hookgate out: it prints every
// request it gets and, given the webhook's secret, checks its Standard
// Webhooks signature, as a real receiver must.
func newListenCmd() *cobra.Command {
	var f listenFlags
	cmd := &cobra.Command{
		Use:   "listen",
		Short: "Receive webhooks on this machine and print them (to try Hookgate out)",
		Long: `Run a webhook receiver that prints each request it gets: method, path,
webhook-id, whether its signature verifies, and the body. With --secret (the
webhook's whsec_… secret for v1, or its whpk_… public key for v1a) or --jwks
(the project's JWKS URL, for v1a: the key each request names is taken from it)
a request whose signature does not verify is answered 401, as a real receiver
should; without either, every request is answered --status.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, os.Interrupt)
			defer stop()
			return listen(ctx, cmd.OutOrStdout(), &f)
		},
	}
	cmd.Flags().StringVar(&f.addr, "addr", "127.0.0.1:9000", "listen address")
	cmd.Flags().StringVar(&f.secret, "secret", os.Getenv("HOOKGATE_LISTEN_SECRET"), "the webhook's signing secret (whsec_…, v1) or public key (whpk_…, v1a), to verify signatures (env HOOKGATE_LISTEN_SECRET)")
	cmd.Flags().StringVar(&f.jwks, "jwks", "", "the project's JWKS URL ({server}/.well-known/hookgate/{project}/jwks.json), to verify v1a signatures with the key each request names")
	cmd.Flags().IntVar(&f.status, "status", http.StatusNoContent, "the status to answer verified requests with")
	return cmd
}

func listen(ctx context.Context, out io.Writer, f *listenFlags) error {
	if f.status < 200 || f.status > 599 {
		return fmt.Errorf("--status must be an HTTP status, 200-599")
	}
	verify, err := listenVerifier(f)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "listening on http://%s (Ctrl-C to stop)\n", ln.Addr())
	var mu sync.Mutex // one request's lines together
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		status, check := f.status, "not checked (no --secret or --jwks)"
		if verify != nil {
			if err := verify(r.Header, body); err != nil {
				status, check = http.StatusUnauthorized, "INVALID: "+err.Error()
			} else {
				check = "valid"
			}
		}
		var b strings.Builder
		fmt.Fprintf(&b, "\n%s %s %s -> %d\n", time.Now().UTC().Format(time.RFC3339), r.Method, r.URL.RequestURI(), status)
		fmt.Fprintf(&b, "  webhook-id: %s\n  signature:  %s\n", r.Header.Get(signing.HeaderID), check)
		names := make([]string, 0, len(r.Header))
		for k := range r.Header {
			if !strings.HasPrefix(strings.ToLower(k), "webhook-") {
				names = append(names, k)
			}
		}
		sort.Strings(names)
		for _, k := range names {
			v := r.Header.Get(k)
			if hookgate.IsCredentialHeader(k) {
				v = "******** (set)"
			}
			fmt.Fprintf(&b, "  %s: %s\n", k, v)
		}
		if len(body) > 0 {
			fmt.Fprintf(&b, "  %s\n", body)
		}
		mu.Lock()
		_, _ = io.WriteString(out, b.String())
		mu.Unlock()
		w.WriteHeader(status)
	})}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// listenVerifier is how listen checks a request: with --secret's v1 secret
// or v1a public key, or --jwks's keys; nil for neither.
func listenVerifier(f *listenFlags) (func(http.Header, []byte) error, error) {
	switch {
	case f.secret != "" && f.jwks != "":
		return nil, errors.New("--secret and --jwks: give one")
	case f.jwks != "":
		v, err := client.NewJWKSVerifier(f.jwks, nil)
		if err != nil {
			return nil, fmt.Errorf("--jwks: %w", err)
		}
		return v.Verify, nil
	case strings.HasPrefix(f.secret, hookgate.PublicPrefix):
		if err := client.VerifyAt(f.secret, http.Header{}, nil, time.Now()); errors.Is(err, client.ErrMissingHeaders) {
			return func(h http.Header, body []byte) error { return client.Verify(f.secret, h, body) }, nil
		}
		return nil, errors.New("--secret: a public key is whpk_ and the base64 of 32 bytes")
	case f.secret != "":
		signer, err := signing.NewSigner(f.secret)
		if err != nil {
			return nil, fmt.Errorf("--secret: %s", hookgate.ErrorMessage(err))
		}
		return func(h http.Header, body []byte) error { return signer.Verify(h, body, time.Now()) }, nil
	}
	return nil, nil
}
