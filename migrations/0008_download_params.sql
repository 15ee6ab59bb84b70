-- Bound values of the extraction statements GDAL runs: the statement refers to its row by a server-made id, so
-- no request value is ever part of the SQL text GDAL sends. Rows live as long as one extract; the janitor
-- removes those left by crashed workers.
CREATE TABLE IF NOT EXISTS download_work.params (
  id         uuid PRIMARY KEY,
  v          jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
