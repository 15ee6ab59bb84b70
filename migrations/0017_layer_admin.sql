-- Layer administration (issue 10): the metadata an administrator edits on a layer (what its generated ISO
-- record says: INSPIRE / CNIG mandatory elements), attribute aliases, whether its record is frozen, and a
-- revision of the layer registry that every serving process compares with its cached catalogue, so that a
-- change made by any process (admin API, CLI, import) is served by all of them on their next request.
ALTER TABLE sdi.layers
  ADD COLUMN IF NOT EXISTS topic_categories  text[] NOT NULL DEFAULT '{}',  -- ISO 19115 MD_TopicCategoryCode values
  ADD COLUMN IF NOT EXISTS inspire_themes    text[] NOT NULL DEFAULT '{}',  -- INSPIRE theme codes (au, hy, tn…)
  ADD COLUMN IF NOT EXISTS licence           text,                          -- licence URL or name; NULL: the platform's
  ADD COLUMN IF NOT EXISTS producer          jsonb,                         -- {organisation, email?, url?}: the data's originator
  ADD COLUMN IF NOT EXISTS contact           jsonb,                         -- {organisation, individual?, email}: point of contact
  ADD COLUMN IF NOT EXISTS attribute_aliases jsonb NOT NULL DEFAULT '{}',   -- {column: label}
  -- A record edited by a person keeps following the layer's facts (extent, dateStamp, links) unless frozen.
  ADD COLUMN IF NOT EXISTS record_frozen     boolean NOT NULL DEFAULT false;

ALTER TABLE sdi.raster_layers
  ADD COLUMN IF NOT EXISTS topic_categories  text[] NOT NULL DEFAULT '{}',
  ADD COLUMN IF NOT EXISTS inspire_themes    text[] NOT NULL DEFAULT '{}',
  ADD COLUMN IF NOT EXISTS licence           text,
  ADD COLUMN IF NOT EXISTS producer          jsonb,
  ADD COLUMN IF NOT EXISTS contact           jsonb;

CREATE TABLE IF NOT EXISTS sdi.layers_revision (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  revision  bigint NOT NULL
);
INSERT INTO sdi.layers_revision (singleton, revision) VALUES (true, 1) ON CONFLICT DO NOTHING;

CREATE OR REPLACE FUNCTION sdi.bump_layers_revision() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  UPDATE sdi.layers_revision SET revision = revision + 1;
  RETURN NULL;
END
$f$;

DROP TRIGGER IF EXISTS layers_revision ON sdi.layers;
CREATE TRIGGER layers_revision AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON sdi.layers
  FOR EACH STATEMENT EXECUTE FUNCTION sdi.bump_layers_revision();
DROP TRIGGER IF EXISTS raster_layers_revision ON sdi.raster_layers;
CREATE TRIGGER raster_layers_revision AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON sdi.raster_layers
  FOR EACH STATEMENT EXECUTE FUNCTION sdi.bump_layers_revision();
