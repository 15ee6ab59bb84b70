-- Catalogue revision: a number that changes with every committed change of sdi.metadata_records, read in the
-- same snapshot as the records. The CSW keys its caches (numberOfRecordsMatched of a query, the identifier
-- where a sequential harvester's next page starts) on it, so a cached value is only ever reused for the very
-- state of the catalogue it was computed from: counts stay exact.
--
-- The bump is a deferred constraint trigger: it runs at commit, once per transaction (a transaction-local
-- setting remembers it), so the revision row is locked only while a writer commits. Writers never hold it
-- while waiting for other row locks: no deadlock, and concurrent harvests and CSW-T transactions are only
-- serialised for the instant of their commits. TRUNCATE (no constraint trigger) bumps at once.

CREATE TABLE sdi.catalogue_revision (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  revision  bigint NOT NULL
);
INSERT INTO sdi.catalogue_revision (singleton, revision) VALUES (true, 1);

CREATE FUNCTION sdi.bump_catalogue_revision() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  IF TG_LEVEL = 'ROW' AND current_setting('sdi.catalogue_revision_bumped', true) = '1' THEN
    RETURN NULL;
  END IF;
  UPDATE sdi.catalogue_revision SET revision = revision + 1;
  IF TG_LEVEL = 'ROW' THEN
    PERFORM set_config('sdi.catalogue_revision_bumped', '1', true);
  END IF;
  RETURN NULL;
END
$f$;

CREATE CONSTRAINT TRIGGER metadata_records_revision
  AFTER INSERT OR UPDATE OR DELETE ON sdi.metadata_records
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION sdi.bump_catalogue_revision();

CREATE TRIGGER metadata_records_revision_truncate
  AFTER TRUNCATE ON sdi.metadata_records
  FOR EACH STATEMENT EXECUTE FUNCTION sdi.bump_catalogue_revision();
