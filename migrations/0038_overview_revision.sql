-- A layer's data revision for its overviews (0037) without sdi.layers.updated_at: that date moves with every
-- administrative change (the public flag, title, keywords, a record's title coming back), none of which changes a
-- geometry, and each one made the overviews stale and rebuilt (measured 2026-12-07: the bench's "layer public
-- again" step before W4/W5 left the million parcels' overviews stale, the server's workers rebuilt them under the
-- workloads: W5 0 req/s). What the overview holds depends on the table (OID: a swap, a rollback), the geometry
-- column published and its type and SRID (typmod: an ALTER … TYPE keeps the OID), and the rows (the statement
-- trigger of 0016, and whether it is still there).
CREATE OR REPLACE FUNCTION sdi.layer_data_revision(layer text) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT concat_ws('|', c.oid::text,
           coalesce(l.geometry_column, '-'),
           coalesce((SELECT a.atttypmod::text FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = l.geometry_column AND NOT a.attisdropped), '-'),
           coalesce((SELECT (extract(epoch FROM d.changed_at) * 1000000)::bigint::text FROM sdi.data_revisions d
                      WHERE d.table_schema = l.table_schema AND d.table_name = l.table_name), '-'),
           EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = 'sdi_data_revision')::text)
    FROM sdi.layers l
    JOIN pg_namespace n ON n.nspname = l.table_schema
    JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = l.table_name
   WHERE l.name = layer
$$;
