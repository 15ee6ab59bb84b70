-- The process that wrote a row of download_work.params (host~pid~start), so that a process starting after a
-- crash removes its dead predecessors' rows at once instead of waiting a day for the janitor (issue 13 §1).
ALTER TABLE download_work.params ADD COLUMN IF NOT EXISTS owner text;
CREATE INDEX IF NOT EXISTS params_owner_idx ON download_work.params (owner);
