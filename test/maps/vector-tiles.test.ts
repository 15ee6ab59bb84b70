/**
 * Issue 9, tiles: Mapbox Vector Tiles from ST_AsMVT through the planner, at the OGC API – Tiles 1.0 address
 * (OGC 20-057: tileset list §7.4, tileset metadata §7.5, tile §7.6, tile matrix sets per 2D-TMS 2.0) and at
 * the plain {z}/{x}/{y}.pbf URL with its TileJSON 3.0.0 document. The tiles are read by GDAL's MVT driver
 * (ogrinfo): the communes of the tile are there with their attributes, Orléans among them; an empty tile is
 * 204; bad input is problem+json with the right status.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseUrl, db } from '../helpers.js';

const MVT = 'application/vnd.mapbox-vector-tile';
/** The level-8 WebMercatorQuad tile holding Orléans (x 129, y 89). */
const Z = 8;
let X = 0;
let Y = 0;

async function get(path: string) {
  const r = await fetch(`${baseUrl()}${path}`);
  const bytes = Buffer.from(await r.arrayBuffer());
  return { status: r.status, type: r.headers.get('content-type') ?? '', bytes, text: bytes.toString('utf8') };
}

/** ogrinfo (GDAL's MVT driver) on a tile saved as …/z/x/y.pbf, the layout the driver georeferences. */
function ogrinfo(bytes: Buffer, z: number, x: number, y: number, ...args: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'sdi-mvt-'));
  mkdirSync(join(dir, String(z), String(x)), { recursive: true });
  const file = join(dir, String(z), String(x), `${y}.pbf`);
  writeFileSync(file, bytes);
  return execFileSync('ogrinfo', ['-ro', '-al', ...args, file], { encoding: 'utf8' });
}

beforeAll(async () => {
  const { rows } = await db().query(`SELECT ST_X(c) AS x, ST_Y(c) AS y FROM (SELECT ST_Transform((ST_MaximumInscribedCircle(geom)).center, 4326) AS c FROM data.communes WHERE code = '45234') s`);
  const n = 2 ** Z;
  const lat = (+rows[0].y * Math.PI) / 180;
  X = Math.floor(((+rows[0].x + 180) / 360) * n);
  Y = Math.floor(((1 - Math.log(Math.tan(lat) + 1 / Math.cos(lat)) / Math.PI) / 2) * n);
});

describe('OGC API – Tiles: vector tilesets of a collection', () => {
  it('lists one vector tileset in WebMercatorQuad (§7.4), with its metadata and tiling scheme links', async () => {
    const r = await get('/ogcapi/collections/communes/tiles');
    expect(r.status).toBe(200);
    const doc = JSON.parse(r.text);
    expect(doc.tilesets).toHaveLength(1);
    expect(doc.tilesets[0]).toMatchObject({ dataType: 'vector', crs: 'http://www.opengis.net/def/crs/EPSG/0/3857', tileMatrixSetURI: 'http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad' });
    const rels = doc.tilesets[0].links.map((l: { rel: string }) => l.rel);
    expect(rels).toEqual(['self', 'http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme']);
  });

  it('describes the tileset (§7.5): the tile template, the layer and its properties; the template gives the tile', async () => {
    const doc = JSON.parse((await get('/ogcapi/collections/communes/tiles/WebMercatorQuad')).text);
    expect(doc.dataType).toBe('vector');
    expect(doc.layers[0]).toMatchObject({ id: 'communes', dataType: 'vector', geometryDimension: 2, minTileMatrix: '0', maxTileMatrix: '20' });
    expect(doc.layers[0].propertiesSchema.properties).toMatchObject({ code: { type: 'string' }, nom: { type: 'string' } });
    expect(doc.boundingBox.crs).toBe('http://www.opengis.net/def/crs/OGC/1.3/CRS84');
    const item = doc.links.find((l: { rel: string }) => l.rel === 'item');
    expect(item).toMatchObject({ type: MVT, templated: true });
    const url = item.href.replace('{tileMatrix}', Z).replace('{tileRow}', Y).replace('{tileCol}', X);
    const t = await fetch(url);
    expect(t.status).toBe(200);
    expect(t.headers.get('content-type')).toBe(MVT);
    const plain = await get(`/tiles/communes/${Z}/${X}/${Y}.pbf`);
    expect(Buffer.from(await t.arrayBuffer()).equals(plain.bytes)).toBe(true);
    // The tiling scheme it links to (2D-TMS 2.0 JSON).
    const tms = JSON.parse((await get('/ogcapi/tileMatrixSets/WebMercatorQuad')).text);
    expect(tms.tileMatrices).toHaveLength(21);
    expect(tms.tileMatrices[0].scaleDenominator).toBeCloseTo(559082264.0287178, 3);
    expect(tms.tileMatrices[0].pointOfOrigin).toEqual([-20037508.3427892, 20037508.3427892]);
    const l93 = JSON.parse((await get('/ogcapi/tileMatrixSets/LAMB93_10cm')).text);
    expect(l93.tileMatrices[21]).toMatchObject({ cellSize: 0.1, pointOfOrigin: [0, 12000000], matrixWidth: 50400, matrixHeight: 420409 });
  });
});

describe('vector tiles read by GDAL (ogrinfo, MVT driver)', () => {
  it('the tile holds the communes that reach it, with their attributes; Orléans among them', async () => {
    const r = await get(`/tiles/communes/${Z}/${X}/${Y}.pbf`);
    expect(r.status).toBe(200);
    expect(r.type).toBe(MVT);
    const summary = ogrinfo(r.bytes, Z, X, Y, '-so');
    expect(summary).toMatch(/Layer name: communes/);
    const count = Number(/Feature Count: (\d+)/.exec(summary)![1]);
    // Between the communes meeting the tile and those meeting it grown by the 64/4096 buffer: the generalisation
    // rule (polygons under one pixel squared vanish, ~0.17 km² of ground here at level 8) drops none of them,
    // the smallest commune of the demo data being larger.
    const { rows } = await db().query(
      `WITH e AS (SELECT ST_TileEnvelope($1, $2, $3) AS t)
       SELECT count(*) FILTER (WHERE ST_Intersects(ST_Transform(c.geom, 3857), e.t)) AS inside,
              count(*) FILTER (WHERE ST_Intersects(ST_Transform(c.geom, 3857), ST_Expand(e.t, (ST_XMax(e.t) - ST_XMin(e.t)) * 64 / 4096))) AS buffered
         FROM data.communes c, e`,
      [Z, X, Y],
    );
    expect(count).toBeGreaterThanOrEqual(Number(rows[0].inside));
    expect(count).toBeLessThanOrEqual(Number(rows[0].buffered));
    expect(Number(rows[0].inside)).toBeGreaterThan(100);
    const orleans = ogrinfo(r.bytes, Z, X, Y, '-where', "code = '45234'");
    expect(orleans).toContain('nom (String) = Orléans');
    expect(orleans).toMatch(/MULTIPOLYGON|POLYGON/);
  });

  it('TileJSON 3.0.0 describes the plain URL; its template gives the same tile', async () => {
    const r = await get('/tiles/communes/tilejson.json');
    expect(r.status).toBe(200);
    const doc = JSON.parse(r.text);
    expect(doc).toMatchObject({ tilejson: '3.0.0', scheme: 'xyz', minzoom: 0, maxzoom: 20 });
    expect(doc.vector_layers[0]).toMatchObject({ id: 'communes', fields: { code: 'String', nom: 'String' } });
    expect(doc.bounds[0]).toBeLessThan(doc.bounds[2]);
    const t = await fetch(doc.tiles[0].replace('{z}', Z).replace('{x}', X).replace('{y}', Y));
    expect(t.status).toBe(200);
    expect(Buffer.from(await t.arrayBuffer()).equals((await get(`/tiles/communes/${Z}/${X}/${Y}.pbf`)).bytes)).toBe(true);
  });

  it('a point layer: its points in the tile', async () => {
    const r = await get(`/tiles/communes_points/${Z}/${X}/${Y}.pbf`);
    expect(r.status).toBe(200);
    expect(ogrinfo(r.bytes, Z, X, Y, '-so')).toMatch(/Geometry: (Multi )?Point/);
  });

  it('a tile no feature reaches is 204 No Content (OGC 20-057 §7.6, Permission 3)', async () => {
    const r = await get('/tiles/communes/8/0/0.pbf');
    expect(r.status).toBe(204);
    expect(r.bytes.length).toBe(0);
  });
});

describe('vector tiles: bad input (problem+json)', () => {
  const cases: Array<[string, string, number]> = [
    ['unknown collection', '/ogcapi/collections/nope/tiles', 404],
    ['unknown layer (plain URL)', '/tiles/nope/8/129/89.pbf', 404],
    ['unknown tile matrix set', '/ogcapi/collections/communes/tiles/LAMB93_10cm', 404],
    ['level out of range', '/ogcapi/collections/communes/tiles/WebMercatorQuad/25/0/0', 404],
    ['column out of range', '/tiles/communes/2/4/0.pbf', 404],
    ['not a number', '/ogcapi/collections/communes/tiles/WebMercatorQuad/8/x/1', 400],
    ['not a .pbf', '/tiles/communes/8/129/89.png', 404],
    ['unknown parameter', `/tiles/communes/8/129/89.pbf?filter=x`, 400],
    ['unknown f', '/ogcapi/collections/communes/tiles?f=html', 400],
  ];
  for (const [name, path, status] of cases) {
    it(`${name}: ${status}`, async () => {
      const r = await get(path);
      expect(r.status, r.text).toBe(status);
      expect(r.type).toMatch(/^application\/problem\+json/);
      const p = JSON.parse(r.text);
      expect(p.status).toBe(status);
      expect(r.text).not.toMatch(/SELECT|\.js:/);
    });
  }
});

describe('OGC API – Tiles discovered from the OGC API landing page, conformance and collections', () => {
  it('lists the Tiles conformance classes (OGC 20-057 Annex A) and links each collection to its vector tilesets (§6.2, rel tilesets-vector)', async () => {
    const conf = JSON.parse((await get('/ogcapi/conformance')).text).conformsTo as string[];
    for (const c of ['core', 'tileset', 'tilesets-list', 'geodata-tilesets', 'mvt']) expect(conf).toContain(`http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/${c}`);
    expect(conf).toContain('http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core');
    const landing = JSON.parse((await get('/ogcapi/')).text);
    const schemes = landing.links.find((l: { rel: string }) => l.rel === 'http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes');
    expect(schemes?.href).toMatch(/\/ogcapi\/tileMatrixSets$/);
    const all = JSON.parse((await get('/ogcapi/collections')).text);
    const listed = all.collections.find((c: { id: string }) => c.id === 'communes');
    const tiles = listed.links.find((l: { rel: string }) => l.rel === 'http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector');
    expect(tiles).toMatchObject({ type: 'application/json' });
    expect(tiles.href).toMatch(/\/ogcapi\/collections\/communes\/tiles$/);
    const list = await fetch(tiles.href);
    expect(list.status).toBe(200);
    expect((await list.json()).tilesets[0].dataType).toBe('vector');
  });

  it('GDAL 3.6 (ogrinfo OGCAPI:…) still opens a collection, through its items: the single collection document leaves the tilesets link out', () => {
    const out = execFileSync('ogrinfo', ['-ro', '-so', `OGCAPI:${baseUrl()}/ogcapi/collections/communes`, 'communes'], { encoding: 'utf8' });
    expect(out).toMatch(/Feature Count: \d+/);
    expect(out).toMatch(/Multi Polygon/);
    // Every collection of the list is a subdataset GDAL can open.
    expect(execFileSync('ogrinfo', ['-ro', '-so', `OGCAPI:${baseUrl()}/ogcapi/collections`], { encoding: 'utf8' })).toMatch(/SUBDATASET_\d+_NAME=OGCAPI:.*\/collections\/communes/);
  });

  it('the tile matrix set carries the 2D-TMS 1.0 members GDAL 3.6 reads beside the 2.0 ones: GDAL tiles a COG with it', async () => {
    const text = (await get('/ogcapi/tileMatrixSets/WebMercatorQuad')).text;
    const tms = JSON.parse(text);
    expect(tms).toMatchObject({ type: 'TileMatrixSetType', identifier: 'WebMercatorQuad', supportedCRS: 'http://www.opengis.net/def/crs/EPSG/0/3857' });
    expect(tms.tileMatrices[3]).toMatchObject({ identifier: '3', id: '3', topLeftCorner: [-20037508.3427892, 20037508.3427892] });
    // GDAL's own parser of tile matrix sets (gcore/tilematrixset.cpp, the one its OGCAPI driver uses), run by the COG driver.
    const dir = mkdtempSync(join(tmpdir(), 'sdi-tms-'));
    writeFileSync(join(dir, 'tms.json'), text);
    execFileSync('gdal_create', ['-of', 'GTiff', '-outsize', '16', '16', '-bands', '1', '-a_srs', 'EPSG:3857', '-a_ullr', '0', '5000', '5000', '0', join(dir, 'in.tif')]);
    const out = execFileSync('gdal_translate', ['-of', 'COG', '-co', `TILING_SCHEME=${join(dir, 'tms.json')}`, join(dir, 'in.tif'), join(dir, 'out.tif')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).not.toMatch(/ERROR/);
    expect(execFileSync('gdalinfo', [join(dir, 'out.tif')], { encoding: 'utf8' })).toMatch(/Pseudo-Mercator|3857/);
  });
});

/** The names in layer L's tile of level z holding the squares of the generalisation tests (ogrinfo reads it). */
async function squareTileNames(L: string, z: number): Promise<string[]> {
  const { rows } = await db().query(`SELECT ST_X(p) AS x, ST_Y(p) AS y FROM ST_Transform(ST_SetSRID(ST_MakePoint(618200, 6756000), 2154), 4326) p`);
  const n = 2 ** z;
  const lat = (+rows[0].y * Math.PI) / 180;
  const x = Math.floor(((+rows[0].x + 180) / 360) * n);
  const y = Math.floor(((1 - Math.log(Math.tan(lat) + 1 / Math.cos(lat)) / Math.PI) / 2) * n);
  const r = await get(`/tiles/${L}/${z}/${x}/${y}.pbf`);
  expect(r.status).toBe(200);
  return [...ogrinfo(r.bytes, z, x, y).matchAll(/nom \(String\) = (\S+)/g)].map((m) => m[1]!).sort();
}

describe('vector tiles: generalisation (src/render/mvt-sql.ts)', () => {
  // A layer of this file's own: two squares in Lambert-93 near Orléans, 40 m (0.16 ha) and 400 m (16 ha) a side,
  // and a 40 m line. At level 9 a pixel (a cell of the 256-cell tile matrix) is ~306 m of EPSG:3857, ~205 m of
  // ground here (~4.2 ha): the small square vanishes, the large one and the line stay; at level 15 (~3.2 m) all three.
  const L = 'mvt_rule_squares';
  beforeAll(async () => {
    await db().query(`DROP TABLE IF EXISTS data.${L}`);
    await db().query(`DELETE FROM sdi.layers WHERE name = $1`, [L]);
    await db().query(`CREATE TABLE data.${L} (fid serial PRIMARY KEY, nom text, geom geometry(Geometry, 2154))`);
    await db().query(
      `INSERT INTO data.${L} (nom, geom) VALUES
         ('petit', ST_MakeEnvelope(618000, 6756000, 618040, 6756040, 2154)),
         ('grand', ST_MakeEnvelope(618100, 6756000, 618500, 6756400, 2154)),
         ('ligne', ST_MakeLine(ST_MakePoint(618000, 6755900), ST_MakePoint(618040, 6755900))::geometry(LineString, 2154))`,
    );
    await db().query(`INSERT INTO sdi.layers (name, table_schema, table_name, id_column, geometry_column, title) VALUES ($1, 'data', $1, 'fid', 'geom', 'Carrés (généralisation)')`, [L]);
  });

  const names = (z: number) => squareTileNames(L, z);

  it('a polygon under one pixel squared at the level vanishes; larger ones, lines and points stay', async () => {
    try {
      expect(await names(9)).toEqual(['grand', 'ligne']);
      expect(await names(15)).toEqual(['grand', 'ligne', 'petit']);
    } finally {
      await db().query(`DELETE FROM sdi.layers WHERE name = $1`, [L]);
      await db().query(`DROP TABLE IF EXISTS data.${L}`);
    }
  });
});

describe('vector tiles: generalisation of a polygon layer, in the WHERE clause over a GiST (geom, ST_Area(geom)) index', () => {
  // A MultiPolygon layer of this file's own with the index an import gives a polygon layer (src/import/staging.ts;
  // btree_gist, migrations/0033): the rule is a WHERE predicate the index serves (the box and the area in one
  // scan). Same squares as above: 40 m (0.16 ha) and 400 m (16 ha) a side; a pixel is ~4.2 ha of ground at level 9.
  const L = 'mvt_rule_polygons';
  beforeAll(async () => {
    await db().query(`DROP TABLE IF EXISTS data.${L}`);
    await db().query(`DELETE FROM sdi.layers WHERE name = $1`, [L]);
    await db().query(`CREATE TABLE data.${L} (fid serial PRIMARY KEY, nom text, geom geometry(MultiPolygon, 2154))`);
    await db().query(`CREATE INDEX ON data.${L} USING gist (geom, ST_Area(geom))`);
    await db().query(
      `INSERT INTO data.${L} (nom, geom) VALUES
         ('petit', ST_Multi(ST_MakeEnvelope(618000, 6756000, 618040, 6756040, 2154))),
         ('grand', ST_Multi(ST_MakeEnvelope(618100, 6756000, 618500, 6756400, 2154)))`,
    );
    await db().query(`INSERT INTO sdi.layers (name, table_schema, table_name, id_column, geometry_column, title) VALUES ($1, 'data', $1, 'fid', 'geom', 'Carrés (index de l''aire)')`, [L]);
  });

  const names = (z: number) => squareTileNames(L, z);

  it('the small square is left out at level 9, kept at 15; grown, it is in the next tile drawn (the index follows the data)', async () => {
    try {
      expect(await names(9)).toEqual(['grand']);
      expect(await names(15)).toEqual(['grand', 'petit']);
      await db().query(`UPDATE data.${L} SET geom = ST_Multi(ST_MakeEnvelope(617690, 6756000, 618090, 6756400, 2154)) WHERE nom = 'petit'`);
      expect(await names(10)).toEqual(['grand', 'petit']);
    } finally {
      await db().query(`DELETE FROM sdi.layers WHERE name = $1`, [L]);
      await db().query(`DROP TABLE IF EXISTS data.${L}`);
    }
  });
});
