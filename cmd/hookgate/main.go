// Command hookgate is the Hookgate webhook gateway: `hookgate serve` runs the
// server, `hookgate migrate` brings the database schema up to date,
// `hookgate version` prints the version, `hookgate healthcheck` probes a
// server (for container health checks), and `hookgate bench` measures it.
package main

import (
	"fmt"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…" (make
// build does); otherwise it is made from the build's VCS stamp.
var version = "dev"

// buildVersion returns version, or, when the binary was not stamped,
// "dev+" and the commit it was built from (with "-dirty" for uncommitted
// changes), as Go records it in the binary.
func buildVersion(v string, info *debug.BuildInfo, ok bool) string {
	if v != "dev" || !ok {
		return v
	}
	if mv := info.Main.Version; mv != "" && mv != "(devel)" {
		return mv
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev == "" {
		return v
	}
	return v + "+" + rev[:min(12, len(rev))] + dirty
}

// buildTime is the time of the commit the binary was built from, if known.
func buildTime(info *debug.BuildInfo, ok bool) string {
	if ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.time" {
				return s.Value
			}
		}
	}
	return ""
}

func main() {
	info, ok := debug.ReadBuildInfo()
	version = buildVersion(version, info, ok)
	if err := newRootCmd().Execute(); err != nil {
		printError(os.Stderr, err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "hookgate",
		Short:         "Hookgate: a self-hosted webhook gateway",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddGroup(&cobra.Group{ID: "server", Title: "Run and measure the server:"},
		&cobra.Group{ID: "api", Title: "Drive a server's API (--server, --api-key, -o json):"})
	for _, c := range []*cobra.Command{newServeCmd(), newMigrateCmd(), newVersionCmd(), newHealthcheckCmd(), newBenchCmd(), newBenchRelayCmd(), newListenCmd(), newRotateKeyCmd()} {
		c.GroupID = "server"
		root.AddCommand(c)
	}
	for _, c := range []*cobra.Command{newProjectCmd(), newKeyCmd(), newWebhookCmd(), newEventCmd(), newEventTypeCmd(), newDeliveryCmd(), newPlatformCmd(), newMessageCmd(), newPortalCmd(), newSourceCmd()} {
		c.GroupID = "api"
		root.AddCommand(c)
	}
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			info, ok := debug.ReadBuildInfo()
			if t := buildTime(info, ok); t != "" {
				fmt.Fprintln(cmd.OutOrStdout(), "hookgate", version, "(commit time "+t+")")
				return
			}
			fmt.Fprintln(cmd.OutOrStdout(), "hookgate", version)
		},
	}
}
