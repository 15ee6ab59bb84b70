-- Catalogue records restricted on their own (issue 11: grants apply to "layers, raster layers, datasets and
-- records"). A record listed here is seen only by holders of a `record` grant on its identifier (action view or
-- one implying it) and administrators; to others it is hidden, or described without its data links
-- (SDI_CATALOGUE_RESTRICTED=describe), as the records of restricted layers are (src/access/records.ts).
--
-- A table of identifiers rather than a flag on sdi.metadata_records: grants name records by identifier, and a
-- harvest or a CSW-T Update that replaces a record (new row, same identifier) must not make it public again. A
-- restriction therefore outlives its record (fail closed: a record that comes back under the same identifier is
-- restricted again); `PUT /admin/access/records/{identifier}` {public:true} removes it. The catalogue
-- statements keep their one predicate, `NOT (r.id = ANY($hidden))`: the row ids of this table's records the
-- caller may not view are added to the hidden set, one bound array (hashed by PostgreSQL 15 for <> ALL).
CREATE TABLE sdi.restricted_records (
  identifier    text PRIMARY KEY CHECK (identifier <> ''),
  restricted_at timestamptz NOT NULL DEFAULT now()
);

-- A restriction changes what callers see of the catalogue: move its revision, so that nothing keyed on the
-- revision alone outlives it (the page caches are also keyed on the hidden ids themselves).
CREATE TRIGGER restricted_records_revision
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON sdi.restricted_records
  FOR EACH STATEMENT EXECUTE FUNCTION sdi.bump_catalogue_revision();
