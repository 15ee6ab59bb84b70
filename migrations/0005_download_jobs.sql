-- Deferred download jobs: sdi.jobs is the queue itself (no queue library; why: src/download/jobs/queue.ts).
--   queued → running → done | failed | cancelled;  done → expired (janitor: file removed)
-- A worker claims a job with SELECT … FOR UPDATE SKIP LOCKED and holds a session advisory lock
-- (class 727156, key = lock_key) on its own connection for the whole run: a job 'running' whose lock nobody
-- holds belongs to a dead worker and is claimed again (attempts counts the claims, max_attempts bounds them).

CREATE SEQUENCE IF NOT EXISTS sdi.jobs_lock_key_seq AS integer MINVALUE 1 CYCLE;

ALTER TABLE sdi.jobs
  ADD COLUMN IF NOT EXISTS lock_key integer NOT NULL DEFAULT nextval('sdi.jobs_lock_key_seq'),
  ADD COLUMN IF NOT EXISTS priority integer NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS attempts integer NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS max_attempts integer NOT NULL DEFAULT 3,
  ADD COLUMN IF NOT EXISTS worker text,                 -- host:pid:slot of the claiming worker
  ADD COLUMN IF NOT EXISTS principal text,              -- login of the requester, if any
  ADD COLUMN IF NOT EXISTS base_url text,               -- public base URL the job was asked through (links in notifications)
  ADD COLUMN IF NOT EXISTS message text,                -- what the worker is doing / why the last attempt stopped
  ADD COLUMN IF NOT EXISTS started_at timestamptz,
  ADD COLUMN IF NOT EXISTS finished_at timestamptz,
  ADD COLUMN IF NOT EXISTS expires_at timestamptz,      -- done jobs: end of the result link's life
  ADD COLUMN IF NOT EXISTS cancel_requested boolean NOT NULL DEFAULT false,
  ADD COLUMN IF NOT EXISTS notified_at timestamptz;

ALTER TABLE sdi.jobs ADD CONSTRAINT jobs_state_check CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled', 'expired'));
ALTER TABLE sdi.jobs ADD CONSTRAINT jobs_progress_check CHECK (progress >= 0 AND progress <= 1);

CREATE INDEX IF NOT EXISTS jobs_queued ON sdi.jobs (priority DESC, created_at) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS jobs_running ON sdi.jobs (created_at) WHERE state = 'running';
CREATE INDEX IF NOT EXISTS jobs_done_expiry ON sdi.jobs (expires_at) WHERE state = 'done';

-- Wake idle workers when a job is queued (again), and running workers when their job is cancelled.
-- Workers also poll, so a lost notification only delays.
CREATE OR REPLACE FUNCTION sdi.jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.state = 'queued' AND (TG_OP = 'INSERT' OR OLD.state IS DISTINCT FROM 'queued') THEN
    PERFORM pg_notify('sdi_jobs', NEW.kind);
  END IF;
  IF TG_OP = 'UPDATE' AND NEW.cancel_requested AND NOT OLD.cancel_requested THEN
    PERFORM pg_notify('sdi_jobs_cancel', NEW.id::text);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER jobs_notify AFTER INSERT OR UPDATE OF state, cancel_requested ON sdi.jobs
  FOR EACH ROW EXECUTE FUNCTION sdi.jobs_notify();

-- Settings shared by every process (e.g. the generated secret of signed download links).
CREATE TABLE IF NOT EXISTS sdi.settings (
  key        text PRIMARY KEY,
  value      text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
