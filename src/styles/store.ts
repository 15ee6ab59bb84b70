/**
 * The styles of the map service, in sdi.styles (migration "styles"): each layer's named styles (one of them its
 * default) and a default per kind of geometry. Read by every request that draws or lists styles, with one small
 * query and no cache, so that an administrator's change shows in the very next map, legend and capabilities.
 */
import { withTransaction, type Pool } from '../db/pool.js';
import type { Layer } from '../catalog/layers.js';
import { BUILTIN_DEFAULT_STYLES, DEFAULT_STYLE_NAME, geometryKindOf, type GeometryKind, type MapStyle } from '../render/style.js';

export interface StoredStyle {
  /** The layer's name; undefined for the default of a kind of geometry. */
  layer?: string;
  kind?: GeometryKind;
  name: string;
  title: string;
  isDefault: boolean;
  style: MapStyle;
  /** The SLD the style was imported from, when it was. */
  sld: string | null;
  updatedAt: Date;
}

interface Row {
  layer_name: string | null;
  geometry_kind: GeometryKind | null;
  name: string;
  title: string;
  is_default: boolean;
  document: MapStyle;
  sld: string | null;
  updated_at: Date;
}

const COLUMNS = 'layer_name, geometry_kind, name, title, is_default, document, sld, updated_at';

function stored(r: Row): StoredStyle {
  return {
    ...(r.layer_name ? { layer: r.layer_name } : {}),
    ...(r.geometry_kind ? { kind: r.geometry_kind } : {}),
    name: r.name,
    title: r.title,
    isDefault: r.is_default,
    style: { ...r.document, name: r.name, title: r.title },
    sld: r.sld,
    updatedAt: r.updated_at,
  };
}

export class StyleStore {
  constructor(private readonly pool: Pool) {}

  /**
   * The styles each layer offers, its default first: the layer's own default, else the default of its kind of
   * geometry (named `default`), then its other named styles by name.
   */
  async forLayers(layers: readonly Layer[]): Promise<Map<string, MapStyle[]>> {
    const names = layers.map((l) => l.name);
    const { rows } = await this.pool.query<Row>(
      `SELECT ${COLUMNS} FROM sdi.styles WHERE layer_name = ANY($1::text[]) OR geometry_kind IS NOT NULL ORDER BY layer_name, is_default DESC, name`,
      [names],
    );
    const kinds = new Map<GeometryKind, MapStyle>();
    for (const r of rows) if (r.geometry_kind) kinds.set(r.geometry_kind, stored(r).style);
    const out = new Map<string, MapStyle[]>();
    for (const l of layers) {
      const own = rows.filter((r) => r.layer_name === l.name).map(stored);
      const list = own.map((s) => s.style);
      if (!own.some((s) => s.isDefault)) {
        const kind = geometryKindOf(l.geometry?.type ?? 'GEOMETRY');
        list.unshift(kinds.get(kind) ?? BUILTIN_DEFAULT_STYLES[kind]);
      }
      out.set(l.name, list);
    }
    return out;
  }

  /** Every stored style (the kinds' defaults first, then by layer and name). */
  async list(layer?: string): Promise<StoredStyle[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT ${COLUMNS} FROM sdi.styles WHERE $1::text IS NULL OR layer_name = $1 ORDER BY layer_name NULLS FIRST, geometry_kind, name`,
      [layer ?? null],
    );
    return rows.map(stored);
  }

  async get(layer: string, name: string): Promise<StoredStyle | undefined> {
    const { rows } = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM sdi.styles WHERE layer_name = $1 AND name = $2`, [layer, name]);
    return rows[0] && stored(rows[0]);
  }

  async getKindDefault(kind: GeometryKind): Promise<StoredStyle | undefined> {
    const { rows } = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM sdi.styles WHERE geometry_kind = $1`, [kind]);
    return rows[0] && stored(rows[0]);
  }

  /** Create or replace a layer's named style; `makeDefault` also makes it the layer's default. */
  async put(layer: string, style: MapStyle, sld: string | null, makeDefault: boolean): Promise<'created' | 'updated'> {
    return withTransaction(this.pool, async (client) => {
      if (makeDefault) await client.query('UPDATE sdi.styles SET is_default = false, updated_at = now() WHERE layer_name = $1 AND is_default AND name <> $2', [layer, style.name]);
      const { rows } = await client.query<{ created: boolean }>(
        `INSERT INTO sdi.styles (layer_name, name, title, document, sld, is_default) VALUES ($1, $2, $3, $4::jsonb, $5, $6)
         ON CONFLICT (layer_name, name) WHERE layer_name IS NOT NULL
         DO UPDATE SET title = EXCLUDED.title, document = EXCLUDED.document, sld = EXCLUDED.sld,
                       is_default = EXCLUDED.is_default OR sdi.styles.is_default, updated_at = now()
         RETURNING (xmax = 0) AS created`,
        [layer, style.name, style.title, JSON.stringify(style), sld, makeDefault],
      );
      return rows[0]!.created ? 'created' : 'updated';
    });
  }

  /** Replace the default style of a kind of geometry. */
  async putKindDefault(kind: GeometryKind, style: MapStyle, sld: string | null): Promise<void> {
    await this.pool.query(
      `INSERT INTO sdi.styles (geometry_kind, name, title, document, sld, is_default) VALUES ($1, $2, $3, $4::jsonb, $5, true)
       ON CONFLICT (geometry_kind) WHERE geometry_kind IS NOT NULL
       DO UPDATE SET title = EXCLUDED.title, document = EXCLUDED.document, sld = EXCLUDED.sld, updated_at = now()`,
      [kind, DEFAULT_STYLE_NAME, style.title, JSON.stringify({ ...style, name: DEFAULT_STYLE_NAME }), sld],
    );
  }

  /** Delete a layer's named style; false when there was none. The layer then falls back to its kind's default. */
  async delete(layer: string, name: string): Promise<boolean> {
    const r = await this.pool.query('DELETE FROM sdi.styles WHERE layer_name = $1 AND name = $2', [layer, name]);
    return (r.rowCount ?? 0) > 0;
  }

  /** Make a layer's named style its default; false when the layer has no style of that name. */
  async setDefault(layer: string, name: string): Promise<boolean> {
    return withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ is_default: boolean }>('SELECT is_default FROM sdi.styles WHERE layer_name = $1 AND name = $2 FOR UPDATE', [layer, name]);
      if (!rows[0]) return false;
      if (rows[0].is_default) return true;
      // Two statements: the one-default index is checked row by row, so the old default goes first.
      await client.query('UPDATE sdi.styles SET is_default = false, updated_at = now() WHERE layer_name = $1 AND is_default', [layer]);
      await client.query('UPDATE sdi.styles SET is_default = true, updated_at = now() WHERE layer_name = $1 AND name = $2', [layer, name]);
      return true;
    });
  }
}

/** A layer's style by WMS name: '' and `default` (any case) are its default. Undefined when unknown. */
export function pickStyle(styles: readonly MapStyle[], name: string | undefined): MapStyle | undefined {
  if (!name || name.toLowerCase() === DEFAULT_STYLE_NAME) return styles[0];
  return styles.find((s) => s.name === name);
}
