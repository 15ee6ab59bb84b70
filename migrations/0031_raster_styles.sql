-- Raster styles (issue 9): the named styles of a raster layer (sdi.raster_layers), one of them its default,
-- as JSON in the renderer's model (src/render/raster-style.ts: opacity and an SLD 1.0 ColorMap), with the SLD
-- they were imported from when they came as SLD. Apart from sdi.styles, whose rows belong to vector layers
-- (its foreign key is on sdi.layers) and hold rules and symbolizers a raster has no use for. A raster layer
-- without a default of its own is drawn with the built-in log ramp (named 'default').
CREATE TABLE IF NOT EXISTS sdi.raster_styles (
  id          bigserial PRIMARY KEY,
  raster_name text NOT NULL REFERENCES sdi.raster_layers(name) ON DELETE CASCADE ON UPDATE CASCADE,
  name        text NOT NULL CHECK (name ~ '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$' AND lower(name) <> 'default'),
  title       text NOT NULL,
  document    jsonb NOT NULL,
  sld         text,
  is_default  boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (raster_name, name)
);
CREATE UNIQUE INDEX IF NOT EXISTS raster_styles_default ON sdi.raster_styles (raster_name) WHERE is_default;
