/**
 * The harvest's JSON-LD reader (jsonld under src/harvest/json-ld.ts), without the platform: parts of JSON-LD 1.1
 * (W3C JSON-LD 1.1 §4) that the hand-written reader it replaced did not read, remote contexts loaded through the
 * guarded client (and the usual prefixes when one cannot be), and the IRI form shared with the RDF/XML reader.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJsonLd } from '../../src/harvest/json-ld.js';
import { readRdfXml } from '../../src/harvest/rdf-xml.js';
import { readDcatJsonLdPage } from '../../src/harvest/dcat.js';
import { RDF } from '../../src/harvest/rdf-graph.js';
import { OutboundPolicy } from '../../src/net/outbound.js';

const DCT = 'http://purl.org/dc/terms/';
const DCAT = 'http://www.w3.org/ns/dcat#';
const XSD = 'http://www.w3.org/2001/XMLSchema#';

let server: Server;
let base = '';
let contextRequests = 0;
const ALLOWED = new OutboundPolicy(['127.0.0.3/32']);

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/context.jsonld') {
      contextRequests++;
      res.writeHead(200, { 'content-type': 'application/ld+json' });
      res.end(JSON.stringify({ '@context': { titre: { '@id': `${DCT}title`, '@language': 'fr' }, Jeu: `${DCAT}Dataset`, id: '@id', type: '@type' } }));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.3', resolve));
  base = `http://127.0.0.3:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('JSON-LD reader', () => {
  it('applies type-scoped contexts and @reverse (JSON-LD 1.1 §4.1.8, §4.8), which the hand-written reader ignored', async () => {
    const doc = {
      '@context': { ...{ dcat: DCAT, dct: DCT }, Dataset: { '@id': 'dcat:Dataset', '@context': { name: 'dct:title' } }, catalogue: { '@reverse': 'dcat:dataset' } },
      '@id': 'https://e.org/ds/1',
      '@type': 'Dataset',
      name: 'Communes',
      catalogue: { '@id': 'https://e.org/catalog' },
    };
    const g = await readJsonLd(doc, { base: 'https://e.org/' });
    const d = g.node('https://e.org/ds/1');
    expect(d.types.has(`${DCAT}Dataset`)).toBe(true);
    expect(g.literals(d, `${DCT}title`)).toEqual(['Communes']);
    expect(g.refs(g.node('https://e.org/catalog'), `${DCAT}dataset`)).toEqual(['https://e.org/ds/1']);
  });

  it('reads a remote context through the guarded client, once per process (JSON-LD 1.1 §4.1, remote contexts)', async () => {
    const doc = { '@context': `${base}/context.jsonld`, id: 'https://e.org/ds/2', type: 'Jeu', titre: 'Adresses' };
    const before = contextRequests;
    const g = await readJsonLd(doc, { policy: ALLOWED });
    await readJsonLd(doc, { policy: ALLOWED });
    const d = g.node('https://e.org/ds/2');
    expect(d.types.has(`${DCAT}Dataset`)).toBe(true);
    expect(g.values(d, `${DCT}title`)).toEqual([{ literal: 'Adresses', lang: 'fr' }]);
    expect(contextRequests - before).toBe(1);
  });

  it('falls back to the usual DCAT prefixes when a remote context is refused by the destination policy, and says so', async () => {
    const warnings: string[] = [];
    const doc = { '@context': `${base}/refused-context.jsonld`, '@id': 'https://e.org/ds/3', '@type': 'dcat:Dataset', 'dct:title': 'Routes' };
    const g = await readJsonLd(doc, { policy: new OutboundPolicy(), warn: (m) => warnings.push(m) });
    const d = g.node('https://e.org/ds/3');
    expect(d.types.has(`${DCAT}Dataset`)).toBe(true);
    expect(g.literals(d, `${DCT}title`)).toEqual(['Routes']);
    expect(warnings.join()).toMatch(/refused-context\.jsonld could not be loaded/);
  });

  it('gives the same subjects, types and literals as the RDF/XML reader for the same dataset', async () => {
    const iri = 'http://WWW.Example.org/ds/é';
    const fromJson = await readJsonLd({ '@context': { dct: DCT, dcat: DCAT, xsd: XSD }, '@id': iri, '@type': 'dcat:Dataset', 'dct:issued': { '@value': '2024-05-01', '@type': 'xsd:date' } });
    const fromXml = await readRdfXml(`<rdf:RDF xmlns:rdf="${RDF}" xmlns:dct="${DCT}" xmlns:dcat="${DCAT}"><dcat:Dataset rdf:about="${iri}"><dct:issued rdf:datatype="${XSD}date">2024-05-01</dct:issued></dcat:Dataset></rdf:RDF>`);
    expect([...fromJson.nodes.keys()]).toEqual([...fromXml.nodes.keys()]);
    const id = [...fromJson.nodes.keys()][0]!;
    expect(fromJson.literals(fromJson.node(id), `${DCT}issued`)).toEqual(fromXml.literals(fromXml.node(id), `${DCT}issued`));
  });

  it('refuses a page that is not JSON-LD with the reason', async () => {
    await expect(readDcatJsonLdPage('{"@context": 5, "@id": "x"}', 'https://e.org/page')).rejects.toThrow(/not readable JSON-LD/);
    await expect(readDcatJsonLdPage('{oops', 'https://e.org/page')).rejects.toThrow(/not readable JSON-LD/);
  });
});
