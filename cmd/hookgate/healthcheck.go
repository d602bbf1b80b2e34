package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// newHealthcheckCmd is `hookgate healthcheck`, the probe of images that
// have no shell and no curl (the Dockerfile's HEALTHCHECK, the compose
// file's): it asks a server on this machine and exits 0 or 1.
func newHealthcheckCmd() *cobra.Command {
	var addr string
	var ready bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 if the server on --addr answers GET /healthz (or /readyz) 200, else 1",
		Long: `Ask the server listening on --addr (by default serve's own, from HOOKGATE_ADDR
as serve reads it) for GET /healthz, or GET /readyz with --ready, and exit 0 on
200, 1 otherwise, saying why. A wildcard host (0.0.0.0, ::) is asked on
127.0.0.1. Made for container health checks, where there is no curl.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Only HOOKGATE_ADDR, not withEnv: the other flags' twins
			// (HOOKGATE_TIMEOUT…) would be names of no other meaning.
			if v := os.Getenv(envName("addr")); v != "" && !cmd.Flags().Changed("addr") {
				addr = v
			}
			path := "/healthz"
			if ready {
				path = "/readyz"
			}
			return healthcheck(cmd.Context(), cmd.OutOrStdout(), addr, path, timeout)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "the server's listen address, as given to serve (env "+envName("addr")+")")
	cmd.Flags().BoolVar(&ready, "ready", false, "ask GET /readyz (the database answers and the node is not draining) instead of GET /healthz (the process serves)")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "how long the whole request may take")
	return cmd
}

// healthcheck GETs path from the server listening on addr and returns nil
// on 200, or an error with the status and the start of the answer.
func healthcheck(ctx context.Context, out io.Writer, addr, path string, timeout time.Duration) error {
	base, err := publicBase("", addr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return err
	}
	// No proxy: the server asked is this machine's.
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: GET %s answered %s: %s", base+path, res.Status, strings.TrimSpace(string(body)))
	}
	fmt.Fprintf(out, "GET %s: %s\n", base+path, res.Status)
	return nil
}
