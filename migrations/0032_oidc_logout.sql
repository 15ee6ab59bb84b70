-- OpenID Connect RP-initiated logout (issue 11): the ID token a sign-in received is kept with its session, so that
-- the logout can send it to the provider's end_session_endpoint as id_token_hint (OpenID Connect RP-Initiated
-- Logout 1.0 §2: the provider then knows whose session to end, and may skip asking). One row per session token,
-- gone with the token, or at the logout.
CREATE TABLE IF NOT EXISTS sdi.oidc_sessions (
  token_id   bigint PRIMARY KEY REFERENCES sdi.api_tokens(id) ON DELETE CASCADE,
  id_token   text NOT NULL CHECK (length(id_token) BETWEEN 1 AND 16384),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- A sign-out is an event of the audit log like a sign-in.
DO $$
DECLARE c text;
BEGIN
  FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = 'sdi.audit_log'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%event%' LOOP
    EXECUTE format('ALTER TABLE sdi.audit_log DROP CONSTRAINT %I', c);
  END LOOP;
END $$;
ALTER TABLE sdi.audit_log ADD CONSTRAINT audit_log_event_known
  CHECK (event IN ('sign-in', 'sign-in-failed', 'sign-out', 'refusal', 'rights', 'edit', 'download'));
