/**
 * The files of an import, ready for GDAL: a zip is unpacked (names checked, sizes bounded), the datasets in it
 * found (a Shapefile's .dbf/.prj/.cpg are parts of its .shp, not datasets), and each one opened with the
 * options its format needs: a Shapefile with the detected encoding, a CSV transcoded to UTF-8 and told its
 * geometry columns (x/y, lon/lat, WKT, or the ones named).
 */
import { createReadStream, createWriteStream, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { basename, dirname, extname, join, normalize, resolve, sep } from 'node:path';
import type gdalTypes from 'gdal-async';
import yauzl from 'yauzl';
import { EncodingError, encodingFromParameter, shapefileEncoding, textFileEncoding, type DetectedEncoding } from './encoding.js';

export class SourceError extends Error {}

/** Extensions of files GDAL opens as datasets; everything else in a folder or zip is a part of one (or ignored). */
const DATASET_EXTENSIONS = new Set(['.shp', '.gpkg', '.geojson', '.json', '.gml', '.kml', '.tab', '.mif', '.csv', '.fgb', '.dxf', '.gpx', '.sqlite', '.xlsx', '.ods']);

export interface CsvGeometry {
  xColumn?: string;
  yColumn?: string;
  wktColumn?: string;
}

const X_NAMES = ['x', 'lon', 'long', 'longitude', 'lng', 'coord_x', 'x_l93', 'xcoord', 'easting'];
const Y_NAMES = ['y', 'lat', 'latitude', 'coord_y', 'y_l93', 'ycoord', 'northing'];
const WKT_NAMES = ['wkt', 'geom', 'geometry', 'the_geom', 'wkt_geom', 'geometrie'];

/** Unpack a zip into `dir` (entries under it only, at most maxBytes in all); returns the files written. */
export async function unzip(file: string, dir: string, maxBytes: number): Promise<string[]> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, strictFileNames: false }, (e, z) => (e || !z ? reject(new SourceError(`The zip file cannot be read: ${e?.message ?? 'unknown error'}`)) : resolve(z))),
  );
  const written: string[] = [];
  let total = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', (e: Error) => reject(new SourceError(`The zip file cannot be read: ${e.message}`)));
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        const name = normalize(entry.fileName.replace(/\\/g, '/'));
        if (/\/$/.test(entry.fileName) || name.startsWith('__MACOSX') || basename(name).startsWith('._')) return zip.readEntry();
        if (name.startsWith('..') || name.startsWith(sep) || name.includes(`${sep}..${sep}`)) return reject(new SourceError(`The zip entry "${entry.fileName.slice(0, 100)}" points outside the archive`));
        total += entry.uncompressedSize;
        if (total > maxBytes) return reject(new SourceError(`The zip file unpacks to more than ${maxBytes} bytes`));
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(new SourceError(`The zip entry "${entry.fileName.slice(0, 100)}" cannot be read`));
          const target = join(dir, name);
          mkdirSync(dirname(target), { recursive: true });
          const out = createWriteStream(target);
          stream.pipe(out);
          out.on('finish', () => {
            written.push(target);
            zip.readEntry();
          });
          out.on('error', reject);
          stream.on('error', (err) => reject(new SourceError(`The zip entry "${entry.fileName.slice(0, 100)}" is corrupt: ${err.message}`)));
        });
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
  return written;
}

/** The datasets among files (a zip unpacked first, into `dir`), in a stable order. */
export async function findDatasets(files: string[], dir: string, maxBytes: number): Promise<string[]> {
  const all: string[] = [];
  for (const f of files) {
    if (extname(f).toLowerCase() === '.zip') {
      const unpackDir = join(dir, `zip-${basename(f, extname(f)).replace(/[^A-Za-z0-9_-]/g, '_')}`);
      mkdirSync(unpackDir, { recursive: true });
      all.push(...(await unzip(f, unpackDir, maxBytes)));
    } else all.push(f);
  }
  const datasets = all.filter((f) => DATASET_EXTENSIONS.has(extname(f).toLowerCase()));
  // A MapInfo .mif goes with its .mid; a .tab with .dat/.map/.id: only the .tab/.mif is opened (same for .shp and .dbf).
  if (datasets.length === 0) {
    const single = all.filter((f) => !/\.(dbf|shx|prj|cpg|qpj|sbn|sbx|xml|mid|dat|map|id|ind|csvt|xsd|gfs|txt|md|pdf)$/i.test(f));
    if (single.length) return single.sort();
    throw new SourceError(`No dataset GDAL reads among the files (${all.map((f) => basename(f)).slice(0, 10).join(', ') || 'none'}): GeoPackage, Shapefile, GeoJSON, GML, KML, MapInfo, CSV, FlatGeobuf, DXF…`);
  }
  return datasets.sort();
}

export interface OpenedSource {
  dataset: gdalTypes.Dataset;
  /** The encoding detected or given, when it matters (Shapefile, CSV). */
  encoding?: DetectedEncoding;
  format: string;
}

export interface OpenOptions extends CsvGeometry {
  encoding?: string;
}

/** Open one dataset with the options its format needs; `workDir` receives a UTF-8 copy of a non-UTF-8 CSV. */
export async function openSource(file: string, o: OpenOptions, workDir: string): Promise<OpenedSource> {
  const gdal = (await import('gdal-async')).default;
  const ext = extname(file).toLowerCase();
  try {
    if (ext === '.shp') {
      const encoding = o.encoding ? encodingFromParameter(o.encoding) : await shapefileEncoding(file);
      // Driver.open, not openAsync: gdal-async 3.12's openAsync drops the open options. Opening reads headers only.
      const dataset = gdal.drivers.get('ESRI Shapefile').open(file, 'r', encoding ? [`ENCODING=${encoding.gdal}`] : []);
      return { dataset, encoding: encoding ?? { name: 'utf-8', gdal: 'UTF-8', source: 'cpg' }, format: 'ESRI Shapefile' };
    }
    if (ext === '.csv') {
      const encoding = o.encoding ? encodingFromParameter(o.encoding) : await textFileEncoding(file);
      const utf8 = encoding.name === 'utf-8' ? file : await transcode(file, encoding.name, workDir);
      const options = ['AUTODETECT_TYPE=YES', 'KEEP_GEOM_COLUMNS=NO', 'HEADERS=YES'];
      if (o.wktColumn) options.push(`GEOM_POSSIBLE_NAMES=${o.wktColumn}`);
      else if (o.xColumn || o.yColumn) {
        if (!o.xColumn || !o.yColumn) throw new SourceError('Give both x_column and y_column');
        options.push(`X_POSSIBLE_NAMES=${o.xColumn}`, `Y_POSSIBLE_NAMES=${o.yColumn}`);
      } else options.push(`GEOM_POSSIBLE_NAMES=${WKT_NAMES.join(',')}`, `X_POSSIBLE_NAMES=${X_NAMES.join(',')}`, `Y_POSSIBLE_NAMES=${Y_NAMES.join(',')}`);
      const typed = await keepLeadingZeros(gdal, utf8, workDir);
      const dataset = gdal.drivers.get('CSV').open(typed, 'r', options);
      return { dataset, encoding, format: 'CSV' };
    }
    const dataset = await gdal.openAsync(file, 'r');
    return { dataset, format: dataset.driver.description };
  } catch (e) {
    if (e instanceof SourceError || e instanceof EncodingError) throw e;
    throw new SourceError(`GDAL cannot read ${basename(file)}: ${(e as Error).message}`);
  }
}

const CSVT: Record<string, string> = { integer: 'Integer', integer64: 'Integer64', real: 'Real', string: 'String', date: 'Date', datetime: 'DateTime', time: 'Time' };

/**
 * GDAL's CSV type detection reads `01001` (an INSEE code, a postcode) as the integer 1001. Columns it types as
 * numbers are read again as text; when one holds a number with a leading zero, a .csvt (GDAL's column types
 * file) makes it a string, beside a link to the CSV in the work folder. Returns the path to open.
 */
async function keepLeadingZeros(gdal: typeof gdalTypes, file: string, workDir: string): Promise<string> {
  const detect = (auto: boolean) => gdal.drivers.get('CSV').open(file, 'r', [`AUTODETECT_TYPE=${auto ? 'YES' : 'NO'}`, 'KEEP_GEOM_COLUMNS=YES', 'HEADERS=YES', 'GEOM_POSSIBLE_NAMES=', 'X_POSSIBLE_NAMES=', 'Y_POSSIBLE_NAMES=']);
  const typedDs = detect(true);
  const fields = typedDs.layers.get(0).fields.map((f) => ({ name: f.name, type: f.type }));
  typedDs.close();
  const numeric = fields.filter((f) => f.type === 'integer' || f.type === 'integer64' || f.type === 'real').map((f) => f.name);
  if (numeric.length === 0) return file;
  const zero = new Set<string>();
  const notNumber = new Set<string>();
  const textDs = detect(false);
  try {
    for (const feature of textDs.layers.get(0).features) {
      for (const name of numeric) {
        const v = String(feature.fields.get(name) ?? '').trim();
        if (/^[+-]?0\d/.test(v)) zero.add(name);
        else if (v !== '' && !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v)) notNumber.add(name); // true/false
      }
    }
  } finally {
    textDs.close();
  }
  if (zero.size === 0) return file;
  const folder = join(workDir, 'csvt');
  mkdirSync(folder, { recursive: true });
  const link = join(folder, basename(file));
  symlinkSync(resolve(file), link);
  const types = fields.map((f) => (zero.has(f.name) ? 'String' : notNumber.has(f.name) && f.type === 'integer' ? 'Integer(Boolean)' : (CSVT[f.type] ?? 'String')));
  writeFileSync(link.replace(/\.csv$/i, '.csvt'), types.map((t) => `"${t}"`).join(','));
  return link;
}

/** A UTF-8 copy of a text file, streamed. */
async function transcode(file: string, encoding: string, workDir: string): Promise<string> {
  // Same base name (GDAL names the layer after it), in a folder of its own.
  mkdirSync(join(workDir, 'utf8'), { recursive: true });
  const target = join(workDir, 'utf8', basename(file));
  const decoder = new TextDecoder(encoding);
  const out = createWriteStream(target);
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    if (!out.write(decoder.decode(chunk, { stream: true }))) await once(out, 'drain');
  }
  out.end(decoder.decode());
  await once(out, 'finish');
  return target;
}

/** Files directly in a directory (an upload's directory), for the CLI given a folder. */
export function filesIn(dir: string): string[] {
  return readdirSync(dir).map((f) => join(dir, f)).filter((f) => statSync(f).isFile());
}
