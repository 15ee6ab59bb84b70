/**
 * INSPIRE pre-defined download service (Atom) through HTTP, checked along the INSPIRE abstract test suite
 * for pre-defined Atom (inspire-eu-validation/download-service, atom-pre-defined): feeds well-formed
 * (xmllint) in the Atom namespace, feed ids equal to their URLs, identifiers, CRS categories, georss
 * footprints, links to the ISO records and to the service record (whose locator is the top feed), every
 * dataset feed reachable, the files of a small dataset downloaded and opened by GDAL in the CRS announced,
 * the OpenSearch description and its Describe / Get Spatial Dataset templates filled in and resolved.
 * No Atom XSD exists in ../shared/schemas-ogc-local (Atom's own schema is RELAX NG compact): the structure
 * is asserted with the platform's namespace-aware XML reader.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseUrl, db, get } from '../helpers.js';
import { validateApiso } from '../catalogue/setup.js';
import { parseXml, type XmlElement } from '../../src/xml/tree.js';

const ATOM = 'http://www.w3.org/2005/Atom';
const DLS = 'http://inspire.ec.europa.eu/schemas/inspire_dls/1.0';
const GEORSS = 'http://www.georss.org/georss';
const OS = 'http://a9.com/-/spec/opensearch/1.1/';
const GMD = 'http://www.isotc211.org/2005/gmd';
const dir = mkdtempSync(join(tmpdir(), 'sdi-atom-test-'));

const kids = (e: XmlElement, name: string, ns = ATOM) => e.children.filter((c) => c.name === name && c.ns === ns);
const one = (e: XmlElement, name: string, ns = ATOM) => {
  const k = kids(e, name, ns);
  expect(k, `exactly one ${name} in ${e.name}`).toHaveLength(1);
  return k[0]!;
};
const links = (e: XmlElement, rel: string, type?: string) => kids(e, 'link').filter((l) => l.attrs.rel === rel && (type === undefined || l.attrs.type === type));
function descendants(e: XmlElement, name: string, ns: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (n: XmlElement) => {
    if (n.name === name && n.ns === ns) out.push(n);
    n.children.forEach(walk);
  };
  walk(e);
  return out;
}

function wellFormed(xml: string): void {
  const r = spawnSync('xmllint', ['--noout', '-'], { input: xml, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
}

async function fetchFeed(url: string): Promise<XmlElement> {
  const r = await get(url);
  expect(r.status, url).toBe(200);
  expect(r.type).toMatch(/^application\/atom\+xml/);
  wellFormed(r.body);
  const root = parseXml(r.body);
  expect([root.name, root.ns]).toEqual(['feed', ATOM]);
  return root;
}

/** Feed-level requirements shared by the service and dataset feeds. */
function checkFeedHead(feed: XmlElement, url: string): void {
  expect(one(feed, 'id').text).toBe(url);
  expect(links(feed, 'self', 'application/atom+xml').map((l) => l.attrs.href)).toEqual([url]);
  expect(links(feed, 'self')[0]!.attrs.hreflang).toBe('fr');
  expect(one(feed, 'title').text).toMatch(/\w/);
  expect(one(feed, 'rights').text).toMatch(/Licence Ouverte/);
  const updated = new Date(one(feed, 'updated').text);
  expect(updated.getUTCFullYear()).toBeGreaterThanOrEqual(2012);
  expect(updated.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
  const author = one(feed, 'author');
  expect(one(author, 'name').text).toMatch(/\w/);
  expect(one(author, 'email').text).toMatch(/^[^@\s]+@[^@\s]+\.[^@\s]+$/);
}

function checkPolygon(entry: XmlElement): void {
  const p = kids(entry, 'polygon', GEORSS);
  expect(p).toHaveLength(1);
  const n = p[0]!.text.trim().split(/\s+/).map(Number);
  expect(n.length).toBe(10);
  expect(n.slice(0, 2)).toEqual(n.slice(8, 10)); // closed ring
  for (let i = 0; i < n.length; i += 2) {
    expect(n[i]).toBeGreaterThan(45); // latitude first (Centre-Val de Loire)
    expect(n[i]).toBeLessThan(50);
    expect(n[i + 1]).toBeGreaterThan(-1);
    expect(n[i + 1]).toBeLessThan(4);
  }
}

const epsgOfCategory = (c: XmlElement) => Number(/^http:\/\/www\.opengis\.net\/def\/crs\/EPSG\/0\/(\d+)$/.exec(c.attrs.term ?? '')?.[1]);

let top: XmlElement;
let topUrl: string;
let published: string[];

beforeAll(async () => {
  topUrl = `${baseUrl()}/download/atom/service.xml`;
  top = await fetchFeed(topUrl);
  const { rows } = await db().query<{ name: string }>(
    `SELECT name FROM sdi.layers WHERE published AND kind = 'feature' UNION SELECT name FROM sdi.raster_layers WHERE published ORDER BY 1`,
  );
  published = rows.map((r) => r.name);
});

/** A pre-defined file link: /download/atom/files/<layer>/<format>/<epsg>. */
function predefined(href: string): { layer: string; format: string; crs: string } {
  const m = /^\/download\/atom\/files\/([^/]+)\/([^/]+)\/(\d+)$/.exec(new URL(href).pathname);
  expect(m, href).not.toBeNull();
  return { layer: decodeURIComponent(m![1]!), format: m![2]!, crs: `EPSG:${m![3]}` };
}

describe('the download service (top) feed', () => {
  it('is a well-formed Atom feed whose id is its URL, with title, rights, updated, author; /download/atom is the same feed', async () => {
    checkFeedHead(top, topUrl);
    const again = await get(`${baseUrl()}/download/atom`);
    expect(again.status).toBe(200);
    expect(parseXml(again.body)).toEqual(top);
  });

  it('links its service metadata record: an ISO 19139 download service record whose locator is this feed', async () => {
    const d = links(top, 'describedby', 'application/xml');
    expect(d).toHaveLength(1);
    const r = await get(d[0]!.attrs.href!);
    expect(r.status).toBe(200);
    const md = descendants(parseXml(r.body), 'MD_Metadata', GMD);
    expect(md).toHaveLength(1);
    const v = validateApiso(r.body.slice(r.body.indexOf('<gmd:MD_Metadata'), r.body.lastIndexOf('</gmd:MD_Metadata>') + '</gmd:MD_Metadata>'.length));
    expect(v.ok, v.output).toBe(true);
    expect(r.body).toContain('<srv:serviceType><gco:LocalName>download</gco:LocalName></srv:serviceType>');
    const locators = descendants(md[0]!, 'linkage', GMD).flatMap((l) => descendants(l, 'URL', GMD)).map((u) => u.text);
    expect(locators).toContain(topUrl);
  });

  it('links the OpenSearch description (search) and the WFS (related)', async () => {
    const s = links(top, 'search', 'application/opensearchdescription+xml');
    expect(s).toHaveLength(1);
    expect(s[0]!.attrs.hreflang).toBe('fr');
    const r = await get(s[0]!.attrs.href!);
    expect(r.status).toBe(200);
    expect([parseXml(r.body).name, parseXml(r.body).ns]).toEqual(['OpenSearchDescription', OS]);
    const wfs = links(top, 'related', 'application/xml');
    expect(wfs).toHaveLength(1);
    expect((await get(wfs[0]!.attrs.href!)).body).toContain('WFS_Capabilities');
  });

  it('has one entry per published layer, vector and raster, each with its identifier, footprint, CRS and links', async () => {
    const entries = kids(top, 'entry');
    const codes = entries.map((e) => one(e, 'spatial_dataset_identifier_code', DLS).text);
    expect(codes.sort()).toEqual(published);
    expect(codes).toContain('communes_densite');
    for (const e of entries) {
      const code = one(e, 'spatial_dataset_identifier_code', DLS).text;
      expect(one(e, 'spatial_dataset_identifier_namespace', DLS).text).toMatch(/^https?:\/\/\w/);
      expect(one(e, 'title').text).toMatch(/\w/);
      expect(one(e, 'id').text).toMatch(/^http/);
      expect(new Date(one(e, 'updated').text).getUTCFullYear()).toBeGreaterThanOrEqual(2012);
      const feed = links(e, 'alternate', 'application/atom+xml');
      expect(feed, code).toHaveLength(1);
      expect(feed[0]!.attrs.href).toBe(`${baseUrl()}/download/atom/${code}.xml`);
      const cats = kids(e, 'category');
      expect(cats.length).toBeGreaterThanOrEqual(2);
      for (const c of cats) {
        expect(epsgOfCategory(c), c.attrs.term).toBeGreaterThan(0);
        expect(c.attrs.label).toMatch(/EPSG:\d+/);
      }
      checkPolygon(e);
    }
  });

  it("each vector layer's entry links its ISO dataset record, which links back to the dataset feed", async () => {
    const { rows } = await db().query<{ name: string; identifier: string }>(
      `SELECT l.name, m.identifier FROM sdi.layers l JOIN sdi.metadata_records m ON m.id = l.metadata_record_id WHERE l.published AND l.kind = 'feature'`,
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      const e = kids(top, 'entry').find((x) => one(x, 'spatial_dataset_identifier_code', DLS).text === row.name)!;
      const d = links(e, 'describedby', 'application/xml');
      expect(d, row.name).toHaveLength(1);
      const r = await get(d[0]!.attrs.href!);
      const md = descendants(parseXml(r.body), 'MD_Metadata', GMD);
      expect(md).toHaveLength(1);
      expect(descendants(md[0]!, 'fileIdentifier', GMD)[0]!.children[0]!.text).toBe(row.identifier);
      expect(descendants(md[0]!, 'URL', GMD).map((u) => u.text)).toContain(`${baseUrl()}/download/atom/${row.name}.xml`);
    }
  });
});

describe('dataset feeds', () => {
  it('every dataset feed: id = URL, up link to the service feed, one entry per format and CRS of the service entry', async () => {
    for (const e of kids(top, 'entry')) {
      const url = links(e, 'alternate', 'application/atom+xml')[0]!.attrs.href!;
      const feed = await fetchFeed(url);
      checkFeedHead(feed, url);
      expect(links(feed, 'up', 'application/atom+xml').map((l) => l.attrs.href)).toEqual([topUrl]);
      const entries = kids(feed, 'entry');
      expect(entries.length).toBeGreaterThanOrEqual(4);
      const crsOfService = kids(e, 'category').map(epsgOfCategory);
      const seen = new Set<string>();
      for (const x of entries) {
        const cats = kids(x, 'category');
        expect(cats).toHaveLength(1);
        expect(crsOfService).toContain(epsgOfCategory(cats[0]!));
        const dl = links(x, 'alternate');
        expect(dl).toHaveLength(1);
        expect(dl[0]!.attrs.type).not.toBe('application/atom+xml');
        expect(dl[0]!.attrs.hreflang).toBe('fr');
        const href = dl[0]!.attrs.href!;
        expect(one(x, 'id').text).toBe(href);
        const u = predefined(href);
        expect(u.layer).toBe(one(e, 'spatial_dataset_identifier_code', DLS).text);
        expect(u.crs).toBe(`EPSG:${epsgOfCategory(cats[0]!)}`);
        const key = `${u.format}|${u.crs}`;
        expect(seen.has(key), key).toBe(false);
        seen.add(key);
      }
      // Every CRS of the service entry has at least one file.
      for (const s of crsOfService) expect(entries.some((x) => epsgOfCategory(kids(x, 'category')[0]!) === s)).toBe(true);
    }
  });

  it('every file of a small dataset (region) downloads (GET 200, HEAD 200) and opens with GDAL in the announced CRS', async () => {
    const feed = await fetchFeed(`${baseUrl()}/download/atom/region.xml`);
    let n = 0;
    for (const x of kids(feed, 'entry')) {
      const l = links(x, 'alternate')[0]!;
      const epsg = epsgOfCategory(kids(x, 'category')[0]!);
      const r = await fetch(l.attrs.href!);
      expect(r.status, l.attrs.href).toBe(200);
      expect(r.headers.get('content-type')!.startsWith(l.attrs.type!.split(';')[0]!), `${r.headers.get('content-type')} vs ${l.attrs.type}`).toBe(true);
      const d = join(dir, String(++n));
      execFileSync('mkdir', ['-p', d]);
      const file = join(d, /filename="([^"]+)"/.exec(r.headers.get('content-disposition') ?? '')![1]!);
      writeFileSync(file, Buffer.from(await r.arrayBuffer()));
      let path = file;
      if (l.attrs.type === 'application/zip') {
        execFileSync('unzip', ['-q', file, '-d', join(d, 'z')]);
        path = join(d, 'z', 'region.shp');
      }
      const info = execFileSync('ogrinfo', ['-ro', '-al', '-so', path], { encoding: 'utf8' });
      expect(info).toMatch(/Feature Count: 1\b/);
      const ids = [...info.matchAll(/^ {4}ID\["EPSG",(\d+)\]\]/gm)];
      expect(Number(ids[ids.length - 1]![1]), `${path}\n${info}`).toBe(epsg);
    }
    expect(n).toBeGreaterThanOrEqual(12);
    const head = await fetch(links(kids(feed, 'entry')[0]!, 'alternate')[0]!.attrs.href!, { method: 'HEAD' });
    expect(head.status).toBe(200);
  }, 120_000);

  it('the raster layer has GeoTIFF and COG files in Lambert-93, WGS 84 and ETRS89', async () => {
    const feed = await fetchFeed(`${baseUrl()}/download/atom/communes_densite.xml`);
    const files = kids(feed, 'entry').map((x) => {
      const u = predefined(links(x, 'alternate')[0]!.attrs.href!);
      return `${u.format} ${u.crs} ${links(x, 'alternate')[0]!.attrs.type}`;
    });
    expect(files.sort()).toEqual([
      'cog EPSG:2154 image/tiff; application=geotiff; profile=cloud-optimized',
      'cog EPSG:4258 image/tiff; application=geotiff; profile=cloud-optimized',
      'cog EPSG:4326 image/tiff; application=geotiff; profile=cloud-optimized',
      'gtiff EPSG:2154 image/tiff; application=geotiff',
      'gtiff EPSG:4258 image/tiff; application=geotiff',
      'gtiff EPSG:4326 image/tiff; application=geotiff',
    ]);
  });
});

describe('OpenSearch description and operations', () => {
  let os: XmlElement;
  let osUrl: string;
  const fill = (template: string, v: Record<string, string>) =>
    template.replace(/\{([^}?]+)\??\}/g, (_, k: string) => encodeURIComponent(v[k] ?? ''));

  beforeAll(async () => {
    osUrl = links(top, 'search')[0]!.attrs.href!;
    const r = await get(osUrl);
    expect(r.type).toMatch(/^application\/opensearchdescription\+xml/);
    wellFormed(r.body);
    os = parseXml(r.body);
  });

  const urls = (rel: string, type?: string) => kids(os, 'Url', OS).filter((u) => u.attrs.rel === rel && (type === undefined || u.attrs.type === type));

  it('describes itself, the generic search (Atom and HTML), Describe and Get Spatial Dataset, its language and one example per dataset', async () => {
    expect(one(os, 'ShortName', OS).text.length).toBeLessThanOrEqual(16);
    expect(one(os, 'Description', OS).text).toMatch(/\w/);
    expect(urls('self', 'application/opensearchdescription+xml').map((u) => u.attrs.template)).toEqual([osUrl]);
    expect(urls('results', 'text/html')).toHaveLength(1);
    const describe = urls('describedby', 'application/atom+xml');
    expect(describe).toHaveLength(1);
    for (const p of ['spatial_dataset_identifier_code', 'spatial_dataset_identifier_namespace', 'language']) expect(describe[0]!.attrs.template).toContain(p);
    const gets = urls('results').filter((u) => u.attrs.template!.includes('crs='));
    expect(gets.length).toBeGreaterThanOrEqual(4);
    for (const g of gets) for (const p of ['crs', 'spatial_dataset_identifier_code', 'spatial_dataset_identifier_namespace', 'language']) expect(g.attrs.template).toContain(p);
    expect(kids(os, 'Language', OS)[0]!.text).toBe('fr');
    const examples = kids(os, 'Query', OS).filter((q) => q.attrs.role === 'example');
    expect(examples.map((q) => q.attrs.spatial_dataset_identifier_code).sort()).toEqual(published);
  });

  it('Describe Spatial Dataset (template filled from an example) returns the dataset feed', async () => {
    const ex = kids(os, 'Query', OS).find((q) => q.attrs.spatial_dataset_identifier_code === 'communes')!;
    const url = fill(urls('describedby', 'application/atom+xml')[0]!.attrs.template!, {
      'inspire_dls:spatial_dataset_identifier_code': ex.attrs.spatial_dataset_identifier_code!,
      'inspire_dls:spatial_dataset_identifier_namespace': ex.attrs.spatial_dataset_identifier_namespace!,
      language: ex.attrs.language!,
    });
    const feed = await fetchFeed(url);
    expect(one(feed, 'id').text).toBe(`${baseUrl()}/download/atom/communes.xml`);
  });

  it('Get Spatial Dataset, for each media type of a vector dataset, gives a file of that type (redirected)', async () => {
    const ex = kids(os, 'Query', OS).find((q) => q.attrs.spatial_dataset_identifier_code === 'region')!;
    for (const g of urls('results').filter((u) => u.attrs.template!.includes('crs=') && !u.attrs.type!.startsWith('image/'))) {
      const url = fill(g.attrs.template!, {
        'inspire_dls:spatial_dataset_identifier_code': 'region',
        'inspire_dls:spatial_dataset_identifier_namespace': ex.attrs.spatial_dataset_identifier_namespace!,
        'inspire_dls:crs': ex.attrs.crs!,
        language: 'fr',
      });
      const r = await fetch(url);
      expect(r.status, url).toBe(200);
      expect(r.redirected).toBe(true);
      expect(r.headers.get('content-type')!.split(';')[0]).toBe(g.attrs.type!.split(';')[0]);
      expect((await r.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
  });

  it('a free-text search returns the matching entries, in Atom or HTML', async () => {
    const feed = await fetchFeed(`${baseUrl()}/download/atom/search?q=${encodeURIComponent('densité')}&language=fr`);
    expect(kids(feed, 'entry').map((e) => one(e, 'spatial_dataset_identifier_code', DLS).text)).toEqual(['communes_densite']);
    const h = await get(fill(urls('results', 'text/html')[0]!.attrs.template!, { searchTerms: 'communes', language: 'fr' }));
    expect(h.status).toBe(200);
    expect(h.type).toMatch(/^text\/html/);
    expect(h.body).toContain('communes_points');
  });

  it('bad input: unknown dataset or namespace 404, a CRS the dataset does not have 400', async () => {
    const b = `${baseUrl()}/download/atom`;
    expect((await get(`${b}/nope.xml`)).status).toBe(404);
    expect((await get(`${b}/search?spatial_dataset_identifier_code=nope`)).status).toBe(404);
    expect((await get(`${b}/search?spatial_dataset_identifier_code=region&spatial_dataset_identifier_namespace=http://elsewhere.example`)).status).toBe(404);
    const bad = await get(`${b}/search?spatial_dataset_identifier_code=region&crs=EPSG:32620`);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).type).toMatch(/unknown-crs$/);
  });
});
