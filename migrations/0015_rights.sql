-- Users, groups, API tokens and grants (issue 11). sdi.users / sdi.groups / sdi.group_members (0001) are kept
-- and completed; sdi.grants (0001) was never read nor written by anything, and its shape (layer id only, no
-- 'view', no resource kinds, no admin unit) does not fit: it is replaced.

-- Users: the password is an scrypt hash in the PHC-like form scrypt$N$r$p$salt$hash (src/access/passwords.ts);
-- NULL: the user signs in with API tokens only.
ALTER TABLE sdi.users
  ADD COLUMN IF NOT EXISTS is_admin   boolean NOT NULL DEFAULT false,
  ADD COLUMN IF NOT EXISTS disabled   boolean NOT NULL DEFAULT false,
  ADD COLUMN IF NOT EXISTS email      text,
  ADD COLUMN IF NOT EXISTS updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE sdi.users ADD CONSTRAINT users_login_form CHECK (login ~ '^[A-Za-z0-9_.@-]{1,128}$');

ALTER TABLE sdi.groups
  ADD COLUMN IF NOT EXISTS title      text,
  ADD COLUMN IF NOT EXISTS created_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE sdi.groups ADD CONSTRAINT groups_name_form CHECK (name ~ '^[A-Za-z0-9_.-]{1,128}$');

-- API tokens: only the SHA-256 of the secret is kept (the secret is shown once, at creation). A token acts for
-- its user, on the services of its scopes only, until it expires or is revoked.
CREATE TABLE IF NOT EXISTS sdi.api_tokens (
  id          bigserial PRIMARY KEY,
  user_id     bigint NOT NULL REFERENCES sdi.users(id) ON DELETE CASCADE,
  name        text NOT NULL DEFAULT '',
  secret_sha256 bytea NOT NULL UNIQUE CHECK (length(secret_sha256) = 32),
  scopes      text[] NOT NULL CHECK (scopes <@ ARRAY['features', 'maps', 'download', 'catalogue', 'admin']::text[] AND cardinality(scopes) > 0),
  expires_at  timestamptz,
  revoked_at  timestamptz,
  last_used_at timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS api_tokens_user ON sdi.api_tokens (user_id);

-- Layers are public unless this flag says otherwise; a restricted layer needs a grant (src/access/grant-policy.ts).
ALTER TABLE sdi.layers ADD COLUMN IF NOT EXISTS public boolean NOT NULL DEFAULT true;
ALTER TABLE sdi.raster_layers ADD COLUMN IF NOT EXISTS public boolean NOT NULL DEFAULT true;

DROP TABLE IF EXISTS sdi.grants;
-- A grant: a user or a group may do `action` on a resource (a feature layer, a raster layer, every layer of a
-- dataset, a catalogue record; by name, so that a grant may be written before its resource is published), in
-- a territory or everywhere. The territory is an admin unit of the reference tables (copied here when the
-- grant is made, kind and code kept to say which) or a polygon; both stored in Lambert-93.
CREATE TABLE sdi.grants (
  id             bigserial PRIMARY KEY,
  user_id        bigint REFERENCES sdi.users(id) ON DELETE CASCADE,
  group_id       bigint REFERENCES sdi.groups(id) ON DELETE CASCADE,
  resource_kind  text NOT NULL CHECK (resource_kind IN ('layer', 'raster', 'dataset', 'record')),
  resource_name  text NOT NULL,
  action         text NOT NULL CHECK (action IN ('view', 'read', 'download', 'edit', 'admin')),
  territory_kind text CHECK (territory_kind IN ('commune', 'epci', 'departement', 'region', 'polygon')),
  territory_code text,
  territory      geometry(MultiPolygon, 2154),
  created_at     timestamptz NOT NULL DEFAULT now(),
  CHECK ((user_id IS NULL) <> (group_id IS NULL)),
  CHECK ((territory IS NULL) = (territory_kind IS NULL)),
  CHECK (territory IS NULL OR (ST_IsValid(territory) AND NOT ST_IsEmpty(territory)))
);
CREATE INDEX grants_user ON sdi.grants (user_id);
CREATE INDEX grants_group ON sdi.grants (group_id);
