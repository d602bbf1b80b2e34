-- +goose Up
-- A webhook's signature scheme and Ed25519 keys: signature is sealed JSON
-- (scheme, previous scheme and its end, the keys' seeds), '' for the v1
-- default; signing_public is the current key's and the previous key's
-- public halves (JSON), '' for none, read unsealed by the project's JWKS.
ALTER TABLE webhooks ADD COLUMN signature TEXT NOT NULL DEFAULT '';
ALTER TABLE webhooks ADD COLUMN signing_public TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE webhooks DROP COLUMN signing_public;
ALTER TABLE webhooks DROP COLUMN signature;
