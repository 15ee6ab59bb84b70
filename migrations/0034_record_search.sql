-- The searchable part of each catalogue record in a narrow table of its own (issue 12: speed of a search seen
-- for the first time).
--
-- A search's exact count (numberOfRecordsMatched) is a bitmap heap scan: the GIN and GiST indexes find the
-- matches, then PostgreSQL visits every heap page holding one. The rows of sdi.metadata_records are wide (~1 kB
-- after 0025's toast_tuple_target, some forty columns): counting AnyText 'cadastre' (29,100 of 100,000
-- records) visited most of the table's pages, 238–263 ms and up to 1.2–3 s with a cold cache. Here a row holds
-- only what the common filters and orders read (identifier, type, dates, harvest source, footprint, and the
-- AnyText vector, out of line: GIN answers `@@` without reading it), ~150 bytes, so the same count visits
-- about a tenth as many pages (21–73 ms measured on a copy). The catalogue's repository (src/records) counts
-- and picks a page's identifiers here when a search's predicate and order read only these columns, and reads
-- the wide rows of that page alone; any other search reads sdi.metadata_records as before.
--
-- Kept in step by statement triggers on sdi.metadata_records rather than by the repository's write path: every
-- write does go through src/records today, but a trigger also covers psql, a future path and a TRUNCATE, and
-- a search that disagreed with the table would give a wrong count. Statement triggers with transition tables
-- write a bulk load's 200-record batches in one statement each. Same transaction, same snapshot: a count
-- read here and a page read from the wide table always see the same records.

CREATE TABLE sdi.record_search (
  id                bigint PRIMARY KEY,            -- sdi.metadata_records.id
  identifier        text NOT NULL,
  type              text NOT NULL,
  modified          timestamptz,
  temp_extent_begin timestamptz,
  temp_extent_end   timestamptz,
  source_id         bigint,
  bbox              geometry(MultiPolygon, 4326),
  anytext_tsv       tsvector NOT NULL
) WITH (toast_tuple_target = 128);
-- The vector out of line (a count never reads it: GIN's `@@` needs no recheck), the keys and the footprint
-- (GiST rechecks every candidate's) in the row.
ALTER TABLE sdi.record_search
  ALTER COLUMN identifier SET STORAGE MAIN,
  ALTER COLUMN bbox SET STORAGE MAIN,
  ALTER COLUMN anytext_tsv SET COMPRESSION lz4;

CREATE FUNCTION sdi.record_search_sync() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    TRUNCATE sdi.record_search;
    RETURN NULL;
  END IF;
  IF TG_OP = 'DELETE' THEN
    DELETE FROM sdi.record_search s USING old_rows o WHERE s.id = o.id;
    RETURN NULL;
  END IF;
  -- (each statement is planned when first run: the DELETE branch never names new_rows, which it lacks)
  IF TG_OP = 'UPDATE' THEN
    -- a row whose id changed (no write path does it): its old id goes
    DELETE FROM sdi.record_search s USING old_rows o WHERE s.id = o.id AND NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.id = o.id);
  END IF;
  INSERT INTO sdi.record_search AS s (id, identifier, type, modified, temp_extent_begin, temp_extent_end, source_id, bbox, anytext_tsv)
  SELECT n.id, n.identifier, n.type, n.modified, n.temp_extent_begin, n.temp_extent_end, n.source_id, n.bbox, n.anytext_tsv FROM new_rows n
  ON CONFLICT (id) DO UPDATE SET identifier = EXCLUDED.identifier, type = EXCLUDED.type, modified = EXCLUDED.modified,
    temp_extent_begin = EXCLUDED.temp_extent_begin, temp_extent_end = EXCLUDED.temp_extent_end, source_id = EXCLUDED.source_id,
    bbox = EXCLUDED.bbox, anytext_tsv = EXCLUDED.anytext_tsv
  -- An update that changes none of these columns (managed_by, links, a document rewritten the same) leaves the row.
  WHERE (s.identifier, s.type, s.modified, s.temp_extent_begin, s.temp_extent_end, s.source_id, s.bbox, s.anytext_tsv)
        IS DISTINCT FROM (EXCLUDED.identifier, EXCLUDED.type, EXCLUDED.modified, EXCLUDED.temp_extent_begin, EXCLUDED.temp_extent_end, EXCLUDED.source_id, EXCLUDED.bbox, EXCLUDED.anytext_tsv);
  -- The statement's new vectors go from the GIN pending list into the index now, in one batch. Left there
  -- (up to gin_pending_list_limit, 4 MB), every search scans the whole list: after 2,000 records written, the
  -- count of AnyText 'cadastre' took 0.9–2.1 s instead of 12–23 ms until a VACUUM. fastupdate off instead
  -- (each row into the tree) made a 2,000-record insert 8.8–9.5 s instead of 6.0–7.0 s; cleaning after each
  -- statement costs nothing measurable (five 200-record statements, as the loader writes: 1.5–2.1 s either way).
  PERFORM gin_clean_pending_list('sdi.record_search_anytext_idx'::regclass);
  RETURN NULL;
END
$f$;

-- One trigger per event: PostgreSQL takes transition tables only on a trigger of one event.
CREATE TRIGGER metadata_records_search_insert AFTER INSERT ON sdi.metadata_records
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sdi.record_search_sync();
CREATE TRIGGER metadata_records_search_update AFTER UPDATE ON sdi.metadata_records
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sdi.record_search_sync();
CREATE TRIGGER metadata_records_search_delete AFTER DELETE ON sdi.metadata_records
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION sdi.record_search_sync();
CREATE TRIGGER metadata_records_search_truncate AFTER TRUNCATE ON sdi.metadata_records
  FOR EACH STATEMENT EXECUTE FUNCTION sdi.record_search_sync();

INSERT INTO sdi.record_search (id, identifier, type, modified, temp_extent_begin, temp_extent_end, source_id, bbox, anytext_tsv)
SELECT id, identifier, type, modified, temp_extent_begin, temp_extent_end, source_id, bbox, anytext_tsv FROM sdi.metadata_records;

CREATE INDEX record_search_anytext_idx ON sdi.record_search USING gin (anytext_tsv);
CREATE INDEX record_search_bbox_idx ON sdi.record_search USING gist (bbox);
