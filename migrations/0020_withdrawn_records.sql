-- Issue 10: a layer deleted or unpublished with record=keep-withdrawn leaves its catalogue record in place, marked
-- obsolete and without links (src/metadata/withdrawn-record.ts). Such a record is marked managed_by
-- 'withdrawn:<layer>': the records sync neither removes it (it removes 'layer:%' records of layers gone) nor takes
-- it for a person's record; publishing the layer again makes it 'layer:<layer>' again.
ALTER TABLE sdi.metadata_records DROP CONSTRAINT IF EXISTS metadata_records_managed_by_check;
ALTER TABLE sdi.metadata_records ADD CONSTRAINT metadata_records_managed_by_check
  CHECK (managed_by IS NULL OR managed_by ~ '^(layer|service|withdrawn):.+$');
