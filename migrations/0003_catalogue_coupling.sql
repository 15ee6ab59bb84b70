-- Coupling the catalogue with the services: the records the platform writes itself (one dataset record per
-- published layer, one service record per service) are marked with what they describe, so that a re-sync
-- finds and rewrites them, and leaves alone the records written by people (CSW Transaction, harvests, files).
-- A generated record that an administrator replaces through CSW Transaction loses the mark: hand edits win.
ALTER TABLE sdi.metadata_records
  ADD COLUMN managed_by text CHECK (managed_by IS NULL OR managed_by ~ '^(layer|service):.+$');   -- 'layer:<name>' or 'service:wfs'

CREATE UNIQUE INDEX metadata_records_managed_by_idx ON sdi.metadata_records (managed_by) WHERE managed_by IS NOT NULL;
