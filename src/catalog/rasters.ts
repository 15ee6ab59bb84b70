/**
 * Raster layers (sdi.raster_layers, migration 0006): GeoTIFFs on disk, registered with what GDAL reads from
 * them (size, pixel size, bands, data type, nodata, footprint), so that estimates and listings never open the
 * file. GDAL (gdal-async) is imported lazily, only to register a file: a serving process that never
 * registers a raster never loads it here.
 */
import { resolve } from 'node:path';
import type gdalTypes from 'gdal-async';
import type { Pool, PoolClient } from '../db/pool.js';
import { recordIdentifierOf } from '../records/sql.js';

/** What GDAL says about a raster file (used to register it). */
export interface RasterFileInfo {
  srid: number;
  /** Pixel size in CRS units (both positive). */
  pixelSizeX: number;
  pixelSizeY: number;
  width: number;
  height: number;
  bands: number;
  /** GDAL data type name of band 1 (Byte, Int16, UInt16, Float32…). */
  dataType: string;
  nodata: number | null;
  /** Footprint in the raster's CRS: [minx, miny, maxx, maxy]. */
  extent: [number, number, number, number];
}

export interface RasterLayer extends RasterFileInfo {
  id: number;
  name: string;
  title: string;
  abstract: string;
  keywords: string[];
  filePath: string;
  /** The footprint in WGS 84 lon/lat: [west, south, east, north]. */
  extent4326: [number, number, number, number];
  metadataRecordId: number | null;
  /** fileIdentifier of the linked metadata record, if any. */
  metadataIdentifier: string | null;
  /** Descriptive metadata an administrator sets (migration 0017), written into the layer's record. */
  topicCategories: string[];
  inspireThemes: string[];
  licence: string | null;
  producer: { organisation: string; individual?: string; email?: string; url?: string } | null;
  contact: { organisation: string; individual?: string; email?: string; url?: string } | null;
  createdAt: Date;
  updatedAt: Date;
  /** false: restricted (issue 11). */
  public: boolean;
}

interface Row {
  id: string;
  name: string;
  title: string;
  abstract: string;
  keywords: string[];
  file_path: string;
  srid: number;
  pixel_size_x: number;
  pixel_size_y: number;
  width: number;
  height: number;
  bands: number;
  data_type: string;
  nodata: number | null;
  minx: number;
  miny: number;
  maxx: number;
  maxy: number;
  w: number;
  s: number;
  e: number;
  n: number;
  metadata_record_id: string | null;
  metadata_identifier: string | null;
  topic_categories: string[];
  inspire_themes: string[];
  licence: string | null;
  producer: RasterLayer['producer'];
  contact: RasterLayer['contact'];
  created_at: Date;
  updated_at: Date;
  public: boolean;
}

const SELECT = `
  SELECT r.id, r.name, r.title, r.abstract, r.keywords, r.file_path, r.srid, r.pixel_size_x, r.pixel_size_y, r.width, r.height,
         r.bands, r.data_type, r.nodata, ST_XMin(r.extent) AS minx, ST_YMin(r.extent) AS miny, ST_XMax(r.extent) AS maxx, ST_YMax(r.extent) AS maxy,
         ST_XMin(g.e) AS w, ST_YMin(g.e) AS s, ST_XMax(g.e) AS e, ST_YMax(g.e) AS n,
         r.metadata_record_id, ${recordIdentifierOf('r.metadata_record_id')} AS metadata_identifier, r.topic_categories, r.inspire_themes, r.licence, r.producer, r.contact,
         r.created_at, r.updated_at, r.public
    FROM sdi.raster_layers r
    CROSS JOIN LATERAL (SELECT ST_Transform(ST_Segmentize(r.extent, greatest(ST_XMax(r.extent) - ST_XMin(r.extent), ST_YMax(r.extent) - ST_YMin(r.extent)) / 32), 4326) AS e) g`;

function fromRow(r: Row): RasterLayer {
  return {
    id: Number(r.id),
    name: r.name,
    title: r.title,
    abstract: r.abstract,
    keywords: r.keywords,
    filePath: r.file_path,
    srid: r.srid,
    pixelSizeX: r.pixel_size_x,
    pixelSizeY: r.pixel_size_y,
    width: r.width,
    height: r.height,
    bands: r.bands,
    dataType: r.data_type,
    nodata: r.nodata,
    extent: [r.minx, r.miny, r.maxx, r.maxy],
    extent4326: [r.w, r.s, r.e, r.n],
    metadataRecordId: r.metadata_record_id === null ? null : Number(r.metadata_record_id),
    metadataIdentifier: r.metadata_identifier,
    topicCategories: r.topic_categories ?? [],
    inspireThemes: r.inspire_themes ?? [],
    licence: r.licence ?? null,
    producer: r.producer ?? null,
    contact: r.contact ?? null,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    public: r.public,
  };
}

/** Published raster layers, by name. An install without migration 0006 has none. */
export async function listRasterLayers(pool: Pool | PoolClient): Promise<RasterLayer[]> {
  if (!(await hasTable(pool))) return [];
  const { rows } = await pool.query<Row>(`${SELECT} WHERE r.published ORDER BY r.name`);
  return rows.map(fromRow);
}

export async function getRasterLayer(pool: Pool, name: string): Promise<RasterLayer | undefined> {
  if (!(await hasTable(pool))) return undefined;
  const { rows } = await pool.query<Row>(`${SELECT} WHERE r.published AND r.name = $1`, [name]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

async function hasTable(pool: Pool | PoolClient): Promise<boolean> {
  const { rows } = await pool.query<{ t: string | null }>("SELECT to_regclass('sdi.raster_layers')::text AS t");
  return Boolean(rows[0]?.t);
}

export interface RasterRegistration {
  name: string;
  title: string;
  abstract?: string;
  keywords?: string[];
  file: string;
  /** EPSG code when the file's CRS has no EPSG identifier GDAL can find. */
  srid?: number;
}


export async function readRasterFile(file: string, sridOverride?: number): Promise<RasterFileInfo> {
  const gdal = (await import('gdal-async')).default as typeof gdalTypes;
  const ds = await gdal.openAsync(file);
  try {
    const gt = ds.geoTransform;
    if (!gt) throw new Error(`${file} has no geotransform`);
    if (gt[2] !== 0 || gt[4] !== 0 || gt[5] >= 0) throw new Error(`${file} is not a north-up raster (rotated or flipped geotransform)`);
    let srid = sridOverride;
    if (!srid && ds.srs) {
      const srs = ds.srs.clone();
      try {
        srs.autoIdentifyEPSG();
      } catch {
        /* not identifiable: fall through */
      }
      const code = srs.getAuthorityName() === 'EPSG' ? Number(srs.getAuthorityCode()) : NaN;
      if (Number.isInteger(code)) srid = code;
    }
    if (!srid) throw new Error(`${file}: its CRS has no EPSG code; give one (srid)`);
    const { x: width, y: height } = ds.rasterSize;
    const band = ds.bands.get(1);
    const minx = gt[0];
    const maxy = gt[3];
    return {
      srid,
      pixelSizeX: gt[1],
      pixelSizeY: -gt[5],
      width,
      height,
      bands: ds.bands.count(),
      dataType: band.dataType ?? 'Unknown',
      nodata: band.noDataValue ?? null,
      extent: [minx, maxy + height * gt[5], minx + width * gt[1], maxy],
    };
  } finally {
    ds.close();
  }
}

/** Register (or refresh, same name) a raster file as a layer; returns the stored layer. */
export async function registerRasterLayer(pool: Pool, r: RasterRegistration): Promise<RasterLayer> {
  const file = r.file.startsWith('/vsi') ? r.file : resolve(r.file);
  const info = await readRasterFile(file, r.srid);
  const [minx, miny, maxx, maxy] = info.extent;
  await pool.query(
    `INSERT INTO sdi.raster_layers (name, title, abstract, keywords, file_path, srid, pixel_size_x, pixel_size_y, width, height, bands, data_type, nodata, extent)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, ST_MakeEnvelope($14, $15, $16, $17, $6))
     ON CONFLICT (name) DO UPDATE SET title = EXCLUDED.title, abstract = EXCLUDED.abstract, keywords = EXCLUDED.keywords,
       file_path = EXCLUDED.file_path, srid = EXCLUDED.srid, pixel_size_x = EXCLUDED.pixel_size_x, pixel_size_y = EXCLUDED.pixel_size_y,
       width = EXCLUDED.width, height = EXCLUDED.height, bands = EXCLUDED.bands, data_type = EXCLUDED.data_type, nodata = EXCLUDED.nodata,
       extent = EXCLUDED.extent, published = true, updated_at = now()`,
    [r.name, r.title, r.abstract ?? '', r.keywords ?? [], file, info.srid, info.pixelSizeX, info.pixelSizeY, info.width, info.height, info.bands, info.dataType, info.nodata, minx, miny, maxx, maxy],
  );
  return (await getRasterLayer(pool, r.name))!;
}
