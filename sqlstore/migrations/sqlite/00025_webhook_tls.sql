-- +goose Up
-- A webhook's TLS settings (client certificate, its key, CA bundle): JSON,
-- sealed as the webhook's other secrets; '' for none. The fingerprint (hex
-- SHA-256) and the end of validity (Unix microseconds; 0 for none) of its
-- client certificate are not secret: they are kept in the clear, so that
-- the certificates about to expire can be found without opening every row.
-- tls_announced is the fingerprint whose expiry was announced
-- (hookgate.webhook.certificate_expiring), so that it is announced once.
ALTER TABLE webhooks ADD COLUMN tls TEXT NOT NULL DEFAULT '';
ALTER TABLE webhooks ADD COLUMN tls_fingerprint TEXT NOT NULL DEFAULT '';
ALTER TABLE webhooks ADD COLUMN tls_not_after BIGINT NOT NULL DEFAULT 0;
ALTER TABLE webhooks ADD COLUMN tls_announced TEXT NOT NULL DEFAULT '';
CREATE INDEX webhooks_tls_not_after ON webhooks (tls_not_after) WHERE tls_not_after > 0;

-- +goose Down
DROP INDEX webhooks_tls_not_after;
ALTER TABLE webhooks DROP COLUMN tls_announced;
ALTER TABLE webhooks DROP COLUMN tls_not_after;
ALTER TABLE webhooks DROP COLUMN tls_fingerprint;
ALTER TABLE webhooks DROP COLUMN tls;
