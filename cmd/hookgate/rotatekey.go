package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/hookgate/hookgate/secrets"
	"github.com/hookgate/hookgate/sqlstore"
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
--old-encryption-key are opened with it. Run it with the servers stopped; it can be run
again after an interruption. It then records the new key's fingerprint in the database,
and forgets the admin key's record (kept under the old key): every node must start with
the new key, and a node with another key refuses to start. The first node to start
records its admin key again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(cmd.ErrOrStderr(), "info", "json")
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
			if err := store.CheckRotation(cmd.Context(), old); err != nil {
				return rotationRefusal(err)
			}
			n, err := store.Reseal(cmd.Context(), old)
			if err != nil {
				return fmt.Errorf("after %d values: %w", n, err)
			}
			// The nodes check their key against this record at start.
			host, _ := os.Hostname()
			if err := store.RecordEncryptionKey(cmd.Context(), "rotate-key on "+host); err != nil {
				return fmt.Errorf("record the new key's fingerprint: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "sealed %d values again with key %s; the database now records its fingerprint, %s\n", n, store.KeyID(), store.KeyFingerprint())
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&oldKey, "old-encryption-key", "", "the previous encryption key, base64 or hex")
	return withEnv(cmd)
}

// rotationRefusal explains a rotation that would not open the database's
// secrets.
func rotationRefusal(err error) error {
	var ek *sqlstore.EncryptionKeyError
	if !errors.As(err, &ek) {
		return err
	}
	if ek.Old == "" {
		return fmt.Errorf("the database's secrets are sealed with the key whose fingerprint is %s, not HOOKGATE_ENCRYPTION_KEY's (%s): give that key as --old-encryption-key", ek.Recorded, ek.Fingerprint)
	}
	return fmt.Errorf("the database's secrets are sealed with the key whose fingerprint is %s, neither HOOKGATE_ENCRYPTION_KEY's (%s) nor --old-encryption-key's (%s): give that key as --old-encryption-key", ek.Recorded, ek.Fingerprint, ek.Old)
}
