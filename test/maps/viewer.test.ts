/**
 * Issue 9, the map viewer page (/viewer) in headless Debian chromium (/usr/bin/chromium, driven by
 * playwright-core): the page loads its own bundle (OpenLayers from npm, no CDN), lists the layers of the WMS
 * capabilities with their catalogue record and download links, draws the communes by WMS GetMap (pixels of the
 * communes' fill colour counted in a screenshot of the map), answers a click on Orléans with its GetFeatureInfo,
 * logs no console error, and requests nothing outside its own origin. The page's Content-Security-Policy
 * allows its own script, style, images and requests only (CSP Level 3, §6.1 fetch directives).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { baseUrl, db, get } from '../helpers.js';
import { decode, fetchMap, pixel, type Image } from './image.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Whether this platform mounts WMTS (issue 9's tiles): the viewer then offers it as a display mode. */
const WMTS_MOUNTED = (await fetch(`${baseUrl()}/wmts?SERVICE=WMTS&REQUEST=GetCapabilities`)).status === 200;
/** Whether this platform serves vector tiles with their TileJSON (issue 9's tiles): the viewer then offers them. */
const TILES_MOUNTED = (await fetch(`${baseUrl()}/tiles/communes/tilejson.json`)).status === 200;
const WIDTH = 1200;
const HEIGHT = 800;

let browser: Browser;

/** A page of the viewer with what it logged and requested. */
interface Visit {
  page: Page;
  errors: string[];
  requests: string[];
  foreign: string[];
}

async function visit(path: string): Promise<Visit> {
  const page = await browser.newPage({ viewport: { width: WIDTH, height: HEIGHT } });
  const v: Visit = { page, errors: [], requests: [], foreign: [] };
  const origin = new URL(baseUrl()).origin;
  // Console errors (a CSP violation is one), uncaught exceptions, failed requests (a request the page itself gave
  // up, net::ERR_ABORTED, is no failure: a tile or image no longer needed; requests elsewhere are caught below).
  page.on('console', (m) => {
    if (m.type() === 'error') v.errors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => v.errors.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => {
    const why = r.failure()?.errorText ?? '';
    if (why !== 'net::ERR_ABORTED' && new URL(r.url()).origin === origin) v.errors.push(`requestfailed: ${r.url()} ${why}`);
  });
  // Every request of the page goes through here: one to another origin is recorded and never sent.
  await page.route('**/*', (route) => {
    const url = route.request().url();
    v.requests.push(url);
    if (new URL(url).origin !== origin) {
      v.foreign.push(url);
      return route.abort('blockedbyclient');
    }
    return route.continue();
  });
  await page.goto(`${baseUrl()}${path}`);
  // The viewer marks the map ready once OpenLayers has drawn every shown layer (rendercomplete).
  await page.waitForSelector('#carte[data-etat="pret"]');
  return v;
}

/** Web Mercator (EPSG:3857) of a lon/lat point, spherical formula of the projection. */
const mercator = (lon: number, lat: number): [number, number] => [(6378137 * lon * Math.PI) / 180, 6378137 * Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360))];

/** The communes' fill colour as drawn on the map's white background: the commonest opaque-ish pixel of a GetMap, blended over white. */
async function communesFill(): Promise<[number, number, number]> {
  const r = await fetchMap('SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=communes&STYLES=&CRS=EPSG:3857&BBOX=-50000,5850000,350000,6250000&WIDTH=200&HEIGHT=200&FORMAT=image/png&TRANSPARENT=TRUE');
  const img = await decode(r.bytes);
  const counts = new Map<string, number>();
  for (let o = 0; o < img.data.length; o += 4) if (img.data[o + 3]! > 0) counts.set(img.data.slice(o, o + 4).join(','), (counts.get(img.data.slice(o, o + 4).join(',')) ?? 0) + 1);
  const [rgba] = [...counts].sort((a, b) => b[1] - a[1])[0]!;
  const [red, green, blue, alpha] = rgba.split(',').map(Number) as [number, number, number, number];
  const over = (c: number) => Math.round((c * alpha) / 255 + 255 * (1 - alpha / 255));
  return [over(red), over(green), over(blue)];
}

function countColour(img: Image, rgb: [number, number, number], tolerance = 4): number {
  let n = 0;
  for (let o = 0; o < img.data.length; o += 4) {
    if (Math.abs(img.data[o]! - rgb[0]) <= tolerance && Math.abs(img.data[o + 1]! - rgb[1]) <= tolerance && Math.abs(img.data[o + 2]! - rgb[2]) <= tolerance) n++;
  }
  return n;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Debian chromium is missing at ${CHROMIUM} (apt-get install chromium)`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
});

afterAll(async () => {
  await browser?.close();
});

describe('the viewer page over HTTP', () => {
  it('is French HTML whose Content-Security-Policy allows its own origin only, with no inline script or style', async () => {
    const r = await get(`${baseUrl()}/viewer`);
    expect(r.status).toBe(200);
    expect(r.type).toBe('text/html; charset=utf-8');
    const csp = Object.fromEntries(
      r.headers
        .get('content-security-policy')!
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([k, ...v]) => [k, v.join(' ')]),
    );
    expect(csp).toEqual({
      'default-src': "'none'",
      'script-src': "'self'",
      'style-src': "'self'",
      'img-src': "'self'",
      'connect-src': "'self'",
      'frame-ancestors': "'none'",
      'base-uri': "'none'",
      'form-action': "'none'",
    });
    expect(r.body).toContain('<html lang="fr">');
    expect(r.body).toContain('Visionneuse cartographique');
    expect(r.body).toContain('Cliquez sur la carte pour interroger les couches affichées.');
    expect(r.body).toContain('<script type="module" src="/viewer/viewer.js"></script>');
    // Nothing from elsewhere, nothing inline.
    expect(r.body).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(r.body).not.toMatch(/<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=/i);
    expect(JSON.parse(/data-endpoints="([^"]*)"/.exec(r.body)![1]!.replace(/&quot;/g, '"'))).toMatchObject({ wms: '/wms', download: '/download' });
  });

  it('behind a proxy with a path prefix, the page asks its bundle and the map services under that prefix', async () => {
    // The suite's server trusts proxy headers from 127.0.0.1 (SDI_TRUSTED_PROXIES).
    const r = await get(`${baseUrl()}/viewer`, { headers: { 'x-forwarded-prefix': '/sig' } });
    expect(r.status).toBe(200);
    expect(r.body).toContain('<script type="module" src="/sig/viewer/viewer.js"></script>');
    expect(r.body).toContain('<link rel="stylesheet" href="/sig/viewer/viewer.css">');
    expect(JSON.parse(/data-endpoints="([^"]*)"/.exec(r.body)![1]!.replace(/&quot;/g, '"'))).toMatchObject({ wms: '/sig/wms' });
  });

  it('serves its bundle (OpenLayers inside) with an ETag, and 304 on revalidation (RFC 9110 §13.1.2)', async () => {
    const js = await get(`${baseUrl()}/viewer/viewer.js`);
    expect(js.status).toBe(200);
    expect(js.type).toBe('text/javascript; charset=utf-8');
    expect(js.body.length).toBeGreaterThan(50_000);
    const etag = js.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await fetch(`${baseUrl()}/viewer/viewer.js`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    const css = await get(`${baseUrl()}/viewer/viewer.css`);
    expect(css.status).toBe(200);
    expect(css.type).toBe('text/css; charset=utf-8');
    expect(css.body).toContain('.ol-viewport');
  });
});

describe('the viewer in headless chromium', () => {
  it('lists every layer of the capabilities with a catalogue record and a download link that answer', async () => {
    const v = await visit('/viewer?couches=communes');
    try {
      const caps = (await get(`${baseUrl()}/wms?SERVICE=WMS&REQUEST=GetCapabilities`)).body;
      const names = [...caps.matchAll(/<Layer queryable="[01]"[^>]*><Name>([^<]+)<\/Name>/g)].map((m) => m[1]);
      const listed = await v.page.$$eval('#couches input[type=checkbox]', (els) => els.map((e) => [(e as HTMLInputElement).value, (e as HTMLInputElement).checked]));
      expect(listed.map(([n]) => n).sort()).toEqual([...names].sort());
      expect(listed.filter(([, checked]) => checked)).toEqual([['communes', true]]);
      expect(await v.page.textContent('#etat')).toBe(`${names.length} couches publiées.`);
      const li = v.page.locator('#couches li', { has: v.page.locator('input[value="communes"]') });
      expect(await li.locator('label').textContent()).toContain('Communes');
      const record = await li.getByText('Métadonnées', { exact: true }).getAttribute('href');
      const download = await li.getByText('Télécharger', { exact: true }).getAttribute('href');
      expect(download).toBe('/download/atom/communes.xml');
      const { rows } = await db().query<{ identifier: string }>(`SELECT r.identifier FROM sdi.layers l JOIN sdi.metadata_records r ON r.id = l.metadata_record_id WHERE l.name = 'communes'`);
      expect(record).toContain(`request=GetRecordById`);
      expect(record).toContain(`id=${rows[0]!.identifier}`);
      const rec = await get(record!);
      expect(rec.status).toBe(200);
      expect(rec.body).toContain('<gmd:MD_Metadata');
      const feed = await get(`${baseUrl()}${download}`);
      expect(feed.status).toBe(200);
      expect(feed.body).toMatch(/<entry>[\s\S]*\/download\/atom\/files\/communes\/gpkg\//);
      expect(v.errors).toEqual([]);
      expect(v.foreign).toEqual([]);
    } finally {
      await v.page.close();
    }
  });

  it('draws the communes by WMS (fill colour counted in a screenshot), answers a click on Orléans with its feature info, with no console error and no request elsewhere', async () => {
    const fill = await communesFill();
    const v = await visit('/viewer?couches=communes');
    try {
      const map = v.page.locator('#carte');
      const shot = await decode(await map.screenshot());
      const mapPixels = shot.width * shot.height;
      const filled = countColour(shot, fill);
      // The region fills about a third of the map (its extent fitted, 10 px padding); the communes' outlines take
      // some of it, the information panel hides a corner: a fifth of the map at least is the communes' fill.
      expect(filled / mapPixels).toBeGreaterThan(0.2);
      // The background is the map's white outside the region (bottom-right corner, inside the padding).
      expect(pixel(shot, shot.width - 3, shot.height - 3).slice(0, 3)).toEqual([255, 255, 255]);

      // Orléans: the centre of its largest inscribed circle, placed on the screen as OpenLayers fits the layer's
      // WGS 84 extent (from the capabilities) to the map: resolution = max(extent / (size − 2 × 10 px padding)).
      const caps = (await get(`${baseUrl()}/wms?SERVICE=WMS&REQUEST=GetCapabilities`)).body;
      const layer = /<Layer queryable="1"[^>]*><Name>communes<\/Name>.*?<\/Layer>/s.exec(caps)![0];
      const [w, e, s, n] = /<westBoundLongitude>([-\d.]+)<\/westBoundLongitude><eastBoundLongitude>([-\d.]+)<\/eastBoundLongitude><southBoundLatitude>([-\d.]+)<\/southBoundLatitude><northBoundLatitude>([-\d.]+)<\/northBoundLatitude>/.exec(layer)!.slice(1).map(Number) as [number, number, number, number];
      const [minx, miny] = mercator(w, s);
      const [maxx, maxy] = mercator(e, n);
      const size = await map.evaluate((el) => [el.clientWidth, el.clientHeight]);
      const res = Math.max((maxx - minx) / (size[0]! - 20), (maxy - miny) / (size[1]! - 20));
      // The radius in Web Mercator metres: Lambert-93's scale is about 1 there, Mercator's 1 / cos(latitude).
      const { rows } = await db().query<{ x: number; y: number; r: number }>(
        `SELECT ST_X(ST_Transform(c.center, 3857)) AS x, ST_Y(ST_Transform(c.center, 3857)) AS y,
                c.radius / cos(radians(ST_Y(ST_Transform(c.center, 4326)))) AS r
           FROM (SELECT (ST_MaximumInscribedCircle(geom)).* FROM data.communes WHERE code = '45234') c`,
      );
      const o = rows[0]!;
      expect(o.r / res).toBeGreaterThan(3); // Orléans is several pixels wide at this scale: the click lands inside.
      const px = size[0]! / 2 + (o.x - (minx + maxx) / 2) / res;
      const py = size[1]! / 2 - (o.y - (miny + maxy) / 2) / res;
      expect(pixel(shot, Math.round(px), Math.round(py)).slice(0, 3).every((c, i) => Math.abs(c - fill[i]!) <= 4)).toBe(true);

      await map.click({ position: { x: px, y: py } });
      await v.page.waitForSelector('#infos[data-etat="pret"]');
      const tables = await v.page.$$eval('#infos table.objet', (ts) =>
        ts.map((t) => ({ caption: t.querySelector('caption')?.textContent, rows: Object.fromEntries([...t.querySelectorAll('tr')].map((tr) => [tr.querySelector('th')?.textContent, tr.querySelector('td')?.textContent])) })),
      );
      expect(tables).toContainEqual({ caption: 'Communes', rows: { code: '45234', nom: 'Orléans' } });

      // Every request went to the platform itself: the page, its bundle, the capabilities, legends, GetMap, GetFeatureInfo.
      expect(v.foreign).toEqual([]);
      const paths = new Set(v.requests.map((u) => new URL(u).pathname));
      for (const p of ['/viewer', '/viewer/viewer.js', '/viewer/viewer.css', '/wms']) expect(paths).toContain(p);
      expect([...paths].filter((p) => !['/viewer', '/viewer/viewer.js', '/viewer/viewer.css', '/viewer/favicon.svg', '/wms'].includes(p))).toEqual([]);
      const wms = v.requests.filter((u) => new URL(u).pathname === '/wms').map((u) => new URL(u).searchParams.get('REQUEST'));
      expect(new Set(wms)).toEqual(new Set(['GetCapabilities', 'GetLegendGraphic', 'GetMap', 'GetFeatureInfo']));
      expect(v.errors).toEqual([]);
    } finally {
      await v.page.close();
    }
  });

  it('the browser enforces the CSP: an inline script or an image from elsewhere is refused, and reported as a console error', async () => {
    const v = await visit('/viewer?couches=communes');
    try {
      expect(v.errors).toEqual([]);
      const violations = v.page.evaluate(
        () =>
          new Promise<string[]>((resolve) => {
            const seen: string[] = [];
            document.addEventListener('securitypolicyviolation', (e) => {
              seen.push(e.effectiveDirective);
              if (seen.length === 2) resolve(seen);
            });
            const s = document.createElement('script');
            s.textContent = 'document.body.dataset.inline = "ran"';
            document.body.append(s);
            const img = document.createElement('img');
            img.src = 'http://192.0.2.1/x.png';
            document.body.append(img);
          }),
      );
      expect((await violations).sort()).toEqual(['img-src', 'script-src-elem']);
      expect(await v.page.evaluate(() => document.body.dataset.inline)).toBeUndefined();
      expect(v.errors.length).toBeGreaterThan(0);
      // Refused by the browser before any request: nothing went to 192.0.2.1 (TEST-NET-1).
      expect(v.foreign).toEqual([]);
    } finally {
      await v.page.close();
    }
  });

  it('unticking the only shown layer empties the map, and the URL keeps the choice', async () => {
    const v = await visit('/viewer?couches=communes');
    try {
      const fill = await communesFill();
      await v.page.locator('#couches input[value="communes"]').uncheck();
      await v.page.waitForFunction(() => new URL(location.href).searchParams.get('couches') === '');
      // The WMS layer is hidden at once (no request): OpenLayers redraws the map without it.
      await v.page.waitForSelector('#carte[data-etat="pret"]');
      const shot = await decode(await v.page.locator('#carte').screenshot());
      expect(countColour(shot, fill)).toBe(0);
      expect(v.errors).toEqual([]);
    } finally {
      await v.page.close();
    }
  });
});

describe.runIf(WMTS_MOUNTED)('the viewer drawing by WMTS, when the platform mounts it', () => {
  it('offers WMTS, draws the communes from WebMercatorQuad tiles (same fill as by WMS), and feature info still answers', async () => {
    const fill = await communesFill();
    const v = await visit('/viewer?couches=communes&affichage=wmts');
    try {
      expect(await v.page.$$eval('#affichage option', (os) => os.map((o) => (o as HTMLOptionElement).value))).toContain('wmts');
      expect(await v.page.inputValue('#affichage')).toBe('wmts');
      const shot = await decode(await v.page.locator('#carte').screenshot());
      // Tiles come at the zoom level nearest the view and are resampled to it: outlines are blurred a little wider
      // than in the WMS image, so a little less of the fill keeps its exact colour.
      expect(countColour(shot, fill) / (shot.width * shot.height)).toBeGreaterThan(0.15);
      // GetTile in WebMercatorQuad, KVP (OGC 07-057r7 §7.2.2) or RESTful (§10.2), as the capabilities offer; no GetMap.
      const tiles = v.requests.filter((u) => /[?&]request=GetTile(&|$)/i.test(u) || /\/wmts\/1\.0\.0\/communes\/[^/]+\/WebMercatorQuad\/\d+\/\d+\/\d+\.png$/.test(new URL(u).pathname));
      expect(tiles.length).toBeGreaterThan(0);
      for (const t of tiles) expect(t).toMatch(/communes.*WebMercatorQuad/i);
      expect(v.requests.filter((u) => new URL(u).searchParams.get('REQUEST') === 'GetMap')).toEqual([]);
      const box = await v.page.locator('#carte').boundingBox();
      await v.page.locator('#carte').click({ position: { x: box!.width / 2, y: box!.height / 2 } });
      await v.page.waitForSelector('#infos[data-etat="pret"]');
      expect(await v.page.locator('#infos table.objet caption').first().textContent()).toBe('Communes');
      expect(v.foreign).toEqual([]);
      expect(v.errors).toEqual([]);
    } finally {
      await v.page.close();
    }
  });
});

/** A layer of the test's own (other files restrict demo layers for a while) with a stored default style of its own colour. */
const STYLED = 'viewer_styled';
const STYLED_FILL = '#b4166e';

describe.runIf(TILES_MOUNTED)('the viewer drawing vector tiles, when the platform serves them', () => {
  beforeAll(async () => {
    await db().query(`DELETE FROM sdi.layers WHERE name = $1`, [STYLED]);
    await db().query(`DROP TABLE IF EXISTS data.${STYLED}`);
    await db().query(`CREATE TABLE data.${STYLED} AS SELECT fid, code, nom, geom FROM data.communes`);
    await db().query(`ALTER TABLE data.${STYLED} ADD PRIMARY KEY (fid)`);
    await db().query(`INSERT INTO sdi.layers (name, table_schema, table_name, id_column, geometry_column, title) VALUES ($1, 'data', $1, 'fid', 'geom', 'Communes stylées')`, [STYLED]);
    const style = { name: 'default', title: 'Magenta', rules: [{ title: 'Toutes', symbolizers: [{ kind: 'polygon', fill: { color: STYLED_FILL, opacity: 1 }, stroke: { color: '#3c0a24', opacity: 1, width: 1 } }] }] };
    await db().query(`INSERT INTO sdi.styles (layer_name, name, title, document, is_default) VALUES ($1, 'default', 'Magenta', $2, true)`, [STYLED, JSON.stringify(style)]);
  });
  afterAll(async () => {
    // Its styles go with it (ON DELETE CASCADE).
    await db().query(`DELETE FROM sdi.layers WHERE name = $1`, [STYLED]);
    await db().query(`DROP TABLE IF EXISTS data.${STYLED}`);
  });

  it("style.json gives the colours of the layer's stored default style, or of its kind's default; unknown layers are 404 problem+json", async () => {
    const own = await get(`${baseUrl()}/tiles/${STYLED}/style.json`);
    expect(own.status, own.body).toBe(200);
    expect(JSON.parse(own.body)).toEqual({ id: STYLED, style: 'default', title: 'Magenta', polygon: { fill: { color: STYLED_FILL, opacity: 1 }, stroke: { color: '#3c0a24', opacity: 1, width: 1 } } });
    const kind = await get(`${baseUrl()}/tiles/communes/style.json`);
    expect(kind.status, kind.body).toBe(200);
    expect(JSON.parse(kind.body).polygon.fill.color).toMatch(/^#[0-9a-f]{6}$/);
    const none = await get(`${baseUrl()}/tiles/no_such_layer/style.json`);
    expect(none.status).toBe(404);
    expect(none.type).toContain('application/problem+json');
    expect((await get(`${baseUrl()}/tiles/${STYLED}/style.json?x=1`)).status).toBe(400);
  });

  it("draws a layer with its own stored style's fill colour (pixels counted in a screenshot), not the built-in blue", async () => {
    const v = await visit(`/viewer?couches=${STYLED}&affichage=mvt`);
    try {
      const shot = await decode(await v.page.locator('#carte').screenshot());
      const rgb = [1, 3, 5].map((i) => parseInt(STYLED_FILL.slice(i, i + 2), 16)) as [number, number, number];
      expect(countColour(shot, rgb) / (shot.width * shot.height)).toBeGreaterThan(0.1);
      expect(countColour(shot, await communesFill()) / (shot.width * shot.height)).toBeLessThan(0.01);
      expect(v.requests.map((u) => new URL(u).pathname)).toContain(`/tiles/${STYLED}/style.json`);
      expect(v.foreign).toEqual([]);
      expect(v.errors).toEqual([]);
    } finally {
      await v.page.close();
    }
  });

  it('offers them, draws the communes from their TileJSON template (fill as the default style), and feature info still answers', async () => {
    const fill = await communesFill();
    const v = await visit('/viewer?couches=communes&affichage=mvt');
    try {
      expect(await v.page.$$eval('#affichage option', (os) => os.map((o) => (o as HTMLOptionElement).value))).toContain('mvt');
      expect(await v.page.inputValue('#affichage')).toBe('mvt');
      const shot = await decode(await v.page.locator('#carte').screenshot());
      // Drawn in the browser with the default polygon style's colours (translucent blue), so the same fill colour.
      expect(countColour(shot, fill) / (shot.width * shot.height)).toBeGreaterThan(0.15);
      const paths = v.requests.map((u) => new URL(u).pathname);
      expect(paths).toContain('/tiles/communes/tilejson.json');
      expect(paths.filter((p) => /^\/tiles\/communes\/\d+\/\d+\/\d+\.pbf$/.test(p)).length).toBeGreaterThan(0);
      expect(v.requests.filter((u) => new URL(u).searchParams.get('REQUEST') === 'GetMap')).toEqual([]);
      const box = await v.page.locator('#carte').boundingBox();
      await v.page.locator('#carte').click({ position: { x: box!.width / 2, y: box!.height / 2 } });
      await v.page.waitForSelector('#infos[data-etat="pret"]');
      expect(await v.page.locator('#infos table.objet caption').first().textContent()).toBe('Communes');
      expect(v.foreign).toEqual([]);
      expect(v.errors).toEqual([]);
    } finally {
      await v.page.close();
    }
  });
});
