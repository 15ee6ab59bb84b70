/**
 * Extracts by administrative unit return what a user means (issue 12, download service): the communes of
 * département 45 are its 326 communes, not 352. Reference tables of different origins do not share their
 * boundaries exactly, and 26 neighbouring communes overlap the département by 40 m² to 2.9 ha. The rule
 * (config download.adminMinShare, 1 % by default, documented in the README): an extract by administrative
 * unit leaves out polygon features with less than that share of their area inside the unit, clipped or not.
 * Checked at every level of the demo data against the units' own membership (INSEE code prefix for
 * départements, all communes for the region, each EPCI's member count), and for a user's bbox/polygon the
 * rule does not apply (any intersection counts, as before).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { baseUrl, db } from '../helpers.js';

interface Estimate {
  features: number;
}

async function estimate(query: string): Promise<Estimate> {
  const r = await fetch(`${baseUrl()}/download/estimate?${query}`);
  expect(r.status, await r.clone().text()).toBe(200);
  return (await r.json()) as Estimate;
}

async function geojsonCodes(query: string): Promise<string[]> {
  const r = await fetch(`${baseUrl()}/download/extract?layer=communes&format=geojson&${query}`);
  expect(r.status).toBe(200);
  const fc = (await r.json()) as { features: Array<{ properties: { code: string } }> };
  return fc.features.map((f) => f.properties.code).sort();
}

let departements: Array<{ code: string; n: number }>;
let epcis: Array<{ siren: string; n: number }>;

beforeAll(async () => {
  departements = (await db().query(`SELECT d.code, (SELECT count(*)::int FROM data.communes c WHERE left(c.code, 2) = d.code) AS n FROM data.departements d ORDER BY d.code`)).rows;
  epcis = (await db().query(`SELECT siren, nb_communes_fixture AS n FROM data.epci ORDER BY siren`)).rows;
  expect(departements.length).toBe(6);
  expect(epcis.length).toBeGreaterThan(10);
});

describe('issue 12: an administrative unit selects its own members, not the slivers of its neighbours', () => {
  it('département 45: 326 communes, the GeoJSON extract holds exactly the codes 45…, clipped or not', async () => {
    const clipped = await geojsonCodes('departement=45');
    expect(clipped).toHaveLength(326);
    expect(clipped.every((c) => c.startsWith('45'))).toBe(true);
    expect(await geojsonCodes('departement=45&clip=false')).toEqual(clipped);
    // Without the rule the neighbours come too: the reference is not trivially the same.
    const { rows } = await db().query(`SELECT count(*)::int AS n FROM data.communes c, data.departements d WHERE d.code = '45' AND ST_Intersects(c.geom, d.geom) AND NOT ST_Touches(c.geom, d.geom)`);
    expect(rows[0].n).toBeGreaterThan(326);
  });

  it('every département: the estimate counts its own communes', async () => {
    for (const d of departements) {
      expect((await estimate(`layer=communes&format=gpkg&departement=${d.code}`)).features, `département ${d.code}`).toBe(d.n);
    }
  });

  it('the region: all 1,776 communes of the demo data and no more', async () => {
    expect((await estimate('layer=communes&format=gpkg&region=24')).features).toBe(1776);
  });

  it('every EPCI: its member count', async () => {
    for (const e of epcis) {
      expect((await estimate(`layer=communes&format=gpkg&epci=${e.siren}`)).features, `EPCI ${e.siren}`).toBe(e.n);
    }
  });

  it('a commune: itself only (its neighbours touch or overlap it by slivers)', async () => {
    expect(await geojsonCodes('commune=45234')).toEqual(['45234']);
  });

  it('a bbox or polygon drawn by the user is not an administrative unit: any intersection counts', async () => {
    const { rows } = await db().query(
      `SELECT count(*)::int AS n FROM data.communes c WHERE ST_Intersects(c.geom, ST_Transform(ST_MakeEnvelope(1.9, 47.8, 2.0, 47.95, 4326), 2154))`,
    );
    expect((await estimate('layer=communes&format=gpkg&bbox=1.9,47.8,2.0,47.95&clip=false')).features).toBe(rows[0].n);
  });
});
