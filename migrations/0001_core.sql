-- The shared store model. Every service reads these tables; data tables live in schema "data"
-- (demo and imported layers) or anywhere else a layer points to.
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS unaccent;

CREATE SCHEMA IF NOT EXISTS sdi;
CREATE SCHEMA IF NOT EXISTS data;

-- A dataset groups layers and carries the metadata record (catalogue issue).
CREATE TABLE sdi.datasets (
  id            bigserial PRIMARY KEY,
  name          text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_.-]*$'),
  title         text NOT NULL,
  abstract      text NOT NULL DEFAULT '',
  keywords      text[] NOT NULL DEFAULT '{}',
  licence       text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Metadata records (ISO 19139 / Dublin Core documents). Filled by the catalogue service.
CREATE TABLE sdi.metadata_records (
  id            bigserial PRIMARY KEY,
  identifier    text NOT NULL UNIQUE,
  schema        text NOT NULL DEFAULT 'iso19139',
  document      text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- A published feature layer bound to a PostGIS table or view.
CREATE TABLE sdi.layers (
  id              bigserial PRIMARY KEY,
  name            text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_.-]*$'),
  dataset_id      bigint REFERENCES sdi.datasets(id) ON DELETE SET NULL,
  kind            text NOT NULL DEFAULT 'feature' CHECK (kind IN ('feature', 'raster')),
  table_schema    text NOT NULL,
  table_name      text NOT NULL,
  id_column       text NOT NULL,
  geometry_column text,
  title           text NOT NULL,
  abstract        text NOT NULL DEFAULT '',
  keywords        text[] NOT NULL DEFAULT '{}',
  default_crs     integer NOT NULL DEFAULT 2154,
  other_crs       integer[],           -- NULL: the platform's French list
  metadata_record_id bigint REFERENCES sdi.metadata_records(id) ON DELETE SET NULL,
  published       boolean NOT NULL DEFAULT true,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (table_schema, table_name)
);

-- Users, groups and grants (territorial rights): the access-policy module reads these.
-- Empty for now: every published layer is public (see src/access/policy.ts).
CREATE TABLE sdi.users (
  id            bigserial PRIMARY KEY,
  login         text NOT NULL UNIQUE,
  display_name  text,
  password_hash text,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE sdi.groups (
  id   bigserial PRIMARY KEY,
  name text NOT NULL UNIQUE
);
CREATE TABLE sdi.group_members (
  group_id bigint NOT NULL REFERENCES sdi.groups(id) ON DELETE CASCADE,
  user_id  bigint NOT NULL REFERENCES sdi.users(id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, user_id)
);
CREATE TABLE sdi.grants (
  id         bigserial PRIMARY KEY,
  layer_id   bigint REFERENCES sdi.layers(id) ON DELETE CASCADE,   -- NULL: every layer
  user_id    bigint REFERENCES sdi.users(id) ON DELETE CASCADE,
  group_id   bigint REFERENCES sdi.groups(id) ON DELETE CASCADE,
  action     text NOT NULL CHECK (action IN ('read', 'download', 'edit', 'admin')),
  territory  geometry(MultiPolygon, 2154),                          -- NULL: no territorial restriction
  CHECK (user_id IS NOT NULL OR group_id IS NOT NULL)
);

-- Deferred jobs (download issue) live here; the queue itself may be a library's tables.
CREATE TABLE sdi.jobs (
  id          uuid PRIMARY KEY,
  kind        text NOT NULL,
  state       text NOT NULL DEFAULT 'queued',
  request     jsonb NOT NULL,
  progress    real NOT NULL DEFAULT 0,
  result      jsonb,
  error       text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Usage statistics: one row per served request of interest.
CREATE TABLE sdi.usage_log (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  service     text NOT NULL,
  operation   text NOT NULL,
  layer       text,
  principal   text,
  features    bigint,
  bytes       bigint
);

