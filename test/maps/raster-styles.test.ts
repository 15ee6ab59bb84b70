/**
 * Issue 9, raster styles: a raster layer's styles (sdi.raster_styles, SLD 1.0 RasterSymbolizer: opacity and a
 * ColorMap) are offered in the WMS capabilities with their legends, drawn by GetMap and GetLegendGraphic, and
 * managed through the admin styles API, which imports the SLD QGIS 3.22 exports for a raster layer
 * (fixtures/styles/communes-densite-qgis.sld: SLD 1.0.0 UserLayer, ColorMap type="ramp") and names what it does
 * not apply (QGIS's brightness VendorOption). The demo raster communes_densite has a second style,
 * densite_classes (five classes, ColorMap type="intervals" with an open last class), beside its default log ramp.
 * Pixels are checked against the densities PostGIS computes (nearest resampling up close: exact values).
 */
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { db, ROOT } from '../helpers.js';
import { startServerProcess, type ServerProcess } from '../server-process.js';
import { decode, fetchMap, pixel, validateWmsCapabilities } from './image.js';
import { colorMapRgba, type ColorMap } from '../../src/render/raster-style.js';
import { readSld } from '../../src/styles/sld-reader.js';

const TOKEN = 'sdi-raster-styles-test-admin-token-0123';
const LAYER = 'communes_densite';
const QGIS_RASTER_SLD = readFileSync(join(ROOT, 'fixtures', 'styles', 'communes-densite-qgis.sld'), 'utf8');
const QGIS_VECTOR_SLD = readFileSync(join(ROOT, 'fixtures', 'styles', 'communes-qgis.sld'), 'utf8');
const STYLE = 'rs_qgis_bleus';
const CLASSES: ColorMap = {
  type: 'intervals',
  entries: [
    { quantity: 20, color: '#ffffcc', opacity: 1 },
    { quantity: 50, color: '#c2e699', opacity: 1 },
    { quantity: 100, color: '#78c679', opacity: 1 },
    { quantity: 500, color: '#31a354', opacity: 1 },
    { quantity: Infinity, color: '#006837', opacity: 1 },
  ],
};

let admin: ServerProcess;
const auth = { authorization: `Bearer ${TOKEN}` };
/** Interior points (EPSG:2154) of Orléans and of a sparse commune, with their densities as the raster holds them. */
let dense: { x: number; y: number; d: number };
let sparse: { x: number; y: number; d: number };

beforeAll(async () => {
  const q = async (where: string) =>
    (
      await db().query(
        `WITH c AS (SELECT c.code, (ST_MaximumInscribedCircle(c.geom)).center AS p, round(p.pmun_2023 / (ST_Area(c.geom) / 1e6))::int AS d
                      FROM data.communes c JOIN data.communes_points p ON p.code = c.code WHERE ${where})
         SELECT ST_X(p) AS x, ST_Y(p) AS y, d FROM c ORDER BY d, code LIMIT 1`,
      )
    ).rows[0];
  const o = await q(`c.code = '45234'`);
  dense = { x: +o.x, y: +o.y, d: +o.d };
  const s = await q(`ST_Area(c.geom) > 40e6 AND p.pmun_2023 > 0`);
  sparse = { x: +s.x, y: +s.y, d: +s.d };
  admin = await startServerProcess({ DATABASE_URL: inject('databaseUrl'), SDI_DEMO: '0', SDI_ADMIN_TOKEN: TOKEN, SDI_SERVICES: 'maps,admin' });
  await fetch(`${admin.base}/admin/styles/${LAYER}/${STYLE}`, { method: 'DELETE', headers: auth }).then((r) => r.arrayBuffer());
}, 120_000);

afterAll(async () => {
  await db().query('DELETE FROM sdi.raster_styles WHERE raster_name = $1 AND name = $2', [LAYER, STYLE]);
  admin?.stop();
});

/** The pixel at the centre of a 400 px map of a 2 km box around p (25 m source pixels, 5 m map pixels: nearest). */
async function centre(p: { x: number; y: number }, style: string, base?: string): Promise<number[]> {
  const r = await fetchMap(`SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=${LAYER}&STYLES=${style}&CRS=EPSG:2154&BBOX=${p.x - 1000},${p.y - 1000},${p.x + 1000},${p.y + 1000}&WIDTH=400&HEIGHT=400&FORMAT=image/png&TRANSPARENT=TRUE`, base);
  expect(r.status, r.text.slice(0, 300)).toBe(200);
  return pixel(await decode(r.bytes), 200, 200);
}

/** The expected RGBA of a value through a colour map at a style opacity (PNG alpha is not premultiplied). */
function expected(map: ColorMap, v: number, opacity: number): number[] {
  const c = colorMapRgba(map, v)!;
  return [c[0], c[1], c[2], Math.round(c[3] * opacity)];
}

const close = (a: number[], b: number[], tol = 2) => a.every((v, k) => Math.abs(v - b[k]!) <= tol);

describe('the demo raster\'s second style (densite_classes, ColorMap intervals)', () => {
  it('is offered in the 1.3.0 and 1.1.1 capabilities after the default ramp, each with a LegendURL; the document stays valid', async () => {
    const caps = (await fetchMap('SERVICE=WMS&REQUEST=GetCapabilities')).text;
    const layer = /<Layer queryable="1" opaque="0"><Name>communes_densite<\/Name>.*?<\/Layer>/s.exec(caps)![0];
    expect([...layer.matchAll(/<Style><Name>([^<]+)<\/Name>/g)].map((m) => m[1]).slice(0, 2)).toEqual(['default', 'densite_classes']);
    expect(layer).toMatch(/<Style><Name>densite_classes<\/Name><Title>Densité par classes \(hab\.\/km²\)<\/Title><LegendURL width="\d+" height="\d+">/);
    const v = validateWmsCapabilities(caps);
    expect(v.ok, v.output).toBe(true);
    const caps111 = (await fetchMap('SERVICE=WMS&VERSION=1.1.1&REQUEST=GetCapabilities')).text;
    expect(caps111).toMatch(/<Name>communes_densite<\/Name>.*?<Style><Name>densite_classes<\/Name>/s);
  });

  it('GetMap STYLES=densite_classes: each commune in its class colour at 0.9 opacity (Orléans the darkest, the sparse commune the palest)', async () => {
    expect(dense.d).toBeGreaterThan(500);
    const d = await centre(dense, 'densite_classes');
    expect(close(d, expected(CLASSES, dense.d, 0.9)), `Orléans ${d}`).toBe(true);
    expect(close(d, [0, 104, 55, 230])).toBe(true);
    const s = await centre(sparse, 'densite_classes');
    expect(close(s, expected(CLASSES, sparse.d, 0.9)), `sparse (${sparse.d}/km²) ${s}`).toBe(true);
    // The default style is still the log ramp (red at Orléans).
    const r = await centre(dense, '');
    expect(r[0]).toBeGreaterThan(150);
    expect(r[1]).toBeLessThan(110);
  });

  it('GetLegendGraphic: one swatch per class, top to bottom, at the advertised size; an unknown style is StyleNotDefined', async () => {
    const caps = (await fetchMap('SERVICE=WMS&REQUEST=GetCapabilities')).text;
    const m = /<Style><Name>densite_classes<\/Name>.*?<LegendURL width="(\d+)" height="(\d+)"><Format>image\/png<\/Format><OnlineResource xlink:type="simple" xlink:href="([^"]+)"/s.exec(caps)!;
    const r = await fetch(m[3]!.replace(/&amp;/g, '&'));
    expect(r.status).toBe(200);
    const img = await decode(Buffer.from(await r.arrayBuffer()));
    expect([img.width, img.height]).toEqual([Number(m[1]), Number(m[2])]);
    // Five 20 px swatches 2 px apart: the first pale yellow, the last dark green (at 0.9 opacity).
    expect(img.height).toBe(5 * 20 + 4 * 2);
    expect(close(pixel(img, 10, 10), [255, 255, 204, 230])).toBe(true);
    expect(close(pixel(img, 10, 4 * 22 + 10), [0, 104, 55, 230])).toBe(true);
    const bad = await fetchMap(`SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&LAYER=${LAYER}&STYLE=nope&FORMAT=image/png`);
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('code="StyleNotDefined"');
    const badMap = await fetchMap(`SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=${LAYER}&STYLES=nope&CRS=EPSG:2154&BBOX=500000,6600000,700000,6800000&WIDTH=64&HEIGHT=64&FORMAT=image/png`);
    expect(badMap.status).toBe(400);
    expect(badMap.text).toContain('code="StyleNotDefined"');
  });
});

describe('importing the raster SLD QGIS 3.22 exports through the admin API', () => {
  it('stores it (201) naming the part not applied; GetMap draws the ramp; GET gives JSON or the SLD back; DELETE removes it', async () => {
    const put = await fetch(`${admin.base}/admin/styles/${LAYER}/${STYLE}`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/vnd.ogc.sld+xml' }, body: QGIS_RASTER_SLD });
    const body = (await put.json()) as { unsupported: string[]; style: { opacity: number; colorMap: ColorMap }; kind: string };
    expect(put.status, JSON.stringify(body)).toBe(201);
    expect(body.unsupported).toEqual(['UserLayer/sld:UserStyle/sld:FeatureTypeStyle/sld:Rule/sld:RasterSymbolizer/sld:VendorOption[brightness]']);
    expect(body.kind).toBe('raster');
    expect(body.style.opacity).toBe(0.85);
    expect(body.style.colorMap.type).toBe('ramp');
    // Drawn: Orléans' density interpolated between the 1000 and 4000 blues, at 0.85 opacity.
    const map = body.style.colorMap;
    const d = await centre(dense, STYLE, admin.base);
    expect(close(d, expected(map, dense.d, 0.85)), `Orléans ${d} vs ${expected(map, dense.d, 0.85)}`).toBe(true);
    const list = (await (await fetch(`${admin.base}/admin/styles/${LAYER}`, { headers: auth })).json()) as { kind: string; offered: Array<{ name: string }> };
    expect(list.kind).toBe('raster');
    expect(list.offered.map((s) => s.name)).toContain(STYLE);
    const sld = await fetch(`${admin.base}/admin/styles/${LAYER}/${STYLE}`, { headers: { ...auth, accept: 'application/vnd.ogc.sld+xml' } });
    expect(await sld.text()).toBe(QGIS_RASTER_SLD);
    // strict: the same SLD refused for its unsupported part; a vector SLD has no RasterSymbolizer to apply.
    const strict = await fetch(`${admin.base}/admin/styles/${LAYER}/${STYLE}?strict=true`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/vnd.ogc.sld+xml' }, body: QGIS_RASTER_SLD });
    expect(strict.status).toBe(422);
    await strict.arrayBuffer();
    const vector = await fetch(`${admin.base}/admin/styles/${LAYER}/${STYLE}`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/vnd.ogc.sld+xml' }, body: QGIS_VECTOR_SLD });
    expect(vector.status).toBe(422);
    expect(((await vector.json()) as { type: string }).type).toMatch(/no-raster-symbolizer$/);
    // JSON form: replaced (200), then deleted (204), then unknown to GetMap.
    const json = await fetch(`${admin.base}/admin/styles/${LAYER}/${STYLE}`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Valeurs', opacity: 1, colorMap: { type: 'values', entries: [{ quantity: dense.d, color: '#ff00ff' }] } }),
    });
    expect(json.status).toBe(200);
    await json.arrayBuffer();
    expect(await centre(dense, STYLE, admin.base)).toEqual([255, 0, 255, 255]);
    expect((await centre(sparse, STYLE, admin.base))[3]).toBe(0);
    const del = await fetch(`${admin.base}/admin/styles/${LAYER}/${STYLE}`, { method: 'DELETE', headers: auth });
    expect(del.status).toBe(204);
    const gone = await fetchMap(`SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=${LAYER}&STYLES=${STYLE}&CRS=EPSG:2154&BBOX=500000,6600000,700000,6800000&WIDTH=64&HEIGHT=64&FORMAT=image/png`, admin.base);
    expect(gone.status).toBe(400);
  });
});

describe('SLD_BODY on a raster layer (WMS SLD profile; SE 1.1 Categorize, OGC 05-077r4 §11.6.4)', () => {
  /** An SLD 1.1.0 styling `layer` with a RasterSymbolizer whose ColorMap is `colorMap`. */
  const se11 = (layer: string, colorMap: string) =>
    `<StyledLayerDescriptor xmlns="http://www.opengis.net/sld" xmlns:se="http://www.opengis.net/se" version="1.1.0"><NamedLayer><se:Name>${layer}</se:Name>
     <UserStyle><se:Name>seuil</se:Name><se:FeatureTypeStyle><se:Rule><se:RasterSymbolizer><se:Opacity>1</se:Opacity>
     <se:ColorMap>${colorMap}</se:ColorMap></se:RasterSymbolizer></se:Rule></se:FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>`;
  /** Blue below Orléans' own density, red from it on: the raster holds whole densities, so the threshold is met exactly. */
  const split = (attrs = '') =>
    se11(LAYER, `<se:Categorize${attrs}><se:LookupValue>Rasterdata</se:LookupValue><se:Value>#0000ff</se:Value><se:Threshold>${dense.d}</se:Threshold><se:Value>#ff0000</se:Value></se:Categorize>`);
  const box = (p: { x: number; y: number }) => `CRS=EPSG:2154&BBOX=${p.x - 1000},${p.y - 1000},${p.x + 1000},${p.y + 1000}&WIDTH=400&HEIGHT=400&FORMAT=image/png&TRANSPARENT=TRUE`;
  async function centreWithSld(p: { x: number; y: number }, sld: string, layers: string | undefined = LAYER): Promise<{ px: number[]; warning: string | null }> {
    const r = await fetchMap(`SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap${layers === undefined ? '' : `&LAYERS=${layers}&STYLES=`}&${box(p)}&SLD_BODY=${encodeURIComponent(sld)}`);
    expect(r.status, r.text.slice(0, 300)).toBe(200);
    return { px: pixel(await decode(r.bytes), 200, 200), warning: r.headers.get('warning') };
  }

  it('Categorize: a value equal to a threshold takes the succeeding class; threshholdsBelongTo="preceding" the one before', async () => {
    const succeeding = await centreWithSld(dense, split());
    expect(succeeding.px).toEqual([255, 0, 0, 255]);
    expect(succeeding.warning).toBeNull();
    expect((await centreWithSld(sparse, split())).px).toEqual([0, 0, 255, 255]);
    expect((await centreWithSld(dense, split(' threshholdsBelongTo="preceding"'))).px).toEqual([0, 0, 255, 255]);
  });

  it('the SLD profile without LAYERS draws the raster layer the SLD names', async () => {
    expect((await centreWithSld(dense, split(), undefined)).px).toEqual([255, 0, 0, 255]);
  });

  it('the style QGIS 3.22 exports for a raster (a UserLayer without Name) applies to the one layer of the map; its unread VendorOption is in the Warning', async () => {
    const { px, warning } = await centreWithSld(dense, QGIS_RASTER_SLD);
    const ramp = readSldRamp();
    expect(close(px, expected(ramp, dense.d, 0.85)), `Orléans ${px}`).toBe(true);
    expect(warning).toMatch(/^299 - "SLD parts not supported, not applied: .*VendorOption\[brightness\]/);
  });

  it('a RasterSymbolizer on a vector layer draws nothing and is named in the Warning; GetLegendGraphic draws the SLD\'s classes', async () => {
    const onVector = await fetchMap(`SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=communes&STYLES=&${box(dense)}&SLD_BODY=${encodeURIComponent(split().replace(`<se:Name>${LAYER}</se:Name>`, '<se:Name>communes</se:Name>'))}`);
    expect(onVector.status).toBe(200);
    expect(onVector.headers.get('warning')).toMatch(/RasterSymbolizer/);
    const legend = await fetchMap(`SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&LAYER=${LAYER}&FORMAT=image/png&SLD_BODY=${encodeURIComponent(split())}`);
    expect(legend.status, legend.text.slice(0, 300)).toBe(200);
    const img = await decode(legend.bytes);
    expect(img.height).toBe(2 * 20 + 2);
    expect(close(pixel(img, 10, 10), [0, 0, 255, 255])).toBe(true);
    expect(close(pixel(img, 10, 22 + 10), [255, 0, 0, 255])).toBe(true);
  });
});

/** The ramp of the QGIS raster export (fixtures/styles/communes-densite-qgis.sld), as the SLD reader reads it. */
function readSldRamp(): ColorMap {
  return readSld(QGIS_RASTER_SLD).layers[0]!.rasterStyles[0]!.colorMap!;
}
