-- Harvesting other catalogues: the sources (remote CSW, DCAT feeds, single ISO documents, WMS/WFS
-- capabilities), one row per run with its counts, one row per record of a run (what happened to it and why),
-- and the provenance of harvested records (source and remote id) on sdi.metadata_records.
-- A run stages the fetched documents in sdi.harvest_staging, then applies them in one transaction.

CREATE TABLE sdi.harvest_sources (
  id                bigserial PRIMARY KEY,
  name              text NOT NULL,
  kind              text NOT NULL CHECK (kind IN ('csw', 'dcat', 'iso', 'wms', 'wfs')),
  url               text NOT NULL CHECK (url ~* '^https?://'),
  schedule_interval interval CHECK (schedule_interval IS NULL OR schedule_interval >= interval '1 minute'),  -- NULL: on demand only
  enabled           boolean NOT NULL DEFAULT true,
  options           jsonb NOT NULL DEFAULT '{}',        -- {pageSize, outputSchema, timeoutMs, …}
  last_run_at       timestamptz,                        -- start of the last attempt (the scheduler's clock)
  last_success_at   timestamptz,
  -- Largest remote modification date seen by the last successful run (the remote's clock, not ours):
  -- the next incremental CSW run asks for Modified >= this.
  modified_watermark timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (kind, url)
);

CREATE TABLE sdi.harvest_runs (
  id          bigserial PRIMARY KEY,
  source_id   bigint NOT NULL REFERENCES sdi.harvest_sources(id) ON DELETE CASCADE,
  trigger     text NOT NULL DEFAULT 'manual' CHECK (trigger IN ('manual', 'schedule', 'csw')),
  incremental boolean NOT NULL DEFAULT false,
  started_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  status      text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
  created     integer NOT NULL DEFAULT 0,
  updated     integer NOT NULL DEFAULT 0,
  unchanged   integer NOT NULL DEFAULT 0,
  failed      integer NOT NULL DEFAULT 0,
  error       text                                      -- why a failed run failed (nothing was applied)
);
CREATE INDEX harvest_runs_source_idx ON sdi.harvest_runs (source_id, started_at DESC);

CREATE TABLE sdi.harvest_run_items (
  run_id     bigint NOT NULL REFERENCES sdi.harvest_runs(id) ON DELETE CASCADE,
  seq        integer NOT NULL,
  remote_id  text NOT NULL,
  identifier text,                                      -- the local record identifier, when there is one
  action     text NOT NULL CHECK (action IN ('created', 'updated', 'unchanged', 'failed')),
  reason     text,
  PRIMARY KEY (run_id, seq)
);

-- Fetched documents of a run in progress (not yet applied). Rows live only during a run.
CREATE UNLOGGED TABLE sdi.harvest_staging (
  run_id    bigint NOT NULL,
  seq       integer NOT NULL,
  remote_id text NOT NULL,
  document  text NOT NULL,
  PRIMARY KEY (run_id, seq)
);

ALTER TABLE sdi.metadata_records
  ADD COLUMN source_id bigint REFERENCES sdi.harvest_sources(id) ON DELETE SET NULL,
  ADD COLUMN remote_id text;
CREATE INDEX metadata_records_source_idx ON sdi.metadata_records (source_id, remote_id) WHERE source_id IS NOT NULL;
