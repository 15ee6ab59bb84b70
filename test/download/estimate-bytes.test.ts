/**
 * Byte estimates within ±30 % of the delivered size for every format (issue 12, download service: the
 * estimate was 2–4× off). The estimate writes a sample of each layer through the real extract path
 * (src/download/estimate-sample.ts); here each case is estimated, then downloaded, and the sizes compared.
 * Cases above the sample size (département 45: 326 communes, 326 points) test the extrapolation; the EPCI
 * of the region (below it) are written whole, so their estimate is exact.
 */
import { describe, it, expect } from 'vitest';
import { baseUrl } from '../helpers.js';

const FORMATS = ['gpkg', 'shp', 'geojson', 'csv', 'kml', 'gml', 'fgb', 'tab'];
const CASES = [
  { name: 'communes of département 45, clipped', query: 'layer=communes&departement=45' },
  { name: 'points of département 45', query: 'layer=communes_points&departement=45' },
  { name: 'communes in a bbox, not clipped', query: 'layer=communes&bbox=1.5,47.6,2.2,48.0&clip=false' },
  { name: 'all EPCI (fewer than the sample: exact)', query: 'layer=epci' },
  { name: 'a basket of two layers', query: 'layers=communes,epci&departement=45' },
];

describe('issue 12: byte estimates within ±30 % of the delivered size', () => {
  for (const c of CASES) {
    for (const format of FORMATS) {
      const crs = format === 'kml' ? 'EPSG:4326' : 'EPSG:2154';
      it(`${format}: ${c.name}`, async () => {
        const q = `${c.query}&format=${format}&crs=${crs}`;
        const e = await fetch(`${baseUrl()}/download/estimate?${q}`);
        expect(e.status, await e.clone().text()).toBe(200);
        const est = (await e.json()) as { bytes: number; features: number; layers: Array<{ bytes: number }> };
        const r = await fetch(`${baseUrl()}/download/extract?${q}`);
        expect(r.status, await r.clone().text()).toBe(200);
        const delivered = (await r.arrayBuffer()).byteLength;
        expect(est.bytes).toBe(est.layers.reduce((s, l) => s + l.bytes, 0));
        const ratio = est.bytes / delivered;
        expect(ratio, `estimated ${est.bytes} B, delivered ${delivered} B`).toBeGreaterThan(0.7);
        expect(ratio, `estimated ${est.bytes} B, delivered ${delivered} B`).toBeLessThan(1.3);
        // Written whole: the same bytes (a zip's README holds the request's own URL, so zips differ by a few bytes).
        if (c.query === 'layer=epci') {
          if (['shp', 'tab'].includes(format)) expect(Math.abs(est.bytes - delivered)).toBeLessThan(200);
          else expect(est.bytes).toBe(delivered);
        }
      });
    }
  }
});
