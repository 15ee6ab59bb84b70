-- Work tables of the download service: each extract of a GDAL-written format is first materialised here
-- (UNLOGGED, dropped when the file is written; the janitor drops leftovers of crashed workers).
CREATE SCHEMA IF NOT EXISTS download_work;

-- Download statistics need what was asked, not only how much: area, format, CRS, request id.
ALTER TABLE sdi.usage_log ADD COLUMN IF NOT EXISTS detail jsonb;
CREATE INDEX IF NOT EXISTS usage_log_service_at ON sdi.usage_log (service, at);
