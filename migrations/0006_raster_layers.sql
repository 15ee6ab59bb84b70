-- Raster layers: a GeoTIFF on disk registered with what GDAL read from it (size, bands, type, nodata, extent),
-- served by the download service as clipped, reprojected GeoTIFF / COG extracts (src/download/raster.ts).
-- Raster and vector layers share one name space (a download basket names layers): a trigger on each table
-- refuses a name the other already uses.
CREATE TABLE sdi.raster_layers (
  id                 bigserial PRIMARY KEY,
  name               text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_.-]*$'),
  title              text NOT NULL,
  abstract           text NOT NULL DEFAULT '',
  keywords           text[] NOT NULL DEFAULT '{}',
  file_path          text NOT NULL,                 -- absolute path (or a GDAL /vsi… name) of the source raster
  srid               integer NOT NULL,
  pixel_size_x       double precision NOT NULL CHECK (pixel_size_x > 0),
  pixel_size_y       double precision NOT NULL CHECK (pixel_size_y > 0),   -- positive; north-up rasters only
  width              integer NOT NULL CHECK (width > 0),
  height             integer NOT NULL CHECK (height > 0),
  bands              integer NOT NULL CHECK (bands > 0),
  data_type          text NOT NULL,                 -- GDAL type name of band 1: Byte, Int16, Float32…
  nodata             double precision,              -- band 1 nodata value, NULL when none
  extent             geometry(Polygon) NOT NULL,    -- footprint in the raster's own CRS (srid)
  metadata_record_id bigint REFERENCES sdi.metadata_records(id) ON DELETE SET NULL,
  published          boolean NOT NULL DEFAULT true,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  CHECK (ST_SRID(extent) = srid)
);

CREATE FUNCTION sdi.check_layer_name_unique() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'raster_layers' THEN
    IF EXISTS (SELECT 1 FROM sdi.layers WHERE name = NEW.name) THEN
      RAISE EXCEPTION 'layer name "%" is already used by a vector layer', NEW.name USING ERRCODE = 'unique_violation';
    END IF;
  ELSIF EXISTS (SELECT 1 FROM sdi.raster_layers WHERE name = NEW.name) THEN
    RAISE EXCEPTION 'layer name "%" is already used by a raster layer', NEW.name USING ERRCODE = 'unique_violation';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER raster_layers_name_unique BEFORE INSERT OR UPDATE OF name ON sdi.raster_layers
  FOR EACH ROW EXECUTE FUNCTION sdi.check_layer_name_unique();
CREATE TRIGGER layers_name_unique_raster BEFORE INSERT OR UPDATE OF name ON sdi.layers
  FOR EACH ROW EXECUTE FUNCTION sdi.check_layer_name_unique();
