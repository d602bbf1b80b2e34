package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hookgate/hookgate/sqlstore"
)

// keyRefusal turns the error of a key check at start-up into the message
// serve stops with: what differs, and what to do about it.
func keyRefusal(err error, nodeTimeout time.Duration) error {
	var ek *sqlstore.EncryptionKeyError
	var ak *sqlstore.AdminKeyError
	switch {
	case errors.As(err, &ek) && ek.Recorded == "":
		return fmt.Errorf("this node's encryption key (fingerprint %s) does not open the secrets already stored in the database (%s): "+
			"set HOOKGATE_ENCRYPTION_KEY to the key they were sealed with, the one every other node uses "+
			"(without HOOKGATE_ENCRYPTION_KEY a node uses, or generates, the encryption.key of its own data dir)", ek.Fingerprint, ek.Value)
	case errors.As(err, &ek):
		return fmt.Errorf("this node's encryption key (fingerprint %s) is not the cluster's (fingerprint %s), which seals the database's secrets: "+
			"set HOOKGATE_ENCRYPTION_KEY to the cluster's key, the one with fingerprint %s, as on every other node "+
			"(without HOOKGATE_ENCRYPTION_KEY a node uses, or generates, the encryption.key of its own data dir); "+
			"to change the cluster's key instead, stop every node and run `HOOKGATE_ENCRYPTION_KEY=NEW hookgate rotate-key --old-encryption-key OLD`",
			ek.Fingerprint, ek.Recorded, ek.Recorded)
	case errors.As(err, &ak):
		return fmt.Errorf("this node's admin key is not the one the live nodes run with (%s): set HOOKGATE_ADMIN_KEY to theirs "+
			"(without it a node uses, or generates, the admin.key of its own data dir); "+
			"to change the admin key, stop every node, then start them all with the new one "+
			"(a node that died counts as live until its last heartbeat is --node-timeout, %s, old)",
			strings.Join(ak.Live, ", "), nodeTimeout)
	}
	return err
}
