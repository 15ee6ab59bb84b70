#!/usr/bin/env node
/**
 * The cost of the access policy (issue 11): W1-like (WFS 2.0 GetFeature GeoJSON in a bbox) and O1-like (OGC API
 * Features items in the same bbox) on the demo communes, as an anonymous caller on a public copy of the layer,
 * as a user holding a grant without territory (Basic auth: credential cache + policy), and as a user whose grant is
 * a territory (the injected ST_Intersects). Sequential requests (one client), median and mean latency.
 *
 * Usage: node bench/rights.mjs BASE PUBLIC_LAYER RESTRICTED_LAYER user:password(full) user:password(territorial) [N]
 */
const [base, pub, restricted, full, terri, n = '40'] = process.argv.slice(2);
const N = Number(n);
const auth = (up) => (up ? { authorization: `Basic ${Buffer.from(up).toString('base64')}` } : {});
const bbox2154 = '560000,6690000,700000,6800000';
const bbox84 = '1.4,47.5,3.2,48.4';
const cases = [
  ['anonymous, public layer', pub, undefined],
  ['grant without territory', restricted, full],
  ['territorial grant (dépt 45)', restricted, terri],
];
const workloads = [
  ['W1 WFS GetFeature bbox', (l) => `${base}/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:${l}&OUTPUTFORMAT=application/json&BBOX=${bbox2154},urn:ogc:def:crs:EPSG::2154`],
  ['O1 OGC API items bbox', (l) => `${base}/ogcapi/collections/${l}/items?bbox=${bbox84}&limit=5000`],
];
for (const [wname, url] of workloads) {
  for (const [cname, layer, cred] of cases) {
    const times = [];
    let features = 0;
    for (let i = 0; i < N + 5; i++) {
      const t0 = process.hrtime.bigint();
      const r = await fetch(url(layer), { headers: auth(cred) });
      const body = await r.text();
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.status !== 200) throw new Error(`${wname} ${cname}: ${r.status} ${body.slice(0, 200)}`);
      if (i >= 5) times.push(ms);
      features = (body.match(/"type":\s*"Feature"/g) ?? []).length;
    }
    times.sort((a, b) => a - b);
    const mean = times.reduce((a, b) => a + b, 0) / times.length;
    console.log(`${wname.padEnd(24)} ${cname.padEnd(30)} features ${String(features).padStart(5)}  median ${times[Math.floor(times.length / 2)].toFixed(1)} ms  mean ${mean.toFixed(1)} ms`);
  }
}
