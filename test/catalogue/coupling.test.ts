/**
 * Coupling of the catalogue with the services (src/metadata/layer-records.ts): every published demo layer has a
 * CNIG/INSPIRE-conformant dataset record, the WFS has a service record operating on all of them, WFS
 * capabilities point back to the records (MetadataURL → GetRecordById), and editing a layer moves its record.
 * The records are synced here through the same function the server and the CLI call (idempotent).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { baseUrl, db, get } from '../helpers.js';
import { isoRecords, validateApiso, validateCsw } from './setup.js';
import { loadConfig, type Config } from '../../src/config/index.js';
import { DEMO_LAYERS } from '../../src/demo/load-demo.js';
import { LICENCE, layerRecordIdentifier, serviceRecordIdentifier, type SyncReport } from '../../src/metadata/layer-records.js';
import { syncLayerRecords } from '../../src/publishing/index.js';

let config: Config;
let first: SyncReport;

const csw = (q: string) => `${baseUrl()}/csw?${q}`;
const byId = (id: string) => get(csw(`service=CSW&version=2.0.2&request=GetRecordById&outputSchema=http://www.isotc211.org/2005/gmd&elementSetName=full&id=${encodeURIComponent(id)}`));
const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const fileId = (xml: string) => /<gmd:fileIdentifier>\s*<gco:CharacterString>([^<]*)</.exec(xml)?.[1];
const dateStamp = (xml: string) => /<gmd:dateStamp>\s*<gco:DateTime>([^<]*)</.exec(xml)?.[1];
const title = (xml: string) => unescape(/<gmd:citation>\s*<gmd:CI_Citation>\s*<gmd:title>\s*<gco:CharacterString>([^<]*)</.exec(xml)?.[1] ?? '');

interface LayerRecordRow {
  name: string;
  title: string;
  identifier: string | null;
  managed_by: string | null;
}
const layerRecords = async () =>
  (
    await db().query<LayerRecordRow>(
      `SELECT l.name, l.title, m.identifier, m.managed_by FROM sdi.layers l LEFT JOIN sdi.metadata_records m ON m.id = l.metadata_record_id
        WHERE l.published AND l.kind = 'feature' ORDER BY l.name`,
    )
  ).rows;

/** The ISO record behind GetRecordById, checked to be exactly one record with that identifier. */
async function fetchRecord(id: string): Promise<string> {
  const r = await byId(id);
  expect(r.status).toBe(200);
  const recs = isoRecords(r.body);
  expect(recs.length, r.body.slice(0, 300)).toBe(1);
  expect(fileId(recs[0]!)).toBe(id);
  return recs[0]!;
}

beforeAll(async () => {
  const port = new URL(baseUrl()).port;
  // The configuration the test server runs with (same host and port: the same public URLs in the records).
  config = loadConfig({ ...process.env, PORT: port, HOST: '127.0.0.1' });
  first = await syncLayerRecords(db(), config);
});

describe('dataset records of the published layers', () => {
  it('every demo layer is linked to its platform record, under a stable identifier derived from the layer name', async () => {
    const rows = await layerRecords();
    for (const d of DEMO_LAYERS) {
      const row = rows.find((r) => r.name === d.name);
      expect(row, d.name).toBeDefined();
      expect(row!.identifier).toBe(layerRecordIdentifier(config, d.name));
      expect(row!.managed_by).toBe(`layer:${d.name}`);
    }
    expect(first.serviceIdentifier).toBe(serviceRecordIdentifier(config, 'wfs'));
  });

  it('a second sync changes nothing (idempotent): every record unchanged, dateStamps kept', async () => {
    const before = (await db().query<{ identifier: string; date_stamp: string; updated_at: Date }>(`SELECT identifier, date_stamp, updated_at FROM sdi.metadata_records WHERE managed_by IS NOT NULL ORDER BY identifier`)).rows;
    const again = await syncLayerRecords(db(), config);
    expect(again.created).toEqual([]);
    expect(again.updated).toEqual([]);
    expect(again.deleted).toEqual([]);
    const after = (await db().query<{ identifier: string; date_stamp: string; updated_at: Date }>(`SELECT identifier, date_stamp, updated_at FROM sdi.metadata_records WHERE managed_by IS NOT NULL ORDER BY identifier`)).rows;
    expect(after).toEqual(before);
  });

  it('each record validates (ISO 19139 gmd + gmx + srv) and carries the CNIG / INSPIRE TG 2.0 encodings', async () => {
    const base = baseUrl();
    for (const d of DEMO_LAYERS) {
      const xml = await fetchRecord(layerRecordIdentifier(config, d.name));
      const v = validateApiso(xml);
      expect(v.ok, `${d.name}: ${v.output}`).toBe(true);
      expect(title(xml)).toBe(d.title);
      expect(xml).toContain('<gmd:hierarchyLevel><gmd:MD_ScopeCode codeList="http://standards.iso.org/iso/19139/resources/gmxCodelists.xml#MD_ScopeCode" codeListValue="dataset">');
      expect(xml).toContain('<gmd:LanguageCode codeList="http://www.loc.gov/standards/iso639-2/" codeListValue="fre">fre</gmd:LanguageCode>');
      // Resource identifier (code + namespace), reference system as an anchor.
      expect(xml).toContain(`<gmd:identifier><gmd:RS_Identifier><gmd:code><gco:CharacterString>${d.name}</gco:CharacterString></gmd:code><gmd:codeSpace><gco:CharacterString>${config.namespace.uri}</gco:CharacterString></gmd:codeSpace>`);
      expect(xml).toContain('<gmd:code><gmx:Anchor xlink:href="http://www.opengis.net/def/crs/EPSG/0/2154">EPSG:2154</gmx:Anchor></gmd:code>');
      // Access limitations and licence as gmx:Anchor.
      expect(xml).toMatch(/<gmd:accessConstraints><gmd:MD_RestrictionCode [^>]*codeListValue="otherRestrictions">otherRestrictions<\/gmd:MD_RestrictionCode><\/gmd:accessConstraints><gmd:otherConstraints><gmx:Anchor xlink:href="http:\/\/inspire\.ec\.europa\.eu\/metadata-codelist\/LimitationsOnPublicAccess\/noLimitations">/);
      expect(xml).toContain(`<gmd:otherConstraints><gmx:Anchor xlink:href="${LICENCE.href}">${LICENCE.text}</gmx:Anchor></gmd:otherConstraints>`);
      // Online resources: WFS GetCapabilities (OGC:WFS anchor, the type name), OGC API collection, download.
      const onlines = [...xml.matchAll(/<gmd:CI_OnlineResource>([\s\S]*?)<\/gmd:CI_OnlineResource>/g)].map((m) => m[1]!);
      const wfs = onlines.find((o) => o.includes('serviceType/ogc/wfs'));
      expect(wfs).toBeDefined();
      expect(unescape(/<gmd:URL>([^<]*)</.exec(wfs!)![1]!)).toBe(`${base}/wfs?service=WFS&version=2.0.0&request=GetCapabilities`);
      expect(wfs).toContain(`<gmd:name><gco:CharacterString>${config.namespace.prefix}:${d.name}</gco:CharacterString></gmd:name>`);
      // Download links (issue 12): the OGC API as QGIS's OAPIF provider takes it (landing page, collection named
      // apart in a plain gco:CharacterString, the encoding OWSLib reads), the whole layer as files of the download service (GeoPackage, Shapefile, GeoJSON, each with the
      // media type it answers with as gmx:MimeFileType), and the layer's INSPIRE Atom dataset feed.
      const download = onlines.filter((o) => /CI_OnLineFunctionCode [^>]*codeListValue="download"/.test(o));
      expect(download.map((o) => unescape(/<gmd:URL>([^<]*)</.exec(o)![1]!))).toEqual([
        `${base}/ogcapi`,
        `${base}/download/atom/files/${d.name}/gpkg/2154`,
        `${base}/download/atom/files/${d.name}/shp/2154`,
        `${base}/download/atom/files/${d.name}/geojson/4326`,
        `${base}/download/atom/${d.name}.xml`,
      ]);
      expect(download[0]).toContain('>OGC:API-Features</gmx:Anchor>');
      expect(download[0]).toContain(`<gmd:name><gco:CharacterString>${d.name}</gco:CharacterString></gmd:name>`);
      expect(download[1]).toContain(`<gmd:name><gmx:MimeFileType type="application/geopackage+sqlite3">${d.name}.gpkg</gmx:MimeFileType></gmd:name>`);
      expect(download[2]).toContain(`<gmd:name><gmx:MimeFileType type="application/zip">${d.name}.zip</gmx:MimeFileType></gmd:name>`);
      expect(download[3]).toContain(`<gmd:name><gmx:MimeFileType type="application/geo+json">${d.name}.geojson</gmx:MimeFileType></gmd:name>`);
      expect(download[4]).toContain('<gmx:Anchor xlink:href="https://tools.ietf.org/html/rfc4287">INSPIRE Atom</gmx:Anchor>');
      // No page of an API posing as the whole layer.
      expect(xml).not.toContain('/items?');
    }
  });

  it('the queryables extracted from the records: links, licence, resource identifier, footprint covering the data', async () => {
    for (const d of DEMO_LAYERS) {
      const { rows } = await db().query(
        `SELECT r.type, r.links, r.licences, r.resource_identifier_codes, r.crs, r.language, r.title,
                ST_Covers(r.bbox, (SELECT ST_Transform(ST_SetSRID(ST_Extent(geom)::geometry, 2154), 4326) FROM data.${d.name})) AS covers
           FROM sdi.metadata_records r WHERE r.identifier = $1`,
        [layerRecordIdentifier(config, d.name)],
      );
      const r = rows[0];
      expect(r.type).toBe('dataset');
      expect(r.language).toBe('fre');
      expect(r.licences).toEqual([LICENCE.href]);
      expect(r.resource_identifier_codes).toContain(`${config.namespace.uri}/${d.name}`);
      expect(r.crs).toEqual(['http://www.opengis.net/def/crs/EPSG/0/2154']);
      expect(r.covers, d.name).toBe(true);
      const wfs = r.links.find((l: { scheme?: string }) => l.scheme === 'OGC:WFS');
      expect(wfs.url).toMatch(/request=GetCapabilities$/);
      expect(r.links.filter((l: { function?: string }) => l.function === 'download')).toHaveLength(5);
      expect(r.links.filter((l: { mediaType?: string }) => l.mediaType).map((l: { mediaType: string }) => l.mediaType)).toEqual([
        'application/geopackage+sqlite3', 'application/zip', 'application/geo+json', 'application/atom+xml',
      ]);
    }
  });

  it('csw:Record output offers the WFS to QGIS MetaSearch (dct:references scheme="OGC:WFS")', async () => {
    const id = layerRecordIdentifier(config, 'communes');
    const r = await get(csw(`service=CSW&version=2.0.2&request=GetRecordById&elementSetName=full&id=${id}`));
    expect(r.status).toBe(200);
    expect(validateCsw(r.body).ok).toBe(true);
    expect(unescape(r.body)).toContain(`<dct:references scheme="OGC:WFS">${baseUrl()}/wfs?service=WFS&version=2.0.0&request=GetCapabilities</dct:references>`);
  });
});

describe('service record of the WFS', () => {
  it('validates, is an INSPIRE download service (srv:SV_ServiceIdentification) and operatesOn every dataset record', async () => {
    const xml = await fetchRecord(serviceRecordIdentifier(config, 'wfs'));
    const v = validateApiso(xml);
    expect(v.ok, v.output).toBe(true);
    expect(xml).toContain('<srv:SV_ServiceIdentification>');
    expect(xml).toContain('<srv:serviceType><gco:LocalName>download</gco:LocalName></srv:serviceType>');
    expect(xml).toContain('codeListValue="service"');
    const ops = [...xml.matchAll(/<srv:SV_OperationMetadata><srv:operationName><gco:CharacterString>([^<]*)</g)].map((m) => m[1]);
    expect(ops).toEqual(['GetCapabilities', 'DescribeFeatureType', 'GetFeature']);
    const operatesOn = [...xml.matchAll(/<srv:operatesOn uuidref="([^"]*)" xlink:href="([^"]*)"/g)].map((m) => ({ uuid: m[1]!, href: unescape(m[2]!) }));
    const rows = await layerRecords();
    expect(operatesOn.map((o) => o.uuid).sort()).toEqual(rows.map((r) => r.identifier).sort());
    for (const d of DEMO_LAYERS) expect(operatesOn.map((o) => o.uuid)).toContain(layerRecordIdentifier(config, d.name));
    // Each xlink:href is a GetRecordById URL answering with that dataset record.
    for (const o of operatesOn) {
      const r = await get(o.href);
      expect(isoRecords(r.body).map(fileId)).toEqual([o.uuid]);
    }
    const { rows: q } = await db().query(`SELECT type, service_type, coupling_type, operations, operates_on FROM sdi.metadata_records WHERE identifier = $1`, [serviceRecordIdentifier(config, 'wfs')]);
    expect(q[0]).toMatchObject({ type: 'service', service_type: 'download', coupling_type: 'tight' });
    expect([...q[0].operates_on].sort()).toEqual(rows.map((r) => r.identifier).sort());
  });

  it('apiso:OperatesOn finds the service from a dataset identifier (CQL)', async () => {
    const id = layerRecordIdentifier(config, 'epci');
    const r = await get(csw(`service=CSW&version=2.0.2&request=GetRecords&typeNames=csw:Record&resultType=results&constraintLanguage=CQL_TEXT&constraint=${encodeURIComponent(`OperatesOn = '${id}'`)}`));
    expect(r.status, r.body.slice(0, 500)).toBe(200);
    expect(r.body).toContain(`<dc:identifier>${serviceRecordIdentifier(config, 'wfs')}</dc:identifier>`);
  });
});

describe('WFS capabilities → catalogue', () => {
  /** The server's layer catalogue is cached (10 s): wait until it shows the records' links. */
  async function capabilitiesWithLinks(version: string): Promise<string> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const r = await get(`${baseUrl()}/wfs?service=WFS&request=GetCapabilities&version=${version}`);
      const types = (r.body.match(/<wfs:FeatureType\b/g) ?? []).length;
      const links = (r.body.match(/<wfs:MetadataURL\b/g) ?? []).length;
      if ((types > 0 && links === types) || Date.now() > deadline) return r.body;
      await new Promise((res) => setTimeout(res, 500));
    }
  }

  for (const version of ['2.0.0', '1.1.0']) {
    it(`WFS ${version}: every FeatureType has a MetadataURL, and GetRecordById on it returns that layer's record`, async () => {
      const body = await capabilitiesWithLinks(version);
      const types = [...body.matchAll(/<wfs:FeatureType\b[\s\S]*?<\/wfs:FeatureType>/g)].map((m) => m[0]);
      expect(types.length).toBeGreaterThanOrEqual(DEMO_LAYERS.length);
      for (const t of types) {
        const name = /<wfs:Name>[^:<]*:([^<]*)<\/wfs:Name>/.exec(t)![1]!;
        const href = version === '2.0.0' ? /<wfs:MetadataURL xlink:href="([^"]*)"/.exec(t)?.[1] : /<wfs:MetadataURL type="TC211" format="text\/xml">([^<]*)</.exec(t)?.[1];
        expect(href, name).toBeDefined();
        const xml = isoRecords((await get(unescape(href!))).body);
        expect(xml.length, name).toBe(1);
        const rows = await layerRecords();
        const row = rows.find((r) => r.name === name)!;
        expect(fileId(xml[0]!)).toBe(row.identifier);
        if (row.managed_by) expect(title(xml[0]!)).toBe(row.title);
      }
    });
  }
});

describe('editing a layer updates its record', () => {
  it('UPDATE sdi.layers (title, updated_at) + sync: the record gets the new title, its dateStamp and the service dateStamp move', async () => {
    const id = layerRecordIdentifier(config, 'cantons');
    const serviceId = serviceRecordIdentifier(config, 'wfs');
    const before = await fetchRecord(id);
    const serviceBefore = await fetchRecord(serviceId);
    const { rows } = await db().query<{ title: string }>(`SELECT title FROM sdi.layers WHERE name = 'cantons'`);
    const original = rows[0]!.title;
    const edited = `${original} — édition ${Date.now()}`;
    try {
      // dateStamps are written to the second: make sure the edit falls in a later second.
      await new Promise((res) => setTimeout(res, 1100));
      await db().query(`UPDATE sdi.layers SET title = $1, updated_at = now() WHERE name = 'cantons'`, [edited]);
      const report = await syncLayerRecords(db(), config);
      expect(report.updated).toContain(id);
      expect(report.updated).toContain(serviceId);
      const after = await fetchRecord(id);
      expect(title(after)).toBe(edited);
      expect(Date.parse(dateStamp(after)!)).toBeGreaterThan(Date.parse(dateStamp(before)!));
      const { rows: lr } = await db().query<{ updated_at: Date }>(`SELECT updated_at FROM sdi.layers WHERE name = 'cantons'`);
      expect(dateStamp(after)).toBe(lr[0]!.updated_at.toISOString().replace(/\.\d+Z$/, 'Z'));
      expect(validateApiso(after).ok).toBe(true);
      const serviceAfter = await fetchRecord(serviceId);
      expect(Date.parse(dateStamp(serviceAfter)!)).toBeGreaterThan(Date.parse(dateStamp(serviceBefore)!));
      expect(unescape(serviceAfter)).toContain(`xlink:title="${edited}"`);
      // Harvesters see the change: the summary record carries the new modification date.
      const { rows: m } = await db().query(`SELECT title, modified FROM sdi.metadata_records WHERE identifier = $1`, [id]);
      expect(m[0].title).toBe(edited);
      expect(m[0].modified.getTime()).toBe(Date.parse(dateStamp(after)!));
    } finally {
      await db().query(`UPDATE sdi.layers SET title = $1, updated_at = now() WHERE name = 'cantons'`, [original]);
      await syncLayerRecords(db(), config);
    }
    expect(title(await fetchRecord(id))).toBe(original);
  });

  it('a layer no longer published loses its generated record; publishing it again brings the record back', async () => {
    const id = layerRecordIdentifier(config, 'arrondissements');
    try {
      await db().query(`UPDATE sdi.layers SET published = false WHERE name = 'arrondissements'`);
      const report = await syncLayerRecords(db(), config);
      expect(report.deleted).toEqual([id]);
      expect(isoRecords((await byId(id)).body)).toEqual([]);
      expect(await fetchRecord(serviceRecordIdentifier(config, 'wfs'))).not.toContain(`uuidref="${id}"`);
    } finally {
      await db().query(`UPDATE sdi.layers SET published = true WHERE name = 'arrondissements'`);
      await syncLayerRecords(db(), config);
    }
    expect(title(await fetchRecord(id))).toBe('Arrondissements');
    expect(await fetchRecord(serviceRecordIdentifier(config, 'wfs'))).toContain(`uuidref="${id}"`);
  });
});
