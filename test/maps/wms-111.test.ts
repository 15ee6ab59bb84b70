/**
 * Issue 9: WMS 1.1.1 beside 1.3.0 (OGC 01-068r3), and GDAL's WMS driver as a client of both.
 * - GetCapabilities with VERSION=1.1.1 (or any version below 1.3.0: §6.2.4 of 06-042, version
 *   negotiation) is a WMT_MS_Capabilities document valid against the 1.1.1 DTD;
 * - GetMap with SRS=EPSG:4326 takes a lon/lat box (01-068r3 §6.5.6) and draws the very image 1.3.0 draws
 *   for CRS:84; GetFeatureInfo reads X/Y; GML answers are `EPSG:4326`, lon/lat;
 * - exceptions are 1.1.1 ServiceExceptionReports (application/vnd.ogc.se_xml, DTD-valid), with InvalidSRS;
 * - GDAL's WMS driver (gdal_translate "WMS:…") reads a map in 1.1.1 and 1.3.0 EPSG:4326 (where it sends
 *   the box latitude first), Orléans painted where PostGIS puts it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseUrl, db } from '../helpers.js';
import { decode, fetchMap, pixel, toPixel, type Box } from './image.js';

const SCHEMAS = join(process.env.SHARED_DIR ?? join(import.meta.dirname, '../../../shared'), 'schemas-ogc-local');

/** xmllint --dtdvalid against a DTD of schemas-ogc-local (the DOCTYPE's remote DTD is not loaded: --nonet). */
function dtdValid(xml: string, dtd: string): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sdi-dtd-'));
  try {
    const doc = join(dir, 'doc.xml');
    writeFileSync(doc, xml);
    const r = spawnSync('xmllint', ['--nonet', '--noout', '--dtdvalid', join(SCHEMAS, dtd), doc], { encoding: 'utf8' });
    // The DOCTYPE names the DTD on schemas.opengis.net: its load fails (--nonet) with a warning, not an error.
    const errors = (r.stderr + r.stdout).split('\n').filter((l) => /error/i.test(l) && !/failed to load external entity|Attempt to load network entity/.test(l));
    return { ok: r.status === 0, output: errors.join('\n').slice(0, 4000) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const W = 400;
const H = 300;
const box: Box = { minx: -0.6, miny: 46.0, maxx: 3.6, maxy: 49.2 };
let orleans: { lon: number; lat: number; x: number; y: number };

beforeAll(async () => {
  const { rows } = await db().query(
    `SELECT ST_X(ST_Transform(c.center, 4326)) AS lon, ST_Y(ST_Transform(c.center, 4326)) AS lat, ST_X(c.center) AS x, ST_Y(c.center) AS y
       FROM (SELECT (ST_MaximumInscribedCircle(geom)).center FROM data.communes WHERE code = '45234') c`,
  );
  orleans = { lon: +rows[0].lon, lat: +rows[0].lat, x: +rows[0].x, y: +rows[0].y };
});

const map111 = (extra: string) => `SERVICE=WMS&VERSION=1.1.1&REQUEST=GetMap&LAYERS=communes&STYLES=&WIDTH=${W}&HEIGHT=${H}&FORMAT=image/png&TRANSPARENT=TRUE&${extra}`;

describe('WMS 1.1.1 GetCapabilities', () => {
  let caps = '';
  beforeAll(async () => {
    const r = await fetchMap('SERVICE=WMS&VERSION=1.1.1&REQUEST=GetCapabilities');
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^application\/vnd\.ogc\.wms_xml/);
    caps = r.text;
  });

  it('is valid against the WMS 1.1.1 DTD (WMS_MS_Capabilities.dtd)', () => {
    const v = dtdValid(caps, 'wms/1.1.1/WMS_MS_Capabilities.dtd');
    expect(v.ok, v.output).toBe(true);
    expect(caps).toContain('<WMT_MS_Capabilities version="1.1.1">');
    expect(caps).toContain('<Name>OGC:WMS</Name>');
  });

  it('lists SRS, a LatLonBoundingBox, and BoundingBoxes in x/y order: EPSG:4326 lon/lat (01-068r3 §6.5.6)', () => {
    const communes = /<Layer queryable="1" opaque="0"><Name>communes<\/Name>.*?<\/Layer>/s.exec(caps)![0];
    for (const c of ['EPSG:2154', 'EPSG:4326', 'EPSG:3857']) expect(caps).toContain(`<SRS>${c}</SRS>`);
    const ll = /<LatLonBoundingBox minx="([-\d.]+)" miny="([-\d.]+)" maxx="([-\d.]+)" maxy="([-\d.]+)"\/>/.exec(communes)!.slice(1).map(Number);
    expect(ll[0]).toBeLessThan(1); // west longitude
    expect(ll[1]).toBeGreaterThan(46); // south latitude
    const b4326 = /<BoundingBox SRS="EPSG:4326" minx="([-\d.]+)" miny="([-\d.]+)" maxx="([-\d.]+)" maxy="([-\d.]+)"\/>/.exec(communes)!.slice(1).map(Number);
    expect(b4326).toEqual(ll);
    expect(communes).toMatch(/<LegendURL width="\d+" height="\d+"><Format>image\/png<\/Format><OnlineResource xmlns:xlink="http:\/\/www.w3.org\/1999\/xlink" xlink:type="simple" xlink:href="[^"]+VERSION=1.1.1&amp;REQUEST=GetLegendGraphic/);
    expect(caps).toContain('<Exception><Format>application/vnd.ogc.se_xml</Format><Format>application/vnd.ogc.se_inimage</Format><Format>application/vnd.ogc.se_blank</Format></Exception>');
  });

  it('version negotiation (06-042 §6.2.4): 1.0.0 and 1.2 get 1.1.1; none, 1.3.0 and 2.0 get 1.3.0', async () => {
    for (const [v, root] of [['1.0.0', 'WMT_MS_Capabilities version="1.1.1"'], ['1.2', 'WMT_MS_Capabilities version="1.1.1"'], ['', 'WMS_Capabilities version="1.3.0"'], ['1.3.0', 'WMS_Capabilities version="1.3.0"'], ['2.0.0', 'WMS_Capabilities version="1.3.0"']]) {
      const r = await fetchMap(`SERVICE=WMS&REQUEST=GetCapabilities${v ? `&VERSION=${v}` : ''}`);
      expect(r.status).toBe(200);
      expect(r.text, v).toContain(`<${root}`);
    }
  });
});

describe('WMS 1.1.1 GetMap and GetFeatureInfo', () => {
  it('SRS=EPSG:4326 takes a lon/lat box and draws the same image as 1.3.0 with CRS:84', async () => {
    const a = await fetchMap(map111(`SRS=EPSG:4326&BBOX=${box.minx},${box.miny},${box.maxx},${box.maxy}`));
    expect(a.status, a.text.slice(0, 300)).toBe(200);
    const b = await fetchMap(map111(`CRS=CRS:84&BBOX=${box.minx},${box.miny},${box.maxx},${box.maxy}`).replace('VERSION=1.1.1', 'VERSION=1.3.0'));
    expect(b.status, b.text.slice(0, 300)).toBe(200);
    const ia = await decode(a.bytes);
    const ib = await decode(b.bytes);
    expect(Buffer.from(ia.data).equals(Buffer.from(ib.data))).toBe(true);
    const [i, j] = toPixel(box, W, H, orleans.lon, orleans.lat);
    expect(pixel(ia, i, j)[3]).toBeGreaterThan(50);
    expect(pixel(ia, 2, 2)[3]).toBe(0);
  });

  it('GetFeatureInfo reads X/Y (01-068r3 §7.3.3.7); GML in EPSG:4326 is lon/lat with srsName EPSG:4326', async () => {
    const [i, j] = toPixel(box, W, H, orleans.lon, orleans.lat);
    const q = (fmt: string) =>
      `SERVICE=WMS&VERSION=1.1.1&REQUEST=GetFeatureInfo&LAYERS=communes&QUERY_LAYERS=communes&STYLES=&SRS=EPSG:4326&BBOX=${box.minx},${box.miny},${box.maxx},${box.maxy}&WIDTH=${W}&HEIGHT=${H}&X=${i}&Y=${j}&INFO_FORMAT=${fmt}`;
    const json = await fetchMap(q('application/json'));
    expect(json.status, json.text.slice(0, 300)).toBe(200);
    expect(JSON.parse(json.text).features.map((f: { properties: { code: string } }) => f.properties.code)).toEqual(['45234']);
    const gml = await fetchMap(q('application/vnd.ogc.gml'));
    expect(gml.text).toContain('srsName="EPSG:4326"');
    const first = Number(/<gml:posList[^>]*>([-\d.]+) /.exec(gml.text)![1]);
    expect(first).toBeGreaterThan(1.5); // a longitude
    expect(first).toBeLessThan(2.5);
    // I/J are the 1.3.0 names: a 1.1.1 request needs X/Y.
    const ij = await fetchMap(q('application/json').replace(`&X=${i}&Y=${j}`, `&I=${i}&J=${j}`));
    expect(ij.status).toBe(400);
    expect(ij.text).toContain('<ServiceException code="MissingParameterValue">');
  });

  const bad: Array<[string, string, string]> = [
    ['unknown layer', map111('SRS=EPSG:2154&BBOX=500000,6600000,700000,6800000').replace('LAYERS=communes', 'LAYERS=nowhere'), 'LayerNotDefined'],
    ['unknown SRS', map111('SRS=EPSG:999999&BBOX=500000,6600000,700000,6800000'), 'InvalidSRS'],
    ['SRS not offered for the layer', map111('SRS=EPSG:32631&BBOX=500000,6600000,700000,6800000'), 'InvalidSRS'],
    ['unknown format', map111('SRS=EPSG:2154&BBOX=500000,6600000,700000,6800000').replace('image/png', 'image/gif'), 'InvalidFormat'],
    ['inverted box', map111('SRS=EPSG:2154&BBOX=700000,6600000,500000,6800000'), 'InvalidParameterValue'],
  ];
  for (const [name, query, code] of bad) {
    it(`${name} → ${code}: a 1.1.1 ServiceExceptionReport, application/vnd.ogc.se_xml, DTD-valid`, async () => {
      const r = await fetchMap(query);
      expect(r.status, r.text.slice(0, 300)).toBe(400);
      expect(r.type).toMatch(/^application\/vnd\.ogc\.se_xml/);
      expect(r.text).toContain(`<ServiceExceptionReport version="1.1.1"><ServiceException code="${code}">`);
      const v = dtdValid(r.text, 'wms/1.1.1/exception_1_1_1.dtd');
      expect(v.ok, v.output).toBe(true);
    });
  }

  it('EXCEPTIONS=application/vnd.ogc.se_inimage draws the message; se_blank the background', async () => {
    const q = map111('SRS=EPSG:2154&BBOX=500000,6600000,700000,6800000').replace('LAYERS=communes', 'LAYERS=nowhere');
    const inimage = await fetchMap(`${q}&EXCEPTIONS=application/vnd.ogc.se_inimage`);
    expect(inimage.status).toBe(200);
    expect(inimage.type).toBe('image/png');
    expect((await decode(inimage.bytes)).data.some((v, k) => k % 4 === 3 && v > 0)).toBe(true);
    const blank = await fetchMap(`${q.replace('TRANSPARENT=TRUE', 'TRANSPARENT=FALSE')}&BGCOLOR=0x336699&EXCEPTIONS=application/vnd.ogc.se_blank`);
    expect(pixel(await decode(blank.bytes), 5, 5)).toEqual([0x33, 0x66, 0x99, 255]);
  });
});

describe("GDAL's WMS driver (gdal_translate WMS:…)", () => {
  for (const version of ['1.1.1', '1.3.0'] as const) {
    it(`${version}, EPSG:4326: reads the map, Orléans painted, the box sent in the version's axis order`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'sdi-gdal-wms-'));
      try {
        const param = version === '1.1.1' ? 'SRS' : 'CRS';
        const bbox = version === '1.1.1' ? `${box.minx},${box.miny},${box.maxx},${box.maxy}` : `${box.miny},${box.minx},${box.maxy},${box.maxx}`;
        const src = `WMS:${baseUrl()}/wms?SERVICE=WMS&VERSION=${version}&REQUEST=GetMap&LAYERS=communes&${param}=EPSG:4326&BBOX=${bbox}&FORMAT=image/png&TRANSPARENT=TRUE`;
        const out = join(dir, 'map.tif');
        const env = { ...process.env, CPL_DEBUG: 'ON' };
        for (const k of ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY']) delete env[k];
        const r = spawnSync('gdal_translate', ['-q', '-of', 'GTiff', '-projwin', `${box.minx}`, `${box.maxy}`, `${box.maxx}`, `${box.miny}`, '-outsize', `${W}`, `${H}`, src, out], { encoding: 'utf8', env, timeout: 120_000 });
        expect(r.status, r.stderr.slice(-2000)).toBe(0);
        const sent = /Requesting \[\d+\/\d+\] (\S+)/.exec(r.stderr)![1]!;
        const sentBox = new URL(sent).searchParams.get('bbox')!.split(',').map(Number);
        // 1.1.1: lon/lat; 1.3.0: EPSG:4326 latitude first (GDAL swaps it, as the standard says).
        if (version === '1.1.1') expect(sentBox[0]).toBeLessThan(10);
        else expect(sentBox[0]).toBeGreaterThan(40);
        const loc = (args: string[]) => spawnSync('gdallocationinfo', ['-valonly', ...args], { encoding: 'utf8' }).stdout.trim().split('\n').map(Number);
        const inside = loc(['-geoloc', out, `${orleans.lon}`, `${orleans.lat}`]);
        expect(inside[3], `RGBA at Orléans: ${inside}`).toBeGreaterThan(50);
        expect(loc([out, '2', '2'])[3]).toBe(0);
        expect(readFileSync(out).length).toBeGreaterThan(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
