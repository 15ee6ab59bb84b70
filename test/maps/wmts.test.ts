/**
 * Issue 9, tiles: WMTS 1.0.0 (OGC 07-057r7) against the real server and the demo data. The capabilities
 * validate against the official schema (§7.1.1.2); real clients use them: OWSLib's WebMapTileService (KVP
 * GetTile) and GDAL's WMTS driver (gdal_translate through the RESTful ResourceURL template, §10.2) in both
 * tile matrix sets; their images show Orléans where PostGIS puts it and nothing outside the region. A tile
 * equals the WMS GetMap of its box (one renderer); KVP and REST give the same tile and the same feature info; bad input gets the OWS
 * exception code, locator and status of WMTS Table 28.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseUrl, db, xmllint } from '../helpers.js';
import { decode, fetchMap, pixel } from './image.js';

const CAPS_XSD = 'wmts/1.0/wmtsGetCapabilities_response.xsd';
const EXC_XSD = 'ows/1.1.0/owsExceptionReport.xsd';
const PYTHON = process.env.QGIS_PYTHON ?? '/usr/bin/python3';

/** Tile sets as the server defines them (checked against the capabilities below). */
const SETS = {
  WebMercatorQuad: { srid: 3857, origin: [-20037508.3427892, 20037508.3427892], cell: (z: number) => (2 * 20037508.3427892) / 256 / 2 ** z },
  LAMB93_10cm: { srid: 2154, origin: [0, 12_000_000], cell: (z: number) => 0.1 * 2 ** (21 - z) },
} as const;
type SetId = keyof typeof SETS;

/** Orléans' inscribed-circle centre in each set's CRS. */
const orleans: Record<SetId, [number, number]> = { WebMercatorQuad: [0, 0], LAMB93_10cm: [0, 0] };

/** The tile (row, col) holding a point at level z, and the pixel of the point inside it. */
function tileOf(set: SetId, z: number, x: number, y: number) {
  const s = SETS[set];
  const span = s.cell(z) * 256;
  const col = Math.floor((x - s.origin[0]) / span);
  const row = Math.floor((s.origin[1] - y) / span);
  const i = Math.floor(((x - s.origin[0]) / span - col) * 256);
  const j = Math.floor(((s.origin[1] - y) / span - row) * 256);
  const box = { minx: s.origin[0] + col * span, maxy: s.origin[1] - row * span, maxx: s.origin[0] + (col + 1) * span, miny: s.origin[1] - (row + 1) * span };
  return { row, col, i, j, box };
}

async function fetchWmts(path: string): Promise<{ status: number; type: string; bytes: Buffer; text: string }> {
  const r = await fetch(`${baseUrl()}/wmts${path}`);
  const bytes = Buffer.from(await r.arrayBuffer());
  return { status: r.status, type: r.headers.get('content-type') ?? '', bytes, text: bytes.toString('utf8') };
}

const kvpTile = (set: SetId, z: number, row: number, col: number, extra = '') =>
  `?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=communes&STYLE=default&FORMAT=image/png&TILEMATRIXSET=${set}&TILEMATRIX=${z}&TILEROW=${row}&TILECOL=${col}${extra}`;

beforeAll(async () => {
  const { rows } = await db().query(
    `WITH c AS (SELECT (ST_MaximumInscribedCircle(geom)).center AS p FROM data.communes WHERE code = '45234')
     SELECT ST_X(p) AS x, ST_Y(p) AS y, ST_X(ST_Transform(p, 3857)) AS mx, ST_Y(ST_Transform(p, 3857)) AS my FROM c`,
  );
  orleans.LAMB93_10cm = [+rows[0].x, +rows[0].y];
  orleans.WebMercatorQuad = [+rows[0].mx, +rows[0].my];
});

describe('WMTS 1.0.0 GetCapabilities', () => {
  let caps = '';
  beforeAll(async () => {
    const r = await fetchWmts('?SERVICE=WMTS&REQUEST=GetCapabilities');
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^application\/xml/);
    caps = r.text;
  });

  it('is valid against the WMTS 1.0 schema (§7.1.1.2)', () => {
    const v = xmllint(caps, CAPS_XSD);
    expect(v.output).toContain('validates');
  });

  it('offers the communes layer in both tile matrix sets, PNG and JPEG, with its stored default style', () => {
    const layer = /<Layer>(?:(?!<\/Layer>).)*<ows:Identifier>communes<\/ows:Identifier>(?:(?!<\/Layer>).)*<\/Layer>/s.exec(caps)![0];
    expect(layer).toContain('<Style isDefault="true"><ows:Title>');
    expect(layer).toContain('<Format>image/png</Format><Format>image/jpeg</Format>');
    expect(layer).toMatch(/<TileMatrixSetLink><TileMatrixSet>WebMercatorQuad<\/TileMatrixSet>(<TileMatrixSetLimits>.*?<\/TileMatrixSetLimits>)?<\/TileMatrixSetLink>/s);
    expect(layer).toMatch(/<TileMatrixSetLink><TileMatrixSet>LAMB93_10cm<\/TileMatrixSet>(<TileMatrixSetLimits>.*?<\/TileMatrixSetLimits>)?<\/TileMatrixSetLink>/s);
    expect(layer).toContain(`template="${baseUrl()}/wmts/1.0.0/communes/{Style}/{TileMatrixSet}/{TileMatrix}/{TileRow}/{TileCol}.png"`);
  });

  it('describes LAMB93_10cm as the Géoplateforme does (ROK4 LAMB93_10cm: origin 0 12000000, 209715.2 m → 0.1 m)', () => {
    const set = /<TileMatrixSet><ows:Title>[^<]*<\/ows:Title><ows:Identifier>LAMB93_10cm<\/ows:Identifier>.*?<\/TileMatrixSet>/s.exec(caps)![0];
    expect(set).toContain('<ows:SupportedCRS>urn:ogc:def:crs:EPSG::2154</ows:SupportedCRS>');
    expect(set).toContain('<TileMatrix><ows:Identifier>0</ows:Identifier><ScaleDenominator>748982857.1428571</ScaleDenominator><TopLeftCorner>0 12000000</TopLeftCorner><TileWidth>256</TileWidth><TileHeight>256</TileHeight><MatrixWidth>1</MatrixWidth><MatrixHeight>1</MatrixHeight></TileMatrix>');
    expect(set).toContain('<TileMatrix><ows:Identifier>21</ows:Identifier><ScaleDenominator>357.14285714</ScaleDenominator><TopLeftCorner>0 12000000</TopLeftCorner><TileWidth>256</TileWidth><TileHeight>256</TileHeight><MatrixWidth>50400</MatrixWidth><MatrixHeight>420409</MatrixHeight></TileMatrix>');
  });

  for (const set of Object.keys(SETS) as SetId[]) {
    it(`${set}: TileMatrixSetLimits of communes enclose the tile of Orléans at each listed level, within the matrix (§7.1.1.2.2, Table 10)`, () => {
      const layer = /<Layer>(?:(?!<\/Layer>).)*<ows:Identifier>communes<\/ows:Identifier>(?:(?!<\/Layer>).)*<\/Layer>/s.exec(caps)![0];
      const link = new RegExp(`<TileMatrixSetLink><TileMatrixSet>${set}</TileMatrixSet>(.*?)</TileMatrixSetLink>`, 's').exec(layer)![1]!;
      const limits = [...link.matchAll(/<TileMatrixLimits><TileMatrix>(\d+)<\/TileMatrix><MinTileRow>(\d+)<\/MinTileRow><MaxTileRow>(\d+)<\/MaxTileRow><MinTileCol>(\d+)<\/MinTileCol><MaxTileCol>(\d+)<\/MaxTileCol><\/TileMatrixLimits>/g)].map((m) => m.slice(1).map(Number));
      // The region spans several tiles from level 8 on in both sets, down to level 20.
      expect(limits.map((l) => l[0])).toEqual(expect.arrayContaining([8, 12, 16, 20]));
      const matrices = [...caps.matchAll(new RegExp(`<ows:Identifier>${set}</ows:Identifier>.*?</TileMatrixSet>`, 'gs'))][0]![0];
      for (const [z, minRow, maxRow, minCol, maxCol] of limits) {
        const t = tileOf(set, z!, ...orleans[set]);
        expect(t.row).toBeGreaterThanOrEqual(minRow!);
        expect(t.row).toBeLessThanOrEqual(maxRow!);
        expect(t.col).toBeGreaterThanOrEqual(minCol!);
        expect(t.col).toBeLessThanOrEqual(maxCol!);
        // MaxTileRow/MaxTileCol are xs:positiveInteger; and the limits stay inside the matrix.
        expect(maxRow).toBeGreaterThan(0);
        expect(maxCol).toBeGreaterThan(0);
        const m = new RegExp(`<ows:Identifier>${z}</ows:Identifier>.*?<MatrixWidth>(\\d+)</MatrixWidth><MatrixHeight>(\\d+)</MatrixHeight>`, 's').exec(matrices)!;
        expect(maxCol).toBeLessThan(Number(m[1]));
        expect(maxRow).toBeLessThan(Number(m[2]));
      }
      // The region is a small part of the matrix at level 12 (not the whole matrix).
      const l12 = limits.find((l) => l[0] === 12)!;
      expect(l12[2]! - l12[1]!).toBeLessThan(100);
    });
  }

  it('is served at the RESTful address too (§10.2.1)', async () => {
    const r = await fetchWmts('/1.0.0/WMTSCapabilities.xml');
    expect(r.status).toBe(200);
    expect(r.text).toBe(caps);
  });
});

describe('WMTS GetTile', () => {
  for (const set of Object.keys(SETS) as SetId[]) {
    it(`${set}: the tile holding Orléans is drawn there, and equals the WMS GetMap of its box`, async () => {
      const z = 12;
      const t = tileOf(set, z, ...orleans[set]);
      const r = await fetchWmts(kvpTile(set, z, t.row, t.col));
      expect(r.status, r.text).toBe(200);
      expect(r.type).toBe('image/png');
      const img = await decode(r.bytes);
      expect([img.width, img.height]).toEqual([256, 256]);
      expect(pixel(img, t.i, t.j)[3]).toBeGreaterThan(50);
      const b = t.box;
      const m = await fetchMap(`SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=communes&STYLES=&CRS=EPSG:${SETS[set].srid}&BBOX=${b.minx},${b.miny},${b.maxx},${b.maxy}&WIDTH=256&HEIGHT=256&FORMAT=image/png&TRANSPARENT=TRUE`);
      expect(m.status).toBe(200);
      expect(Buffer.from((await decode(m.bytes)).data).equals(Buffer.from(img.data))).toBe(true);
      // RESTful: the same tile.
      const rest = await fetchWmts(`/1.0.0/communes/default/${set}/${z}/${t.row}/${t.col}.png`);
      expect(rest.status).toBe(200);
      expect(rest.bytes.equals(r.bytes)).toBe(true);
    });
  }

  it('a tile far from the region is empty (transparent), a JPEG tile is a JPEG', async () => {
    // Brest, 12th level of LAMB93_10cm: no commune of the region there.
    const t = tileOf('LAMB93_10cm', 12, 148000, 6836000);
    const r = await fetchWmts(kvpTile('LAMB93_10cm', 12, t.row, t.col));
    const img = await decode(r.bytes);
    expect(pixel(img, 128, 128)[3]).toBe(0);
    const j = await fetchWmts(kvpTile('WebMercatorQuad', 6, 22, 32).replace('image/png', 'image/jpeg'));
    expect(j.status).toBe(200);
    expect(j.type).toBe('image/jpeg');
    expect(j.bytes.subarray(0, 2).toString('hex')).toBe('ffd8');
  });
});

interface QgisWmts {
  valid: boolean;
  error: string;
  crs: string;
  file: string;
  extent: number[];
  center: number[];
  errors: string[];
  exception?: string;
}

describe('WMTS raster layers (issue 9)', () => {
  it('the demo raster is offered with its styles; a tile (KVP and REST) equals the WMS GetMap of its box in that style; its feature info is the pixel value; cached like vector tiles', async () => {
    const caps = (await fetchWmts('?SERVICE=WMTS&REQUEST=GetCapabilities')).text;
    const layer = /<Layer>(?:(?!<\/Layer>).)*<ows:Identifier>communes_densite<\/ows:Identifier>(?:(?!<\/Layer>).)*<\/Layer>/s.exec(caps)![0];
    expect(layer).toContain('<Style isDefault="true"><ows:Title>');
    expect(layer).toMatch(/<ows:Identifier>densite_classes<\/ows:Identifier>/);
    expect(layer).toContain('resourceType="FeatureInfo"');
    const set: SetId = 'LAMB93_10cm';
    const t = tileOf(set, 12, ...orleans[set]);
    const kvp = await fetchWmts(`?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=communes_densite&STYLE=densite_classes&FORMAT=image/png&TILEMATRIXSET=${set}&TILEMATRIX=12&TILEROW=${t.row}&TILECOL=${t.col}`);
    expect(kvp.status, kvp.text.slice(0, 300)).toBe(200);
    const rest = await fetch(`${baseUrl()}/wmts/1.0.0/communes_densite/densite_classes/${set}/12/${t.row}/${t.col}.png`);
    // The KVP request drew and cached it (src/tiles/raster-revision.ts); the REST one, the same tile, is served from the cache.
    expect(rest.headers.get('x-tile-cache')).toBe('hit');
    const img = await decode(Buffer.from(await rest.arrayBuffer()));
    expect(Buffer.from((await decode(kvp.bytes)).data).equals(Buffer.from(img.data))).toBe(true);
    expect(pixel(img, t.i, t.j).slice(0, 3)).toEqual([0, 104, 55]); // Orléans: the densest class
    const b = t.box;
    const m = await fetchMap(`SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=communes_densite&STYLES=densite_classes&CRS=EPSG:2154&BBOX=${b.minx},${b.miny},${b.maxx},${b.maxy}&WIDTH=256&HEIGHT=256&FORMAT=image/png&TRANSPARENT=TRUE`);
    expect(Buffer.from((await decode(m.bytes)).data).equals(Buffer.from(img.data))).toBe(true);
    const info = await fetchWmts(`/1.0.0/communes_densite/default/${set}/12/${t.row}/${t.col}/${t.j}/${t.i}.json`);
    expect(info.status, info.text).toBe(200);
    expect(JSON.parse(info.text).features[0].properties.value).toBeGreaterThan(1000);
    const bad = await fetchWmts(`/1.0.0/communes_densite/nope/${set}/12/${t.row}/${t.col}.png`);
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('locator="STYLE"');
  });
});

describe('WMTS GetFeatureInfo (§7.3)', () => {
  const gfi = (set: SetId, z: number, t: ReturnType<typeof tileOf>, format: string, extra = '') =>
    kvpTile(set, z, t.row, t.col).replace('REQUEST=GetTile', 'REQUEST=GetFeatureInfo') + `&I=${t.i}&J=${t.j}&INFOFORMAT=${encodeURIComponent(format)}${extra}`;

  it('is advertised (operation and InfoFormat) and answers the commune under the pixel, as the WMS would', async () => {
    const caps = (await fetchWmts('?SERVICE=WMTS&REQUEST=GetCapabilities')).text;
    expect(caps).toContain('<ows:Operation name="GetFeatureInfo">');
    expect(caps).toContain('<InfoFormat>application/json</InfoFormat>');
    for (const set of Object.keys(SETS) as SetId[]) {
      const t = tileOf(set, 12, ...orleans[set]);
      const r = await fetchWmts(gfi(set, 12, t, 'application/json'));
      expect(r.status, r.text).toBe(200);
      expect(r.type).toMatch(/^application\/json/);
      const doc = JSON.parse(r.text);
      expect(doc.features[0].properties).toMatchObject({ code: '45234', nom: 'Orléans' });
      const html = await fetchWmts(gfi(set, 12, t, 'text/html'));
      expect(html.type).toMatch(/^text\/html/);
      expect(html.text).toContain('Orléans');
    }
  });

  it('RESTful (§10.2.1): the capabilities template resourceType="FeatureInfo" …/{TileCol}/{J}/{I}.{ext}, filled in, answers as KVP', async () => {
    const caps = (await fetchWmts('?SERVICE=WMTS&REQUEST=GetCapabilities')).text;
    const layer = /<Layer>(?:(?!<\/Layer>).)*<ows:Identifier>communes<\/ows:Identifier>(?:(?!<\/Layer>).)*<\/Layer>/s.exec(caps)![0];
    const templates = Object.fromEntries([...layer.matchAll(/<ResourceURL format="([^"]+)" resourceType="FeatureInfo" template="([^"]+)"\/>/g)].map((m) => [m[1], m[2]]));
    expect(Object.keys(templates).sort()).toEqual(['application/geo+json', 'application/json', 'application/vnd.ogc.gml', 'text/html', 'text/plain', 'text/xml']);
    expect(templates['application/json']).toMatch(/\/wmts\/1\.0\.0\/communes\/\{Style\}\/\{TileMatrixSet\}\/\{TileMatrix\}\/\{TileRow\}\/\{TileCol\}\/\{J\}\/\{I\}\.json$/);
    for (const set of Object.keys(SETS) as SetId[]) {
      const t = tileOf(set, 12, ...orleans[set]);
      const fill = (tpl: string) =>
        tpl.replace(`${baseUrl()}/wmts`, '').replace('{Style}', 'default').replace('{TileMatrixSet}', set).replace('{TileMatrix}', '12').replace('{TileRow}', String(t.row)).replace('{TileCol}', String(t.col)).replace('{J}', String(t.j)).replace('{I}', String(t.i));
      const rest = await fetchWmts(fill(templates['application/json']!));
      expect(rest.status, rest.text).toBe(200);
      expect(rest.type).toMatch(/^application\/json/);
      const kvp = await fetchWmts(gfi(set, 12, t, 'application/json'));
      expect(JSON.parse(rest.text)).toEqual(JSON.parse(kvp.text));
      expect(JSON.parse(rest.text).features[0].properties).toMatchObject({ code: '45234' });
      const gml = await fetchWmts(fill(templates['application/vnd.ogc.gml']!));
      expect(gml.type).toMatch(/^application\/vnd\.ogc\.gml/);
      expect(gml.text).toContain('Orléans');
      expect((await fetchWmts(fill(templates['text/plain']!))).text).toContain('Orléans');
    }
    // Table 30 / Table 28 on the REST form too: a pixel outside the tile, an unknown extension, a query string.
    const t = tileOf('LAMB93_10cm', 12, ...orleans.LAMB93_10cm);
    const base = `/1.0.0/communes/default/LAMB93_10cm/12/${t.row}/${t.col}`;
    for (const [path, code, locator] of [
      [`${base}/${t.j}/256.json`, 'PointIJOutOfRange', 'I'],
      [`${base}/300/${t.i}.json`, 'PointIJOutOfRange', 'J'],
      [`${base}/${t.j}/${t.i}.png`, 'InvalidParameterValue', 'INFOFORMAT'],
      [`${base}/${t.j}/${t.i}.json?I=3`, 'InvalidParameterValue', 'I'],
      [`/1.0.0/communes/default/LAMB93_10cm/99/0/0/${t.j}/${t.i}.json`, 'TileOutOfRange', 'TILEMATRIX'],
    ] as const) {
      const r = await fetchWmts(path);
      expect(r.status, `${path}: ${r.text}`).toBe(400);
      expect(r.text).toContain(`exceptionCode="${code}" locator="${locator}"`);
    }
  });

  it('bad input: a pixel outside the tile is PointIJOutOfRange, an unknown INFOFORMAT InvalidParameterValue, I on GetTile refused', async () => {
    const t = tileOf('WebMercatorQuad', 12, ...orleans.WebMercatorQuad);
    const cases: Array<[string, string, string]> = [
      [gfi('WebMercatorQuad', 12, { ...t, i: 256 }, 'application/json'), 'PointIJOutOfRange', 'I'],
      [gfi('WebMercatorQuad', 12, t, 'image/png'), 'InvalidParameterValue', 'INFOFORMAT'],
      [kvpTile('WebMercatorQuad', 12, t.row, t.col, '&I=3'), 'InvalidParameterValue', 'I'],
    ];
    for (const [path, code, locator] of cases) {
      const r = await fetchWmts(path);
      expect(r.status, r.text).toBe(400);
      expect(r.text).toContain(`exceptionCode="${code}" locator="${locator}"`);
      expect(xmllint(r.text, EXC_XSD).output).toContain('validates');
    }
  });
});

describe('WMTS with real clients: OWSLib, GDAL and QGIS', () => {
  let report: { owslib: Record<string, unknown> & { exception?: string; file: string }; gdal: Record<string, { rc: number; stderr: string; file: string }> };
  let qgis: Record<SetId, QgisWmts> & { exception?: string };
  const win: Record<SetId, number[]> = { WebMercatorQuad: [], LAMB93_10cm: [] };
  let owsTile: ReturnType<typeof tileOf>;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdi-wmts-clients-'));
    // A 40 km window centred on Orléans in each CRS (projwin: ulx uly lrx lry).
    for (const set of Object.keys(SETS) as SetId[]) {
      const [x, y] = orleans[set];
      win[set] = [x - 20000, y + 20000, x + 20000, y - 20000];
    }
    owsTile = tileOf('LAMB93_10cm', 11, ...orleans.LAMB93_10cm);
    // GDAL's WMS driver caches tiles under ./gdalwmscache unless told otherwise: in this run's directory.
    const env: NodeJS.ProcessEnv = { ...process.env, PYTHONIOENCODING: 'utf-8', GDAL_DEFAULT_WMS_CACHE_PATH: join(dir, 'gdalwmscache') };
    for (const k of ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY']) delete env[k];
    const args = [join(import.meta.dirname, 'wmts_clients.py'), '--base', baseUrl(), '--out', dir, '--tile', `LAMB93_10cm,11,${owsTile.row},${owsTile.col}`];
    for (const set of Object.keys(SETS) as SetId[]) args.push('--window', `${set}:${win[set].join(',')}`);
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(PYTHON, args, { env, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 }, (err, o, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(o))),
    );
    report = JSON.parse(stdout);
    const q = await new Promise<string>((resolve, reject) =>
      execFile(PYTHON, [join(import.meta.dirname, 'wmts_qgis.py'), '--base', baseUrl(), '--out', dir, '--center', orleans.LAMB93_10cm.join(',')], { env: { ...env, QT_QPA_PLATFORM: 'offscreen' }, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 }, (err, o, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(o),
      ),
    );
    qgis = JSON.parse(q);
  });

  for (const set of Object.keys(SETS) as SetId[]) {
    it(`QGIS 3.22 loads the layer from the WMTS capabilities in ${set} and draws Orléans at the centre of its map`, async () => {
      expect(qgis.exception).toBeUndefined();
      const v = qgis[set];
      expect(v.exception).toBeUndefined();
      expect(v.valid, v.error).toBe(true);
      expect(v.crs).toBe(`EPSG:${SETS[set].srid}`);
      expect(v.errors).toEqual([]);
      const img = await decode(readFileSync(v.file));
      const [cx, cy] = v.center as [number, number];
      const e = v.extent;
      const i = Math.floor(((cx - e[0]!) / (e[2]! - e[0]!)) * img.width);
      const j = Math.floor(((e[3]! - cy) / (e[3]! - e[1]!)) * img.height);
      expect(pixel(img, i, j)[3]).toBeGreaterThan(50);
    });
  }

  it('OWSLib reads the capabilities (layers, both sets, the Lambert-93 grid) and gets a tile showing Orléans', async () => {
    const o = report.owslib;
    expect(o.exception).toBeUndefined();
    expect(o.version).toBe('1.0.0');
    expect(o.layers).toContain('communes');
    expect(o.sets).toEqual(['LAMB93_10cm', 'WebMercatorQuad']);
    const l0 = o.lamb93_level0 as { topleft: number[]; scale: number; width21: number; height21: number };
    expect(l0.topleft).toEqual([0, 12000000]);
    expect(l0.scale).toBeCloseTo(748982857.142857, 5);
    expect([l0.width21, l0.height21]).toEqual([50400, 420409]);
    expect(o.formats).toEqual(['image/png', 'image/jpeg']);
    expect(o.links).toEqual(['LAMB93_10cm', 'WebMercatorQuad']);
    const img = await decode(readFileSync(o.file));
    expect(pixel(img, owsTile.i, owsTile.j)[3]).toBeGreaterThan(50);
  });

  for (const set of Object.keys(SETS) as SetId[]) {
    it(`GDAL's WMTS driver renders a window of ${set} with Orléans drawn at its centre`, async () => {
      const g = report.gdal[set]!;
      expect(g.rc, g.stderr).toBe(0);
      const img = await decode(readFileSync(g.file));
      expect([img.width, img.height]).toEqual([256, 256]);
      // Orléans' inscribed circle (radius > 2 km) covers the window's centre pixels.
      expect(pixel(img, 128, 128)[3]).toBeGreaterThan(50);
    });
  }
});

describe('WMTS bad input (Table 28, OWS 1.1 ExceptionReport)', () => {
  const cases: Array<[string, string, number, string, string]> = [
    ['unknown layer', kvpTile('WebMercatorQuad', 0, 0, 0).replace('LAYER=communes', 'LAYER=nope'), 400, 'InvalidParameterValue', 'LAYER'],
    ['unknown style', kvpTile('WebMercatorQuad', 0, 0, 0).replace('STYLE=default', 'STYLE=nope'), 400, 'InvalidParameterValue', 'STYLE'],
    ['unknown matrix set', kvpTile('WebMercatorQuad', 0, 0, 0).replace('TILEMATRIXSET=WebMercatorQuad', 'TILEMATRIXSET=EPSG:4326'), 400, 'InvalidParameterValue', 'TILEMATRIXSET'],
    ['unknown format', kvpTile('WebMercatorQuad', 0, 0, 0).replace('image/png', 'image/gif'), 400, 'InvalidParameterValue', 'FORMAT'],
    ['row out of range', kvpTile('WebMercatorQuad', 2, 4, 0), 400, 'TileOutOfRange', 'TILEROW'],
    ['column out of range', kvpTile('LAMB93_10cm', 6, 0, 2), 400, 'TileOutOfRange', 'TILECOL'],
    ['matrix out of range', kvpTile('WebMercatorQuad', 25, 0, 0), 400, 'TileOutOfRange', 'TILEMATRIX'],
    ['negative row', kvpTile('WebMercatorQuad', 2, -1, 0), 400, 'InvalidParameterValue', 'TILEROW'],
    ['missing TILECOL', kvpTile('WebMercatorQuad', 2, 0, 0).replace('&TILECOL=0', ''), 400, 'MissingParameterValue', 'TILECOL'],
    ['unknown parameter', kvpTile('WebMercatorQuad', 0, 0, 0, '&BBOX=1,2,3,4'), 400, 'InvalidParameterValue', 'BBOX'],
    ['unknown request', '?SERVICE=WMTS&REQUEST=GetMap', 400, 'OperationNotSupported', 'REQUEST'],
    ['wrong version', kvpTile('WebMercatorQuad', 0, 0, 0).replace('VERSION=1.0.0', 'VERSION=2.0.0'), 400, 'InvalidParameterValue', 'VERSION'],
    ['wrong service', '?SERVICE=WMS&REQUEST=GetCapabilities', 400, 'InvalidParameterValue', 'SERVICE'],
    ['REST row out of range', '/1.0.0/communes/default/WebMercatorQuad/1/0/9.png', 400, 'TileOutOfRange', 'TILECOL'],
    ['REST unknown extension', '/1.0.0/communes/default/WebMercatorQuad/1/0/0.gif', 400, 'InvalidParameterValue', 'FORMAT'],
  ];
  for (const [name, path, status, code, locator] of cases) {
    it(`${name}: ${status} ${code} at ${locator}`, async () => {
      const r = await fetchWmts(path);
      expect(r.status, r.text).toBe(status);
      expect(r.type).toMatch(/^application\/xml/);
      expect(r.text).toContain(`exceptionCode="${code}" locator="${locator}"`);
      expect(r.text).not.toMatch(/SELECT|at .*\.js/);
      expect(xmllint(r.text, EXC_XSD).output).toContain('validates');
    });
  }
});
