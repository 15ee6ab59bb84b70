/**
 * Writing and reading the registry of published layers (sdi.layers) outside the serving catalogue
 * (src/catalog/layers.ts): registering a table as a layer, and the published feature layers as their rows say,
 * even when their table is gone (the catalogue records of src/metadata/layer-records.ts are written from these).
 * Publishing a layer with its record is src/publishing/.
 */
import type { Pool, PoolClient } from '../db/pool.js';
import { checkTemporalProperty, type Layer } from './layers.js';

/** What registering a table as a published layer takes. */
export interface LayerRegistration {
  name: string;
  schema: string;
  table: string;
  idColumn: string;
  geometryColumn?: string;
  title: string;
  abstract?: string;
  keywords?: string[];
  defaultCrs?: number;
  /** Temporal property (date / timestamp column) and optional interval end; registering without them clears them. */
  temporalProperty?: string | null;
  temporalEndProperty?: string | null;
}

/** Register (or update) a table as a published layer (its row in sdi.layers). */
export async function registerLayer(db: Pool | PoolClient, l: LayerRegistration): Promise<void> {
  const temporal = await checkTemporalProperty(db, l.schema, l.table, l.temporalProperty, l.temporalEndProperty);
  await db.query(
    `INSERT INTO sdi.layers (name, table_schema, table_name, id_column, geometry_column, title, abstract, keywords, default_crs, temporal_property, temporal_end_property)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, COALESCE($9, 2154), $10, $11)
     ON CONFLICT (name) DO UPDATE SET table_schema = EXCLUDED.table_schema, table_name = EXCLUDED.table_name,
       id_column = EXCLUDED.id_column, geometry_column = EXCLUDED.geometry_column, title = EXCLUDED.title,
       abstract = EXCLUDED.abstract, keywords = EXCLUDED.keywords, default_crs = EXCLUDED.default_crs,
       temporal_property = EXCLUDED.temporal_property, temporal_end_property = EXCLUDED.temporal_end_property, updated_at = now()`,
    [l.name, l.schema, l.table, l.idColumn, l.geometryColumn ?? null, l.title, l.abstract ?? '', l.keywords ?? [], l.defaultCrs ?? null, temporal.start, temporal.end],
  );
}

/** A published feature layer as its sdi.layers row and geometry_columns say (no check that its table is readable). */
export interface PublishedLayer extends Pick<Layer, 'id' | 'name' | 'title' | 'abstract' | 'keywords' | 'schema' | 'table' | 'defaultCrs' | 'metadataRecordId' | 'updatedAt'> {
  /** The geometry column (the configured one, else the table's first) and its SRID (else the layer's default CRS). */
  geometry?: { column: string; srid: number };
  createdAt: Date;
  /** The descriptive metadata an administrator sets (migration 0017), written into the layer's record. */
  idColumn: string;
  topicCategories: string[];
  inspireThemes: string[];
  licence: string | null;
  producer: { organisation: string; individual?: string; email?: string; url?: string } | null;
  contact: { organisation: string; individual?: string; email?: string; url?: string } | null;
  attributeAliases: Record<string, string>;
  /** A record edited by a person no longer follows the layer's facts. */
  recordFrozen: boolean;
}

/** The published feature layers, by name. */
export async function readPublishedLayers(db: Pool | PoolClient): Promise<PublishedLayer[]> {
  const { rows: layers } = await db.query<{
    id: number; name: string; title: string; abstract: string; keywords: string[]; table_schema: string; table_name: string;
    geometry_column: string | null; default_crs: number; metadata_record_id: number | null; updated_at: Date; created_at: Date;
    id_column: string; topic_categories: string[]; inspire_themes: string[]; licence: string | null; producer: PublishedLayer['producer'];
    contact: PublishedLayer['contact']; attribute_aliases: Record<string, string> | null; record_frozen: boolean;
  }>(
    `SELECT l.id, l.name, l.title, l.abstract, l.keywords, l.table_schema, l.table_name, l.geometry_column, l.default_crs,
            l.metadata_record_id, l.updated_at, l.created_at, l.id_column, l.topic_categories, l.inspire_themes, l.licence,
            l.producer, l.contact, l.attribute_aliases, l.record_frozen
       FROM sdi.layers l
      WHERE l.published AND l.kind = 'feature' ORDER BY l.name`,
  );
  const { rows: geoms } = await db.query<{ schema: string; table: string; column: string; srid: number }>(
    `SELECT f_table_schema AS schema, f_table_name AS table, f_geometry_column AS column, srid FROM geometry_columns
      WHERE (f_table_schema, f_table_name) IN (SELECT table_schema, table_name FROM sdi.layers)`,
  );
  return layers.map((l) => {
    const column = l.geometry_column ?? geoms.find((g) => g.schema === l.table_schema && g.table === l.table_name)?.column;
    const srid = geoms.find((g) => g.schema === l.table_schema && g.table === l.table_name && g.column === column)?.srid || l.default_crs;
    return {
      id: l.id, name: l.name, title: l.title, abstract: l.abstract, keywords: l.keywords, schema: l.table_schema, table: l.table_name,
      geometry: column ? { column, srid } : undefined,
      defaultCrs: l.default_crs, metadataRecordId: l.metadata_record_id, createdAt: l.created_at, updatedAt: l.updated_at,
      idColumn: l.id_column, topicCategories: l.topic_categories, inspireThemes: l.inspire_themes, licence: l.licence, producer: l.producer,
      contact: l.contact, attributeAliases: l.attribute_aliases ?? {}, recordFrozen: l.record_frozen,
    };
  });
}
