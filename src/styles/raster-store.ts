/**
 * The styles of raster layers, in sdi.raster_styles (migration 0031): each raster layer's named styles, one of
 * them its default; a layer without a default of its own offers the built-in log ramp first, named `default`
 * (src/render/raster-style.ts). Read by every map, legend and capabilities request, with one small query and no
 * cache, like the vector styles (src/styles/store.ts): an administrator's change shows in the next request.
 */
import { withTransaction, type Pool } from '../db/pool.js';
import { DEFAULT_RASTER_STYLE, rasterStyleFromJson, rasterStyleToJson, type RasterStyle } from '../render/raster-style.js';

export interface StoredRasterStyle {
  raster: string;
  name: string;
  title: string;
  isDefault: boolean;
  style: RasterStyle;
  sld: string | null;
  updatedAt: Date;
}

interface Row {
  raster_name: string;
  name: string;
  title: string;
  is_default: boolean;
  document: Record<string, unknown>;
  sld: string | null;
  updated_at: Date;
}

const COLUMNS = 'raster_name, name, title, is_default, document, sld, updated_at';

const stored = (r: Row): StoredRasterStyle => ({
  raster: r.raster_name,
  name: r.name,
  title: r.title,
  isDefault: r.is_default,
  style: { ...rasterStyleFromJson(r.document), name: r.name, title: r.title },
  sld: r.sld,
  updatedAt: r.updated_at,
});

export class RasterStyleStore {
  constructor(private readonly pool: Pool) {}

  /** The styles each raster layer offers, its default first (the built-in ramp when it has no default of its own). */
  async forRasters(names: readonly string[]): Promise<Map<string, RasterStyle[]>> {
    const { rows } = names.length
      ? await this.pool.query<Row>(`SELECT ${COLUMNS} FROM sdi.raster_styles WHERE raster_name = ANY($1::text[]) ORDER BY raster_name, is_default DESC, name`, [names])
      : { rows: [] as Row[] };
    const out = new Map<string, RasterStyle[]>();
    for (const n of names) {
      const own = rows.filter((r) => r.raster_name === n).map(stored);
      const list = own.map((s) => s.style);
      if (!own.some((s) => s.isDefault)) list.unshift(DEFAULT_RASTER_STYLE);
      out.set(n, list);
    }
    return out;
  }

  async list(raster: string): Promise<StoredRasterStyle[]> {
    const { rows } = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM sdi.raster_styles WHERE raster_name = $1 ORDER BY name`, [raster]);
    return rows.map(stored);
  }

  async get(raster: string, name: string): Promise<StoredRasterStyle | undefined> {
    const { rows } = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM sdi.raster_styles WHERE raster_name = $1 AND name = $2`, [raster, name]);
    return rows[0] && stored(rows[0]);
  }

  /** Create or replace a raster layer's named style; `makeDefault` also makes it the layer's default. */
  async put(raster: string, style: RasterStyle, sld: string | null, makeDefault: boolean): Promise<'created' | 'updated'> {
    return withTransaction(this.pool, async (client) => {
      if (makeDefault) await client.query('UPDATE sdi.raster_styles SET is_default = false, updated_at = now() WHERE raster_name = $1 AND is_default AND name <> $2', [raster, style.name]);
      const { rows } = await client.query<{ created: boolean }>(
        `INSERT INTO sdi.raster_styles (raster_name, name, title, document, sld, is_default) VALUES ($1, $2, $3, $4::jsonb, $5, $6)
         ON CONFLICT (raster_name, name)
         DO UPDATE SET title = EXCLUDED.title, document = EXCLUDED.document, sld = EXCLUDED.sld,
                       is_default = EXCLUDED.is_default OR sdi.raster_styles.is_default, updated_at = now()
         RETURNING (xmax = 0) AS created`,
        [raster, style.name, style.title, JSON.stringify(rasterStyleToJson(style)), sld, makeDefault],
      );
      return rows[0]!.created ? 'created' : 'updated';
    });
  }

  async delete(raster: string, name: string): Promise<boolean> {
    const r = await this.pool.query('DELETE FROM sdi.raster_styles WHERE raster_name = $1 AND name = $2', [raster, name]);
    return (r.rowCount ?? 0) > 0;
  }

  async setDefault(raster: string, name: string): Promise<boolean> {
    return withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ is_default: boolean }>('SELECT is_default FROM sdi.raster_styles WHERE raster_name = $1 AND name = $2 FOR UPDATE', [raster, name]);
      if (!rows[0]) return false;
      if (rows[0].is_default) return true;
      await client.query('UPDATE sdi.raster_styles SET is_default = false, updated_at = now() WHERE raster_name = $1 AND is_default', [raster]);
      await client.query('UPDATE sdi.raster_styles SET is_default = true, updated_at = now() WHERE raster_name = $1 AND name = $2', [raster, name]);
      return true;
    });
  }
}

/** A raster layer's style by WMS name: '' and `default` (any case) are its default. Undefined when unknown. */
export function pickRasterStyle(styles: readonly RasterStyle[], name: string | undefined): RasterStyle | undefined {
  if (!name || name.toLowerCase() === 'default') return styles[0];
  return styles.find((s) => s.name === name);
}
