-- When a layer's data last changed (issue 9, tile cache): the tile cache keys tiles by it, so that an INSERT,
-- UPDATE, DELETE or TRUNCATE of a published table makes its cached tiles unreachable at once, in every process
-- sharing the cache. The statement-level trigger (sdi_data_revision) is put on a published table by the tile
-- service the first time it caches a tile of it (src/tiles/revision.ts); views are not tracked, and their
-- tiles are not cached. changed_at is clock_timestamp(): never reused, and a fresh database never repeats an
-- earlier one's, so a cache directory outliving its database cannot serve an old tile under a new key.
CREATE TABLE IF NOT EXISTS sdi.data_revisions (
  table_schema text NOT NULL,
  table_name   text NOT NULL,
  changed_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (table_schema, table_name)
);

CREATE OR REPLACE FUNCTION sdi.note_data_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO sdi.data_revisions (table_schema, table_name, changed_at)
  VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME, clock_timestamp())
  ON CONFLICT (table_schema, table_name) DO UPDATE SET changed_at = EXCLUDED.changed_at;
  RETURN NULL;
END $$;
