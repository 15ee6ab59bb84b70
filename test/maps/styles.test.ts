/**
 * Issue 9, styles: the SLD QGIS 3.22 exports (fixtures/styles/communes-qgis.sld: rules with ogc:Filter, a
 * label rule with MaxScaleDenominator, DejaVu labels with a halo) renders as described; SE 1.1 §10.2 scale
 * ranges switch rules with the scale denominator (OGC 0.28 mm pixel, WMS 1.3.0 §7.2.4.6.9); classes coloured
 * by an attribute; labels drawn near the label point PostGIS computes; GetLegendGraphic (SLD 1.1 profile §10.2)
 * one swatch and title per rule; SLD parts not applied named (Warning 299, the admin answer), never dropped;
 * bad input with its WMS code; the admin styles API (401, CRUD, a change visible in the next map).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { db, ROOT, xmllint } from '../helpers.js';
import { startServerProcess, type ServerProcess } from '../server-process.js';
import { decode, fetchMap, pixel, toPixel, validateWmsCapabilities, type Box, type Image } from './image.js';

const QGIS_SLD = readFileSync(join(ROOT, 'fixtures', 'styles', 'communes-qgis.sld'), 'utf8');
const TOKEN = 'sdi-styles-test-admin-token-0123456789';
const W = 500;
const H = 500;

/** Region-wide box (1:2.3 M at 500 px) and a 40 km box around Orléans (1:286 k). */
let region: Box;
let near: Box;
interface Spot {
  x: number;
  y: number;
}
/** Inside points (centres of the largest inscribed circles) of three communes, Orléans' label point, two town points. */
let orleans: Spot;
let loiret: Spot;
let tours: Spot;
let orleansLabel: Spot;
let orleansPoint: Spot;
let adonPoint: Spot;
let admin: ServerProcess;

const auth = { authorization: `Bearer ${TOKEN}` };
const q = (o: Record<string, string | number>) => new URLSearchParams(Object.entries(o).map(([k, v]) => [k, String(v)])).toString();
const getMap = (box: Box, extra: Record<string, string | number>, base?: string) =>
  fetchMap(q({ SERVICE: 'WMS', VERSION: '1.3.0', REQUEST: 'GetMap', CRS: 'EPSG:2154', BBOX: `${box.minx},${box.miny},${box.maxx},${box.maxy}`, WIDTH: W, HEIGHT: H, FORMAT: 'image/png', TRANSPARENT: 'TRUE', STYLES: '', ...extra }), base);

async function image(box: Box, extra: Record<string, string | number>, base?: string): Promise<Image> {
  const r = await getMap(box, extra, base);
  expect(r.status, r.text.slice(0, 300)).toBe(200);
  expect(r.type).toBe('image/png');
  return decode(r.bytes);
}

const at = (img: Image, box: Box, s: Spot) => pixel(img, ...toPixel(box, W, H, s.x, s.y));
/** Colour distance (RGB, max channel difference). */
const near3 = (p: number[], hex: string, tol = 6) => [0, 1, 2].every((k) => Math.abs(p[k]! - parseInt(hex.slice(1 + 2 * k, 3 + 2 * k), 16)) <= tol) && p[3]! > 240;

/** Pixels within r of (i, j) darker than `max` on every channel (label text), counted. */
function darkAround(img: Image, i: number, j: number, r: number, max = 60): number {
  let n = 0;
  for (let y = Math.max(0, j - r); y < Math.min(img.height, j + r); y++)
    for (let x = Math.max(0, i - r); x < Math.min(img.width, i + r); x++) {
      const p = pixel(img, x, y);
      if (p[3] > 200 && p[0] <= max && p[1] <= max && p[2] <= max) n++;
    }
  return n;
}

/**
 * Pixels within r of (i, j) where `img` differs from `base` by a dark grey (the label text #141414, anti-aliased
 * on its white halo): what the labels added there.
 */
function textPixels(img: Image, base: Image, i: number, j: number, r: number): number {
  let n = 0;
  for (let y = Math.max(0, j - r); y < Math.min(img.height, j + r); y++)
    for (let x = Math.max(0, i - r); x < Math.min(img.width, i + r); x++) {
      const p = pixel(img, x, y);
      const b = pixel(base, x, y);
      const grey = Math.abs(p[0] - p[1]) <= 6 && Math.abs(p[1] - p[2]) <= 6 && p[0] <= 100;
      if (grey && p.some((v, k) => v !== b[k])) n++;
    }
  return n;
}

const sld10 = (rules: string) =>
  `<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld" xmlns:ogc="http://www.opengis.net/ogc"><NamedLayer><Name>communes</Name><UserStyle><Name>s</Name><FeatureTypeStyle>${rules}</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>`;
const fillRule = (colour: string, extra = '') => `<Rule>${extra}<PolygonSymbolizer><Fill><CssParameter name="fill">${colour}</CssParameter></Fill></PolygonSymbolizer></Rule>`;

beforeAll(async () => {
  const { rows: b } = await db().query(`SELECT ST_XMin(e) - 20000 AS minx, ST_YMin(e) - 20000 AS miny, ST_XMax(e) + 20000 AS maxx, ST_YMax(e) + 20000 AS maxy FROM (SELECT ST_Extent(geom) AS e FROM data.region) s`);
  region = { minx: +b[0].minx, miny: +b[0].miny, maxx: +b[0].maxx, maxy: +b[0].maxy };
  const inside = async (code: string): Promise<Spot> => {
    const { rows } = await db().query(`SELECT ST_X(c) AS x, ST_Y(c) AS y FROM (SELECT (ST_MaximumInscribedCircle(geom)).center AS c FROM data.communes WHERE code = $1) s`, [code]);
    return { x: +rows[0].x, y: +rows[0].y };
  };
  orleans = await inside('45234');
  // The Loiret commune (Orléans aside) with the widest inside: its centre is far from any outline at 1:2.3 M.
  const { rows: wide } = await db().query(`SELECT code FROM data.communes WHERE code LIKE '45%' AND code <> '45234' ORDER BY (ST_MaximumInscribedCircle(geom)).radius DESC LIMIT 1`);
  loiret = await inside(wide[0].code);
  tours = await inside('37261');
  const { rows: l } = await db().query(`SELECT ST_X(p) AS x, ST_Y(p) AS y FROM (SELECT ST_PointOnSurface(geom) AS p FROM data.communes WHERE code = '45234') s`);
  orleansLabel = { x: +l[0].x, y: +l[0].y };
  const pt = async (code: string): Promise<Spot> => {
    const { rows } = await db().query(`SELECT ST_X(geom) AS x, ST_Y(geom) AS y FROM data.communes_points WHERE code = $1`, [code]);
    return { x: +rows[0].x, y: +rows[0].y };
  };
  orleansPoint = await pt('45234');
  adonPoint = await pt('45001');
  near = { minx: orleansLabel.x - 20000, miny: orleansLabel.y - 20000, maxx: orleansLabel.x + 20000, maxy: orleansLabel.y + 20000 };
  await db().query(`DELETE FROM sdi.styles WHERE layer_name IS NOT NULL`);
  // The administrator's server: maps and admin on the suite's database (a style it stores is read by both servers).
  admin = await startServerProcess({ DATABASE_URL: inject('databaseUrl'), SDI_DEMO: '0', SDI_ADMIN_TOKEN: TOKEN, SDI_SERVICES: 'maps,admin' });
}, 120_000);

afterAll(async () => {
  admin?.stop();
  await db().query(`DELETE FROM sdi.styles WHERE layer_name IS NOT NULL`);
});

describe('an SLD exported by QGIS 3.22 (SLD 1.1.0 / SE 1.1) in SLD_BODY', () => {
  it('draws its rules in order where their ogc:Filter matches: all communes pale blue, the Loiret orange, Orléans red', async () => {
    const r = await getMap(region, { LAYERS: 'communes', SLD_BODY: QGIS_SLD });
    expect(r.status).toBe(200);
    // Everything QGIS wrote is applied: no Warning.
    expect(r.headers.get('warning')).toBeNull();
    const img = await decode(r.bytes);
    expect(near3(at(img, region, orleans), '#d7191c')).toBe(true);
    expect(near3(at(img, region, loiret), '#fdae61')).toBe(true);
    expect(near3(at(img, region, tours), '#abd9e9')).toBe(true);
    expect(at(img, region, { x: region.minx + 100, y: region.maxy - 100 })[3]).toBe(0);
  });

  it('SE 1.1 §10.2: its label rule (MaxScaleDenominator 1,000,000) labels the 1:286 k map and not the 1:2.3 M one', async () => {
    const noLabels = QGIS_SLD.replace(/<se:Rule>\s*<se:MinScaleDenominator>[\s\S]*?<\/se:Rule>/, '');
    expect(noLabels).not.toContain('TextSymbolizer');
    const [withL, without] = await Promise.all([getMap(region, { LAYERS: 'communes', SLD_BODY: QGIS_SLD }), getMap(region, { LAYERS: 'communes', SLD_BODY: noLabels })]);
    expect(withL.bytes.equals(without.bytes)).toBe(true);
    const labelled = await image(near, { LAYERS: 'communes', SLD_BODY: QGIS_SLD });
    const plain = await image(near, { LAYERS: 'communes', SLD_BODY: noLabels });
    const [i, j] = toPixel(near, W, H, orleansLabel.x, orleansLabel.y);
    // Text colour #141414 around Orléans' label point (ST_PointOnSurface), none there without the label rule.
    expect(textPixels(labelled, plain, i, j, 20)).toBeGreaterThan(15);
  });
});

describe('scale-dependent rules and classes', () => {
  it('SE 1.1 §10.2 / WMS 1.3.0 §7.2.4.6.9: a rule below 1:1,000,000 and one above switch with the map scale (SLD 1.0.0)', async () => {
    const sld = sld10(fillRule('#00ff00', '<MaxScaleDenominator>1000000</MaxScaleDenominator>') + fillRule('#0000ff', '<MinScaleDenominator>1000000</MinScaleDenominator>'));
    const far = await image(region, { LAYERS: 'communes', SLD_BODY: sld });
    const close = await image(near, { LAYERS: 'communes', SLD_BODY: sld });
    expect(near3(at(far, region, orleans), '#0000ff')).toBe(true);
    expect(near3(at(close, near, orleans), '#00ff00')).toBe(true);
    // DPI=192 doubles the scale denominator of the same box: the 1:286 k map becomes 1:572 k, still below.
    const dense = await image(near, { LAYERS: 'communes', SLD_BODY: sld, DPI: 192 });
    expect(near3(at(dense, near, orleans), '#00ff00')).toBe(true);
  });

  it('SLD ElseFilter: the communes no other rule drew', async () => {
    const sld = sld10(
      fillRule('#ff0000', '<ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>code</ogc:PropertyName><ogc:Literal>45234</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>') +
        fillRule('#00ffff', '<ElseFilter/>'),
    );
    const img = await image(region, { LAYERS: 'communes', SLD_BODY: sld });
    expect(near3(at(img, region, orleans), '#ff0000')).toBe(true);
    expect(near3(at(img, region, tours), '#00ffff')).toBe(true);
  });

  it('SLD 1.0 §11.3: a PointSymbolizer on polygons puts its mark at the point on surface PostGIS computes', async () => {
    const sld = sld10(
      `<Rule><ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>code</ogc:PropertyName><ogc:Literal>45234</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>` +
        `<PointSymbolizer><Graphic><Mark><WellKnownName>square</WellKnownName><Fill><CssParameter name="fill">#ff00ff</CssParameter></Fill></Mark><Size>16</Size></Graphic></PointSymbolizer></Rule>`,
    );
    const r = await getMap(near, { LAYERS: 'communes', SLD_BODY: sld });
    expect(r.headers.get('warning')).toBeNull();
    const img = await decode(r.bytes);
    expect(near3(at(img, near, orleansLabel), '#ff00ff')).toBe(true);
    expect(at(img, near, { x: orleansLabel.x + 3000, y: orleansLabel.y + 3000 })[3]).toBe(0);
  });

  it('classes coloured by an attribute (pmun_2023), from a JSON style stored by the administrator and chosen by STYLES', async () => {
    const style = {
      title: 'Population municipale',
      rules: [
        // Small towns first: the larger ones are drawn over them.
        { title: 'moins de 10 000', filter: 'pmun_2023 < 10000', symbolizers: [{ kind: 'point', mark: 'square', size: 6, fill: { color: '#0000ff' } }] },
        { title: '10 000 habitants et plus', filter: 'pmun_2023 >= 10000', symbolizers: [{ kind: 'point', mark: 'square', size: 12, fill: { color: '#ff0000' } }] },
      ],
    };
    const put = await fetch(`${admin.base}/admin/styles/communes_points/population`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(style) });
    expect(put.status).toBe(201);
    // Stored by the admin server, drawn at once by the suite's server (no cache).
    const img = await image(region, { LAYERS: 'communes_points', STYLES: 'population' });
    expect(near3(at(img, region, orleansPoint), '#ff0000')).toBe(true);
    expect(near3(at(img, region, adonPoint), '#0000ff')).toBe(true);
  });
});

describe('GetLegendGraphic and capabilities', () => {
  beforeAll(async () => {
    const put = await fetch(`${admin.base}/admin/styles/communes/qgis`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/vnd.ogc.sld+xml' }, body: QGIS_SLD });
    expect(put.status).toBe(201);
  });

  it('SLD 1.1 profile §10.2: one swatch and title per rule, in rule order; RULE gives one swatch; SCALE keeps the rules in scale', async () => {
    const r = await fetchMap('SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&SLD_VERSION=1.1.0&LAYER=communes&STYLE=qgis&FORMAT=image/png');
    expect(r.status).toBe(200);
    const img = await decode(r.bytes);
    expect(img.height).toBe(4 * 20 + 3 * 2);
    expect(img.width).toBeGreaterThan(40);
    expect(near3(pixel(img, 10, 10), '#abd9e9')).toBe(true);
    expect(near3(pixel(img, 10, 32), '#fdae61')).toBe(true);
    expect(near3(pixel(img, 10, 54), '#d7191c')).toBe(true);
    // Titles written to the right of the swatches.
    expect(darkAround(img, 40, 10, 9, 80)).toBeGreaterThan(5);
    const one = await decode((await fetchMap('SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&LAYER=communes&STYLE=qgis&RULE=Loiret&FORMAT=image/png&WIDTH=30&HEIGHT=30')).bytes);
    expect([one.width, one.height]).toEqual([30, 30]);
    expect(near3(pixel(one, 15, 15), '#fdae61')).toBe(true);
    const far = await decode((await fetchMap('SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&LAYER=communes&STYLE=qgis&SCALE=5000000&FORMAT=image/png')).bytes);
    expect(far.height).toBe(3 * 20 + 2 * 2);
  });

  it('SLD 1.1 profile: GetLegendGraphic with SLD_BODY draws the legend of the SLD’s style', async () => {
    const r = await fetchMap(q({ SERVICE: 'WMS', VERSION: '1.3.0', REQUEST: 'GetLegendGraphic', LAYER: 'communes', FORMAT: 'image/png', SLD_BODY: QGIS_SLD }));
    expect(r.status).toBe(200);
    const img = await decode(r.bytes);
    expect(img.height).toBe(86);
    expect(near3(pixel(img, 10, 54), '#d7191c')).toBe(true);
    const bad = await fetchMap(q({ SERVICE: 'WMS', VERSION: '1.3.0', REQUEST: 'GetLegendGraphic', LAYER: 'communes', FORMAT: 'image/png', SLD_BODY: '<x' }));
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('locator="SLD_BODY"');
  });

  it('lists each layer’s styles, its default first, with a LegendURL of the legend’s size; valid against the WMS 1.3.0 schema', async () => {
    const caps = (await fetchMap('SERVICE=WMS&REQUEST=GetCapabilities')).text;
    expect(validateWmsCapabilities(caps).ok).toBe(true);
    const communes = /<Layer queryable="[01]"[^>]*><Name>communes<\/Name>.*?<\/Layer>/s.exec(caps)![0];
    const styles = [...communes.matchAll(/<Style><Name>([^<]+)<\/Name>.*?<LegendURL width="(\d+)" height="(\d+)">/g)].map((m) => [m[1], +m[2]!, +m[3]!]);
    expect(styles[0]).toEqual(['default', 20, 20]);
    const qgis = styles.find((s) => s[0] === 'qgis')!;
    expect(qgis[2]).toBe(86);
    const legend = await decode((await fetchMap('SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&SLD_VERSION=1.1.0&LAYER=communes&STYLE=qgis&FORMAT=image/png')).bytes);
    expect([legend.width, legend.height]).toEqual([qgis[1], qgis[2]]);
  });
});

describe('SLD parts not applied are reported, never dropped silently', () => {
  const partial = QGIS_SLD.replace('</se:Halo>', '</se:Halo><se:VendorOption name="maxDisplacement">1</se:VendorOption>').replace(
    '<se:PolygonSymbolizer>',
    '<se:PolygonSymbolizer><se:Geometry><ogc:PropertyName>geom</ogc:PropertyName></se:Geometry>',
  );

  it('GetMap with SLD_BODY names them in a Warning 299 header and draws the rest', async () => {
    const r = await getMap(region, { LAYERS: 'communes', SLD_BODY: partial });
    expect(r.status).toBe(200);
    const w = r.headers.get('warning')!;
    expect(w).toMatch(/^299 - "SLD parts not supported/);
    expect(w).toContain('se:VendorOption[maxDisplacement]');
    expect(w).toContain('se:Geometry');
    expect(near3(at(await decode(r.bytes), region, orleans), '#d7191c')).toBe(true);
  });

  it('the admin API lists them in `unsupported`, and refuses the SLD with ?strict=true (422)', async () => {
    const put = await fetch(`${admin.base}/admin/styles/communes/partial`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/vnd.ogc.sld+xml' }, body: partial });
    expect(put.status).toBe(201);
    const body = (await put.json()) as { unsupported: string[] };
    expect(body.unsupported.some((u) => u.endsWith('se:VendorOption[maxDisplacement]'))).toBe(true);
    expect(body.unsupported.filter((u) => u.includes('se:Geometry'))).toHaveLength(1);
    const strict = await fetch(`${admin.base}/admin/styles/communes/partial2?strict=true`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/vnd.ogc.sld+xml' }, body: partial });
    expect(strict.status).toBe(422);
    expect(strict.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await strict.json()) as { unsupported: string[] }).unsupported.length).toBe(2);
  });
});

describe('bad input', () => {
  const report = async (r: { status: number; text: string }, code: string, locator: string) => {
    expect(r.status).toBe(400);
    expect(r.text).toContain(`code="${code}"`);
    expect(r.text).toContain(`locator="${locator}"`);
    expect(xmllint(r.text, 'wms/1.3.0/exceptions_1_3_0.xsd').ok).toBe(true);
  };

  it('an unknown style → StyleNotDefined (WMS 1.3.0 §7.3.3.4), in GetMap and GetLegendGraphic', async () => {
    await report(await getMap(region, { LAYERS: 'communes', STYLES: 'nope' }), 'StyleNotDefined', 'STYLES');
    await report(await fetchMap('SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&LAYER=communes&STYLE=nope&FORMAT=image/png'), 'StyleNotDefined', 'STYLE');
  });

  it('a malformed SLD_BODY, a wrong root or version, a bad colour or filter, an unknown attribute → InvalidParameterValue, locator SLD_BODY', async () => {
    for (const body of [
      QGIS_SLD.slice(0, 500),
      '<StyledLayerDescriptor xmlns="http://www.opengis.net/other" version="1.0.0"/>',
      QGIS_SLD.replace('version="1.1.0"', 'version="2.0.0"'),
      QGIS_SLD.replace('#d7191c', 'red'),
      QGIS_SLD.replace('<ogc:PropertyIsEqualTo>', '<ogc:PropertyIsNear>').replace('</ogc:PropertyIsEqualTo>', '</ogc:PropertyIsNear>'),
      QGIS_SLD.replace('<ogc:PropertyName>nom</ogc:PropertyName>', '<ogc:PropertyName>no_such_column</ogc:PropertyName>'),
      '<!DOCTYPE x [<!ENTITY e "e">]><StyledLayerDescriptor/>',
    ]) {
      await report(await getMap(near, { LAYERS: 'communes', SLD_BODY: body }), 'InvalidParameterValue', 'SLD_BODY');
    }
    await report(await getMap(near, { LAYERS: 'communes', SLD: 'http://example.org/x.sld' }), 'InvalidParameterValue', 'SLD');
  });
});

describe('admin styles API', () => {
  const api = (path: string, init: RequestInit = {}) => fetch(`${admin.base}/admin${path}`, init);
  const json = { ...auth, 'content-type': 'application/json' };
  const red = { title: 'Rouge', rules: [{ title: 'Tout', symbolizers: [{ kind: 'polygon', fill: { color: '#ff0000' } }] }] };

  it('needs the administrator: 401 problem+json without or with a wrong credential', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }]) {
      const r = await api('/styles/communes/x', { method: 'PUT', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(red) });
      expect(r.status).toBe(401);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    expect((await api('/styles')).status).toBe(401);
  });

  it('creates, reads (JSON and the SLD it came from), replaces, makes default, deletes; each change shows in the next map', async () => {
    expect((await api('/styles/departements/rouge', { method: 'PUT', headers: json, body: JSON.stringify(red) })).status).toBe(201);
    const got = (await (await api('/styles/departements/rouge', { headers: auth })).json()) as { style: { rules: unknown[] }; default: boolean };
    expect(got.default).toBe(false);
    expect(got.style).toEqual({ name: 'rouge', title: 'Rouge', rules: [{ title: 'Tout', symbolizers: [{ kind: 'polygon', fill: { color: '#ff0000', opacity: 1 } }] }] });
    // The JSON read back is accepted as it is.
    expect((await api('/styles/departements/rouge', { method: 'PUT', headers: json, body: JSON.stringify(got.style) })).status).toBe(200);
    const sld = await api('/styles/communes/qgis', { headers: { ...auth, accept: 'application/vnd.ogc.sld+xml' } });
    expect(sld.status).toBe(200);
    expect(await sld.text()).toBe(QGIS_SLD);
    expect((await api('/styles/departements/rouge', { headers: { ...auth, accept: 'application/vnd.ogc.sld+xml' } })).status).toBe(406);

    const before = await image(region, { LAYERS: 'departements' });
    expect(near3(at(before, region, orleans), '#ff0000')).toBe(false);
    expect((await api('/styles/departements/rouge/default', { method: 'PUT', headers: auth })).status).toBe(204);
    expect(near3(at(await image(region, { LAYERS: 'departements' }), region, orleans), '#ff0000')).toBe(true);
    const list = (await (await api('/styles/departements', { headers: auth })).json()) as { offered: Array<{ name: string; default: boolean }> };
    expect(list.offered[0]).toEqual({ name: 'rouge', title: 'Rouge', default: true });

    const blue = { ...red, rules: [{ title: 'Tout', symbolizers: [{ kind: 'polygon', fill: { color: '#0000ff' } }] }] };
    expect((await api('/styles/departements/rouge', { method: 'PUT', headers: json, body: JSON.stringify(blue) })).status).toBe(200);
    expect(near3(at(await image(region, { LAYERS: 'departements' }), region, orleans), '#0000ff')).toBe(true);

    expect((await api('/styles/departements/rouge', { method: 'DELETE', headers: auth })).status).toBe(204);
    expect((await api('/styles/departements/rouge', { method: 'DELETE', headers: auth })).status).toBe(404);
    const after = await image(region, { LAYERS: 'departements' });
    expect(Buffer.from(after.data).equals(Buffer.from(before.data))).toBe(true);
    expect((await getMap(region, { LAYERS: 'departements', STYLES: 'rouge' })).text).toContain('StyleNotDefined');
  });

  it('refuses bad styles with problem+json: invalid JSON style 400, bad CQL2 400, unknown attribute 422, unknown layer 404, reserved name 400, other media 415', async () => {
    const cases: Array<[string, RequestInit, number, string]> = [
      ['/styles/communes/x', { method: 'PUT', headers: json, body: JSON.stringify({ rules: [{ symbolizers: [{ kind: 'polygon', fill: { color: 'red' } }] }] }) }, 400, 'invalid-style'],
      ['/styles/communes/x', { method: 'PUT', headers: json, body: JSON.stringify({ rules: [{ filter: 'code ==', symbolizers: [] }] }) }, 400, 'invalid-style'],
      ['/styles/communes/x', { method: 'PUT', headers: json, body: JSON.stringify({ rules: [{ filter: "nope = 'a'", symbolizers: [] }] }) }, 422, 'unknown-property'],
      ['/styles/nowhere/x', { method: 'PUT', headers: json, body: JSON.stringify(red) }, 404, 'not-found'],
      ['/styles/communes/default', { method: 'PUT', headers: json, body: JSON.stringify(red) }, 400, 'invalid-parameter'],
      ['/styles/communes/x', { method: 'PUT', headers: { ...auth, 'content-type': 'application/vnd.ogc.sld+xml' }, body: '<StyledLayerDescriptor' }, 400, 'invalid-sld'],
      ['/styles/communes/x', { method: 'PUT', headers: { ...auth, 'content-type': 'text/plain' }, body: 'x' }, 415, 'unsupported-media-type'],
      ['/styles/communes/x?color=red', { method: 'PUT', headers: json, body: JSON.stringify(red) }, 400, 'invalid-parameter'],
    ];
    for (const [path, init, status, code] of cases) {
      const r = await api(path, init);
      expect(r.status, path).toBe(status);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(((await r.json()) as { type: string }).type).toBe(`urn:sdi:problem:admin:${code}`);
    }
    expect((await db().query(`SELECT count(*)::int AS n FROM sdi.styles WHERE name IN ('x', 'default') AND layer_name IS NOT NULL`)).rows[0].n).toBe(0);
  });

  it('lists its paths in the OpenAPI document', async () => {
    const doc = (await (await api('/openapi.json', { headers: auth })).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/styles', '/styles/{layer}/{name}', '/styles/{layer}/{name}/default', '/default-styles/{kind}']));
  });
});
