package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hookgate/hookgate/secrets"
	"github.com/hookgate/hookgate/sqlstore"
	"github.com/hookgate/hookgate/tracing"
)

// storeFlags are the flags shared by every command that opens the store.
type storeFlags struct {
	dataDir     string
	databaseURL string
	// synchronous is SQLite's synchronous setting; serve alone has a flag
	// for it, the other commands use the default (full).
	synchronous string
	// commitDelay is SQLite's commit delay; serve alone has a flag for it,
	// the other commands never wait.
	commitDelay time.Duration
}

func (f *storeFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.dataDir, "data-dir", "./hookgate-data", "directory for the SQLite file and generated keys")
	cmd.Flags().StringVar(&f.databaseURL, "database-url", "", "postgres://… to use PostgreSQL; empty for embedded SQLite")
}

// envName is the environment twin of a flag: HOOKGATE_ and its name in
// capitals, '-' as '_' (--send-timeout is HOOKGATE_SEND_TIMEOUT).
func envName(flag string) string {
	return "HOOKGATE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// withEnv gives every flag of cmd its environment twin, in one place: the
// variable is read when the flag is not on the command line (the flag
// wins), parsed by the flag's own type, and --help names it.
func withEnv(cmd *cobra.Command) *cobra.Command {
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		f.Usage += " (env " + envName(f.Name) + ")"
	})
	run := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		var err error
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if err != nil || f.Changed {
				return
			}
			if v, ok := os.LookupEnv(envName(f.Name)); ok && v != "" {
				if e := c.Flags().Set(f.Name, v); e != nil {
					err = fmt.Errorf("%s=%q: %w", envName(f.Name), v, e)
				}
			}
		})
		if err != nil {
			return err
		}
		return run(c, args)
	}
	return cmd
}

// openStore loads or creates the encryption key and opens the store.
func (f *storeFlags) openStore(ctx context.Context, log *slog.Logger) (*sqlstore.Store, error) {
	envKey := os.Getenv("HOOKGATE_ENCRYPTION_KEY")
	keyFile := filepath.Join(f.dataDir, "encryption.key")
	if envKey == "" && f.databaseURL != "" {
		if _, err := os.Stat(keyFile); errors.Is(err, os.ErrNotExist) {
			log.Warn("HOOKGATE_ENCRYPTION_KEY is not set: generating a key in the data dir; every node on this database needs the same key", "file", keyFile)
		}
	}
	key, err := secrets.LoadOrCreateKey(envKey, keyFile)
	if err != nil {
		return nil, fmt.Errorf("encryption key: %w", err)
	}
	box, err := secrets.NewBox(key)
	if err != nil {
		return nil, err
	}
	return sqlstore.Open(ctx, sqlstore.Config{DatabaseURL: f.databaseURL, DataDir: f.dataDir, Box: box, Logger: log, SQLiteSynchronous: f.synchronous, SQLiteCommitDelay: f.commitDelay})
}

// adminKey returns HOOKGATE_ADMIN_KEY, or the key saved in the data dir,
// generating and printing it to out on the first start.
func adminKey(dataDir string, out io.Writer) (string, error) {
	if k := os.Getenv("HOOKGATE_ADMIN_KEY"); k != "" {
		if len(k) < MinAdminKeyLength {
			return "", fmt.Errorf("HOOKGATE_ADMIN_KEY must be at least %d characters (it is %d): it opens every project", MinAdminKeyLength, len(k))
		}
		return k, nil
	}
	file := filepath.Join(dataDir, "admin.key")
	if b, err := os.ReadFile(file); err == nil {
		return strings.TrimSpace(string(b)), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	key := "hga_" + base64.RawURLEncoding.EncodeToString(b)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", err
	}
	fh, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return adminKey(dataDir, out) // another process created it first
	}
	if err != nil {
		return "", err
	}
	if _, err := fh.WriteString(key + "\n"); err != nil {
		fh.Close()
		return "", err
	}
	if err := fh.Close(); err != nil {
		return "", err
	}
	// The key itself is not printed: output ends up in container logs.
	fmt.Fprintf(out, "\nGenerated the admin key into %s (mode 0600). Read it with:\n\n    cat %s\n\n", file, file)
	return key, nil
}

// MinAdminKeyLength is the shortest HOOKGATE_ADMIN_KEY taken.
const MinAdminKeyLength = 32

// ensureDataDir makes dir, 0700, and takes back the group's and others'
// access to one that exists with it: it holds the keys and the database.
func ensureDataDir(dir string, warn func(msg string, args ...any)) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("the data dir %s is readable by others (mode %o) and could not be made private: %w", dir, st.Mode().Perm(), err)
		}
		warn("the data dir was readable by others; it is now mode 0700", "dir", dir, "was", fmt.Sprintf("%o", st.Mode().Perm()))
	}
	return nil
}

// newLogger logs at level in format, json (one object a line) or text
// (key=value); a record logged with a context that carries a span gets
// its trace_id and span_id.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "json", "":
		return slog.New(tracing.LogHandler(slog.NewJSONHandler(w, opts))), nil
	case "text":
		return slog.New(tracing.LogHandler(slog.NewTextHandler(w, opts))), nil
	}
	return nil, fmt.Errorf("--log-format %q: json or text", format)
}
