-- A layer's temporal property (issue 8: OGC API Features `datetime`): the date or timestamp column whose value
-- is the feature's instant, and optionally a second column ending the feature's interval (NULL there: the
-- interval is still open). Both must name date / timestamp columns of the layer's table; publishLayer checks
-- it, and the layer catalogue ignores a declaration that no longer fits the table (datetime is then refused).
ALTER TABLE sdi.layers
  ADD COLUMN IF NOT EXISTS temporal_property text,
  ADD COLUMN IF NOT EXISTS temporal_end_property text;

DO $$ BEGIN
  ALTER TABLE sdi.layers ADD CONSTRAINT layers_temporal_end_needs_start CHECK (temporal_end_property IS NULL OR temporal_property IS NOT NULL);
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
