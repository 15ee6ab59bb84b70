/**
 * Issue 9, first slice: WMS 1.3.0 GetCapabilities and GetMap against the real server and the demo data.
 * Capabilities validate against the official schema; GetMap images are decoded and their pixels checked
 * against positions computed by PostGIS (the centre of Orléans' largest inscribed circle, the region's
 * outline), in EPSG:2154, EPSG:4326 (lat/lon box), CRS:84 (lon/lat box) and EPSG:3857; bad input gets
 * the WMS exception code, status and format.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { baseUrl, db, xmllint } from '../helpers.js';
import { decode, fetchMap, pixel, toPixel, validateWmsCapabilities, type Box } from './image.js';

const EXC_XSD = 'wms/1.3.0/exceptions_1_3_0.xsd';

const W = 500;
const H = 500;
/** The region's extent in 2154 grown by 20 km: its corners are outside the region. */
let box2154: Box;
let box4326: Box;
let box3857: Box;
/** Orléans: centre of its largest inscribed circle (and the radius, metres), in each CRS (x/y). */
let orleans: { x2154: number; y2154: number; r: number; lon: number; lat: number; x3857: number; y3857: number; ptLon: number; ptLat: number };

beforeAll(async () => {
  const { rows: b } = await db().query(
    `SELECT ST_XMin(e) - 20000 AS minx, ST_YMin(e) - 20000 AS miny, ST_XMax(e) + 20000 AS maxx, ST_YMax(e) + 20000 AS maxy
       FROM (SELECT ST_Extent(geom) AS e FROM data.region) s`,
  );
  box2154 = { minx: +b[0].minx, miny: +b[0].miny, maxx: +b[0].maxx, maxy: +b[0].maxy };
  // A square-ish lon/lat box and a 3857 box around the region.
  box4326 = { minx: -0.6, miny: 46.0, maxx: 3.6, maxy: 49.2 };
  box3857 = { minx: -70000, miny: 5780000, maxx: 410000, maxy: 6320000 };
  const { rows } = await db().query(
    `WITH c AS (SELECT (ST_MaximumInscribedCircle(geom)).* FROM data.communes WHERE code = '45234'),
          p AS (SELECT geom FROM data.communes_points WHERE code = '45234')
     SELECT ST_X(c.center) AS x, ST_Y(c.center) AS y, c.radius AS r,
            ST_X(ST_Transform(c.center, 4326)) AS lon, ST_Y(ST_Transform(c.center, 4326)) AS lat,
            ST_X(ST_Transform(c.center, 3857)) AS x3857, ST_Y(ST_Transform(c.center, 3857)) AS y3857,
            ST_X(ST_Transform(p.geom, 4326)) AS plon, ST_Y(ST_Transform(p.geom, 4326)) AS plat
       FROM c, p`,
  );
  const o = rows[0];
  orleans = { x2154: +o.x, y2154: +o.y, r: +o.r, lon: +o.lon, lat: +o.lat, x3857: +o.x3857, y3857: +o.y3857, ptLon: +o.plon, ptLat: +o.plat };
});

const map = (extra: string) => `VERSION=1.3.0&REQUEST=GetMap&STYLES=&WIDTH=${W}&HEIGHT=${H}&FORMAT=image/png&TRANSPARENT=TRUE&${extra}`;
const bbox2154 = () => `CRS=EPSG:2154&BBOX=${box2154.minx},${box2154.miny},${box2154.maxx},${box2154.maxy}`;

describe('WMS 1.3.0 GetCapabilities', () => {
  let caps = '';
  beforeAll(async () => {
    const r = await fetchMap('SERVICE=WMS&REQUEST=GetCapabilities');
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^text\/xml/);
    caps = r.text;
  });

  it('is valid against the WMS 1.3.0 schema', () => {
    const v = validateWmsCapabilities(caps);
    expect(v.output).toContain('validates');
    expect(v.ok).toBe(true);
  });

  it('has the platform title on the root layer and one queryable-flagged named layer per published vector layer, then the raster layers', async () => {
    const { rows } = await db().query(
      `SELECT name, title FROM (SELECT name, title, 0 AS k FROM sdi.layers WHERE published AND kind = 'feature' UNION ALL SELECT name, title, 1 FROM sdi.raster_layers WHERE published) l ORDER BY k, name`,
    );
    const root = /<Capability>.*?<Layer><Title>([^<]*)<\/Title>/s.exec(caps)![1];
    expect(root).toBe('Plateforme régionale de données géographiques');
    const named = [...caps.matchAll(/<Layer queryable="[01]"[^>]*><Name>([^<]+)<\/Name><Title>([^<]*)<\/Title>/g)].map((m) => [m[1], m[2]]);
    expect(named).toEqual(rows.map((r) => [r.name, r.title]));
    expect(caps).toContain('<Style><Name>default</Name>');
  });

  it('advertises the operation URLs ending in ?, the formats and the exception formats', () => {
    const hrefs = [...caps.matchAll(/<Get><OnlineResource xlink:type="simple" xlink:href="([^"]+)"\/><\/Get>/g)].map((m) => m[1]!);
    expect(hrefs.length).toBeGreaterThanOrEqual(2);
    for (const h of hrefs) expect(h).toBe(`${baseUrl()}/wms?`);
    expect(caps).toMatch(/<GetMap><Format>image\/png<\/Format><Format>image\/jpeg<\/Format><Format>image\/png; mode=8bit<\/Format><Format>image\/png8<\/Format>/);
    expect(caps).toContain('<Exception><Format>XML</Format><Format>INIMAGE</Format><Format>BLANK</Format></Exception>');
    expect(caps).toMatch(/<MaxWidth>\d+<\/MaxWidth><MaxHeight>\d+<\/MaxHeight>/);
  });

  it('lists the CRSs (the layer CRS, the offered ones, CRS:84) and bounding boxes in each CRS axis order', () => {
    for (const c of ['EPSG:2154', 'EPSG:4326', 'EPSG:3857', 'EPSG:3946', 'CRS:84']) expect(caps).toContain(`<CRS>${c}</CRS>`);
    const communes = /<Layer queryable="[01]"[^>]*><Name>communes<\/Name>.*?<\/Layer>/s.exec(caps)![0];
    const geo = /<westBoundLongitude>([-\d.]+)<\/westBoundLongitude><eastBoundLongitude>([-\d.]+)<\/eastBoundLongitude><southBoundLatitude>([-\d.]+)<\/southBoundLatitude><northBoundLatitude>([-\d.]+)<\/northBoundLatitude>/.exec(communes)!.slice(1).map(Number);
    const [west, east, south, north] = geo as [number, number, number, number];
    expect(west).toBeGreaterThan(-1);
    expect(east).toBeLessThan(4);
    expect(south).toBeGreaterThan(46);
    expect(north).toBeLessThan(49.5);
    const bb = (crs: string) => {
      const m = new RegExp(`<BoundingBox CRS="${crs}" minx="([-\\d.]+)" miny="([-\\d.]+)" maxx="([-\\d.]+)" maxy="([-\\d.]+)"/>`).exec(communes);
      return m!.slice(1).map(Number);
    };
    // EPSG:4326 in WMS 1.3.0: latitude first; CRS:84: longitude first.
    expect(bb('EPSG:4326')).toEqual([south, west, north, east]);
    expect(bb('CRS:84')).toEqual([west, south, east, north]);
    const l93 = bb('EPSG:2154');
    expect(l93[0]).toBeGreaterThan(400000);
    expect(l93[1]).toBeGreaterThan(6500000);
  });

  it('reads parameter names in any case', async () => {
    const r = await fetchMap('sErViCe=wms&ReQuEsT=GetCapabilities');
    expect(r.status).toBe(200);
    expect(r.text).toContain('<WMS_Capabilities version="1.3.0"');
  });
});

describe('WMS 1.3.0 GetMap', () => {
  it('paints Orléans and leaves the outside of the region transparent (EPSG:2154)', async () => {
    const r = await fetchMap(map(`LAYERS=communes&${bbox2154()}`));
    expect(r.status, r.text.slice(0, 300)).toBe(200);
    expect(r.type).toBe('image/png');
    const img = await decode(r.bytes);
    expect([img.width, img.height]).toEqual([W, H]);
    const [i, j] = toPixel(box2154, W, H, orleans.x2154, orleans.y2154);
    // The inscribed circle is several pixels wide at this scale: its centre is well inside the polygon.
    expect(orleans.r / ((box2154.maxx - box2154.minx) / W)).toBeGreaterThan(2);
    expect(pixel(img, i, j)[3]).toBeGreaterThan(50);
    // A corner of the box: 20 km outside the region's extent, nothing drawn.
    const { rows } = await db().query(`SELECT ST_Distance(geom, ST_SetSRID(ST_MakePoint($1, $2), 2154)) AS d FROM data.region`, [box2154.minx + 1000, box2154.maxy - 1000]);
    expect(Number(rows[0].d)).toBeGreaterThan(5000);
    expect(pixel(img, 2, 2)).toEqual([0, 0, 0, 0]);
  });

  it('is parameter-name case-insensitive and needs no SERVICE', async () => {
    const r = await fetchMap(`vErSiOn=1.3.0&request=GetMap&layers=communes&styles=&width=${W}&height=${H}&format=image/png&transparent=true&crs=EPSG:2154&bbox=${box2154.minx},${box2154.miny},${box2154.maxx},${box2154.maxy}`);
    expect(r.status).toBe(200);
    const img = await decode(r.bytes);
    const [i, j] = toPixel(box2154, W, H, orleans.x2154, orleans.y2154);
    expect(pixel(img, i, j)[3]).toBeGreaterThan(50);
  });

  it('paints the background with BGCOLOR when not transparent; JPEG is opaque', async () => {
    const r = await fetchMap(map(`LAYERS=communes&${bbox2154()}`).replace('TRANSPARENT=TRUE', 'TRANSPARENT=FALSE&BGCOLOR=0x00FF00'));
    const img = await decode(r.bytes);
    expect(pixel(img, 2, 2)).toEqual([0, 255, 0, 255]);
    const [i, j] = toPixel(box2154, W, H, orleans.x2154, orleans.y2154);
    const inside = pixel(img, i, j);
    expect(inside[3]).toBe(255);
    // The translucent blue fill (0.35 × #4285cc) over the green background: about (23, 212, 71).
    expect(inside[2]).toBeGreaterThan(50);
    expect(inside[1]).toBeLessThan(235);
    const jpeg = await fetchMap(map(`LAYERS=communes&${bbox2154()}`).replace('image/png', 'image/jpeg'));
    expect(jpeg.status).toBe(200);
    expect(jpeg.type).toBe('image/jpeg');
    expect(jpeg.bytes.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    const ji = await decode(jpeg.bytes);
    const corner = pixel(ji, 2, 2);
    expect(corner[3]).toBe(255);
    expect(Math.min(corner[0], corner[1], corner[2])).toBeGreaterThan(240); // white
    const ins = pixel(ji, i, j);
    expect(ins[2] - ins[0]).toBeGreaterThan(30); // bluish
  });

  it('PNG8 (image/png; mode=8bit, image/png8): an 8-bit palette PNG with alpha, Orléans painted, the outside transparent', async () => {
    for (const format of ['image/png;+mode=8bit', 'image/png8']) {
      const r = await fetchMap(map(`LAYERS=communes,communes_points&${bbox2154()}`).replace('image/png', format));
      expect(r.status, r.text.slice(0, 300)).toBe(200);
      expect(r.type).toBe('image/png');
      // PNG IHDR: bit depth ≤ 8 and colour type 3 (indexed), with a tRNS chunk (the palette's alpha).
      expect(r.bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
      expect(r.bytes[24]).toBeLessThanOrEqual(8);
      expect(r.bytes[25]).toBe(3);
      expect(r.bytes.includes(Buffer.from('tRNS'))).toBe(true);
      const img = await decode(r.bytes);
      const [i, j] = toPixel(box2154, W, H, orleans.x2154, orleans.y2154);
      expect(pixel(img, i, j)[3]).toBeGreaterThan(50);
      expect(pixel(img, 2, 2)[3]).toBe(0);
    }
    // Opaque PNG8 keeps BGCOLOR exactly (a flat colour is one palette entry).
    const opaque = await fetchMap(map(`LAYERS=communes&${bbox2154()}`).replace('image/png', 'image/png8').replace('TRANSPARENT=TRUE', 'TRANSPARENT=FALSE&BGCOLOR=0x00FF00'));
    expect(pixel(await decode(opaque.bytes), 2, 2)).toEqual([0, 255, 0, 255]);
  });

  it('gives the same image in EPSG:4326 (lat/lon box) and CRS:84 (lon/lat box), with Orléans where it should be', async () => {
    const b = box4326;
    const lat = await fetchMap(map(`LAYERS=communes&CRS=EPSG:4326&BBOX=${b.miny},${b.minx},${b.maxy},${b.maxx}`));
    const lon = await fetchMap(map(`LAYERS=communes&CRS=CRS:84&BBOX=${b.minx},${b.miny},${b.maxx},${b.maxy}`));
    expect(lat.status, lat.text.slice(0, 300)).toBe(200);
    expect(lon.status, lon.text.slice(0, 300)).toBe(200);
    const a = await decode(lat.bytes);
    const c = await decode(lon.bytes);
    expect(Buffer.from(a.data).equals(Buffer.from(c.data))).toBe(true);
    const [i, j] = toPixel(b, W, H, orleans.lon, orleans.lat);
    expect(pixel(a, i, j)[3]).toBeGreaterThan(50);
    expect(pixel(a, 2, 2)[3]).toBe(0);
    // The same box read with the axes swapped (lon/lat sent as EPSG:4326) is elsewhere on Earth: empty.
    const wrong = await fetchMap(map(`LAYERS=communes&CRS=EPSG:4326&BBOX=${b.minx},${b.miny},${b.maxx},${b.maxy}`));
    expect(wrong.status).toBe(200);
    const w = await decode(wrong.bytes);
    expect(w.data.every((v, k) => k % 4 !== 3 || v === 0)).toBe(true);
  });

  it('renders in EPSG:3857 with Orléans where it should be', async () => {
    const b = box3857;
    const r = await fetchMap(map(`LAYERS=communes&CRS=EPSG:3857&BBOX=${b.minx},${b.miny},${b.maxx},${b.maxy}`));
    expect(r.status, r.text.slice(0, 300)).toBe(200);
    const img = await decode(r.bytes);
    const [i, j] = toPixel(b, W, H, orleans.x3857, orleans.y3857);
    expect(pixel(img, i, j)[3]).toBeGreaterThan(50);
    expect(pixel(img, 2, 2)[3]).toBe(0);
  });

  it('renders in a conic conformal zone (EPSG:3948, CC48, which holds Orléans) with Orléans where it should be', async () => {
    const { rows } = await db().query(`SELECT ST_X(p) AS x, ST_Y(p) AS y FROM (SELECT ST_Transform(ST_SetSRID(ST_MakePoint($1, $2), 2154), 3948) AS p) s`, [orleans.x2154, orleans.y2154]);
    const [x, y] = [+rows[0].x, +rows[0].y];
    const b = { minx: x - 30000, miny: y - 30000, maxx: x + 30000, maxy: y + 30000 };
    const r = await fetchMap(map(`LAYERS=communes&CRS=EPSG:3948&BBOX=${b.minx},${b.miny},${b.maxx},${b.maxy}`));
    expect(r.status, r.text.slice(0, 300)).toBe(200);
    const img = await decode(r.bytes);
    expect(pixel(img, W / 2, H / 2)[3]).toBeGreaterThan(50);
  });

  it('draws several layers in order, the last on top (points over polygons)', async () => {
    const b = box4326;
    const r = await fetchMap(map(`LAYERS=departements,communes_points&STYLES=,default&CRS=CRS:84&BBOX=${b.minx},${b.miny},${b.maxx},${b.maxy}`).replace('STYLES=&', ''));
    expect(r.status, r.text.slice(0, 300)).toBe(200);
    const img = await decode(r.bytes);
    const [i, j] = toPixel(b, W, H, orleans.ptLon, orleans.ptLat);
    const p = pixel(img, i, j);
    // The orange dot of the point layer, not the translucent blue of the département under it.
    expect(p[3]).toBe(255);
    expect(p[0]).toBeGreaterThan(p[2] + 80);
  });

  it('DPI, MAP_RESOLUTION and FORMAT_OPTIONS=dpi: (QGIS sends all three) give the same image; at 192 DPI symbols are twice as big', async () => {
    // A 20 km box around Orléans: dots far apart, none overlapping.
    const q = map(`LAYERS=communes_points&CRS=EPSG:2154&BBOX=${orleans.x2154 - 10000},${orleans.y2154 - 10000},${orleans.x2154 + 10000},${orleans.y2154 + 10000}`);
    const at96 = await decode((await fetchMap(q)).bytes);
    const images = [];
    for (const p of ['DPI=192', 'MAP_RESOLUTION=192', 'FORMAT_OPTIONS=dpi:192', 'DPI=192&MAP_RESOLUTION=192&FORMAT_OPTIONS=dpi:192']) {
      const r = await fetchMap(`${q}&${p}`);
      expect(r.status, r.text.slice(0, 300)).toBe(200);
      images.push(await decode(r.bytes));
    }
    for (const img of images.slice(1)) expect(Buffer.from(img.data).equals(Buffer.from(images[0]!.data))).toBe(true);
    const painted = (img: { data: Uint8ClampedArray }) => img.data.filter((v, k) => k % 4 === 3 && v > 128).length;
    // Dots of twice the diameter: about four times the area.
    expect(painted(at96)).toBeGreaterThan(0);
    expect(painted(images[0]!)).toBeGreaterThan(3 * painted(at96));
  });

  it('answers a box outside the data with an empty transparent image', async () => {
    const r = await fetchMap(map('LAYERS=communes,communes_points&CRS=EPSG:2154&BBOX=100000,6000000,200000,6100000'));
    expect(r.status).toBe(200);
    const img = await decode(r.bytes);
    expect(img.data.every((v, k) => k % 4 !== 3 || v === 0)).toBe(true);
  });
});

describe('WMS 1.3.0 GetFeatureInfo', () => {
  const gfi = (crs: string, box: string, i: number, j: number, format: string, extra = '') =>
    `SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=communes,communes_points&QUERY_LAYERS=communes&STYLES=&CRS=${crs}&BBOX=${box}&WIDTH=${W}&HEIGHT=${H}&I=${i}&J=${j}&INFO_FORMAT=${encodeURIComponent(format)}${extra}`;
  const at2154 = (format: string, extra = '') => {
    const [i, j] = toPixel(box2154, W, H, orleans.x2154, orleans.y2154);
    return gfi('EPSG:2154', `${box2154.minx},${box2154.miny},${box2154.maxx},${box2154.maxy}`, i, j, format, extra);
  };

  it('is advertised: layers queryable, the INFO_FORMATs listed', async () => {
    const caps = (await fetchMap('SERVICE=WMS&REQUEST=GetCapabilities')).text;
    expect(caps).toMatch(/<GetFeatureInfo><Format>application\/json<\/Format>.*<Format>text\/xml<\/Format>.*<Format>text\/html<\/Format><Format>text\/plain<\/Format>/);
    expect(caps).toContain('<Layer queryable="1" opaque="0"><Name>communes</Name>');
  });

  it('returns the commune under the pixel as GeoJSON (EPSG:2154)', async () => {
    const r = await fetchMap(at2154('application/json'));
    expect(r.status, r.text.slice(0, 300)).toBe(200);
    expect(r.type).toMatch(/^application\/json/);
    const fc = JSON.parse(r.text);
    expect(fc.features.map((f: { properties: { code: string } }) => f.properties.code)).toEqual(['45234']);
    expect(fc.features[0].properties.nom).toBe('Orléans');
    expect(fc.features[0].geometry.type).toBe('MultiPolygon');
  });

  it('the same in EPSG:4326 (lat/lon box) and CRS:84; GML 3.1.1 with latitude first in EPSG:4326', async () => {
    const b = box4326;
    const [i, j] = toPixel(b, W, H, orleans.lon, orleans.lat);
    for (const [crs, box] of [['EPSG:4326', `${b.miny},${b.minx},${b.maxy},${b.maxx}`], ['CRS:84', `${b.minx},${b.miny},${b.maxx},${b.maxy}`]]) {
      const r = await fetchMap(gfi(crs!, box!, i, j, 'application/json'));
      expect(JSON.parse(r.text).features.map((f: { properties: { code: string } }) => f.properties.code)).toEqual(['45234']);
    }
    const xml = await fetchMap(gfi('EPSG:4326', `${b.miny},${b.minx},${b.maxy},${b.maxx}`, i, j, 'text/xml'));
    expect(xml.status).toBe(200);
    expect(xml.type).toMatch(/^text\/xml/);
    expect(xml.text).toContain('<sdi:code>45234</sdi:code>');
    expect(xml.text).toContain('srsName="urn:ogc:def:crs:EPSG::4326"');
    const first = Number(/<gml:posList[^>]*>([-\d.]+) /.exec(xml.text)![1]);
    expect(first).toBeGreaterThan(47); // a latitude
    expect(first).toBeLessThan(48.5);
  });

  it('answers text/plain, text/html and application/vnd.ogc.gml', async () => {
    const t = await fetchMap(at2154('text/plain'));
    expect(t.type).toMatch(/^text\/plain/);
    expect(t.text).toContain('nom = Orléans');
    const h = await fetchMap(at2154('text/html'));
    expect(h.type).toMatch(/^text\/html/);
    expect(h.text).toContain('<td>Orléans</td>');
    const g = await fetchMap(at2154('application/vnd.ogc.gml'));
    expect(g.type).toMatch(/^application\/vnd\.ogc\.gml/);
    expect(g.text).toContain('<sdi:nom>Orléans</sdi:nom>');
  });

  it('finds nothing outside the data; on a point layer the point under the click comes first, BUFFER widens the search', async () => {
    const out = await fetchMap(gfi('EPSG:2154', `${box2154.minx},${box2154.miny},${box2154.maxx},${box2154.maxy}`, 1, 1, 'application/json'));
    expect(JSON.parse(out.text).features).toEqual([]);
    const b = box4326;
    const [pi, pj] = toPixel(b, W, H, orleans.ptLon, orleans.ptLat);
    const q = gfi('CRS:84', `${b.minx},${b.miny},${b.maxx},${b.maxy}`, pi, pj, 'application/json').replace('QUERY_LAYERS=communes', 'QUERY_LAYERS=communes_points');
    const near = JSON.parse((await fetchMap(q)).text);
    expect(near.features.map((f: { properties: { code: string } }) => f.properties.code)).toContain('45234');
    // FEATURE_COUNT caps the answer; without it one feature comes.
    expect(near.features.length).toBe(1);
    const many = JSON.parse((await fetchMap(`${q}&FEATURE_COUNT=50&BUFFER=40`)).text);
    expect(many.features.length).toBeGreaterThan(1);
  });

  const bad: Array<[string, () => string, string, string]> = [
    ['I outside the image', () => at2154('application/json').replace(/&I=\d+/, `&I=${W}`), 'InvalidPoint', 'I'],
    ['unknown INFO_FORMAT', () => at2154('application/x-nothing'), 'InvalidFormat', 'INFO_FORMAT'],
    ['a query layer not in LAYERS', () => at2154('application/json').replace('QUERY_LAYERS=communes', 'QUERY_LAYERS=epci'), 'LayerNotDefined', 'QUERY_LAYERS'],
  ];
  for (const [name, query, code, locator] of bad) {
    it(`${name} → ${code}`, async () => {
      const r = await fetchMap(query());
      expect(r.status, r.text.slice(0, 300)).toBe(400);
      expect(r.text).toContain(`code="${code}" locator="${locator}"`);
      expect(xmllint(r.text, EXC_XSD).ok).toBe(true);
    });
  }
});

describe('WMS GetLegendGraphic', () => {
  it('is linked from each style (LegendURL) and draws the style for the geometry kind', async () => {
    const caps = (await fetchMap('SERVICE=WMS&REQUEST=GetCapabilities')).text;
    const href = /<Name>communes<\/Name>.*?<LegendURL width="20" height="20"><Format>image\/png<\/Format><OnlineResource xlink:type="simple" xlink:href="([^"]+)"/s.exec(caps)![1]!.replace(/&amp;/g, '&');
    const polygon = await fetch(href);
    expect(polygon.status).toBe(200);
    expect(polygon.headers.get('content-type')).toBe('image/png');
    const p = await decode(Buffer.from(await polygon.arrayBuffer()));
    expect([p.width, p.height]).toEqual([20, 20]);
    expect(pixel(p, 10, 10)[3]).toBeGreaterThan(50); // the fill
    expect(pixel(p, 0, 0)[3]).toBe(0); // the inset
    const point = await fetchMap('SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&LAYER=communes_points&STYLE=&FORMAT=image/png&WIDTH=40&HEIGHT=30');
    const q = await decode(point.bytes);
    expect([q.width, q.height]).toEqual([40, 30]);
    const c = pixel(q, 20, 15);
    expect(c[3]).toBe(255);
    expect(c[0]).toBeGreaterThan(c[2] + 80); // orange dot
    expect(pixel(q, 2, 2)[3]).toBe(0);
  });

  it('refuses an unknown layer or style and another format', async () => {
    for (const [q, code] of [
      ['LAYER=nowhere&FORMAT=image/png', 'LayerNotDefined'],
      ['LAYER=communes&STYLE=fancy&FORMAT=image/png', 'StyleNotDefined'],
      ['LAYER=communes&FORMAT=image/gif', 'InvalidFormat'],
    ]) {
      const r = await fetchMap(`SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&${q}`);
      expect(r.status).toBe(400);
      expect(r.text).toContain(`code="${code}"`);
    }
  });
});

describe('WMS 1.3.0 bad input', () => {
  const valid = () => `LAYERS=communes&${bbox2154()}`;
  const cases: Array<[string, () => string, string, string]> = [
    ['unknown layer', () => map(valid().replace('LAYERS=communes', 'LAYERS=nowhere')), 'LayerNotDefined', 'LAYERS'],
    ['unknown style', () => map(valid()).replace('STYLES=&', 'STYLES=fancy&'), 'StyleNotDefined', 'STYLES'],
    ['unknown CRS', () => map(valid().replace('CRS=EPSG:2154', 'CRS=EPSG:999999')), 'InvalidCRS', 'CRS'],
    ['unreadable CRS', () => map(valid().replace('CRS=EPSG:2154', 'CRS=LAMBERT93')), 'InvalidCRS', 'CRS'],
    ['inverted bbox', () => map(`LAYERS=communes&CRS=EPSG:2154&BBOX=700000,6600000,600000,6700000`), 'InvalidParameterValue', 'BBOX'],
    ['bbox of 3 numbers', () => map(`LAYERS=communes&CRS=EPSG:2154&BBOX=600000,6600000,700000`), 'InvalidParameterValue', 'BBOX'],
    ['WIDTH=0', () => map(valid()).replace(`WIDTH=${W}`, 'WIDTH=0'), 'InvalidParameterValue', 'WIDTH'],
    ['HEIGHT over the maximum', () => map(valid()).replace(`HEIGHT=${H}`, 'HEIGHT=100000'), 'InvalidParameterValue', 'HEIGHT'],
    ['unknown FORMAT', () => map(valid()).replace('image/png', 'image/gif'), 'InvalidFormat', 'FORMAT'],
    ['no LAYERS', () => map(`CRS=EPSG:2154&BBOX=600000,6600000,700000,6700000`), 'MissingParameterValue', 'LAYERS'],
    ['another VERSION', () => map(valid()).replace('VERSION=1.3.0', 'VERSION=9.9.9'), 'InvalidParameterValue', 'VERSION'],
    ['unknown REQUEST', () => 'SERVICE=WMS&REQUEST=GetSomething', 'OperationNotSupported', 'REQUEST'],
    ['unknown parameter (issue 13: refused, not ignored)', () => map(valid()) + '&WIDHT=10', 'InvalidParameterValue', 'WIDHT'],
    ['a QGIS FILTER (not supported: every feature would be drawn)', () => map(valid()) + '&FILTER=communes:"nom" = \'Orléans\'', 'InvalidParameterValue', 'FILTER'],
  ];
  for (const [name, query, code, locator] of cases) {
    it(`${name} → ${code} (400, text/xml, valid ServiceExceptionReport 1.3.0)`, async () => {
      const r = await fetchMap(query());
      expect(r.status, r.text.slice(0, 300)).toBe(400);
      expect(r.type).toMatch(/^text\/xml/);
      expect(r.text).toContain('<ServiceExceptionReport version="1.3.0" xmlns="http://www.opengis.net/ogc"');
      expect(r.text).toContain(`code="${code}" locator="${locator}"`);
      const v = xmllint(r.text, EXC_XSD);
      expect(v.ok, v.output).toBe(true);
    });
  }

  it('EXCEPTIONS=INIMAGE draws the message on an image; BLANK gives the empty image', async () => {
    const q = map(valid().replace('LAYERS=communes', 'LAYERS=nowhere'));
    const inimage = await fetchMap(`${q}&EXCEPTIONS=INIMAGE`);
    expect(inimage.status).toBe(200);
    expect(inimage.type).toBe('image/png');
    const a = await decode(inimage.bytes);
    expect(a.data.some((v, k) => k % 4 === 3 && v > 0)).toBe(true);
    const blank = await fetchMap(`${q}&EXCEPTIONS=BLANK&TRANSPARENT=FALSE&BGCOLOR=0x123456`.replace('TRANSPARENT=TRUE&', ''));
    expect(blank.status).toBe(200);
    const b = await decode(blank.bytes);
    expect(pixel(b, 10, 10)).toEqual([0x12, 0x34, 0x56, 255]);
    expect(pixel(b, W - 1, H - 1)).toEqual([0x12, 0x34, 0x56, 255]);
  });
});

describe('WMS: errors raised before the handler are WMS exception reports too (issue 13 §11, OGC 06-042 annex H)', () => {
  it('an unknown path under /wms → 404; a DELETE, or a POST of 11 MB (WMS is GET only: answered before the body is read) → 405: ServiceExceptionReport 1.3.0, text/xml', async () => {
    for (const [path, init, status] of [
      ['/wms/nothing', {}, 404],
      ['/wms', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: 'x'.repeat(11 * 1024 * 1024) }, 405],
      ['/wms', { method: 'DELETE' }, 405],
    ] as const) {
      const r = await fetch(`${baseUrl()}${path}`, init as RequestInit);
      const text = await r.text();
      expect(r.status, `${path} ${text.slice(0, 200)}`).toBe(status);
      expect(r.headers.get('content-type')).toMatch(/^text\/xml/);
      expect(text).toContain('<ServiceExceptionReport version="1.3.0"');
      expect(xmllint(text, EXC_XSD).ok).toBe(true);
    }
  });
});
