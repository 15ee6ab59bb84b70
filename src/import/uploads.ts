/**
 * Resumable uploads (tus 1.0.0 core with the creation, expiration and termination extensions; issue 10): a large
 * file is sent in chunks, each a PATCH at the offset the server has (a HEAD tells it after a break), then
 * imported by `POST /admin/imports` with `upload=<id>`. This module is the store; services/admin/uploads.ts
 * speaks the protocol. One folder per upload under <download work dir>/uploads (per database, shared by the
 * processes like download results): `info.json` (declared length, metadata, expiry) and `data` (the bytes
 * received). The offset is the size of `data`: bytes written before a broken connection count, as tus wants.
 * Expired uploads are removed by the download janitor.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface UploadInfo {
  id: string;
  length: number;
  offset: number;
  /** Upload-Metadata, decoded (tus: base64 values). */
  metadata: Record<string, string>;
  /** The client's file name (metadata `filename` or `name`), used for the extension GDAL needs. */
  filename: string;
  expires: Date;
}

export class UploadError extends Error {
  constructor(readonly status: 400 | 404 | 409 | 410 | 413, message: string, readonly parameter?: string) {
    super(message);
  }
}

const ID = /^[0-9a-f]{32}$/;

export const uploadsRoot = (workDir: string) => join(workDir, 'uploads');

/** Upload-Metadata: comma-separated `key base64value` pairs (tus 1.0.0 §Upload-Metadata). */
export function parseUploadMetadata(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header || !header.trim()) return out;
  for (const pair of header.split(',')) {
    const [key, value, extra] = pair.trim().split(' ');
    if (!key || extra !== undefined || !/^[\x21-\x7e]+$/.test(key) || (value !== undefined && !/^[A-Za-z0-9+/]*={0,2}$/.test(value))) {
      throw new UploadError(400, 'Upload-Metadata is comma-separated "key base64value" pairs', 'Upload-Metadata');
    }
    if (key in out) throw new UploadError(400, `Upload-Metadata gives ${key.slice(0, 40)} twice`, 'Upload-Metadata');
    out[key] = value === undefined ? '' : Buffer.from(value, 'base64').toString('utf8');
  }
  return out;
}

export const encodeUploadMetadata = (m: Record<string, string>) => Object.entries(m).map(([k, v]) => `${k} ${Buffer.from(v, 'utf8').toString('base64')}`).join(',');

interface StoredInfo {
  length: number;
  metadata: Record<string, string>;
  expires: string;
}

export class UploadStore {
  constructor(readonly root: string, readonly maxBytes: number, readonly expiryMs: number) {}

  private dir(id: string): string {
    if (!ID.test(id)) throw new UploadError(404, `No upload ${id.slice(0, 40)}`, 'id');
    return join(this.root, id);
  }

  async create(length: number, metadata: Record<string, string>): Promise<UploadInfo> {
    if (!Number.isSafeInteger(length) || length < 0) throw new UploadError(400, 'Upload-Length is a non-negative integer', 'Upload-Length');
    if (length > this.maxBytes) throw new UploadError(413, `The upload (${length} bytes) exceeds the import limit of ${this.maxBytes} bytes`, 'Upload-Length');
    const id = randomBytes(16).toString('hex');
    const dir = join(this.root, id);
    await mkdir(dir, { recursive: true });
    const stored: StoredInfo = { length, metadata, expires: new Date(Date.now() + this.expiryMs).toISOString() };
    await writeFile(join(dir, 'data'), '');
    await writeFile(join(dir, 'info.json'), JSON.stringify(stored));
    return this.info(id);
  }

  /** The upload's state; 404 when unknown, 410 when expired (its files are removed then). */
  async info(id: string): Promise<UploadInfo> {
    const dir = this.dir(id);
    let stored: StoredInfo;
    let size: number;
    try {
      stored = JSON.parse(await readFile(join(dir, 'info.json'), 'utf8')) as StoredInfo;
      size = (await stat(join(dir, 'data'))).size;
    } catch {
      throw new UploadError(404, `No upload ${id}`, 'id');
    }
    const expires = new Date(stored.expires);
    if (expires.getTime() <= Date.now()) {
      await rm(dir, { recursive: true, force: true });
      throw new UploadError(410, `The upload ${id} has expired`, 'id');
    }
    const filename = stored.metadata.filename ?? stored.metadata.name ?? 'upload';
    return { id, length: stored.length, offset: size, metadata: stored.metadata, filename, expires };
  }

  /** The uploads a PATCH is writing now (in this process): a second PATCH of the same upload waits for none, it is refused. */
  private readonly writing = new Set<string>();

  /**
   * Append a chunk at `offset`, which must be the upload's (409 otherwise). What arrives before a broken
   * connection is kept; more than the declared length is refused (413) and nothing past it written.
   */
  async append(id: string, offset: number, body: Readable | undefined): Promise<UploadInfo> {
    const info = await this.info(id);
    if (!Number.isSafeInteger(offset) || offset < 0) throw new UploadError(400, 'Upload-Offset is a non-negative integer', 'Upload-Offset');
    if (offset !== info.offset) throw new UploadError(409, `Upload-Offset ${offset} is not the upload's offset ${info.offset} (ask with HEAD)`, 'Upload-Offset');
    if (this.writing.has(id)) throw new UploadError(409, 'Another PATCH of this upload is in progress', 'Upload-Offset');
    if (!body) return info;
    this.writing.add(id);
    try {
      let room = info.length - info.offset;
      const bounded = new Transform({
        transform(chunk: Buffer, _enc, done) {
          if (chunk.length > room) {
            done(new UploadError(413, `The chunk goes past the declared Upload-Length ${info.length}`, 'Upload-Length'));
            return;
          }
          room -= chunk.length;
          done(null, chunk);
        },
      });
      try {
        await pipeline(body, bounded, createWriteStream(join(this.dir(id), 'data'), { flags: 'a' }));
      } catch (e) {
        if (e instanceof UploadError) throw e;
        // A broken connection: the bytes written so far stay; the client asks HEAD and resumes.
      }
      return await this.info(id);
    } finally {
      this.writing.delete(id);
    }
  }

  async remove(id: string): Promise<void> {
    await this.info(id);
    await rm(this.dir(id), { recursive: true, force: true });
  }

  /** The data file of a complete upload, for an import (409 while bytes are missing). */
  async finished(id: string): Promise<{ path: string; info: UploadInfo }> {
    const info = await this.info(id);
    if (info.offset !== info.length) throw new UploadError(409, `The upload ${id} is incomplete: ${info.offset} of ${info.length} bytes`, 'upload');
    return { path: join(this.dir(id), 'data'), info };
  }

  /** Remove expired uploads (and folders of no upload left by a crash); how many were removed. */
  async removeExpired(now = Date.now()): Promise<number> {
    let n = 0;
    for (const id of await readdir(this.root).catch(() => [] as string[])) {
      if (!ID.test(id)) continue;
      const dir = join(this.root, id);
      const stored = await readFile(join(dir, 'info.json'), 'utf8').then((t) => JSON.parse(t) as StoredInfo).catch(() => undefined);
      const gone = stored ? new Date(stored.expires).getTime() <= now : ((await stat(dir).catch(() => undefined))?.mtimeMs ?? 0) < now - this.expiryMs;
      if (gone) {
        await rm(dir, { recursive: true, force: true });
        n++;
      }
    }
    return n;
  }
}
