/**
 * The quick well-formedness check of parseXml (src/xml/tree.ts, plainlyWellFormed, issue 12) only ever skips
 * fast-xml-parser's validator for documents the validator accepts: when it is not sure, the validator runs and
 * its refusal is ours, word for word. Checked on the metadata fixtures and on 1,500 copies of them damaged
 * at random (a character removed, one of `<>"'&/=;!-` put in, a piece repeated, the end cut off).
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { parseXml, plainlyWellFormed, XmlInputError } from '../../src/xml/tree.js';
import { decodeXml, stripXmlDeclaration } from '../../src/metadata/xml.js';
import { SHARED } from '../helpers.js';

const DIR = join(SHARED, 'fixtures', 'metadata', 'iso19139');
const docs = readdirSync(DIR)
  .filter((f) => f.endsWith('.xml'))
  .sort()
  .map((f) => stripXmlDeclaration(decodeXml(readFileSync(join(DIR, f)))));

/** A small seeded generator (mulberry32): the same damaged copies on every run. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('plainlyWellFormed (the validator skipped only when it would accept)', () => {
  it('is sure of the plain fixtures (the fast path is taken)', () => {
    expect(docs.length).toBeGreaterThan(5);
    const sure = docs.filter(plainlyWellFormed);
    expect(sure.length).toBeGreaterThan(docs.length / 2);
    for (const d of sure) expect(XMLValidator.validate(d)).toBe(true);
  });

  it('sure ⇒ the validator accepts, on 1,500 damaged copies; and it is not sure of most of them', () => {
    const rnd = random(20261207);
    const pick = (n: number) => Math.floor(rnd() * n);
    const marks = ['<', '>', '"', "'", '&', '/', '=', ';', '!', '-', ' ', 'a', '</', '<!--', ']]>', '&#', '&#x'];
    const N = 1500;
    let sure = 0;
    let refused = 0;
    for (let k = 0; k < N; k++) {
      const d = docs[k % docs.length]!;
      const at = pick(d.length);
      let m: string;
      switch (k % 4) {
        case 0:
          m = d.slice(0, at) + d.slice(at + 1);
          break;
        case 1:
          m = d.slice(0, at) + marks[pick(marks.length)] + d.slice(at);
          break;
        case 2: {
          const len = 1 + pick(40);
          m = d.slice(0, at) + d.slice(at, at + len) + d.slice(at);
          break;
        }
        default:
          m = d.slice(0, at);
      }
      const valid = XMLValidator.validate(m) === true;
      if (!valid) refused++;
      if (plainlyWellFormed(m)) {
        sure++;
        expect(valid, `sure of a document the validator refuses: …${m.slice(Math.max(0, at - 60), at + 60)}…`).toBe(true);
      }
    }
    expect(refused).toBeGreaterThan(N / 3);
    expect(sure).toBeLessThan(N - refused);
  });

  it('hand-made cases: not sure of what the validator refuses, nor of what it is not built for', () => {
    for (const bad of ['<a><b>x</c></a>', '<a><b>x</b>', '<a x="1><b/></a>', '<a x=1/>', '<a x="1" x="2"/>', '<a>1 < 2</a>', '<a>AT&T</a>', '<1a/>', '<a/><b/>', '<a/>junk', 'hello', '', '<a><!-- x </a>', '<a checked/>', '< a/>', '<a></a></b>', '<a x="1"y="2"/>'])
      expect(plainlyWellFormed(bad), bad).toBe(false);
    for (const good of ['<a/>', ' <a x="1" y=\'2\'>t &amp; &#233; &#xE9; <b/><![CDATA[x<y]]><!-- c --></a> ', '<p:a xmlns:p="urn:x"><p:b/></p:a >'])
      expect(plainlyWellFormed(good), good).toBe(true);
  });

  it('parseXml refuses malformed documents with the validator’s words, as before', () => {
    const refusal = (x: string) => {
      try {
        parseXml(x);
      } catch (e) {
        expect(e).toBeInstanceOf(XmlInputError);
        return (e as Error).message;
      }
      return 'accepted';
    };
    expect(refusal('<a><b>x</c></a>')).toMatch(/^malformed XML: Expected closing tag 'b' \(opened in line 1, col 4\) instead of closing tag 'c'\.:1:/);
    expect(refusal('<a><b>x</b>')).toBe("malformed XML: Unclosed tag 'a'.:1:1");
    expect(refusal('<a>AT&T</a>')).toMatch(/^malformed XML: char '&' is not expected\./);
    expect(refusal('<a x="1" x="2"/>')).toMatch(/^malformed XML: Attribute 'x' is repeated\./);
    // not sure, but valid: parsed as before
    expect(parseXml('<a x="<">t</a>').attrs['x']).toBe('<');
  });
});
