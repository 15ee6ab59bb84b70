/**
 * Links and distributions of the platform's own records (issue 12), checked as a harvester or a link checker
 * would: every URL of this server that a record of the demo catalogue gives in ISO 19139 (gmd:URL, connect
 * points, operatesOn), Dublin Core (dct:references), DCAT (every IRI) and Atom (atom:link) answers 200, with the
 * media type the record declares for it (gmx:MimeFileType, dcat:mediaType, atom:link@type).
 * Clauses: ISO 19139 gmd:CI_OnlineResource / gmx:MimeFileType, CSW 2.0.2 §10.2.5 (csw:Record), DCAT 2
 * §6.8 (dcat:Distribution: accessURL, downloadURL, mediaType; dct:format from the EU file-type table,
 * GeoDCAT-AP 2 §6.4), RFC 4287 §4.2.7 (atom:link).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Parser, type Quad } from 'n3';
import { baseUrl, db, get } from '../helpers.js';
import { isoRecords, validateApiso, validateCsw } from './setup.js';
import { loadConfig, type Config } from '../../src/config/index.js';
import { DEMO_LAYERS } from '../../src/demo/load-demo.js';
import { layerRecordIdentifier, rasterLinks, serviceRecordIdentifier } from '../../src/metadata/layer-records.js';
import { SERVER_LIMITS_ENV } from '../global-setup.js';
import { syncLayerRecords } from '../../src/publishing/index.js';

const DCAT = 'http://www.w3.org/ns/dcat#';
const DCT = 'http://purl.org/dc/terms/';
const IANA = 'http://www.iana.org/assignments/media-types/';
const FILE_TYPE = 'http://publications.europa.eu/resource/authority/file-type/';

let config: Config;
/** The records the platform writes for its layers and services. */
let managed: string[];

const csw = (q: string) => `${baseUrl()}/csw?service=CSW&version=2.0.2&request=GetRecordById&${q}`;
const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const own = (u: string) => u.startsWith(`${baseUrl()}/`) || u === baseUrl();
/** Media type essence (type/subtype), lower case; the geotiff application parameter kept. */
const essence = (t: string) => t.split(';')[0]!.trim().toLowerCase();

interface Outputs {
  iso: string;
  dc: string;
  dcat: string;
  atom: string;
  /** The DCAT graph of the record (Turtle of /dcat/records/{id}, the same graph as the CSW output). */
  quads: Quad[];
}

async function outputs(id: string): Promise<Outputs> {
  const idq = `id=${encodeURIComponent(id)}`;
  const [iso, dc, dcat, atom, ttl] = await Promise.all([
    get(csw(`${idq}&outputSchema=http://www.isotc211.org/2005/gmd&elementSetName=full`)),
    get(csw(`${idq}&elementSetName=full`)),
    get(csw(`${idq}&outputSchema=http://www.w3.org/ns/dcat%23`)),
    get(csw(`${idq}&outputSchema=http://www.w3.org/2005/Atom`)),
    get(`${baseUrl()}/dcat/records/${encodeURIComponent(id)}`, { headers: { accept: 'text/turtle' } }),
  ]);
  for (const r of [iso, dc, dcat, atom, ttl]) expect(r.status, `${id}: ${r.body.slice(0, 300)}`).toBe(200);
  return { iso: iso.body, dc: dc.body, dcat: dcat.body, atom: atom.body, quads: new Parser().parse(ttl.body) };
}

/** Every URL of this server an output gives, with the media types declared for it. */
function urlsOf(o: Outputs): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const add = (u: string, type?: string) => {
    const url = unescape(u.trim()).replace(/#.*$/, '');
    if (!own(url)) return;
    if (!out.has(url)) out.set(url, new Set());
    if (type) out.get(url)!.add(essence(type));
  };
  // ISO 19139: linkages, connect points, xlink:href (operatesOn); the media type of a gmx:MimeFileType name.
  for (const m of o.iso.matchAll(/<gmd:URL>([^<]*)<\/gmd:URL>/g)) add(m[1]!);
  for (const m of o.iso.matchAll(/xlink:href="([^"]*)"/g)) add(m[1]!);
  for (const m of o.iso.matchAll(/<gmd:CI_OnlineResource>([\s\S]*?)<\/gmd:CI_OnlineResource>/g)) {
    const url = /<gmd:URL>([^<]*)</.exec(m[1]!)?.[1];
    const type = /<gmx:MimeFileType type="([^"]*)"/.exec(m[1]!)?.[1];
    if (url) add(url, type ? unescape(type) : undefined);
  }
  // Dublin Core: dct:references.
  for (const m of o.dc.matchAll(/<dct:references\b[^>]*>([^<]*)<\/dct:references>/g)) add(m[1]!);
  // DCAT (RDF/XML of the CSW output): every IRI; declared media types from the graph.
  for (const m of o.dcat.matchAll(/rdf:(?:resource|about)="([^"]*)"/g)) add(m[1]!);
  for (const d of o.quads.filter((q) => q.predicate.value === `${DCAT}accessURL`)) {
    const type = o.quads.find((q) => q.subject.equals(d.subject) && q.predicate.value === `${DCAT}mediaType`)?.object.value;
    add(d.object.value, type?.startsWith(IANA) ? type.slice(IANA.length) : undefined);
  }
  // Atom: atom:link href and type.
  for (const m of o.atom.matchAll(/<atom:link\b([^>]*)\/>/g)) {
    const href = /href="([^"]*)"/.exec(m[1]!)?.[1];
    const type = /type="([^"]*)"/.exec(m[1]!)?.[1];
    if (href) add(href, type ? unescape(type) : undefined);
  }
  return out;
}

beforeAll(async () => {
  const port = new URL(baseUrl()).port;
  // The server's limits: the records' links depend on them (a raster over the hard limit links no whole file).
  config = loadConfig({ ...process.env, ...SERVER_LIMITS_ENV, PORT: port, HOST: '127.0.0.1' });
  await syncLayerRecords(db(), config);
  managed = (await db().query<{ identifier: string }>('SELECT identifier FROM sdi.metadata_records WHERE managed_by IS NOT NULL ORDER BY identifier')).rows.map((r) => r.identifier);
  for (const d of DEMO_LAYERS) expect(managed).toContain(layerRecordIdentifier(config, d.name));
  expect(managed).toContain(serviceRecordIdentifier(config, 'wfs'));
  expect(managed).toContain(serviceRecordIdentifier(config, 'atom'));
});

describe('every link of every record of the demo catalogue resolves (issue 12)', () => {
  it('each URL of this server in the ISO, Dublin Core, DCAT and Atom outputs answers 200 with its declared media type', async () => {
    const all = new Map<string, { types: Set<string>; from: string }>();
    for (const id of managed) {
      const o = await outputs(id);
      expect(validateApiso(isoRecords(o.iso)[0]!).ok, id).toBe(true);
      expect(validateCsw(o.dc).ok, id).toBe(true);
      for (const [url, types] of urlsOf(o)) {
        const seen = all.get(url) ?? { types: new Set<string>(), from: id };
        for (const t of types) seen.types.add(t);
        all.set(url, seen);
      }
    }
    expect(all.size).toBeGreaterThan(DEMO_LAYERS.length * 5);
    const failures: string[] = [];
    for (const [url, { types, from }] of all) {
      // GET, headers only: the body (a whole layer) is not read.
      const r = await fetch(url, { redirect: 'manual' });
      await r.body?.cancel();
      const answered = essence(r.headers.get('content-type') ?? '');
      if (r.status !== 200) failures.push(`${r.status} ${url} (record ${from})`);
      else if (types.size > 0 && ![...types].every((t) => t === answered)) failures.push(`${url}: declared ${[...types].join(', ')}, answered ${answered} (record ${from})`);
    }
    expect(failures).toEqual([]);
    console.info(`link check: ${all.size} URLs of ${managed.length} records, ${[...all.values()].filter((v) => v.types.size).length} with a declared media type`);
  }, 600_000);
});

describe('distributions of a layer record', () => {
  it('ISO 19139: the whole layer as files of the download service, not a page of an API (no items?limit)', async () => {
    const o = await outputs(layerRecordIdentifier(config, 'communes'));
    expect(o.iso).not.toMatch(/items\?[^<]*limit=/);
    const urls = [...o.iso.matchAll(/<gmd:URL>([^<]*)<\/gmd:URL>/g)].map((m) => unescape(m[1]!));
    expect(urls).toEqual(expect.arrayContaining([`${baseUrl()}/download/atom/files/communes/gpkg/2154`, `${baseUrl()}/download/atom/files/communes/shp/2154`, `${baseUrl()}/download/atom/files/communes/geojson/4326`]));
    // The whole layer: the GeoJSON file holds every feature of the table.
    const r = await fetch(`${baseUrl()}/download/atom/files/communes/geojson/4326`);
    const features = ((await r.json()) as { features: unknown[] }).features.length;
    const { rows } = await db().query<{ n: string }>('SELECT count(*) AS n FROM data.communes');
    expect(features).toBe(Number(rows[0]!.n));
  });

  it('OGC API – Features as QGIS OAPIF wants it: the landing page, the collection named apart (gmd:name)', async () => {
    const o = await outputs(layerRecordIdentifier(config, 'communes'));
    const oapif = [...o.iso.matchAll(/<gmd:CI_OnlineResource>([\s\S]*?)<\/gmd:CI_OnlineResource>/g)].map((m) => m[1]!).find((x) => x.includes('OGC:API-Features'));
    expect(oapif).toBeDefined();
    expect(unescape(/<gmd:URL>([^<]*)</.exec(oapif!)![1]!)).toBe(`${baseUrl()}/ogcapi`);
    expect(oapif).toContain('<gmd:name><gco:CharacterString>communes</gco:CharacterString></gmd:name>');
    // The collection the name gives exists under that landing page.
    expect((await get(`${baseUrl()}/ogcapi/collections/communes`, { headers: { accept: 'application/json' } })).status).toBe(200);
    // Dublin Core: QGIS MetaSearch reads the scheme.
    expect(unescape(o.dc)).toContain(`<dct:references scheme="OGC:API-Features">${baseUrl()}/ogcapi</dct:references>`);
  });

  it('DCAT: one distribution per file with accessURL = downloadURL, IANA media type and EU file-type format; no protocol as dct:format', async () => {
    const o = await outputs(layerRecordIdentifier(config, 'communes'));
    const dist = (url: string) => o.quads.find((q) => q.predicate.value === `${DCAT}accessURL` && q.object.value === url)?.subject;
    const value = (s: Quad['subject'] | undefined, p: string) => o.quads.filter((q) => s && q.subject.equals(s) && q.predicate.value === p).map((q) => q.object.value);
    for (const [fmt, srid, media, code] of [['gpkg', 2154, 'application/geopackage+sqlite3', 'GPKG'], ['shp', 2154, 'application/zip', 'SHP'], ['geojson', 4326, 'application/geo+json', 'GEOJSON']] as const) {
      const url = `${baseUrl()}/download/atom/files/communes/${fmt}/${srid}`;
      const d = dist(url);
      expect(d, url).toBeDefined();
      expect(value(d, `${DCAT}downloadURL`)).toEqual([url]);
      expect(value(d, `${DCAT}mediaType`)).toEqual([`${IANA}${media}`]);
      expect(value(d, `${DCT}format`)).toEqual([`${FILE_TYPE}${code}`]);
    }
    // The Atom feed: a feed (accessURL, ATOM), not a file to download.
    const feed = dist(`${baseUrl()}/download/atom/communes.xml`);
    expect(value(feed, `${DCT}format`)).toEqual([`${FILE_TYPE}ATOM`]);
    expect(value(feed, `${DCAT}downloadURL`)).toEqual([]);
    // Service endpoints: the protocol is dct:conformsTo, never dct:format.
    const wfs = dist(`${baseUrl()}/wfs?service=WFS&version=2.0.0&request=GetCapabilities`);
    expect(value(wfs, `${DCT}conformsTo`)).toEqual(['http://www.opengis.net/def/serviceType/ogc/wfs']);
    expect(value(wfs, `${DCT}format`)).toEqual([]);
    for (const q of o.quads.filter((x) => x.predicate.value === `${DCT}format`)) expect(q.object.value).toMatch(/^http:\/\/publications\.europa\.eu\/resource\/authority\/file-type\/[A-Z]+$/);
  });

  it('Atom: the files are enclosures with their media type, the services related links', async () => {
    const o = await outputs(layerRecordIdentifier(config, 'communes'));
    expect(unescape(o.atom)).toContain(`<atom:link rel="enclosure" href="${baseUrl()}/download/atom/files/communes/gpkg/2154" type="application/geopackage+sqlite3" title="communes.gpkg"/>`);
    expect(unescape(o.atom)).toContain(`<atom:link rel="related" href="${baseUrl()}/ogcapi" title="communes"/>`);
  });
});

describe('distributions of a raster layer record (issue 12: map and download links, not Atom alone)', () => {
  const RASTER = 'communes_densite';
  const onlines = (iso: string) => [...iso.matchAll(/<gmd:CI_OnlineResource>([\s\S]*?)<\/gmd:CI_OnlineResource>/g)].map((m) => m[1]!);
  const urlOf = (online: string) => unescape(/<gmd:URL>([^<]*)</.exec(online)![1]!);

  it('ISO 19139 gmd:CI_OnlineResource: the WMS capabilities (view service) with the layer named, as the capabilities name it', async () => {
    const o = await outputs(layerRecordIdentifier(config, RASTER));
    const wms = onlines(o.iso).find((x) => x.includes('OGC:WMS'));
    expect(wms).toBeDefined();
    expect(urlOf(wms!)).toBe(`${baseUrl()}/wms?service=WMS&version=1.3.0&request=GetCapabilities`);
    expect(wms).toContain(`<gmd:name><gco:CharacterString>${RASTER}</gco:CharacterString></gmd:name>`);
    expect(wms).toContain('SpatialDataServiceType/view');
    const caps = await get(urlOf(wms!));
    expect(caps.status).toBe(200);
    expect(caps.body).toContain(`<Name>${RASTER}</Name>`);
    // Dublin Core (CSW 2.0.2 §10.2.5): the scheme MetaSearch reads to offer "add to map".
    expect(unescape(o.dc)).toContain(`<dct:references scheme="OGC:WMS">${baseUrl()}/wms?service=WMS&version=1.3.0&request=GetCapabilities</dct:references>`);
  });

  it('ISO 19139, DCAT 2 §6.8, Atom: the whole raster as GeoTIFF and COG files of the download service when the platform builds them, with media type and EU file type', async () => {
    const o = await outputs(layerRecordIdentifier(config, RASTER));
    const { rows } = await db().query<{ srid: number; pixels: string }>('SELECT srid, width::bigint * height * bands AS pixels FROM sdi.raster_layers WHERE name = $1', [RASTER]);
    const { srid, pixels } = rows[0]!;
    const files = [
      ['gtiff', 'image/tiff; application=geotiff'],
      ['cog', 'image/tiff; application=geotiff; profile=cloud-optimized'],
    ] as const;
    const url = (fmt: string) => `${baseUrl()}/download/atom/files/${RASTER}/${fmt}/${srid}`;
    // Over the hard limit of an extract (this suite's server: SERVER_LIMITS_ENV) a first build of the file is
    // refused (413), so the record does not link it; the link check above fetches whatever it links.
    const within = Number(pixels) <= config.download.rasterMaxPixels;
    for (const [fmt, media] of files) {
      const online = onlines(o.iso).find((x) => urlOf(x) === url(fmt));
      if (!within) {
        expect(online, url(fmt)).toBeUndefined();
        continue;
      }
      expect(online, url(fmt)).toContain(`<gmx:MimeFileType type="${media}">`);
      const d = o.quads.find((q) => q.predicate.value === `${DCAT}accessURL` && q.object.value === url(fmt))?.subject;
      const value = (p: string) => o.quads.filter((q) => q.subject.equals(d!) && q.predicate.value === p).map((q) => q.object.value);
      expect(value(`${DCAT}downloadURL`)).toEqual([url(fmt)]);
      expect(value(`${DCT}format`)).toEqual([`${FILE_TYPE}GEOTIFF`]);
    }
    // Within the limit (a deployment's default, 10⁹ pixels): both files, with the media types the route answers with.
    const links = rasterLinks(baseUrl(), { name: RASTER, title: 'T', srid, width: 100, height: 100, bands: 1 }, 1_000_000_000);
    expect(links.filter((l) => l.mediaType?.startsWith('image/tiff')).map((l) => [l.url, l.mediaType])).toEqual(files.map(([fmt, media]) => [url(fmt), media]));
    expect(rasterLinks(baseUrl(), { name: RASTER, title: 'T', srid, width: 100, height: 100, bands: 2 }, 10_000).some((l) => l.mediaType?.startsWith('image/tiff'))).toBe(false);
    // The Atom feed stays, beside them.
    expect(onlines(o.iso).some((x) => urlOf(x) === `${baseUrl()}/download/atom/${RASTER}.xml`)).toBe(true);
  });
});

describe('the WFS service record', () => {
  it('locators and connect points are requests that answer (GetCapabilities, DescribeFeatureType), never the bare /wfs', async () => {
    const o = await outputs(serviceRecordIdentifier(config, 'wfs'));
    const urls = [...o.iso.matchAll(/<gmd:URL>([^<]*)<\/gmd:URL>/g)].map((m) => unescape(m[1]!));
    expect(urls).not.toContain(`${baseUrl()}/wfs`);
    expect(urls).toContain(`${baseUrl()}/wfs?service=WFS&version=2.0.0&request=GetCapabilities`);
    expect(urls).toContain(`${baseUrl()}/wfs?service=WFS&version=2.0.0&request=DescribeFeatureType`);
    expect(unescape(o.dc)).toContain(`<dct:references scheme="OGC:WFS">${baseUrl()}/wfs?service=WFS&version=2.0.0&request=GetCapabilities</dct:references>`);
    expect((await get(`${baseUrl()}/wfs`)).status).toBe(400); // why the bare endpoint is not a locator
  });
});
