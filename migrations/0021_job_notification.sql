-- The outcome of a finished job's notification (issue 12, download service): an e-mail that could not be sent
-- or a webhook that failed is visible on the job (GET /download/jobs/<id> → notification), not only in a log the
-- requester never sees. One object per channel: {"email": {"state": "sent"|"failed", "at": …, "reason": …}, …}.
ALTER TABLE sdi.jobs ADD COLUMN IF NOT EXISTS notification jsonb;
