/**
 * Issue 9, tiles: the WMTS tile cache on disk (SDI_TILE_CACHE_DIR of the server under test). A tile is drawn
 * once and then served from the cache; a change of the layer's data (a statement on its table: the trigger of
 * migration 0016) or of its style makes the cached tile unreachable, and the first request after the server heard
 * of it (its change feed, migration 0027) draws the change;
 * concurrent requests for the same new tile all get the whole tile (atomic rename); `cli.js seed-tiles` fills
 * the cache for a box and levels with every kind of cached tile (WMTS images of vector and raster layers, vector
 * tiles), draws nothing for tiles already cached, follows a raster file's change, and refuses bad options.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { baseUrl, db, ROOT } from '../helpers.js';
import { decode, fetchMap, pixel } from './image.js';

// Level 13: no other test asks for these tiles, so the first request is the first drawing.
const Z = 13;
let tile: { row: number; col: number; i: number; j: number };

async function getTile(row = tile.row, col = tile.col, z = Z, set = 'LAMB93_10cm', layer = 'communes') {
  const r = await fetch(`${baseUrl()}/wmts/1.0.0/${layer}/default/${set}/${z}/${row}/${col}.png`);
  const bytes = Buffer.from(await r.arrayBuffer());
  return { status: r.status, cache: r.headers.get('x-tile-cache'), bytes };
}

/**
 * The first answer after a change that is not the older cached tile. The server hears of a change through
 * its change feed (NOTIFY sdi_changes, src/db/change-feed.ts), which reaches it a little after the writer's
 * COMMIT returns (p50 0.04 ms, p99 20–30 ms on the loaded 2-core test machine): until then it may still
 * answer with the older tile, so the test asks again for up to 5 s (not a time it waits: it stops at once).
 */
async function afterChange<T extends { cache: string | null }>(ask: () => Promise<T>): Promise<T> {
  const end = Date.now() + 5000;
  for (;;) {
    const r = await ask();
    if (r.cache !== 'hit' || Date.now() > end) return r;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, [join(ROOT, 'dist/app/cli.js'), ...args], { env: { ...process.env, DATABASE_URL: inject('databaseUrl'), SDI_TILE_CACHE_DIR: inject('tileCacheDir'), LOG_LEVEL: 'warn' }, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

beforeAll(async () => {
  // The LAMB93_10cm level-13 tile (25.6 m cells) holding Orléans' inscribed-circle centre, and that pixel.
  const { rows } = await db().query(`SELECT ST_X(c) AS x, ST_Y(c) AS y FROM (SELECT (ST_MaximumInscribedCircle(geom)).center AS c FROM data.communes WHERE code = '45234') s`);
  const span = 0.1 * 2 ** (21 - Z) * 256;
  const fx = +rows[0].x / span;
  const fy = (12_000_000 - +rows[0].y) / span;
  tile = { col: Math.floor(fx), row: Math.floor(fy), i: Math.floor((fx - Math.floor(fx)) * 256), j: Math.floor((fy - Math.floor(fy)) * 256) };
});

afterAll(async () => {
  await db().query(`UPDATE sdi.styles SET title = 'Style par défaut' WHERE geometry_kind = 'polygon'`);
});

describe('WMTS tile cache', () => {
  it('draws a tile once (miss), then serves the same bytes from a file of the cache (hit)', async () => {
    const a = await getTile();
    expect(a.status).toBe(200);
    expect(a.cache).toBe('miss');
    const b = await getTile();
    expect(b.cache).toBe('hit');
    expect(b.bytes.equals(a.bytes)).toBe(true);
    const layerDir = join(inject('tileCacheDir'), 'communes');
    // <layer>/<revision>/<style>/<set>/<matrix>/<row>/<col>.png, under the current revision.
    const files = readdirSync(layerDir).map((rev) => join(layerDir, rev, 'default', 'LAMB93_10cm', String(Z), String(tile.row), `${tile.col}.png`));
    expect(files.filter((f) => existsSync(f))).toHaveLength(1);
  });

  it('a change of the data invalidates it: Orléans shrunk to a corner is no longer drawn there, restored it is again', async () => {
    expect((await getTile()).cache).toBe('hit');
    // Shrunk to a 10 m square at its own south-west corner: the layer's extent does not change (other tests
    // read it, and PostgreSQL's statistics may be taken meanwhile), the pixel at its centre empties.
    const { rows } = await db().query(`SELECT encode(ST_AsEWKB(geom), 'hex') AS g FROM data.communes WHERE code = '45234'`);
    const original = rows[0].g as string;
    const layerDir = join(inject('tileCacheDir'), 'communes');
    const revisions = () => readdirSync(layerDir).filter((e) => !e.startsWith('.retired-'));
    const before = revisions();
    await db().query(`UPDATE data.communes SET geom = ST_Multi(ST_MakeEnvelope(ST_XMin(geom), ST_YMin(geom), ST_XMin(geom) + 10, ST_YMin(geom) + 10, ST_SRID(geom))) WHERE code = '45234'`);
    try {
      const shrunk = await afterChange(() => getTile());
      expect(shrunk.cache).toBe('miss');
      expect(pixel(await decode(shrunk.bytes), tile.i, tile.j)[3]).toBe(0);
      // The first tile of the new revision retired the older ones (moved away before the answer, removed after).
      const after = revisions();
      expect(after).toHaveLength(1);
      expect(before).not.toContain(after[0]);
    } finally {
      await db().query(`UPDATE data.communes SET geom = ST_GeomFromEWKB(decode($1, 'hex')) WHERE code = '45234'`, [original]);
    }
    const back = await afterChange(() => getTile());
    expect(back.cache).toBe('miss');
    expect(pixel(await decode(back.bytes), tile.i, tile.j)[3]).toBeGreaterThan(50);
    expect((await getTile()).cache).toBe('hit');
  });

  it('a change of the style invalidates it (even one made in SQL without touching updated_at)', async () => {
    expect((await getTile()).cache).toBe('hit');
    await db().query(`UPDATE sdi.styles SET title = 'Style par défaut (modifié)' WHERE geometry_kind = 'polygon'`);
    expect((await afterChange(() => getTile())).cache).toBe('miss');
    expect((await getTile()).cache).toBe('hit');
  });

  it('concurrent requests for a tile not cached yet all get the whole tile', async () => {
    const all = await Promise.all(Array.from({ length: 8 }, () => getTile(tile.row + 1, tile.col)));
    for (const r of all) {
      expect(r.status).toBe(200);
      expect(r.bytes.equals(all[0]!.bytes)).toBe(true);
    }
    expect((await getTile(tile.row + 1, tile.col)).cache).toBe('hit');
  });
});

describe('HTTP revalidation and vector tiles through the cache', () => {
  it('a cached WMTS tile has an ETag; If-None-Match with it is 304 (RFC 9110 §13.1.2), with another 200', async () => {
    const url = `${baseUrl()}/wmts/1.0.0/communes/default/LAMB93_10cm/${Z}/${tile.row}/${tile.col}.png`;
    const a = await fetch(url);
    await a.arrayBuffer();
    const etag = a.headers.get('etag');
    expect(etag).toMatch(/^"[0-9a-f]{20}"$/);
    const b = await fetch(url, { headers: { 'if-none-match': etag! } });
    expect(b.status).toBe(304);
    expect((await b.arrayBuffer()).byteLength).toBe(0);
    const c = await fetch(url, { headers: { 'if-none-match': '"0123456789abcdef0123"' } });
    expect(c.status).toBe(200);
    expect(c.headers.get('content-type')).toBe('image/png');
  });

  it('vector tiles: miss then hit with the same bytes; a data change invalidates them and their ETag', async () => {
    const url = `${baseUrl()}/tiles/communes/9/258/178.pbf`;
    const a = await fetch(url);
    const bytesA = Buffer.from(await a.arrayBuffer());
    expect(a.status).toBe(200);
    expect(a.headers.get('x-tile-cache')).toBe('miss');
    const b = await fetch(url);
    expect(b.headers.get('x-tile-cache')).toBe('hit');
    expect(Buffer.from(await b.arrayBuffer()).equals(bytesA)).toBe(true);
    const etag = b.headers.get('etag')!;
    expect((await fetch(url, { headers: { 'if-none-match': etag } })).status).toBe(304);
    // A statement on the table (no visible change): new revision, new ETag, drawn again.
    await db().query(`UPDATE data.communes SET nom = nom WHERE code = '45234'`);
    const { c } = await afterChange(async () => {
      const c = await fetch(url, { headers: { 'if-none-match': etag } });
      // A 304 is the older revision still answered: asked again.
      return { c, cache: c.status === 304 ? 'hit' : c.headers.get('x-tile-cache') };
    });
    expect(c.status).toBe(200);
    expect(c.headers.get('x-tile-cache')).toBe('miss');
    expect(c.headers.get('etag')).not.toBe(etag);
    expect(Buffer.from(await c.arrayBuffer()).equals(bytesA)).toBe(true);
  });
});

describe('raster layers through the cache (src/tiles/raster-revision.ts)', () => {
  // The demo raster at level 13 of LAMB93_10cm, the tile holding Orléans (as the vector tiles above), with a
  // style of its own this test adds and removes, so that the style's rows and the tile are the test's alone.
  const STYLE = 'tc_rouge';
  const rasterTile = () => getTile(tile.row, tile.col, Z, 'LAMB93_10cm', 'communes_densite');
  const styled = async () => {
    const r = await fetch(`${baseUrl()}/wmts/1.0.0/communes_densite/${STYLE}/LAMB93_10cm/${Z}/${tile.row}/${tile.col}.png`);
    const bytes = Buffer.from(await r.arrayBuffer());
    return { status: r.status, cache: r.headers.get('x-tile-cache'), bytes, etag: r.headers.get('etag') };
  };
  const colour = (hex: string) => JSON.stringify({ name: STYLE, title: 'Rouge', opacity: 1, colorMap: { type: 'ramp', entries: [{ quantity: 0, color: hex, opacity: 1 }] } });
  afterAll(async () => {
    await db().query(`DELETE FROM sdi.raster_styles WHERE raster_name = 'communes_densite' AND name = $1`, [STYLE]);
  });

  it('a raster tile is drawn once (miss), then served from the cache (hit) with an ETag', async () => {
    const a = await rasterTile();
    expect(a.status).toBe(200);
    expect(a.cache).toBe('miss');
    const b = await rasterTile();
    expect(b.cache).toBe('hit');
    expect(b.bytes.equals(a.bytes)).toBe(true);
  });

  it('a change of its style, or of the file on disk, draws it again', async () => {
    await db().query(`DELETE FROM sdi.raster_styles WHERE raster_name = 'communes_densite' AND name = $1`, [STYLE]);
    await db().query(`INSERT INTO sdi.raster_styles (raster_name, name, title, document) VALUES ('communes_densite', $1, 'Rouge', $2)`, [STYLE, colour('#ff0000')]);
    const red = await styled();
    expect(red.status).toBe(200);
    expect(red.cache).toBe('miss');
    expect(pixel(await decode(red.bytes), tile.i, tile.j)).toEqual([255, 0, 0, 255]);
    expect((await styled()).cache).toBe('hit');
    // Changed in SQL (no admin route, no updated_at): the revision holds the style's document itself.
    await db().query(`UPDATE sdi.raster_styles SET document = $2 WHERE raster_name = 'communes_densite' AND name = $1`, [STYLE, colour('#0000ff')]);
    const blue = await styled();
    expect(blue.cache).toBe('miss');
    expect(blue.etag).not.toBe(red.etag);
    expect(pixel(await decode(blue.bytes), tile.i, tile.j)).toEqual([0, 0, 255, 255]);
    // The file rewritten in place (here: its modification time moved, as a copy over it does).
    const { rows } = await db().query(`SELECT file_path FROM sdi.raster_layers WHERE name = 'communes_densite'`);
    const later = new Date(Date.now() + 60_000);
    utimesSync(rows[0].file_path, later, later);
    expect((await styled()).cache).toBe('miss');
    expect((await styled()).cache).toBe('hit');
  });
});

describe('cli.js seed-tiles', () => {
  it('seeds the tiles of a layer over its extent for a range of levels; requests then hit the cache', async () => {
    const r = await cli(['seed-tiles', '--layer', 'departements', '--matrix-set', 'WebMercatorQuad', '--zoom', '5-8']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(report.tiles).toBeGreaterThan(4);
    expect(report.drawn + report.alreadyCached).toBe(report.tiles);
    // The Loiret at level 8 of WebMercatorQuad: tile x = floor((lon + 180) / 360 · 2^8), y from the latitude.
    const lon = 2.2;
    const lat = 47.9;
    const n = 2 ** 8;
    const col = Math.floor(((lon + 180) / 360) * n);
    const row = Math.floor(((1 - Math.log(Math.tan((lat * Math.PI) / 180) + 1 / Math.cos((lat * Math.PI) / 180)) / Math.PI) / 2) * n);
    expect((await getTile(row, col, 8, 'WebMercatorQuad', 'departements')).cache).toBe('hit');
    const again = await cli(['seed-tiles', '--layer', 'departements', '--matrix-set', 'WebMercatorQuad', '--zoom', '5-8']);
    expect(JSON.parse(again.stdout.trim().split('\n').pop()!)).toMatchObject({ tiles: report.tiles, drawn: 0, alreadyCached: report.tiles, pruned: 0 });
    // Another format of the same layer: seeded beside, the PNG tiles of the same revision are kept.
    const jpeg = await cli(['seed-tiles', '--layer', 'departements', '--matrix-set', 'WebMercatorQuad', '--zoom', '5-6', '--format', 'jpeg']);
    expect(JSON.parse(jpeg.stdout.trim().split('\n').pop()!)).toMatchObject({ pruned: 0 });
    expect((await getTile(row, col, 8, 'WebMercatorQuad', 'departements')).cache).toBe('hit');
  });

  // WebMercatorQuad (OGC 17-083r2 Annex D.1) counted here from the spherical Mercator formulas, not the server's code.
  const HALF = 20037508.342789244;
  const quadCol = (lon: number, z: number) => Math.floor(((lon + 180) / 360) * 2 ** z);
  const quadRow = (lat: number, z: number) => {
    const r = (lat * Math.PI) / 180;
    return Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * 2 ** z);
  };
  /** The tiles of a lon/lat box (edges inside tiles, not on their borders) at each level. */
  const quadTiles = (box: [number, number, number, number], z0: number, z1: number) => {
    const out: string[] = [];
    for (let z = z0; z <= z1; z++) {
      for (let row = quadRow(box[3], z); row <= quadRow(box[1], z); row++) for (let col = quadCol(box[0], z); col <= quadCol(box[2], z); col++) out.push(`${z}/${row}/${col}`);
    }
    return out;
  };
  const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!);
  /** z/row/col of the files under <layer>/<revision>/<style>/<set>, at the levels given. */
  const filesOf = (dir: string, ext: string, z0: number, z1: number) => {
    const out: string[] = [];
    for (let z = z0; z <= z1; z++) {
      if (!existsSync(join(dir, String(z)))) continue;
      for (const row of readdirSync(join(dir, String(z)))) {
        for (const f of readdirSync(join(dir, String(z), row))) if (f.endsWith(`.${ext}`)) out.push(`${z}/${row}/${f.slice(0, -ext.length - 1)}`);
      }
    }
    return out.sort();
  };

  it('seeds a raster layer (issue 9): the box\'s tiles at each level are written, a GetTile then hits the same map as a fresh GetMap; again: nothing drawn; the file rewritten: all drawn anew', async () => {
    // Around Orléans, edges inside tiles at levels 7 to 9 (a few tiles each).
    const BOX: [number, number, number, number] = [1.61, 47.63, 2.37, 48.07];
    const args = ['seed-tiles', '--layer', 'communes_densite', '--matrix-set', 'WebMercatorQuad', '--zoom', '7-9', '--bbox', BOX.join(',')];
    const expected = quadTiles(BOX, 7, 9).sort();
    expect(expected.length).toBeGreaterThan(6);
    const r = await cli(args);
    expect(r.code, r.stderr).toBe(0);
    const report = lastJson(r.stdout);
    expect(report).toMatchObject({ layer: 'communes_densite', kind: 'raster', format: 'image/png', matrixSet: 'WebMercatorQuad', levels: [7, 9], tiles: expected.length });
    expect(report.drawn + report.alreadyCached).toBe(expected.length);
    const layerDir = join(inject('tileCacheDir'), 'communes_densite');
    const revisions = () => readdirSync(layerDir).filter((e) => !e.startsWith('.retired-'));
    expect(revisions()).toHaveLength(1);
    const revision = revisions()[0]!;
    // Every tile of the box, and (other tests may have drawn tiles elsewhere at these levels) those inside it only.
    const inBox = (t: string) => expected.includes(t);
    expect(filesOf(join(layerDir, revision, 'default', 'WebMercatorQuad'), 'png', 7, 9).filter(inBox)).toEqual(expected);

    // The tile holding Orléans at level 9: served from the cache, and the same pixels as the WMS GetMap of its box.
    const z = 9;
    const row = quadRow(47.9, z);
    const col = quadCol(1.9, z);
    const hit = await getTile(row, col, z, 'WebMercatorQuad', 'communes_densite');
    expect(hit.status).toBe(200);
    expect(hit.cache).toBe('hit');
    const span = (2 * HALF) / 2 ** z;
    const bbox = [-HALF + col * span, HALF - (row + 1) * span, -HALF + (col + 1) * span, HALF - row * span];
    const fresh = await fetchMap(`SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=communes_densite&STYLES=&CRS=EPSG:3857&BBOX=${bbox.join(',')}&WIDTH=256&HEIGHT=256&FORMAT=image/png&TRANSPARENT=TRUE`);
    expect(fresh.status, fresh.text.slice(0, 300)).toBe(200);
    const [a, b] = [await decode(hit.bytes), await decode(fresh.bytes)];
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
    // Something is drawn there (not two empty images).
    expect(a.data.filter((_, k) => k % 4 === 3 && a.data[k]! > 0).length).toBeGreaterThan(1000);

    // Seeded again: nothing to draw.
    const again = await cli(args);
    expect(lastJson(again.stdout)).toMatchObject({ tiles: expected.length, drawn: 0, alreadyCached: expected.length, pruned: 0 });

    // The file rewritten in place: no data (-1) over a window holding that tile and 2 km around it (more than the
    // coarsest overview's pixel). A new revision: every tile drawn again, the older revision removed, and the tile
    // is the new picture, not the old file's overviews (src/render/raster.ts keys its overview VRT on the file's
    // size and date too), the same as a fresh GetMap; requests hit it under another ETag.
    const { rows } = await db().query(`SELECT file_path FROM sdi.raster_layers WHERE name = 'communes_densite'`);
    const file: string = rows[0].file_path;
    const backup = mkdtempSync(join(tmpdir(), 'seed-raster-'));
    for (const f of [file, `${file}.aux.xml`]) if (existsSync(f)) copyFileSync(f, join(backup, basename(f)));
    try {
      const env = await db().query(
        `SELECT ST_XMin(e) AS minx, ST_YMin(e) AS miny, ST_XMax(e) AS maxx, ST_YMax(e) AS maxy FROM (SELECT ST_Expand(ST_Transform(ST_MakeEnvelope($1, $2, $3, $4, 3857), 2154), 2000) AS e) s`,
        bbox,
      );
      const { default: gdal } = await import('gdal-async');
      const ds = gdal.open(file, 'r+');
      try {
        const gt = ds.geoTransform!;
        const { x: w, y: h } = ds.rasterSize;
        const c0 = Math.max(0, Math.floor((+env.rows[0].minx - gt[0]) / gt[1]));
        const c1 = Math.min(w, Math.ceil((+env.rows[0].maxx - gt[0]) / gt[1]));
        const r0 = Math.max(0, Math.floor((+env.rows[0].maxy - gt[3]) / gt[5]));
        const r1 = Math.min(h, Math.ceil((+env.rows[0].miny - gt[3]) / gt[5]));
        ds.bands.get(1).pixels.write(c0, r0, c1 - c0, r1 - r0, new Int16Array((c1 - c0) * (r1 - r0)).fill(-1));
        ds.flush();
      } finally {
        ds.close();
      }
      const changed = await cli(args);
      expect(changed.code, changed.stderr).toBe(0);
      expect(lastJson(changed.stdout)).toMatchObject({ tiles: expected.length, drawn: expected.length, alreadyCached: 0, pruned: 1 });
      expect(revisions()).toHaveLength(1);
      expect(revisions()[0]).not.toBe(revision);
      expect(filesOf(join(layerDir, revisions()[0]!, 'default', 'WebMercatorQuad'), 'png', 7, 9)).toEqual(expected);
      const after = await fetch(`${baseUrl()}/wmts/1.0.0/communes_densite/default/WebMercatorQuad/${z}/${row}/${col}.png`);
      expect(after.headers.get('x-tile-cache')).toBe('hit');
      expect(after.headers.get('etag')).toBe(`"${revisions()[0]}"`);
      const emptied = await decode(Buffer.from(await after.arrayBuffer()));
      expect(emptied.data.filter((_, k) => k % 4 === 3 && emptied.data[k]! > 0).length).toBe(0);
      const freshAfter = await fetchMap(`SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=communes_densite&STYLES=&CRS=EPSG:3857&BBOX=${bbox.join(',')}&WIDTH=256&HEIGHT=256&FORMAT=image/png&TRANSPARENT=TRUE`);
      expect(Buffer.from((await decode(freshAfter.bytes)).data).equals(Buffer.from(emptied.data))).toBe(true);
    } finally {
      // The demo file back (a copy: a new date, so a new revision again for the tests after this one).
      for (const f of readdirSync(backup)) copyFileSync(join(backup, f), join(dirname(file), f));
      rmSync(backup, { recursive: true, force: true });
    }
  });

  it('seeds vector tiles (--format mvt, WebMercatorQuad by default): both tile URLs then hit them; a fresh drawing is the same tile', async () => {
    const BOX: [number, number, number, number] = [1.61, 47.63, 2.37, 48.07];
    const args = ['seed-tiles', '--layer', 'departements', '--format', 'mvt', '--zoom', '6-8', '--bbox', BOX.join(',')];
    const expected = quadTiles(BOX, 6, 8).sort();
    const r = await cli(args);
    expect(r.code, r.stderr).toBe(0);
    const report = lastJson(r.stdout);
    expect(report).toMatchObject({ layer: 'departements', kind: 'mvt', format: 'application/vnd.mapbox-vector-tile', matrixSet: 'WebMercatorQuad', levels: [6, 8], tiles: expected.length });
    const layerDir = join(inject('tileCacheDir'), 'departements');
    const revision = readdirSync(layerDir).filter((e) => !e.startsWith('.retired-'))[0]!;
    // <layer>/<revision>/default/mvt/<z>/<y>/<x>.pbf (src/tiles/cache.ts; ../vector-tiles/cached-tile.ts).
    expect(filesOf(join(layerDir, revision, 'default', 'mvt'), 'pbf', 6, 8).filter((t) => expected.includes(t))).toEqual(expected);
    const z = 8;
    const y = quadRow(47.9, z);
    const x = quadCol(1.9, z);
    const plain = await fetch(`${baseUrl()}/tiles/departements/${z}/${x}/${y}.pbf`);
    expect(plain.status).toBe(200);
    expect(plain.headers.get('x-tile-cache')).toBe('hit');
    const seeded = Buffer.from(await plain.arrayBuffer());
    const ogc = await fetch(`${baseUrl()}/ogcapi/collections/departements/tiles/WebMercatorQuad/${z}/${y}/${x}`);
    expect(ogc.headers.get('x-tile-cache')).toBe('hit');
    expect(Buffer.from(await ogc.arrayBuffer()).equals(seeded)).toBe(true);
    expect(lastJson((await cli(args)).stdout)).toMatchObject({ tiles: expected.length, drawn: 0, alreadyCached: expected.length, pruned: 0 });
    // A statement on the table that changes nothing (the statement-level trigger still moves the revision): the
    // request draws the tile again, and it is the seeded one byte for byte.
    const { rows } = await db().query(`SELECT table_schema, table_name FROM sdi.layers WHERE name = 'departements'`);
    await db().query(`DELETE FROM "${rows[0].table_schema}"."${rows[0].table_name}" WHERE false`);
    const fresh = await afterChange(async () => {
      const f = await fetch(`${baseUrl()}/tiles/departements/${z}/${x}/${y}.pbf`);
      return { cache: f.headers.get('x-tile-cache'), bytes: Buffer.from(await f.arrayBuffer()) };
    });
    expect(fresh.cache).toBe('miss');
    expect(fresh.bytes.equals(seeded)).toBe(true);
  });

  it('refuses an unknown matrix set, a bad level range and a bad box', async () => {
    for (const [args, message] of [
      [['--matrix-set', 'EPSG:4326', '--zoom', '0-2'], /--matrix-set: one of WebMercatorQuad, LAMB93_10cm/],
      [['--matrix-set', 'WebMercatorQuad', '--zoom', '3-1'], /--zoom/],
      [['--matrix-set', 'WebMercatorQuad', '--zoom', '0-2', '--bbox', '3,47,1,48'], /--bbox/],
      [['--matrix-set', 'WebMercatorQuad', '--zoom', '0-2', '--concurrency', 'two'], /--concurrency/],
      [['--format', 'mvt', '--matrix-set', 'LAMB93_10cm', '--zoom', '0-2'], /WebMercatorQuad only/],
      [['--format', 'mvt', '--style', 'default', '--zoom', '0-2'], /--style/],
      [['--format', 'gif', '--matrix-set', 'WebMercatorQuad', '--zoom', '0-2'], /--format: image\/png, image\/jpeg, mvt/],
      [['--zoom', '0-2'], /--matrix-set: one of/],
    ] as const) {
      const r = await cli(['seed-tiles', '--layer', 'departements', ...args]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(message);
    }
  });

  it('an unknown layer is refused with the layers that can be seeded; a raster layer has no vector tiles', async () => {
    const r = await cli(['seed-tiles', '--layer', 'nope', '--matrix-set', 'WebMercatorQuad', '--zoom', '0-2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/No layer nope to seed\. Layers that can be seeded: .*\bcommunes\b.*\bdepartements\b.*communes_densite \(raster\)/);
    const m = await cli(['seed-tiles', '--layer', 'communes_densite', '--format', 'mvt', '--zoom', '0-2']);
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/communes_densite is a raster layer/);
    const st = await cli(['seed-tiles', '--layer', 'communes_densite', '--matrix-set', 'WebMercatorQuad', '--zoom', '0-2', '--style', 'nope']);
    expect(st.code).toBe(1);
    expect(st.stderr).toMatch(/Style nope is not defined for layer communes_densite/);
  });

  it('a layer not open to everyone is not seeded: its tiles depend on the caller (issue 11), the anonymous one sees none', async () => {
    for (const [table, name, args] of [
      ['sdi.layers', 'departements', ['--matrix-set', 'WebMercatorQuad', '--zoom', '0-2']],
      ['sdi.layers', 'departements', ['--format', 'mvt', '--zoom', '0-2']],
      ['sdi.raster_layers', 'communes_densite', ['--matrix-set', 'WebMercatorQuad', '--zoom', '0-2']],
    ] as const) {
      await db().query(`UPDATE ${table} SET public = false WHERE name = $1`, [name]);
      try {
        const r = await cli(['seed-tiles', '--layer', name, ...args]);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(new RegExp(`Layer ${name} is not open to everyone`));
      } finally {
        await db().query(`UPDATE ${table} SET public = true WHERE name = $1`, [name]);
      }
    }
  });
});
