package sqlstore_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// portableMigrations are written the same for SQLite and PostgreSQL; they
// must stay so, or a fix made to one engine's copy would miss the other's.
var portableMigrations = []string{
	"00004_trigger.sql", "00005_platforms.sql", "00006_direct_events.sql", "00007_idempotency_body.sql",
	"00008_public_headers.sql", "00009_nodes.sql", "00011_attempt_stats.sql", "00014_key_fingerprints.sql",
	"00015_webhook_destination.sql", "00016_webhook_overrides.sql", "00017_redrives.sql",
	"00019_webhook_recovery.sql",
	"00020_circuit_breaker.sql",
	"00021_portal_links.sql",
	"00023_traces.sql",
	"00024_webhook_signature.sql",
	"00025_webhook_tls.sql",
	"00026_destination_config.sql",
	"00027_sources.sql",
	"00028_expressions.sql",
	"00029_attempt_node.sql",
	"00030_node_incarnation.sql",
}

// The two engines' migrations stay in step: the same versions under the
// same names, and the portable ones the same to the byte.
func TestMigrationsInStep(t *testing.T) {
	t.Parallel()
	names := func(dir string) []string {
		entries, err := os.ReadDir(filepath.Join("migrations", dir))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".sql") {
				out = append(out, e.Name())
			}
		}
		return out
	}
	lite, pg := names("sqlite"), names("postgres")
	if !slices.Equal(lite, pg) {
		t.Fatalf("the engines' migrations differ:\nsqlite:   %v\npostgres: %v", lite, pg)
	}
	for i, name := range lite {
		if want := i + 1; !strings.HasPrefix(name, fmt.Sprintf("%05d_", want)) {
			t.Errorf("migration %d is %s: versions must follow one another", want, name)
		}
		a, errA := os.ReadFile(filepath.Join("migrations", "sqlite", name))
		b, errB := os.ReadFile(filepath.Join("migrations", "postgres", name))
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		same := string(a) == string(b)
		switch portable := slices.Contains(portableMigrations, name); {
		case portable && !same:
			t.Errorf("%s is portable but its two copies differ: change both alike", name)
		case !portable && same:
			t.Errorf("%s is the same for both engines: list it in portableMigrations so that it stays so", name)
		}
	}
}
