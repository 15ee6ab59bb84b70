-- Change notifications (issue 9, "Measure it"): every change that a cached tile's revision or the serving
-- catalogue depends on also sends NOTIFY sdi_changes, so that each serving process keeps the layer revisions
-- and the catalogue in memory and answers a cached tile with no query (src/db/change-feed.ts): a process
-- that hears a notification reads the revisions again. NOTIFY is delivered at commit (never for a rolled back
-- change) and folded per transaction when the payload is the same. The payload is JSON: ["data", schema,
-- table], ["layers"], ["styles"]; a listener treats any payload as "something changed".

CREATE OR REPLACE FUNCTION sdi.note_data_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO sdi.data_revisions (table_schema, table_name, changed_at)
  VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME, clock_timestamp())
  ON CONFLICT (table_schema, table_name) DO UPDATE SET changed_at = EXCLUDED.changed_at;
  PERFORM pg_notify('sdi_changes', json_build_array('data', TG_TABLE_SCHEMA, TG_TABLE_NAME)::text);
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION sdi.bump_layers_revision() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  UPDATE sdi.layers_revision SET revision = revision + 1;
  PERFORM pg_notify('sdi_changes', '["layers"]');
  RETURN NULL;
END
$f$;

-- Styles had no trigger (the revision query read them every time): a statement on them now notifies too.
CREATE OR REPLACE FUNCTION sdi.note_styles_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('sdi_changes', '["styles"]');
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS styles_changed ON sdi.styles;
CREATE TRIGGER styles_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON sdi.styles
  FOR EACH STATEMENT EXECUTE FUNCTION sdi.note_styles_change();
