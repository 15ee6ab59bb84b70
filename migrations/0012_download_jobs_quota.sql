-- Deferred download jobs (issue 13 point 7): who asked (the client address of an anonymous caller, as the
-- trusted-proxy logic established it; principal already names an authenticated one) so that quotas can count
-- a client's unfinished jobs, and the SHA-256 of the job's secret cancel token (the token itself is handed
-- out once, in the answer to POST /download/jobs, and never stored).
ALTER TABLE sdi.jobs
  ADD COLUMN IF NOT EXISTS client_ip text,
  ADD COLUMN IF NOT EXISTS cancel_token_hash text;

-- The quota counts: unfinished jobs of one client, of one principal.
CREATE INDEX IF NOT EXISTS jobs_active_client ON sdi.jobs (client_ip) WHERE state IN ('queued', 'running');
CREATE INDEX IF NOT EXISTS jobs_active_principal ON sdi.jobs (principal) WHERE state IN ('queued', 'running');
