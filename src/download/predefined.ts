/**
 * Pre-defined files of the INSPIRE Atom download service: the whole layer in one format and CRS, built once
 * (by the same code as any extract, without the direct-download limits, within the hard ones) and then served
 * from disk with a known length, so that Atom links always answer with the file — even for layers too big for
 * a direct extract — and HEAD/Content-Length work as INSPIRE clients expect.
 *
 * A file is rebuilt when the layer's updated_at moves or when it is older than `maxAgeMs` (data may change
 * without the layer row moving). One build at a time per file: an in-process promise, and across processes
 * a PostgreSQL advisory lock on the file's key.
 */
import { mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Platform } from '../platform.js';
import type { ExtractRequest } from './request.js';
import type { FormatId } from './formats.js';
import { prepareExtract } from './estimate.js';
import type { Principal } from '../access/policy.js';
import { buildPreparedExtract } from './extract.js';
import { getRasterLayer } from '../catalog/rasters.js';
import { DownloadError } from './errors.js';

export interface PredefinedFile {
  path: string;
  filename: string;
  mediaType: string;
  bytes: number;
  builtAt: string;
}

const building = new Map<string, Promise<PredefinedFile>>();

async function layerVersion(platform: Platform, name: string): Promise<number> {
  const l = await platform.layers.get(name);
  if (l) return l.updatedAt.getTime();
  const r = await getRasterLayer(platform.pool, name);
  if (r) return r.updatedAt.getTime();
  throw new DownloadError(404, 'unknown-layer', `Layer '${name.slice(0, 80)}' does not exist`, 'layer');
}

const dirOf = (platform: Platform, layer: string, format: FormatId, crs: number) => join(platform.config.download.workDir, 'predefined', layer, `${format}-${crs}`);

/** The file if it is built and current (no build). */
export async function currentPredefined(platform: Platform, layer: string, format: FormatId, crs: number): Promise<PredefinedFile | undefined> {
  const version = await layerVersion(platform, layer);
  try {
    const meta = JSON.parse(await readFile(join(dirOf(platform, layer, format, crs), String(version), 'file.json'), 'utf8')) as PredefinedFile;
    if (Date.now() - Date.parse(meta.builtAt) > platform.config.download.predefinedMaxAgeMs) return undefined;
    await stat(meta.path);
    return meta;
  } catch {
    return undefined;
  }
}

/**
 * The whole layer as a file. `principal` is the caller whose request builds it when it is not built yet: the
 * caller must be one the policy lets download the whole layer (checked by the Atom route before), so that what
 * is built is the whole layer whoever asks first (issue 11).
 */
export async function predefinedFile(platform: Platform, layer: string, format: FormatId, crs: number, principal: Principal): Promise<PredefinedFile> {
  const ready = await currentPredefined(platform, layer, format, crs);
  if (ready) return ready;
  const key = `${layer}/${format}/${crs}`;
  let p = building.get(key);
  if (!p) {
    p = build(platform, layer, format, crs, principal).finally(() => building.delete(key));
    building.set(key, p);
  }
  return p;
}

async function build(platform: Platform, layer: string, format: FormatId, crs: number, principal: Principal): Promise<PredefinedFile> {
  const client = await platform.pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock(hashtext('sdi.predefined'), hashtext($1))", [`${layer}/${format}/${crs}`]);
    // Another process may have built it while we waited.
    const ready = await currentPredefined(platform, layer, format, crs);
    if (ready) return ready;
    const version = await layerVersion(platform, layer);
    const req: ExtractRequest = { layers: [layer], format, crs, clip: true, zip: false };
    const prepared = await prepareExtract(platform, req, principal);
    const root = dirOf(platform, layer, format, crs);
    await mkdir(root, { recursive: true });
    const work = await mkdtemp(join(root, 'build-'));
    try {
      const r = await buildPreparedExtract(platform, prepared, { workDir: work, requestUrl: `(fichier pré-défini du service Atom : ${layer}, ${format}, EPSG:${crs})` });
      const final = join(root, String(version));
      await rm(final, { recursive: true, force: true });
      await mkdir(final, { recursive: true });
      const path = join(final, r.filename);
      await rename(r.path, path);
      const meta: PredefinedFile = { path, filename: r.filename, mediaType: r.mediaType, bytes: r.bytes, builtAt: new Date().toISOString() };
      await writeFile(join(final, 'file.json'), JSON.stringify(meta));
      // Older versions of the same file are of no use any more.
      for (const d of await readdir(root)) if (d !== String(version) && !d.startsWith('build-')) await rm(join(root, d), { recursive: true, force: true });
      return meta;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  } finally {
    await client.query("SELECT pg_advisory_unlock(hashtext('sdi.predefined'), hashtext($1))", [`${layer}/${format}/${crs}`]).catch(() => undefined);
    client.release();
  }
}
