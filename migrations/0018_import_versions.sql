-- Imports (issue 10): files are loaded into a staging table of schema sdi_import, checked, then swapped with the
-- published table in one transaction. The table a replace or append supersedes moves to schema sdi_versions
-- and is listed here with the layer's registration at that time, so that a rollback restores both; the oldest
-- versions beyond the configured count (SDI_IMPORT_KEEP_VERSIONS) are dropped.
CREATE SCHEMA IF NOT EXISTS sdi_import;
CREATE SCHEMA IF NOT EXISTS sdi_versions;

CREATE TABLE IF NOT EXISTS sdi.layer_versions (
  id            bigserial PRIMARY KEY,
  layer_name    text NOT NULL,
  version       integer NOT NULL,
  table_name    text NOT NULL UNIQUE,          -- in schema sdi_versions
  registration  jsonb NOT NULL,                -- the sdi.layers row (title, abstract, keywords, columns, CRS…)
  feature_count bigint NOT NULL,
  reason        text NOT NULL,                 -- 'replace', 'append', 'rollback'
  created_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (layer_name, version)
);
