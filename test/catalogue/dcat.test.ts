/**
 * DCAT / GeoDCAT-AP output: CSW outputSchema http://www.w3.org/ns/dcat# and http://data.europa.eu/930/
 * (udata `csw-dcat`, shared/research/csw.md §b.ii) and the Hydra-paged DCAT catalogue at /dcat (udata `dcat`).
 *
 * Every RDF document is parsed by rdflib (Debian python3-rdflib, /usr/bin/python3), never by our own code:
 * values are checked against the stored records (sdi.metadata_records), each csw:SearchResults child is
 * parsed alone, Turtle and JSON-LD must give the same graph as RDF/XML (same triple count, isomorphic), and
 * the harvest sequences (udata's CSW POSTs, following hydra:next) must visit every record exactly once.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { baseUrl, db, get } from '../helpers.js';
import { allIdentifiers, cswUrl, loadFixtures, postCsw, searchResults } from './setup.js';

const PYTHON = process.env.RDFLIB_PYTHON ?? '/usr/bin/python3';
const DCAT_SCHEMA = 'http://www.w3.org/ns/dcat#';
const GEODCAT_SCHEMA = 'http://data.europa.eu/930/';

const RDF = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#';
const DCAT = 'http://www.w3.org/ns/dcat#';
const DCT = 'http://purl.org/dc/terms/';
const LOCN = 'http://www.w3.org/ns/locn#';
const RDFS = 'http://www.w3.org/2000/01/rdf-schema#';
const HYDRA = 'http://www.w3.org/ns/hydra/core#';
const VCARD = 'http://www.w3.org/2006/vcard/ns#';
const ADMS = 'http://www.w3.org/ns/adms#';
const SKOS = 'http://www.w3.org/2004/02/skos/core#';
const WKT = 'http://www.opengis.net/ont/geosparql#wktLiteral';
const GEOJSON = 'https://www.iana.org/assignments/media-types/application/vnd.geo+json';

// ------------------------------------------------------------------------------------------------------
// rdflib: parse documents, return their triples and an isomorphism digest.

const PY = String.raw`
import sys, json
from rdflib import Graph, URIRef, BNode, Literal
from rdflib.compare import to_isomorphic
out = []
for item in json.load(sys.stdin):
    try:
        g = Graph()
        g.parse(data=item['data'], format=item['format'])
        def term(t):
            if isinstance(t, URIRef): return {'k': 'iri', 'v': str(t)}
            if isinstance(t, BNode): return {'k': 'bnode', 'v': '_:' + str(t)}
            return {'k': 'literal', 'v': str(t), 'lang': t.language, 'dt': str(t.datatype) if t.datatype else None}
        out.append({'n': len(g), 'digest': str(to_isomorphic(g).graph_digest()),
                    'triples': [[term(s), str(p), term(o)] for s, p, o in g]})
    except Exception as e:
        out.append({'error': '%s: %s' % (type(e).__name__, e)})
json.dump(out, sys.stdout)
`;

type T = { k: 'iri' | 'bnode' | 'literal'; v: string; lang?: string | null; dt?: string | null };
interface Parsed {
  n: number;
  digest: string;
  triples: Array<[T, string, T]>;
}

function rdflib(docs: Array<{ data: string; format: 'xml' | 'turtle' | 'json-ld' }>): Parsed[] {
  const r = spawnSync(PYTHON, ['-c', PY], { input: JSON.stringify(docs), encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, env: { ...process.env, PYTHONIOENCODING: 'utf-8' } });
  expect(r.status, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout) as Array<Parsed & { error?: string }>;
  out.forEach((o, i) => expect(o.error, `document ${i}: ${docs[i]!.data.slice(0, 300)}`).toBeUndefined());
  return out;
}

/** A small query helper over parsed triples. */
class G {
  constructor(readonly p: Parsed) {}
  objects(s: string, pred: string): T[] {
    return this.p.triples.filter(([ss, pp]) => ss.v === s && pp === pred).map(([, , o]) => o);
  }
  one(s: string, pred: string): T | undefined {
    return this.objects(s, pred)[0];
  }
  subjects(pred: string, o?: string): string[] {
    return [...new Set(this.p.triples.filter(([, pp, oo]) => pp === pred && (o === undefined || oo.v === o)).map(([s]) => s.v))];
  }
  ofType(...types: string[]): string[] {
    return [...new Set(types.flatMap((t) => this.subjects(`${RDF}type`, t)))];
  }
  /** The dcat:Dataset / dcat:DataService nodes (what udata harvests). */
  resources(): string[] {
    return this.ofType(`${DCAT}Dataset`, `${DCAT}DataService`);
  }
}

// ------------------------------------------------------------------------------------------------------
// Stored records

interface Stored {
  identifier: string;
  title: string;
  type: string;
  language: string | null;
  licences: string[];
  links: Array<{ url: string; scheme?: string; function?: string; protocol?: string }>;
  minx: number | null;
  miny: number | null;
  maxx: number | null;
  maxy: number | null;
  resource_identifiers: Array<{ code: string; codeSpace?: string }>;
}

let stored: Map<string, Stored>;

async function loadStored(): Promise<Map<string, Stored>> {
  const { rows } = await db().query<Stored>(
    `SELECT identifier, title, type, language, licences, links, resource_identifiers,
            ST_XMin(bbox) AS minx, ST_YMin(bbox) AS miny, ST_XMax(bbox) AS maxx, ST_YMax(bbox) AS maxy
       FROM sdi.metadata_records ORDER BY identifier`,
  );
  return new Map(rows.map((r) => [r.identifier, r]));
}

/** What changes when a record is added, removed or rewritten (xmin moves with every write of a row). */
async function fingerprint(): Promise<string> {
  const { rows } = await db().query<{ f: string }>(`SELECT count(*) || ':' || coalesce(md5(string_agg(identifier || ':' || xmin::text, ',' ORDER BY identifier)), '') AS f FROM sdi.metadata_records`);
  return rows[0]!.f;
}

/**
 * Run a read-only sequence against the catalogue while nothing writes to it. Other parts of the platform
 * (the harvest scheduler, the layer-record sync) may write at any time, and a paged read across a write cannot
 * be exact (an offset pager then repeats or misses records, whatever the server does): retry until a run saw
 * one unchanged catalogue, then the caller asserts on that run's result.
 */
async function whileStable<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const before = await fingerprint();
    const out = await fn();
    if ((await fingerprint()) === before) return out;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('the catalogue kept changing during the whole test');
}

/** Each child of csw:SearchResults / csw:GetRecordByIdResponse, as the exact text the server wrote. */
const rdfChildren = (xml: string) => [...xml.matchAll(/<rdf:RDF\b[\s\S]*?<\/rdf:RDF>/g)].map((m) => m[0]);

const absolute = (u: string) => {
  const s = /^www\./i.test(u.trim()) ? `http://${u.trim()}` : u.trim();
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(s)?.[1];
  if (!scheme || (!/^(https?|ftp|mailto|urn|file)$/i.test(scheme) && /\s/.test(s))) return undefined;
  return s.replace(/[\u0000-\u0020<>"{}|\\^`]/g, (c) => encodeURIComponent(c));
};

/** Envelope of the WKT polygons `POLYGON((x y,...))`. */
function envelope(wkts: string[]): [number, number, number, number] {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const w of wkts) {
    expect(w).toMatch(/^POLYGON\(\(/);
    for (const pair of w.replace(/^POLYGON\(\(|\)\)$/g, '').split(',')) {
      const [x, y] = pair.trim().split(/\s+/).map(Number);
      xs.push(x!);
      ys.push(y!);
    }
  }
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

/** Check one record's parsed graph against the stored record. */
function checkRecord(g: G, rec: Stored): void {
  const resources = g.resources();
  expect(resources, `one dcat:Dataset/DataService for ${rec.identifier}`).toHaveLength(1);
  const r = resources[0]!;
  expect(g.one(r, `${DCT}identifier`)?.v).toBe(rec.identifier);
  const types = g.objects(r, `${RDF}type`).map((t) => t.v);
  expect(types).toContain(rec.type === 'service' ? `${DCAT}DataService` : `${DCAT}Dataset`);
  // Title: exactly the stored text (accents kept), tagged with the record's language.
  const title = g.one(r, `${DCT}title`);
  expect(title?.v).toBe(rec.title);
  if (rec.language === 'fre') expect(title?.lang).toBe('fr');
  // The CatalogRecord points to the resource.
  const records = g.ofType(`${DCAT}CatalogRecord`);
  expect(records).toHaveLength(1);
  expect(g.one(records[0]!, 'http://xmlns.com/foaf/0.1/primaryTopic')?.v).toBe(r);
  // Resource identifiers as adms:Identifier
  const notations = g.objects(r, `${ADMS}identifier`).map((i) => g.one(i.v, `${SKOS}notation`)?.v);
  for (const id of rec.resource_identifiers) expect(notations).toContain(id.codeSpace ? `${id.codeSpace.replace(/\/+$/, '')}/${id.code}` : id.code);
  // Bounding box: WKT and GeoJSON geometries of dct:spatial whose envelope is the stored bbox.
  const locations = g.objects(r, `${DCT}spatial`);
  if (rec.minx === null) expect(locations).toHaveLength(0);
  else {
    const geoms = locations.flatMap((l) => g.objects(l.v, `${LOCN}geometry`));
    const wkts = geoms.filter((x) => x.dt === WKT).map((x) => x.v);
    const geojsons = geoms.filter((x) => x.dt === GEOJSON).map((x) => JSON.parse(x.v) as { type: string; coordinates: number[][][] });
    expect(wkts.length).toBeGreaterThan(0);
    expect(geojsons).toHaveLength(wkts.length);
    const env = envelope(wkts);
    const want = [rec.minx, rec.miny!, rec.maxx!, rec.maxy!];
    env.forEach((v, i) => expect(Math.abs(v - want[i]!), `bbox of ${rec.identifier}: ${env} vs ${want}`).toBeLessThan(1e-6));
    const gj = envelope(geojsons.map((j) => `POLYGON((${j.coordinates[0]!.map(([x, y]) => `${x} ${y}`).join(',')}))`));
    expect(gj).toEqual(env);
  }
  // Licences: dct:license, the anchor URI as an IRI, free text as a labelled LicenseDocument.
  const licences = g.objects(r, `${DCT}license`).map((l) => (l.k === 'iri' ? l.v : g.one(l.v, `${RDFS}label`)?.v));
  for (const l of rec.licences) expect(licences).toContain(absolute(l) ?? l);
  // Online resources: a distribution per link (datasets) or an endpoint (services).
  const links = rec.links.filter((l) => absolute(l.url));
  if (rec.type === 'service') {
    const endpoints = g.objects(r, `${DCAT}endpointURL`).map((e) => e.v);
    for (const l of links) expect(endpoints).toContain(absolute(l.url));
  } else {
    const dists = g.objects(r, `${DCAT}distribution`).map((d) => d.v);
    expect(dists).toHaveLength(links.length);
    for (const l of links) {
      // Several links may share a URL and a name (the same OGC endpoint for WMS and WFS): match on URL, title and
      // the service type the scheme names.
      const serviceType = l.scheme === 'OGC:WFS' ? 'http://www.opengis.net/def/serviceType/ogc/wfs' : l.scheme === 'OGC:WMS' ? 'http://www.opengis.net/def/serviceType/ogc/wms' : undefined;
      const same = dists.filter(
        (d) =>
          g.one(d, `${DCAT}accessURL`)?.v === absolute(l.url) &&
          g.one(d, `${DCT}title`)?.v === (l.name ?? l.description ?? l.scheme ?? l.protocol) &&
          (!serviceType || g.objects(d, `${DCT}conformsTo`).some((c) => c.v === serviceType)),
      );
      expect(same.length, `distribution for ${l.url} (${l.scheme})`).toBeGreaterThan(0);
      const d = same[0]!;
      // dct:format is a file format of the EU file-type table (issue 12), never a protocol name.
      const format = g.one(d, `${DCT}format`);
      if (format) expect(format.v).toMatch(/^http:\/\/publications\.europa\.eu\/resource\/authority\/file-type\/[A-Z0-9_]+$/);
      expect(g.objects(d, `${RDF}type`).map((t) => t.v)).toContain(`${DCAT}Distribution`);
      if (l.scheme === 'OGC:WFS') expect(g.one(d, `${DCT}conformsTo`)?.v).toBe('http://www.opengis.net/def/serviceType/ogc/wfs');
      if (l.scheme === 'OGC:WMS') expect(g.one(d, `${DCT}conformsTo`)?.v).toBe('http://www.opengis.net/def/serviceType/ogc/wms');
    }
  }
}

beforeAll(async () => {
  expect((await loadFixtures()).failed).toEqual([]);
  expect(existsSync(PYTHON), `${PYTHON} (with python3-rdflib) must exist`).toBe(true);
  stored = await loadStored();
  expect(stored.size).toBeGreaterThanOrEqual(13);
});

// ------------------------------------------------------------------------------------------------------

describe('CSW outputSchema DCAT / GeoDCAT-AP', () => {
  it('are advertised in the capabilities and GetDomain', async () => {
    const caps = await get(cswUrl('service=CSW&version=2.0.2&request=GetCapabilities'));
    for (const op of ['GetRecords', 'GetRecordById']) {
      const block = new RegExp(`<ows:Operation name="${op}">([\\s\\S]*?)</ows:Operation>`).exec(caps.body)![1]!;
      const schemas = [...(/<ows:Parameter name="outputSchema">([\s\S]*?)<\/ows:Parameter>/.exec(block)?.[1] ?? '').matchAll(/<ows:Value>([^<]*)<\/ows:Value>/g)].map((m) => m[1]);
      expect(schemas).toContain(DCAT_SCHEMA);
      expect(schemas).toContain(GEODCAT_SCHEMA);
    }
    const d = await get(cswUrl('service=CSW&version=2.0.2&request=GetDomain&parameterName=GetRecords.outputSchema'));
    expect(d.body).toContain(`<csw:Value>${DCAT_SCHEMA}</csw:Value>`);
    expect(d.body).toContain(`<csw:Value>${GEODCAT_SCHEMA}</csw:Value>`);
  });

  it('GetRecordById: one self-contained rdf:RDF per record whose values match the stored record (accents, identifier, bbox, licence, WFS distributions)', async () => {
    // The fixtures cover what is checked: accented titles, licences, WFS links, boxes, a service.
    const all = [...stored.values()];
    expect(all.some((r) => /[À-ÿ]/.test(r.title))).toBe(true);
    expect(all.some((r) => r.licences.length > 0)).toBe(true);
    expect(all.some((r) => r.type !== 'service' && r.links.some((l) => l.scheme === 'OGC:WFS'))).toBe(true);
    expect(all.some((r) => r.type === 'service')).toBe(true);
    for (const schema of [DCAT_SCHEMA, GEODCAT_SCHEMA]) {
      const { recs, body, status, type } = await whileStable(async () => {
        const recs = await loadStored();
        const ids = [...recs.keys()];
        const r = await get(cswUrl(`service=CSW&version=2.0.2&request=GetRecordById&elementSetName=full&outputSchema=${encodeURIComponent(schema)}&id=${ids.map(encodeURIComponent).join(',')}`));
        return { recs, ...r };
      });
      expect(status, body.slice(0, 500)).toBe(200);
      expect(type).toMatch(/xml/);
      const ids = [...recs.keys()];
      const children = rdfChildren(body);
      expect(children).toHaveLength(ids.length);
      const parsed = rdflib(children.map((data) => ({ data, format: 'xml' })));
      parsed.forEach((p, i) => checkRecord(new G(p), recs.get(ids[i]!)!));
    }
  });

  it('a record with a licence anchor and INSPIRE access limitations gets dct:license / dct:accessRights URIs', async () => {
    const r = await get(cswUrl(`service=CSW&version=2.0.2&request=GetRecordById&outputSchema=${encodeURIComponent(DCAT_SCHEMA)}&id=IGNF_BDTOPOr_3.xml`));
    const [p] = rdflib(rdfChildren(r.body).map((data) => ({ data, format: 'xml' })));
    const g = new G(p!);
    const res = g.resources()[0]!;
    expect(g.objects(res, `${DCT}accessRights`).map((a) => a.v)).toContain('http://inspire.ec.europa.eu/metadata-codelist/LimitationsOnPublicAccess/noLimitations');
    // The contact point is a vcard with an email.
    const cps = g.objects(res, `${DCAT}contactPoint`);
    expect(cps.length).toBeGreaterThan(0);
    expect(cps.some((c) => g.one(c.v, `${VCARD}hasEmail`)?.v.startsWith('mailto:'))).toBe(true);
    expect(g.objects(res, `${DCT}publisher`).length).toBe(1);
  });

  it("udata's csw-dcat GetRecords POST sequence (DCAT and GeoDCAT-AP) pages through every record once, each child parsing alone", async () => {
    // Literal body of BaseCswDcatBackend.CSW_REQUEST (shared/research/csw.md §b.ii); also with smaller pages.
    const body = (start: number, schema: string, max: number) => `
    <csw:GetRecords xmlns:apiso="http://www.opengis.net/cat/csw/apiso/1.0"
                    xmlns:csw="http://www.opengis.net/cat/csw/2.0.2"
                    xmlns:ogc="http://www.opengis.net/ogc"
                    xmlns:gmd="http://www.isotc211.org/2005/gmd"
                    service="CSW" version="2.0.2" outputFormat="application/xml"
                    resultType="results" startPosition="${start}" maxRecords="${max}"
                    outputSchema="${schema}">
      <csw:Query typeNames="gmd:MD_Metadata">
        <csw:ElementSetName>full</csw:ElementSetName>
        <csw:Constraint version="1.1.0">
          <ogc:Filter>
            <ogc:Or>
              <ogc:PropertyIsEqualTo><ogc:PropertyName>apiso:type</ogc:PropertyName><ogc:Literal>dataset</ogc:Literal></ogc:PropertyIsEqualTo>
              <ogc:PropertyIsEqualTo><ogc:PropertyName>apiso:type</ogc:PropertyName><ogc:Literal>nonGeographicDataset</ogc:Literal></ogc:PropertyIsEqualTo>
              <ogc:PropertyIsEqualTo><ogc:PropertyName>apiso:type</ogc:PropertyName><ogc:Literal>series</ogc:Literal></ogc:PropertyIsEqualTo>
              <ogc:PropertyIsEqualTo><ogc:PropertyName>apiso:type</ogc:PropertyName><ogc:Literal>service</ogc:Literal></ogc:PropertyIsEqualTo>
            </ogc:Or>
          </ogc:Filter>
        </csw:Constraint>
        <ogc:SortBy>
          <ogc:SortProperty>
            <ogc:PropertyName>apiso:identifier</ogc:PropertyName>
            <ogc:SortOrder>ASC</ogc:SortOrder>
          </ogc:SortProperty>
        </ogc:SortBy>
      </csw:Query>
    </csw:GetRecords>
    `;
    for (const schema of [DCAT_SCHEMA, GEODCAT_SCHEMA]) {
      for (const max of [25, 4]) {
        const { seen, want, log } = await whileStable(async () => {
        const want = await allIdentifiers(`type IN ('dataset', 'nonGeographicDataset', 'series', 'service')`);
        const seen: string[] = [];
        const log: string[] = [];
        let start = 1;
        for (let guard = 0; guard < 100; guard++) {
          const r = await postCsw(body(start, schema, max), 'application/xml');
          expect(r.status, r.body.slice(0, 500)).toBe(200);
          expect(r.body).not.toMatch(/ExceptionReport/);
          const sr = searchResults(r.body);
          log.push(`start=${start} ${JSON.stringify(sr)}`);
          expect(sr.recordSchema).toBe(schema);
          const children = rdfChildren(r.body);
          expect(children).toHaveLength(sr.returned);
          for (const p of rdflib(children.map((data) => ({ data, format: 'xml' })))) {
            const g = new G(p);
            const res = g.resources();
            expect(res).toHaveLength(1);
            seen.push(g.one(res[0]!, `${DCT}identifier`)!.v);
          }
          // udata's _next_position (GeoNetwork's break conditions)
          const stop = sr.next === 0 || sr.next > sr.matched || sr.returned === 0 || sr.next < start;
          if (stop) break;
          start = sr.next;
        }
        return { seen, want, log };
        });
        expect(want.length).toBeGreaterThan(0);
        expect(seen, `${schema} pages of ${max}: ${log.join(' | ')}`).toEqual(want);
      }
    }
  });

  it("the older udata csw-dcat request (maxPosition, default page size, unprefixed 'identifier' sort) also gets everything once", async () => {
    const body = (start: number) => `<csw:GetRecords xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" xmlns:gmd="http://www.isotc211.org/2005/gmd"
      service="CSW" version="2.0.2" resultType="results" startPosition="${start}" maxPosition="200" outputSchema="${DCAT_SCHEMA}">
      <csw:Query typeNames="gmd:MD_Metadata"><csw:ElementSetName>full</csw:ElementSetName>
      <ogc:SortBy xmlns:ogc="http://www.opengis.net/ogc"><ogc:SortProperty><ogc:PropertyName>identifier</ogc:PropertyName><ogc:SortOrder>ASC</ogc:SortOrder></ogc:SortProperty></ogc:SortBy>
      </csw:Query></csw:GetRecords>`;
    const { seen, want } = await whileStable(async () => {
    const want = await allIdentifiers();
    const seen: string[] = [];
    let start = 1;
    for (let guard = 0; guard < 100; guard++) {
      const r = await postCsw(body(start), 'application/xml');
      expect(r.status, r.body.slice(0, 500)).toBe(200);
      const sr = searchResults(r.body);
      for (const p of rdflib(rdfChildren(r.body).map((data) => ({ data, format: 'xml' })))) seen.push(new G(p).one(new G(p).resources()[0]!, `${DCT}identifier`)!.v);
      if (sr.next === 0 || sr.next > sr.matched || sr.returned === 0 || sr.next < start) break;
      start = sr.next;
    }
    return { seen, want };
    });
    expect(seen).toEqual(want);
  });

  it('other output schemas are unchanged by the DCAT ones (Dublin Core and ISO still come back)', async () => {
    const dc = await get(cswUrl('service=CSW&version=2.0.2&request=GetRecords&typeNames=csw:Record&resultType=results&maxRecords=2&elementSetName=brief'));
    expect(dc.body).toContain('<csw:BriefRecord>');
    expect(dc.body).not.toContain('rdf:RDF');
    const iso = await get(cswUrl(`service=CSW&version=2.0.2&request=GetRecords&typeNames=gmd:MD_Metadata&resultType=results&maxRecords=2&outputSchema=${encodeURIComponent('http://www.isotc211.org/2005/gmd')}`));
    expect(iso.body).toContain('<gmd:MD_Metadata');
  });
});

describe('DCAT catalogue at /dcat', () => {
  const dcat = (path = '', query = '') => `${baseUrl()}/dcat${path}${query ? `?${query}` : ''}`;

  it('Turtle and JSON-LD give the same graph as RDF/XML (same triple count, isomorphic), for every record and a catalogue page', async () => {
    const urls = [...[...(await loadStored()).keys()].map((id) => dcat(`/records/${encodeURIComponent(id)}`)), dcat('', 'page=1&page_size=5')];
    for (const url of urls) {
      // The three forms are fetched while the record does not change.
      const docs = await whileStable(async () => {
        const docs: Array<{ data: string; format: 'xml' | 'turtle' | 'json-ld' }> = [];
        for (const [accept, format] of [['application/rdf+xml', 'xml'], ['text/turtle', 'turtle'], ['application/ld+json', 'json-ld']] as const) {
          const r = await get(url, { headers: { accept } });
          expect(r.status, `${url} ${accept}: ${r.body.slice(0, 300)}`).toBe(200);
          expect(r.type).toBe(`${accept}; charset=utf-8`);
          docs.push({ data: r.body, format });
        }
        return docs;
      });
      const [x, t, j] = rdflib(docs);
      expect(x!.n).toBeGreaterThan(10);
      expect(t!.n, `${url} turtle`).toBe(x!.n);
      expect(j!.n, `${url} json-ld`).toBe(x!.n);
      expect(t!.digest).toBe(x!.digest);
      expect(j!.digest).toBe(x!.digest);
    }
  });

  it('the per-record document carries the same values as the CSW output', async () => {
    const { recs, bodies } = await whileStable(async () => {
      const recs = await loadStored();
      const bodies: string[] = [];
      for (const rec of recs.values()) bodies.push((await get(dcat(`/records/${encodeURIComponent(rec.identifier)}`), { headers: { accept: 'text/turtle' } })).body);
      return { recs, bodies };
    });
    const parsed = rdflib(bodies.map((data) => ({ data, format: 'turtle' })));
    [...recs.values()].forEach((rec, i) => checkRecord(new G(parsed[i]!), rec));
    expect((await get(dcat('/records/no-such-record'))).status).toBe(404);
  });

  /** Follow hydra:next from the first page as udata's DcatBackend does; returns identifiers and pages. */
  async function harvest(first: string, format: 'xml' | 'turtle' | 'json-ld', accept?: string): Promise<{ ids: string[][]; pages: number; total: number[] }> {
    const ids: string[][] = [];
    const total: number[] = [];
    let url: string | undefined = first;
    let pages = 0;
    while (url && pages < 100) {
      const r = await get(url, accept ? { headers: { accept } } : undefined);
      expect(r.status, `${url}: ${r.body.slice(0, 300)}`).toBe(200);
      const [p] = rdflib([{ data: r.body, format }]);
      const g = new G(p!);
      pages++;
      const catalog = g.ofType(`${DCAT}Catalog`);
      expect(catalog).toHaveLength(1);
      expect(g.objects(catalog[0]!, `${RDF}type`).map((t) => t.v)).toContain(`${HYDRA}Collection`);
      total.push(Number(g.one(catalog[0]!, `${HYDRA}totalItems`)?.v));
      const members = [...g.objects(catalog[0]!, `${DCAT}dataset`), ...g.objects(catalog[0]!, `${DCAT}service`)].map((m) => m.v);
      const page: string[] = [];
      for (const res of g.resources()) {
        expect(members).toContain(res);
        page.push(g.one(res, `${DCT}identifier`)!.v);
      }
      ids.push(page);
      const views = g.ofType(`${HYDRA}PartialCollectionView`);
      expect(views).toHaveLength(1);
      const view = views[0]!;
      expect(g.one(catalog[0]!, `${HYDRA}view`)?.v).toBe(view);
      // The view is the page's own URL (the first request may omit page=1).
      if (pages > 1) expect(view).toBe(url);
      else expect(view).toMatch(/[?&]page=1&page_size=/);
      expect(g.one(view, `${HYDRA}first`)).toBeDefined();
      expect(g.one(view, `${HYDRA}last`)).toBeDefined();
      // Legacy paging (hydra:PagedCollection / nextPage) says the same.
      expect(g.objects(view, `${RDF}type`).map((t) => t.v)).toContain(`${HYDRA}PagedCollection`);
      expect(g.one(view, `${HYDRA}nextPage`)?.v).toBe(g.one(view, `${HYDRA}next`)?.v);
      url = g.one(view, `${HYDRA}next`)?.v;
    }
    return { ids, pages, total };
  }

  it('Hydra paging (page, page_size; hydra:next) visits every record once, in identifier order, in each format', async () => {
    const size = 4;
    for (const [first, format, accept] of [
      [dcat('', `page_size=${size}`), 'xml', undefined],
      [dcat('', `page_size=${size}&format=ttl`), 'turtle', undefined],
      [dcat('', `page=1&page_size=${size}`), 'json-ld', 'application/ld+json'],
      [dcat('/catalog.jsonld', `page_size=${size}`), 'json-ld', undefined],
      [dcat('/catalog.ttl', `page_size=${size}`), 'turtle', undefined],
    ] as const) {
      const { h, want } = await whileStable(async () => ({ want: [...(await loadStored()).keys()], h: await harvest(first, format, accept) }));
      // A graph has no order: each page holds exactly its slice of the identifier order, and nothing repeats.
      h.ids.forEach((page, k) => expect(new Set(page), `${first} page ${k + 1}`).toEqual(new Set(want.slice(k * size, (k + 1) * size))));
      expect(h.ids.flat()).toHaveLength(want.length);
      expect(h.pages).toBe(Math.ceil(want.length / size));
      expect(new Set(h.total)).toEqual(new Set([want.length]));
    }
    // The default page holds everything here (page_size 100).
    const all = await whileStable(async () => ({ want: [...(await loadStored()).keys()], h: await harvest(dcat(), 'xml') }));
    expect(new Set(all.h.ids.flat())).toEqual(new Set(all.want));
    // Every page of five walks is parsed by rdflib in a Python child: ~90 s alone, more beside other files.
  }, 360_000);

  it('the catalogue describes the platform (title, publisher, contact) and the last page has no next', async () => {
    const { n, r } = await whileStable(async () => {
      const n = (await loadStored()).size;
      return { n, r: await get(dcat('', `page=${Math.ceil(n / 5)}&page_size=5`), { headers: { accept: 'text/turtle' } }) };
    });
    const g = new G(rdflib([{ data: r.body, format: 'turtle' }])[0]!);
    const c = g.ofType(`${DCAT}Catalog`)[0]!;
    expect(c).toBe(`${baseUrl()}/dcat`);
    expect(g.one(c, `${DCT}title`)?.v).toMatch(/Plateforme régionale de données géographiques/);
    expect(g.one(g.one(c, `${DCT}publisher`)!.v, 'http://xmlns.com/foaf/0.1/name')?.v).toBeTruthy();
    expect(g.one(g.one(c, `${DCAT}contactPoint`)!.v, `${VCARD}hasEmail`)?.v).toMatch(/^mailto:/);
    const view = g.ofType(`${HYDRA}PartialCollectionView`)[0]!;
    expect(g.one(view, `${HYDRA}next`)).toBeUndefined();
    expect(g.one(view, `${HYDRA}previous`)?.v).toBe(`${baseUrl()}/dcat?page=${Math.ceil(n / 5) - 1}&page_size=5`);
    expect(g.one(view, `${HYDRA}last`)?.v).toBe(view);
  });

  it('content negotiation and parameter errors', async () => {
    expect((await get(dcat())).type).toBe('application/rdf+xml; charset=utf-8');
    expect((await get(dcat(), { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } })).type).toBe('application/rdf+xml; charset=utf-8');
    expect((await get(dcat(), { headers: { accept: 'application/ld+json;q=0.5, text/turtle' } })).type).toBe('text/turtle; charset=utf-8');
    expect((await get(dcat('', 'format=jsonld'), { headers: { accept: 'text/turtle' } })).type).toBe('application/ld+json; charset=utf-8');
    const head = await fetch(dcat(), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('application/rdf+xml; charset=utf-8');
    expect((await get(dcat(), { headers: { accept: 'image/png' } })).status).toBe(406);
    for (const q of ['format=pdf', 'page=0', 'page=abc', 'page_size=0', 'page_size=100000']) {
      const r = await get(dcat('', q));
      expect(r.status, q).toBe(400);
      expect(r.type).toMatch(/problem\+json/);
    }
    // A page past the end is empty, with a previous link and no next.
    const r = await get(dcat('', 'page=99&page_size=5'), { headers: { accept: 'text/turtle' } });
    expect(r.status).toBe(200);
    expect(new G(rdflib([{ data: r.body, format: 'turtle' }])[0]!).resources()).toEqual([]);
  });
});

describe('CSW DCAT with a proxy', () => {
  it('record URIs follow the public base URL (X-Forwarded-*)', async () => {
    const id = [...stored.keys()][0]!;
    const r = await get(cswUrl(`service=CSW&version=2.0.2&request=GetRecordById&outputSchema=${encodeURIComponent(DCAT_SCHEMA)}&id=${encodeURIComponent(id)}`), {
      headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'geo.example.fr', 'x-forwarded-prefix': '/sdi' },
    });
    const g = new G(rdflib(rdfChildren(r.body).map((data) => ({ data, format: 'xml' })))[0]!);
    expect(g.resources()[0]).toBe(`https://geo.example.fr/sdi/dcat/records/${encodeURIComponent(id)}#resource`);
  });
});

