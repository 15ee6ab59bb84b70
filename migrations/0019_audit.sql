-- Hardening of rights (issue 11): the audit log, usage retention's index, and the token scope 'edit'.

-- The audit log: sign-ins, refusals (401, 403, 429, failed sign-ins), changes of users / groups / tokens /
-- grants, edits and downloads, one row per event, written in batches (src/audit/recorder.ts), read by
-- GET /admin/audit, purged after SDI_AUDIT_RETENTION_DAYS. Never a password, a token, a body or a query string.
CREATE TABLE IF NOT EXISTS sdi.audit_log (
  id        bigserial PRIMARY KEY,
  at        timestamptz NOT NULL DEFAULT now(),
  event     text NOT NULL CHECK (event IN ('sign-in', 'sign-in-failed', 'refusal', 'rights', 'edit', 'download')),
  principal text,
  client    text,
  method    text,
  path      text,
  status    integer,
  detail    jsonb
);
CREATE INDEX IF NOT EXISTS audit_log_at ON sdi.audit_log (at);
CREATE INDEX IF NOT EXISTS audit_log_event_at ON sdi.audit_log (event, at);
CREATE INDEX IF NOT EXISTS audit_log_principal_at ON sdi.audit_log (principal, at) WHERE principal IS NOT NULL;

-- Retention: the purge deletes by age (DELETE … WHERE at < cutoff); usage_log had only (service, at).
CREATE INDEX IF NOT EXISTS usage_log_at ON sdi.usage_log (at);

-- Editing needs its own token scope: a token made to read features ('features') may not change them.
DO $$
DECLARE c text;
BEGIN
  FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = 'sdi.api_tokens'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%scopes%' LOOP
    EXECUTE format('ALTER TABLE sdi.api_tokens DROP CONSTRAINT %I', c);
  END LOOP;
END $$;
ALTER TABLE sdi.api_tokens ADD CONSTRAINT api_tokens_scopes_known
  CHECK (scopes <@ ARRAY['features', 'edit', 'maps', 'download', 'catalogue', 'admin']::text[] AND cardinality(scopes) > 0);
