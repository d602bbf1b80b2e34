-- +goose Up
-- The keys every node on this database must share, by fingerprint, never
-- the keys themselves. 'encryption': the encryption key's fingerprint
-- (an HMAC under the key, secrets.Box.Fingerprint), recorded at the first
-- start once a stored sealed value opens with it, and changed by
-- rotate-key. 'admin': a digest of the admin key keyed by the encryption
-- key (secrets.Box.Digest), replaced when a node starts with another admin
-- key while no other node is alive. node names who recorded it.
CREATE TABLE key_fingerprints (
    name        TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    node        TEXT NOT NULL,
    recorded_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE key_fingerprints;
