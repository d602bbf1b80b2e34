package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hookgate/hookgate/secrets"
)

// newRotateKeyCmd re-encrypts every sealed value with the current key.
func newRotateKeyCmd() *cobra.Command {
	var f storeFlags
	var oldKey string
	cmd := &cobra.Command{
		Use:   "rotate-key",
		Short: "Encrypt every stored secret again with the current encryption key",
		Long: `Seal every webhook URL, webhook secret, receiver credential, platform credential and
stored trigger input again with the current key (HOOKGATE_ENCRYPTION_KEY, or the data dir's
encryption.key), each bound to where it is stored. Values sealed with
--old-encryption-key are
opened with it. Run it with the servers stopped, or with every node already given both
keys' values; it can be run again after an interruption. Afterwards start every node
with the new key only.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(cmd.ErrOrStderr(), "info")
			if err != nil {
				return err
			}
			var old *secrets.Box
			if oldKey != "" {
				k, err := secrets.ParseKey(oldKey)
				if err != nil {
					return fmt.Errorf("--old-encryption-key: %w", err)
				}
				if old, err = secrets.NewBox(k); err != nil {
					return err
				}
			}
			store, err := f.openStore(cmd.Context(), log)
			if err != nil {
				return err
			}
			defer store.Close()
			if err := store.Migrate(cmd.Context()); err != nil {
				return err
			}
			n, err := store.Reseal(cmd.Context(), old)
			if err != nil {
				return fmt.Errorf("after %d values: %w", n, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "sealed %d values again with key %s\n", n, store.KeyID())
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&oldKey, "old-encryption-key", "", "the previous encryption key, base64 or hex")
	return withEnv(cmd)
}
