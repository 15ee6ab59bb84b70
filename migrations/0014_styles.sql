-- Map styles (issue 9): the style documents the WMS renders with, as JSON in the renderer's model
-- (src/render/style.ts: rules with filters as the filter AST, scale ranges, symbolizers), with the SLD they were
-- imported from when they came as SLD. Two kinds of rows:
--   * a layer's named styles (layer_name set): at most one of them is the layer's default;
--   * the default of a kind of geometry (geometry_kind set, name 'default'): what a layer without a default of
--     its own is drawn with.
-- Styles are read from this table by every request that draws (no cache): a change shows at once.
CREATE TABLE IF NOT EXISTS sdi.styles (
  id             bigserial PRIMARY KEY,
  layer_name     text REFERENCES sdi.layers(name) ON DELETE CASCADE ON UPDATE CASCADE,
  geometry_kind  text CHECK (geometry_kind IN ('point', 'line', 'polygon', 'mixed')),
  name           text NOT NULL CHECK (name ~ '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$'),
  title          text NOT NULL,
  document       jsonb NOT NULL,
  sld            text,
  is_default     boolean NOT NULL DEFAULT false,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT styles_layer_or_kind CHECK ((layer_name IS NULL) <> (geometry_kind IS NULL))
);
CREATE UNIQUE INDEX IF NOT EXISTS styles_layer_name ON sdi.styles (layer_name, name) WHERE layer_name IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS styles_layer_default ON sdi.styles (layer_name) WHERE is_default AND layer_name IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS styles_kind ON sdi.styles (geometry_kind) WHERE geometry_kind IS NOT NULL;

-- The defaults per kind of geometry: translucent blue polygons with a darker outline, dark blue lines, orange
-- dots (the same as BUILTIN_DEFAULT_STYLES in src/render/style.ts, used when a row is absent).
INSERT INTO sdi.styles (geometry_kind, name, title, document, is_default)
SELECT k, 'default', 'Style par défaut', jsonb_build_object('name', 'default', 'title', 'Style par défaut', 'rules', jsonb_build_array(
         jsonb_build_object('title', 'Défaut', 'symbolizers', s))), true
  FROM (VALUES
    ('polygon', '[{"kind":"polygon","fill":{"color":"#4285cc","opacity":0.35},"stroke":{"color":"#1f4e8c","opacity":1,"width":1}}]'::jsonb),
    ('line', '[{"kind":"line","stroke":{"color":"#1f4e8c","opacity":1,"width":1.5}}]'::jsonb),
    ('point', '[{"kind":"point","mark":"circle","size":8,"rotation":0,"fill":{"color":"#e67e22","opacity":1},"stroke":{"color":"#7a3e00","opacity":1,"width":1}}]'::jsonb),
    ('mixed', '[{"kind":"polygon","fill":{"color":"#4285cc","opacity":0.35},"stroke":{"color":"#1f4e8c","opacity":1,"width":1}},{"kind":"line","stroke":{"color":"#1f4e8c","opacity":1,"width":1.5}},{"kind":"point","mark":"circle","size":8,"rotation":0,"fill":{"color":"#e67e22","opacity":1},"stroke":{"color":"#7a3e00","opacity":1,"width":1}}]'::jsonb)
  ) AS d(k, s)
ON CONFLICT DO NOTHING;
