-- Catalogue: metadata records (ISO 19139 or Dublin Core documents) with their queryables extracted to
-- columns, a French-aware accent-insensitive full-text index, and a spatial index on the footprint.
-- The document itself is kept as received (without its XML declaration): ISO "full" answers return it.

-- unaccent() is STABLE (it reads a dictionary by name); generated columns and indexes need an IMMUTABLE
-- wrapper that names the dictionary explicitly, in whatever schema the extension was created (0001).
DO $do$
DECLARE
  ext_schema text;
BEGIN
  SELECT n.nspname INTO ext_schema
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
   WHERE e.extname = 'unaccent';
  IF ext_schema IS NULL THEN
    CREATE EXTENSION unaccent;
    ext_schema := 'public';
  END IF;
  EXECUTE format(
    'CREATE FUNCTION sdi.immutable_unaccent(text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE '
    'AS $f$ SELECT %I.unaccent(%L::regdictionary, $1) $f$',
    ext_schema, ext_schema || '.unaccent');
  -- French stemming after accent removal: "Département", "departement" and "départements" share a lexeme.
  CREATE TEXT SEARCH CONFIGURATION sdi.french_unaccent (COPY = pg_catalog.french);
  EXECUTE format(
    'ALTER TEXT SEARCH CONFIGURATION sdi.french_unaccent ALTER MAPPING FOR hword, hword_part, word WITH %I.unaccent, pg_catalog.french_stem',
    ext_schema);
END
$do$;

-- AnyText search terms → a tsquery requiring every word, normalised by the same configuration as the
-- documents ("Départements de la région" → 'depart' & 'region'); with prefix, each lexeme also matches as a
-- prefix ('cadastr':* finds "cadastral"). NULL when the text holds no lexeme (only stop words or punctuation).
CREATE FUNCTION sdi.anytext_query(q text, prefix boolean DEFAULT false) RETURNS tsquery LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $f$
  SELECT CASE WHEN count(*) = 0 THEN NULL
              ELSE to_tsquery('simple', string_agg(quote_literal(lexeme) || CASE WHEN prefix THEN ':*' ELSE '' END, ' & ' ORDER BY lexeme)) END
    FROM unnest(to_tsvector('sdi.french_unaccent'::regconfig, q))
$f$;

ALTER TABLE sdi.metadata_records
  ADD CONSTRAINT metadata_records_schema_check CHECK (schema IN ('iso19139', 'dublincore')),
  ADD CONSTRAINT metadata_records_identifier_check CHECK (identifier <> ''),
  -- Core / Dublin Core queryables
  ADD COLUMN title              text NOT NULL DEFAULT '',
  ADD COLUMN alternate_titles   text[] NOT NULL DEFAULT '{}',
  ADD COLUMN abstract           text NOT NULL DEFAULT '',
  ADD COLUMN type               text NOT NULL DEFAULT 'dataset',   -- hierarchyLevel: dataset, series, service, …
  ADD COLUMN keywords           text[] NOT NULL DEFAULT '{}',
  ADD COLUMN keyword_types      text[] NOT NULL DEFAULT '{}',
  ADD COLUMN thesauri           text[] NOT NULL DEFAULT '{}',
  ADD COLUMN topic_categories   text[] NOT NULL DEFAULT '{}',
  ADD COLUMN formats            text[] NOT NULL DEFAULT '{}',
  ADD COLUMN language           text,                              -- metadata language, ISO 639-2/B
  ADD COLUMN resource_languages text[] NOT NULL DEFAULT '{}',
  ADD COLUMN parent_identifier  text,
  -- Dates: dateStamp as written (for output) and parsed (for filters and sorting)
  ADD COLUMN date_stamp         text,
  ADD COLUMN modified           timestamptz,
  ADD COLUMN creation_date      date,
  ADD COLUMN publication_date   date,
  ADD COLUMN revision_date      date,
  ADD COLUMN temp_extent_begin  timestamptz,
  ADD COLUMN temp_extent_end    timestamptz,
  -- Parties
  ADD COLUMN organisations      text[] NOT NULL DEFAULT '{}',
  ADD COLUMN creators           text[] NOT NULL DEFAULT '{}',
  ADD COLUMN publishers         text[] NOT NULL DEFAULT '{}',
  ADD COLUMN contributors       text[] NOT NULL DEFAULT '{}',
  ADD COLUMN responsible_party_roles text[] NOT NULL DEFAULT '{}',
  ADD COLUMN parties            jsonb NOT NULL DEFAULT '[]',      -- [{organisation, individual, email, role, scope}]
  -- Resource identifiers: codes as written and "codeSpace/code" forms
  ADD COLUMN resource_identifiers      jsonb NOT NULL DEFAULT '[]', -- [{code, codeSpace}]
  ADD COLUMN resource_identifier_codes text[] NOT NULL DEFAULT '{}',
  -- Spatial
  ADD COLUMN bbox               geometry(MultiPolygon, 4326),
  ADD COLUMN crs                text[] NOT NULL DEFAULT '{}',
  ADD COLUMN geographic_description_codes text[] NOT NULL DEFAULT '{}',
  ADD COLUMN denominators       integer[] NOT NULL DEFAULT '{}',
  ADD COLUMN distance_values    double precision[] NOT NULL DEFAULT '{}',
  ADD COLUMN distance_uoms      text[] NOT NULL DEFAULT '{}',
  -- Services
  ADD COLUMN service_type          text,
  ADD COLUMN service_type_versions text[] NOT NULL DEFAULT '{}',
  ADD COLUMN coupling_type         text,
  ADD COLUMN operations            text[] NOT NULL DEFAULT '{}',
  ADD COLUMN operates_on           text[] NOT NULL DEFAULT '{}',
  ADD COLUMN operates_on_names     text[] NOT NULL DEFAULT '{}',
  -- Constraints, lineage, conformity (INSPIRE)
  ADD COLUMN access_constraints    text[] NOT NULL DEFAULT '{}',
  ADD COLUMN use_constraints       text[] NOT NULL DEFAULT '{}',
  ADD COLUMN other_constraints     text[] NOT NULL DEFAULT '{}',
  ADD COLUMN use_limitations       text[] NOT NULL DEFAULT '{}',
  ADD COLUMN classification        text[] NOT NULL DEFAULT '{}',
  ADD COLUMN has_security_constraints boolean NOT NULL DEFAULT false,
  ADD COLUMN licences              text[] NOT NULL DEFAULT '{}',  -- licence names / URLs found in the constraints
  ADD COLUMN lineage               text,
  ADD COLUMN specifications        jsonb NOT NULL DEFAULT '[]',   -- [{title, date, dateType, degree}]
  ADD COLUMN specification_titles  text[] NOT NULL DEFAULT '{}',
  ADD COLUMN specification_dates   date[] NOT NULL DEFAULT '{}',
  ADD COLUMN specification_date_types text[] NOT NULL DEFAULT '{}',
  ADD COLUMN degrees               text[] NOT NULL DEFAULT '{}',  -- 'true', 'false' or 'notEvaluated'
  -- Online resources: [{url, protocol, protocolHref, scheme, name, description, function, applicationProfile}]
  ADD COLUMN links              jsonb NOT NULL DEFAULT '[]',
  -- ISO brief and summary element sets, cut from the document when it is stored (NULL for Dublin Core)
  ADD COLUMN iso_brief          text,
  ADD COLUMN iso_summary        text,
  -- Every text node of the document, and its accent-insensitive French full-text vector
  ADD COLUMN anytext            text NOT NULL DEFAULT '',
  ADD COLUMN anytext_tsv        tsvector GENERATED ALWAYS AS (to_tsvector('sdi.french_unaccent'::regconfig, anytext)) STORED;

CREATE INDEX metadata_records_anytext_idx  ON sdi.metadata_records USING gin (anytext_tsv);
CREATE INDEX metadata_records_bbox_idx     ON sdi.metadata_records USING gist (bbox);
CREATE INDEX metadata_records_modified_idx ON sdi.metadata_records (modified);
CREATE INDEX metadata_records_type_idx     ON sdi.metadata_records (type);
CREATE INDEX metadata_records_title_idx    ON sdi.metadata_records (lower(title));
