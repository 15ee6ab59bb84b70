/**
 * Real WMS clients (issue 9): QGIS 3.22 headless loads the communes layer through its WMS provider
 * (1.3.0) in EPSG:2154 and in EPSG:4326 (where it sends a lat/lon BBOX) and renders it; OWSLib's
 * WebMapService reads the capabilities and gets a map. wms_clients.py reports raw facts and saves the
 * images; the pixel checks are here: Orléans painted where PostGIS puts it in the extent the client
 * drew, a corner outside the region left transparent.
 *
 * Nothing is skipped: /usr/bin/python3 must import qgis and owslib (scripts/test.sh installs them).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { baseUrl, db } from '../helpers.js';

const PYTHON = process.env.QGIS_PYTHON ?? '/usr/bin/python3';
const SCRIPT = join(import.meta.dirname, 'wms_clients.py');

interface QgisVariant {
  valid: boolean;
  error: string;
  crs: string;
  file: string;
  extent: [number, number, number, number];
  errors: string[];
  requests: string[];
  exception?: string;
}
interface Report {
  qgis: Record<string, QgisVariant> & { exception?: string };
  owslib111: {
    exception?: string;
    version: string;
    layers: string[];
    wgs84: number[];
    crs: string[];
    styles: Record<string, string>;
    getmapFormats: string[];
    getmap: { url: string; type: string; file: string };
    featureinfo: { url: string; body: string };
    serviceException: string | null;
  };
  owslib: {
    exception?: string;
    version: string;
    title: string;
    layers: string[];
    communes: { title: string; crs: string[]; wgs84: number[]; boundingBoxes: Array<[number, number, number, number, string]>; styles: string[] };
    getmapFormats: string[];
    getmap: { url: string; type: string; file: string };
  };
}

let report: Report;
let dir = '';

async function pixels(file: string) {
  const img = await loadImage(readFileSync(file));
  const c = createCanvas(img.width, img.height);
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const data = ctx.getImageData(0, 0, img.width, img.height).data;
  return { width: img.width, height: img.height, alpha: (i: number, j: number) => data[(j * img.width + i) * 4 + 3]! };
}

/** Orléans' inscribed-circle centre and a point of `extent`'s top-right corner, in `srid` (x/y), and how far that corner is from the region. */
async function positions(srid: number, extent: number[]) {
  const { rows } = await db().query(
    `WITH c AS (SELECT (ST_MaximumInscribedCircle(geom)).center AS p FROM data.communes WHERE code = '45234'),
          k AS (SELECT ST_SetSRID(ST_MakePoint($2, $3), $1) AS p)
     SELECT ST_X(ST_Transform(c.p, $1)) AS x, ST_Y(ST_Transform(c.p, $1)) AS y,
            (SELECT ST_Distance(r.geom, ST_Transform(k.p, 2154)) FROM data.region r) AS corner_distance
       FROM c, k`,
    [srid, extent[2]! - (extent[2]! - extent[0]!) / 100, extent[3]! - (extent[3]! - extent[1]!) / 100],
  );
  return { x: +rows[0].x, y: +rows[0].y, cornerDistance: +rows[0].corner_distance };
}

function toPixel(extent: number[], w: number, h: number, x: number, y: number): [number, number] {
  return [Math.floor(((x - extent[0]!) / (extent[2]! - extent[0]!)) * w), Math.floor(((extent[3]! - y) / (extent[3]! - extent[1]!)) * h)];
}

beforeAll(async () => {
  expect(existsSync(PYTHON), `${PYTHON} (with python3-qgis and python3-owslib) must exist`).toBe(true);
  dir = mkdtempSync(join(tmpdir(), 'sdi-wms-clients-'));
  const env: NodeJS.ProcessEnv = { ...process.env, QT_QPA_PLATFORM: 'offscreen', PYTHONIOENCODING: 'utf-8' };
  for (const k of ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY']) delete env[k];
  await new Promise<void>((resolve, reject) =>
    execFile(PYTHON, [SCRIPT, '--base', baseUrl(), '--out', dir], { env, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 }, (err, _o, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve())),
  );
  report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
  return () => rmSync(dir, { recursive: true, force: true });
}, 320_000);

describe('QGIS 3.22 WMS provider', () => {
  for (const [variant, srid] of [['epsg2154', 2154], ['epsg4326', 4326], ['v111_epsg4326', 4326], ['raster_epsg3857', 3857]] as const) {
    it(`${variant}: loads the layer and renders the communes (or the density raster) where they are`, async () => {
      expect(report.qgis.exception).toBeUndefined();
      const v = report.qgis[variant]!;
      expect(v.exception).toBeUndefined();
      expect(v.valid, v.error).toBe(true);
      expect(v.crs).toBe(`EPSG:${srid}`);
      expect(v.errors).toEqual([]);
      expect(v.requests.length).toBeGreaterThan(0);
      const sent = new URL(v.requests[0]!).searchParams;
      const bbox = sent.get('BBOX')!.split(',').map(Number);
      if (variant.startsWith('v111')) {
        // WMS 1.1.1 (OGC 01-068r3 §6.5.6): SRS, and EPSG:4326 boxes longitude first.
        expect(sent.get('VERSION')).toBe('1.1.1');
        expect(sent.get('SRS')).toBe('EPSG:4326');
        expect(bbox[0]).toBeLessThan(10);
        expect(bbox[1]).toBeGreaterThan(40);
      } else if (srid === 4326) {
        // WMS 1.3.0 and EPSG:4326: QGIS sends latitude first.
        expect(bbox[0]).toBeGreaterThan(40);
        expect(bbox[1]).toBeLessThan(10);
      }
      const img = await pixels(v.file);
      const o = await positions(srid, v.extent);
      const [i, j] = toPixel(v.extent, img.width, img.height, o.x, o.y);
      expect(img.alpha(i, j), `Orléans at pixel ${i},${j}`).toBeGreaterThan(50);
      // The top-right corner is well outside the region (checked in PostGIS), and nothing is drawn there.
      expect(o.cornerDistance).toBeGreaterThan(3000);
      expect(img.alpha(img.width - 2, 1)).toBe(0);
    });
  }
});

describe('OWSLib WebMapService 1.3.0', () => {
  it('reads the capabilities: title, layers, CRSs, styles, the EPSG:4326 box read as lat/lon', async () => {
    const o = report.owslib;
    expect(o.exception).toBeUndefined();
    expect(o.version).toBe('1.3.0');
    expect(o.title).toBe('Plateforme régionale de données géographiques');
    const { rows } = await db().query(`SELECT name FROM (SELECT name FROM sdi.layers WHERE published AND kind = 'feature' UNION ALL SELECT name FROM sdi.raster_layers WHERE published) l ORDER BY name`);
    expect(o.layers).toEqual(rows.map((r) => r.name));
    expect(o.communes.title).toBe('Communes');
    for (const c of ['EPSG:2154', 'EPSG:4326', 'EPSG:3857', 'CRS:84']) expect(o.communes.crs).toContain(c);
    expect(o.communes.styles).toEqual(['default']);
    expect(o.getmapFormats).toEqual(['image/png', 'image/jpeg', 'image/png; mode=8bit', 'image/png8']);
    // OWSLib turns 1.3.0 EPSG:4326 boxes back to lon/lat: equal to the geographic box only if we wrote lat/lon.
    const b4326 = o.communes.boundingBoxes.find((b) => b[4] === 'EPSG:4326')!;
    expect(b4326.slice(0, 4)).toEqual(o.communes.wgs84);
  });

  it('gets a map with Orléans painted', async () => {
    const g = report.owslib.getmap;
    expect(g.type).toBe('image/png');
    const img = await pixels(g.file);
    const extent = [560000, 6670000, 660000, 6770000];
    const o = await positions(2154, extent);
    const [i, j] = toPixel(extent, img.width, img.height, o.x, o.y);
    expect(img.alpha(i, j)).toBeGreaterThan(50);
  });
});

describe('OWSLib WebMapService 1.1.1', () => {
  it('reads the 1.1.1 capabilities: layers, SRS list, LatLonBoundingBox, the 1.1.1 LegendURL', async () => {
    const o = report.owslib111;
    expect(o.exception).toBeUndefined();
    expect(o.version).toBe('1.1.1');
    const { rows } = await db().query(`SELECT name FROM (SELECT name FROM sdi.layers WHERE published AND kind = 'feature' UNION ALL SELECT name FROM sdi.raster_layers WHERE published) l ORDER BY name`);
    expect(o.layers).toEqual(rows.map((r) => r.name));
    for (const c of ['EPSG:2154', 'EPSG:4326', 'EPSG:3857']) expect(o.crs).toContain(c);
    expect(o.wgs84[0]).toBeLessThan(o.wgs84[2]!);
    expect(o.wgs84[1]).toBeGreaterThan(46); // lon/lat: the second number is the southern latitude
    expect(o.styles.default).toContain('VERSION=1.1.1&REQUEST=GetLegendGraphic');
    expect(o.getmapFormats).toContain('image/png; mode=8bit');
  });

  it('gets a map with SRS=EPSG:4326 and a lon/lat box, Orléans painted', async () => {
    const g = report.owslib111.getmap;
    expect(g.url).toContain('version=1.1.1');
    expect(g.type).toBe('image/png');
    const img = await pixels(g.file);
    const extent = [1.3, 47.5, 3.2, 49.0];
    const o = await positions(4326, extent);
    const [i, j] = toPixel(extent, img.width, img.height, o.x, o.y);
    expect(img.alpha(i, j)).toBeGreaterThan(50);
    expect(img.alpha(img.width - 2, 1)).toBe(0);
  });

  it('GetFeatureInfo with X/Y returns the commune under the pixel; a bad layer raises its ServiceException (application/vnd.ogc.se_xml)', async () => {
    const f = report.owslib111.featureinfo;
    expect(f.url).toMatch(/[?&]x=150&y=150|[?&]X=150&Y=150/i);
    const extent = [560000, 6670000, 660000, 6770000];
    const { rows } = await db().query(
      `SELECT code FROM data.communes WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint($1, $2), 2154))`,
      [extent[0]! + (150.5 / 300) * (extent[2]! - extent[0]!), extent[3]! - (150.5 / 300) * (extent[3]! - extent[1]!)],
    );
    const fc = JSON.parse(f.body) as { features: Array<{ properties: { code: string } }> };
    expect(fc.features.map((x) => x.properties.code)).toEqual(rows.map((r) => r.code));
    expect(report.owslib111.serviceException).toContain('code="LayerNotDefined"');
  });
});
