/**
 * Issue 12, "maxRecords above the server's cap": CSW 2.0.2 (OGC 07-006r1) §10.8.4.8 lets a server return fewer records
 * than maxRecords asks; pycsw and GeoNetwork answer a page of their cap, and harvesters that ask 500, 9999 or more
 * then page on with nextRecord (§10.8.4.4: the position of the next record, 0 after the last). The cap here is
 * small (SDI_CSW_MAX_RECORDS=3) so that it applies on the test catalogue: every page is the cap's size, nextRecord
 * leads from page to page, and the pages together are every matching record, once each.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../server-process.js';

let server: ServerProcess;

beforeAll(async () => {
  server = await startServerProcess({ DATABASE_URL: inject('databaseUrl'), SDI_DEMO: '0', SDI_HARVEST: '0', SDI_DOWNLOAD_WORKERS: '0', SDI_CSW_MAX_RECORDS: '3', SDI_CSW_PAGE_CACHE: '0' });
}, 120_000);

afterAll(() => server?.stop());

async function page(start: number, maxRecords: number): Promise<{ matched: number; returned: number; next: number; ids: string[] }> {
  const r = await fetch(`${server.base}/csw?service=CSW&version=2.0.2&request=GetRecords&typeNames=csw:Record&resultType=results&elementSetName=brief&sortBy=dc:identifier:A&startPosition=${start}&maxRecords=${maxRecords}`);
  const body = await r.text();
  expect(r.status, body.slice(0, 300)).toBe(200);
  const m = /numberOfRecordsMatched="(\d+)" numberOfRecordsReturned="(\d+)" nextRecord="(\d+)"/.exec(body);
  expect(m, body.slice(0, 300)).not.toBeNull();
  const ids = [...body.matchAll(/<dc:identifier>([^<]+)<\/dc:identifier>/g)].map((x) => x[1]!);
  return { matched: Number(m![1]), returned: Number(m![2]), next: Number(m![3]), ids };
}

describe('OGC 07-006r1 §10.8.4.8 / §10.8.4.4: maxRecords over the cap (issue 12)', () => {
  it('maxRecords 9999 and 100000000: pages of the cap (3), nextRecord from page to page, every record once, 0 after the last', async () => {
    for (const asked of [9999, 100_000_000]) {
      const first = await page(1, asked);
      expect(first.matched).toBeGreaterThan(3); // the test catalogue: demo and fixture records
      const seen: string[] = [];
      let start = 1;
      for (let guard = 0; start !== 0 && guard < 200; guard++) {
        const p = await page(start, asked);
        expect(p.matched).toBe(first.matched);
        const left = first.matched - (start - 1);
        expect(p.returned).toBe(Math.min(3, left));
        expect(p.ids).toHaveLength(p.returned);
        expect(p.next).toBe(left > 3 ? start + 3 : 0);
        seen.push(...p.ids);
        start = p.next;
      }
      expect(seen).toHaveLength(first.matched);
      expect(new Set(seen).size).toBe(first.matched);
    }
  });

  it('maxRecords under the cap is kept as asked', async () => {
    const p = await page(1, 2);
    expect(p.returned).toBe(2);
    expect(p.next).toBe(3);
  });
});
