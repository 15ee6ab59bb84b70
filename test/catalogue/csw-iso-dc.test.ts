/**
 * ISO 19139 records answered in Dublin Core (issue 12): the csw:Record of every ISO fixture
 * (../shared/fixtures/metadata/iso19139) carries the mapping of CSW ISO AP 1.0 (OGC 07-045 §7.2.4, the core
 * returnables: Format, Modified, Language, Rights, Relation…) completed as pycsw maps it, in the DCMI terms the
 * record schema allows (CSW 2.0.2 record.xsd, rec-dcterms.xsd): dc:format the distribution formats, dct:created /
 * dct:issued / dc:date the citation's creation, publication and revision dates, dc:language the resource
 * language, dc:rights the use limitations, dct:accessRights the security classification, dc:relation the
 * parent and the datasets a service operates on. The expected values are read from the files by
 * iso_dc_expected.py (ElementTree), not by the catalogue's parser.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { get, ROOT } from '../helpers.js';
import { cswUrl, FIXTURES, loadFixtures, validateCsw, VARIANT } from './setup.js';

interface Expected {
  formats: string[];
  creation: string | null;
  publication: string | null;
  revision: string | null;
  languages: string[];
  useLimitations: string[];
  classification: string[];
  operatesOn: string[];
  parent: string | null;
}

let expected: Record<string, Expected>;
const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const values = (xml: string, el: string) => [...xml.matchAll(new RegExp(`<${el}(?: [^>]*)?>([^<]*)</${el}>`, 'g'))].map((m) => unescape(m[1]!).replace(/\s+/g, ' ').trim());

beforeAll(async () => {
  expect((await loadFixtures()).failed).toEqual([]);
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.xml') && f !== VARIANT).map((f) => join(FIXTURES, f));
  expected = JSON.parse(execFileSync('/usr/bin/python3', [join(ROOT, 'test/catalogue/iso_dc_expected.py'), ...files], { encoding: 'utf8' }));
  expect(Object.keys(expected).length).toBeGreaterThanOrEqual(12);
});

describe('ISO → Dublin Core mapping (CSW ISO AP 1.0 §7.2.4, CSW 2.0.2 §10.2.5 csw:Record)', () => {
  it('every ISO fixture in csw:Record full: formats, dates, language, rights, access rights, relations; schema-valid', async () => {
    let checked = 0;
    for (const [id, e] of Object.entries(expected)) {
      const r = await get(cswUrl(`service=CSW&version=2.0.2&request=GetRecordById&elementSetName=full&id=${encodeURIComponent(id)}`));
      expect(r.status, id).toBe(200);
      const v = validateCsw(r.body);
      expect(v.ok, `${id}: ${v.output}`).toBe(true);
      const rec = r.body;
      expect(values(rec, 'dc:identifier'), id).toEqual([id]);
      for (const f of e.formats) expect(values(rec, 'dc:format'), `${id} format`).toContain(f);
      expect(values(rec, 'dct:created'), `${id} created`).toEqual(e.creation ? [e.creation] : []);
      expect(values(rec, 'dct:issued'), `${id} issued`).toEqual(e.publication ? [e.publication] : []);
      expect(values(rec, 'dc:date'), `${id} dc:date (revision)`).toEqual(e.revision ? [e.revision] : []);
      expect(values(rec, 'dc:language').sort(), `${id} language`).toEqual([...new Set(e.languages)].sort());
      for (const u of e.useLimitations) expect(values(rec, 'dc:rights'), `${id} rights`).toContain(u);
      for (const c of e.classification) expect(values(rec, 'dct:accessRights'), `${id} accessRights`).toContain(c);
      const relations = values(rec, 'dc:relation');
      for (const o of e.operatesOn) expect(relations, `${id} operatesOn`).toContain(o);
      if (e.parent) expect(relations, `${id} parent`).toContain(e.parent);
      checked++;
    }
    expect(checked).toBe(Object.keys(expected).length);
  });

  it('ElementName picks the mapped elements by name (dc:date, dct:accessRights, dc:language)', async () => {
    const [id] = Object.entries(expected).find(([, e]) => e.revision && e.classification.length) ?? Object.entries(expected).find(([, e]) => e.revision)!;
    const body =
      `<csw:GetRecordById xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" service="CSW" version="2.0.2"><csw:Id>${id}</csw:Id>` +
      `<csw:ElementName>dc:date</csw:ElementName><csw:ElementName>dct:accessRights</csw:ElementName><csw:ElementName>dc:language</csw:ElementName></csw:GetRecordById>`;
    const r = await get(cswUrl(), { method: 'POST', headers: { 'content-type': 'application/xml' }, body });
    expect(r.status, r.body.slice(0, 400)).toBe(200);
    expect(values(r.body, 'dc:date')).toEqual([expected[id!]!.revision]);
    expect(values(r.body, 'dc:title')).toEqual([]);
  });
});
