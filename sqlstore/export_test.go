package sqlstore

import "context"

// MigrateTo brings the schema up to version, for the tests of a migration
// on a database holding rows.
func (s *Store) MigrateTo(ctx context.Context, version int64) error {
	p, err := s.migrator(ctx)
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}
