/**
 * Catalogue test helpers: load the shared ISO 19139 fixtures into the test database through the
 * catalogue's own loader (idempotent), CSW URLs, XML helpers, and schema validation of CSW responses
 * (CSW 2.0.2 + ISO AP 1.0 / ISO 19139 from shared/schemas-ogc-local).
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseUrl, db, SCHEMAS, SHARED, xmllint, get } from '../helpers.js';
import { loadRecordsFromDirectory, type LoadReport } from '../../src/metadata/store.js';
import type pg from 'pg';

export const FIXTURES = join(SHARED, 'fixtures', 'metadata', 'iso19139');
/** Same fileIdentifier as the Combles record: used only by the replace-by-identifier test. */
export const VARIANT = 'udata-geoide-fr-120066022-ldd-3f4cc8c8-5c3e-4a0e-8b56-0a569a7e12f6-variant-mdidentifier.xml';

export const CSW = 'http://www.opengis.net/cat/csw/2.0.2';
export const GMD = 'http://www.isotc211.org/2005/gmd';

export const cswUrl = (query = '') => `${baseUrl()}/csw${query ? `?${query}` : ''}`;

export async function loadFixtures(): Promise<LoadReport> {
  return loadRecordsFromDirectory(db(), FIXTURES, { exclude: (f) => f === VARIANT });
}

/** fileIdentifier of each fixture file (read from the file itself, not through our parser). */
export function fixtureIdentifiers(): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of readdirSync(FIXTURES).filter((f) => f.endsWith('.xml') && f !== VARIANT)) {
    const text = readFileSync(join(FIXTURES, f), 'latin1');
    const m = /<gmd:fileIdentifier>\s*<gco:CharacterString>([^<]+)<\/gco:CharacterString>/.exec(text);
    if (m) out.set(m[1]!.trim(), f);
  }
  return out;
}

export async function allIdentifiers(where = 'TRUE', params: unknown[] = []): Promise<string[]> {
  const { rows } = await db().query<{ identifier: string }>(`SELECT identifier FROM sdi.metadata_records WHERE ${where} ORDER BY identifier`, params);
  return rows.map((r) => r.identifier);
}

export async function postCsw(xml: string | Buffer, contentType = 'text/xml'): Promise<{ status: number; type: string; body: string }> {
  return get(cswUrl(), { method: 'POST', headers: { 'content-type': contentType }, body: xml });
}

export interface SearchResults {
  matched: number;
  returned: number;
  next: number;
  elementSet: string | null;
  recordSchema: string | null;
}

export function searchResults(xml: string): SearchResults {
  const m = /<csw:SearchResults([^>]*)>|<csw:SearchResults([^>]*)\/>/.exec(xml);
  if (!m) throw new Error(`no csw:SearchResults in ${xml.slice(0, 500)}`);
  const attrs = m[1] ?? m[2] ?? '';
  const a = (n: string) => new RegExp(`\\b${n}="([^"]*)"`).exec(attrs)?.[1] ?? null;
  return { matched: Number(a('numberOfRecordsMatched')), returned: Number(a('numberOfRecordsReturned')), next: Number(a('nextRecord')), elementSet: a('elementSet'), recordSchema: a('recordSchema') };
}

/** dc:identifier of each DC record, or gmd:fileIdentifier of each ISO record, in document order. */
export function recordIds(xml: string): string[] {
  const dc = [...xml.matchAll(/<csw:(?:Brief|Summary)?Record\b[^>]*>\s*<dc:identifier>([^<]*)<\/dc:identifier>/g)].map((m) => m[1]!);
  if (dc.length) return dc.map(unescape);
  return [...xml.matchAll(/<gmd:MD_Metadata\b[\s\S]*?<gmd:fileIdentifier>\s*<gco:CharacterString>([^<]*)<\/gco:CharacterString>/g)].map((m) => unescape(m[1]!));
}

const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

export function exception(xml: string): { code: string | null; locator: string | null; text: string | null } {
  return {
    code: /exceptionCode="([^"]+)"/.exec(xml)?.[1] ?? null,
    locator: /locator="([^"]+)"/.exec(xml)?.[1] ?? null,
    text: /<ows:ExceptionText>([^<]*)</.exec(xml)?.[1] ?? null,
  };
}

let stubDir: string | undefined;

/**
 * The INSPIRE schemas (inspire_ds 1.0, inspire_common 1.0) are not in shared/schemas-ogc-local. To validate
 * the rest of the capabilities strictly, inspire_ds:ExtendedCapabilities is declared here as what it is
 * (a member of the ows:ExtendedCapabilities substitution group) with open content, and the two xsi:type
 * targets it uses as open types. Everything outside that element is validated by the official schemas.
 */
function inspireStubs(): Array<{ ns: string; xsd: string }> {
  if (!stubDir) {
    stubDir = mkdtempSync(join(tmpdir(), 'sdi-inspire-'));
    writeFileSync(
      join(stubDir, 'inspire_ds.xsd'),
      `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:ows="http://www.opengis.net/ows" targetNamespace="http://inspire.ec.europa.eu/schemas/inspire_ds/1.0" elementFormDefault="qualified">` +
        `<xs:import namespace="http://www.opengis.net/ows" schemaLocation="${join(SCHEMAS, 'ows/1.0.0/owsAll.xsd')}"/>` +
        `<xs:element name="ExtendedCapabilities" substitutionGroup="ows:ExtendedCapabilities" type="xs:anyType"/></xs:schema>`,
    );
    const open = (n: string) => `<xs:complexType name="${n}" mixed="true"><xs:sequence><xs:any processContents="lax" minOccurs="0" maxOccurs="unbounded"/></xs:sequence></xs:complexType>`;
    writeFileSync(
      join(stubDir, 'inspire_common.xsd'),
      `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="http://inspire.ec.europa.eu/schemas/common/1.0" elementFormDefault="qualified">` +
        ['classificationOfSpatialDataService', 'citationInspireInteroperabilityRegulation_fre', 'citationInspireInteroperabilityRegulation_eng'].map(open).join('') +
        `</xs:schema>`,
    );
  }
  return [
    { ns: 'http://inspire.ec.europa.eu/schemas/inspire_ds/1.0', xsd: join(stubDir, 'inspire_ds.xsd') },
    { ns: 'http://inspire.ec.europa.eu/schemas/common/1.0', xsd: join(stubDir, 'inspire_common.xsd') },
  ];
}

export const validateCapabilities = (xml: string) => xmllint(xml, 'csw/2.0.2/CSW-discovery.xsd', inspireStubs());
/** A CSW response whose records may be ISO (gmd + srv through the ISO AP 1.0 wrapper schema). */
export const validateCsw = (xml: string) => xmllint(xml, 'csw/2.0.2/CSW-discovery.xsd', [{ ns: GMD, xsd: join(SCHEMAS, 'csw/2.0.2/profiles/apiso/1.0.0/apiso.xsd') }]);
/** A standalone ISO 19139 dataset record against gmd.xsd. */
export const validateGmd = (xml: string) => xmllint(xml, 'iso/19139/20070417/gmd/gmd.xsd');
/** A standalone ISO 19139 record (dataset or service) against the ISO AP 1.0 wrapper (gmd + srv + gmx). */
export const validateApiso = (xml: string) => xmllint(xml, 'csw/2.0.2/profiles/apiso/1.0.0/apiso.xsd');

/** Split the children of csw:SearchResults / GetRecordByIdResponse holding ISO records, each standalone. */
export function isoRecords(xml: string): string[] {
  return [...xml.matchAll(/<gmd:MD_Metadata\b[\s\S]*?<\/gmd:MD_Metadata>/g)].map((m) => m[0]);
}

/**
 * The narrow search table (migrations/0034_record_search.sql) holds exactly the searchable columns of every
 * record: the rows of the wide table that it lacks, has in excess or holds differently (empty when in step).
 */
export async function searchTableDrift(q: pg.Pool | pg.PoolClient = db()): Promise<string[]> {
  const cols = 'id, identifier, type, modified, temp_extent_begin, temp_extent_end, source_id, ST_AsEWKB(bbox) AS bbox, anytext_tsv::text AS tsv';
  const { rows } = await q.query<{ drift: string; identifier: string }>(
    `(SELECT 'missing' AS drift, ${cols} FROM sdi.metadata_records EXCEPT SELECT 'missing', ${cols} FROM sdi.record_search)
     UNION ALL (SELECT 'extra', ${cols} FROM sdi.record_search EXCEPT SELECT 'extra', ${cols} FROM sdi.metadata_records)`,
  );
  return rows.map((r) => `${r.drift} ${r.identifier}`);
}
