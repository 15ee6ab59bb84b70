/**
 * The harvest's RDF/XML reader (rdfxml-streaming-parser under src/harvest/rdf-xml.ts), without a server: parts
 * of the RDF/XML grammar (W3C RDF 1.1 XML Syntax) that the hand-written reader it replaced did not read, the
 * IRI form kept from before, and pages refused with a reason.
 */
import { describe, expect, it } from 'vitest';
import { readRdfXml } from '../../src/harvest/rdf-xml.js';
import { readDcatPage } from '../../src/harvest/dcat.js';
import { RDF } from '../../src/harvest/rdf-graph.js';

const DCT = 'http://purl.org/dc/terms/';
const DCAT = 'http://www.w3.org/ns/dcat#';
const head = `<?xml version="1.0" encoding="UTF-8"?><rdf:RDF xmlns:rdf="${RDF}" xmlns:dct="${DCT}" xmlns:dcat="${DCAT}">`;

describe('RDF/XML reader', () => {
  it('reads property attributes (RDF/XML §2.5) and relative IRIs against the page URL (§2.14)', async () => {
    const g = await readRdfXml(`${head}<dcat:Dataset rdf:about="datasets/air" dct:title="Qualité de l'air" dct:identifier="fr-air"/></rdf:RDF>`, 'https://data.example.org/catalog.rdf');
    const d = g.ofType(`${DCAT}Dataset`)[0]!;
    expect(d.id).toBe('https://data.example.org/datasets/air');
    expect(g.literal(d, `${DCT}title`)).toBe("Qualité de l'air");
    expect(g.literals(d, `${DCT}identifier`)).toEqual(['fr-air']);
  });

  it('reads containers (rdf:li, §2.15), typed literals (§2.9) and parseType="Resource" (§2.11)', async () => {
    const g = await readRdfXml(
      `${head}<rdf:Description rdf:about="https://e.org/d"><dct:subject><rdf:Bag><rdf:li>eau</rdf:li><rdf:li>air</rdf:li></rdf:Bag></dct:subject>` +
        `<dct:issued rdf:datatype="http://www.w3.org/2001/XMLSchema#date">2024-05-01</dct:issued>` +
        `<dct:temporal rdf:parseType="Resource"><dcat:startDate>2020-01-01</dcat:startDate></dct:temporal></rdf:Description></rdf:RDF>`,
      'https://e.org/',
    );
    const d = g.node('https://e.org/d');
    const bag = g.objects(d, `${DCT}subject`)[0]!;
    expect(g.literals(bag, `${RDF}_1`)).toEqual(['eau']);
    expect(g.literals(bag, `${RDF}_2`)).toEqual(['air']);
    expect(g.literals(d, `${DCT}issued`)).toEqual(['2024-05-01']);
    expect(g.literals(g.objects(d, `${DCT}temporal`)[0], `${DCAT}startDate`)).toEqual(['2020-01-01']);
  });

  it('keeps IRIs in the URL form the JSON-LD reader writes (same documents from either syntax)', async () => {
    const g = await readRdfXml(`${head}<rdf:Description rdf:about="http://WWW.Example.org"><dcat:landingPage rdf:resource="https://e.org/référentiel"/></rdf:Description></rdf:RDF>`, 'https://e.org/');
    const d = g.node('http://www.example.org/');
    expect(g.refs(d, `${DCAT}landingPage`)).toEqual(['https://e.org/r%C3%A9f%C3%A9rentiel']);
  });

  it('reads a page larger than one slice, with characters outside the BMP on slice boundaries', async () => {
    const titles = Array.from({ length: 3000 }, (_, i) => `Jeu ${i} 😀`);
    const body = titles.map((t, i) => `<dcat:Dataset rdf:about="https://e.org/d/${i}"><dct:title>${t}</dct:title></dcat:Dataset>`).join('');
    const g = await readRdfXml(`${head}${body}</rdf:RDF>`, 'https://e.org/');
    expect(g.ofType(`${DCAT}Dataset`).map((d) => g.literal(d, `${DCT}title`))).toEqual(titles);
  });
});

describe('DCAT page refusals', () => {
  const url = 'https://e.org/catalog.rdf';
  it('a document that is not rdf:RDF', async () => {
    await expect(readDcatPage('<html><body/></html>', url)).rejects.toThrow(/not an rdf:RDF document \(root html\)/);
  });
  it('a page cut before </rdf:RDF>', async () => {
    await expect(readDcatPage(`${head}<rdf:Description rdf:about="https://e.org/x"><dct:title>a`, url)).rejects.toThrow(/ends before <\/rdf:RDF>/);
  });
  it('a DTD (entity declarations could blow the document up)', async () => {
    await expect(readDcatPage(`<!DOCTYPE r [<!ENTITY a "aaaa">]>${head}</rdf:RDF>`, url)).rejects.toThrow(/DTD is not accepted/);
  });
  it('malformed XML inside', async () => {
    await expect(readDcatPage(`${head}<rdf:Description rdf:about="https://e.org/x"><dct:title>a</dct:other></rdf:Description></rdf:RDF>`, url)).rejects.toThrow(/not readable RDF\/XML/);
  });
});
