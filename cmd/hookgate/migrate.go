package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newMigrateCmd() *cobra.Command {
	var f storeFlags
	var logLevel string
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Bring the database schema up to date",
		Long:  "Apply every pending migration. Safe while other nodes start or run: on PostgreSQL the migrations hold an advisory lock.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(cmd.ErrOrStderr(), logLevel, "json")
			if err != nil {
				return err
			}
			store, err := f.openStore(cmd.Context(), log)
			if err != nil {
				return err
			}
			defer store.Close()
			if err := store.Migrate(cmd.Context()); err != nil {
				return err
			}
			cur, latest, err := store.MigrationStatus(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "schema at version %d of %d (%s)\n", cur, latest, store.Engine())
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	return withEnv(cmd)
}
