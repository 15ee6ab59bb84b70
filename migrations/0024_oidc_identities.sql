-- OpenID Connect sign-in for the admin API (issue 11). A user of sdi.users may be known to one or more OpenID
-- providers by their (issuer, subject) pair: the only stable identifier of OIDC Core §5.7 (an e-mail address or a
-- preferred_username may change or be reassigned). The login is derived from a claim only when the user is created.
CREATE TABLE IF NOT EXISTS sdi.user_identities (
  issuer        text NOT NULL CHECK (length(issuer) BETWEEN 1 AND 2000),
  subject       text NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
  user_id       bigint NOT NULL REFERENCES sdi.users(id) ON DELETE CASCADE,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_login_at timestamptz,
  PRIMARY KEY (issuer, subject)
);
CREATE INDEX IF NOT EXISTS user_identities_user ON sdi.user_identities (user_id);

-- Sign-ins under way: between the redirect to the provider and its callback, the PKCE verifier and the nonce
-- wait here, under the SHA-256 of the state (kept in the database, not in a cookie, so that any process of the
-- deployment can take the callback, and so that the verifier never reaches the browser). Each is used once
-- (DELETE … RETURNING) and lives ten minutes.
CREATE TABLE IF NOT EXISTS sdi.oidc_logins (
  state_sha256  bytea PRIMARY KEY CHECK (length(state_sha256) = 32),
  code_verifier text NOT NULL,
  nonce         text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS oidc_logins_expiry ON sdi.oidc_logins (expires_at);
