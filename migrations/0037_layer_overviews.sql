-- Generalised copies of large layers for small scales (issue 9, W5: GetMap at 50 km). Each row of
-- sdi.layer_overviews is one level of one layer: a table in schema sdi_overviews holding the layer's features
-- simplified for the level's resolution, in integer cells, encoded once (SVG path data for lines and polygons,
-- TWKB for points) and collected per block of the layer's CRS (src/publishing/overview-job.ts builds it, as a
-- background job). The map planner reads a level instead of the layer's
-- table only while the level is fresh, and decides that inside the map's own statement, in its snapshot:
-- sdi.overview_fresh(table) compares the revision the level was built from with the layer's revision now.
CREATE SCHEMA IF NOT EXISTS sdi_overviews;

CREATE TABLE IF NOT EXISTS sdi.layer_overviews (
  layer_name     text NOT NULL REFERENCES sdi.layers (name) ON DELETE CASCADE ON UPDATE CASCADE,
  level          integer NOT NULL,
  -- The cell, in units of the layer's CRS: coordinates are integers of it (an eighth of a pixel at min_resolution).
  cell           double precision NOT NULL,
  -- Read for maps of this resolution (layer CRS units a pixel) and coarser; simplified at half a pixel of it.
  min_resolution double precision NOT NULL,
  srid           integer NOT NULL,
  -- A new name at each build (a map planned with the old name finds it unregistered: not fresh, base table read).
  overview_table text NOT NULL UNIQUE,
  -- sdi.layer_data_revision(layer_name) in the build's snapshot.
  revision       text NOT NULL,
  features       bigint NOT NULL,
  rows           bigint NOT NULL,
  build_ms       integer NOT NULL,
  built_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (layer_name, level)
);

-- Tables of replaced levels: dropped by a later build once no map can still be reading them.
CREATE TABLE IF NOT EXISTS sdi.layer_overviews_retired (
  overview_table text PRIMARY KEY,
  retired_at     timestamptz NOT NULL DEFAULT now()
);

-- A layer's data revision: its table (OID: a swap, a rollback publish another table), its publication
-- (sdi.layers.updated_at: edits, republication), its data (sdi.data_revisions, the statement trigger of migration
-- 0016 on INSERT/UPDATE/DELETE/TRUNCATE), and whether that trigger is still there (dropped: nothing tells changes).
CREATE OR REPLACE FUNCTION sdi.layer_data_revision(layer text) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT concat_ws('|', c.oid::text,
           coalesce((extract(epoch FROM l.updated_at) * 1000000)::bigint::text, '-'),
           coalesce((SELECT (extract(epoch FROM d.changed_at) * 1000000)::bigint::text FROM sdi.data_revisions d
                      WHERE d.table_schema = l.table_schema AND d.table_name = l.table_name), '-'),
           EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = 'sdi_data_revision')::text)
    FROM sdi.layers l
    JOIN pg_namespace n ON n.nspname = l.table_schema
    JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = l.table_name
   WHERE l.name = layer
$$;

-- Whether the overview table `tbl` is registered and was built from the layer's data as it is in this snapshot.
-- Called with constants only, it is a one-time filter of the map's statement (evaluated once, not per row).
CREATE OR REPLACE FUNCTION sdi.overview_fresh(tbl text) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT o.revision = sdi.layer_data_revision(o.layer_name) FROM sdi.layer_overviews o WHERE o.overview_table = tbl), false)
$$;
