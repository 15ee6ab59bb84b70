/**
 * Mixed traffic against a server while its database misbehaves (issue 13 §1): the requests of every kind a
 * platform serves, each answer classified, so the fault tests can say what a client saw. Shared by the
 * terminated-backends storm (db-faults.test.ts) and the PostgreSQL restart (db-restart.test.ts).
 */
import { request } from 'node:http';

/** One kind of request and the format its refusals must come in. */
export interface FaultRequest {
  name: string;
  path: string;
  /** Content type of a 503 (the protocol's own: an OWS ExceptionReport or problem+json). */
  errorType: RegExp;
}

export const MIXED_REQUESTS: FaultRequest[] = [
  { name: 'OGC API items', path: '/ogcapi/collections/communes/items?limit=500', errorType: /application\/problem\+json/ },
  { name: 'WFS GetFeature', path: '/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes&COUNT=300', errorType: /xml/ },
  { name: 'WFS GetFeature GeoJSON', path: '/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:communes&COUNT=1500&OUTPUTFORMAT=application/json', errorType: /xml/ },
  { name: 'CSW GetRecords', path: '/csw?service=CSW&version=2.0.2&request=GetRecords&typeNames=csw:Record&resultType=results&elementSetName=full&maxRecords=50', errorType: /xml/ },
  { name: 'download estimate', path: '/download/estimate?layer=communes&format=geojson', errorType: /application\/problem\+json/ },
  { name: 'GeoJSON extract', path: '/download/extract?layer=communes&format=geojson&departement=45', errorType: /application\/problem\+json/ },
  { name: 'GeoPackage extract (GDAL)', path: '/download/extract?layer=communes&format=gpkg&departement=45', errorType: /application\/problem\+json/ },
  { name: 'DCAT', path: '/dcat/catalog.jsonld', errorType: /application\/problem\+json/ },
  { name: 'WFS GetCapabilities', path: '/wfs?SERVICE=WFS&REQUEST=GetCapabilities', errorType: /xml/ },
];

export type Outcome =
  | { kind: 'ok'; bytes: number }
  /** 503 in the protocol's format with Retry-After. */
  | { kind: 'unavailable' }
  /** A streamed body that had begun and was cut (the client sees an incomplete transfer, never a short 200). */
  | { kind: 'cut' }
  /** Anything else: a wrong status, a 503 in the wrong format or without Retry-After, a hang, a refused connection. */
  | { kind: 'bad'; detail: string };

/** One request, classified; a request that takes longer than `timeoutMs` is 'bad' (a hang). */
export function fetchClassified(base: string, r: FaultRequest, timeoutMs = 30_000): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (o: Outcome) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        resolve(o);
      }
    };
    const req = request(base + r.path, (res) => {
      let bytes = 0;
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => {
        bytes += d.length;
        chunks.push(d);
      });
      res.on('error', () => done(res.statusCode === 200 ? { kind: 'cut' } : { kind: 'bad', detail: `${r.name}: ${res.statusCode} body cut` }));
      res.on('close', () => {
        if (res.statusCode === 200) {
          if (!res.complete) return done({ kind: 'cut' });
          // A complete 200 must be a whole document: a stream that failed must never end as if it had not.
          const broken = wholeDocumentProblem(String(res.headers['content-type'] ?? ''), Buffer.concat(chunks));
          return done(broken ? { kind: 'bad', detail: `${r.name}: 200 but ${broken}` } : { kind: 'ok', bytes });
        }
        if (res.statusCode === 503) {
          const type = String(res.headers['content-type'] ?? '');
          if (!r.errorType.test(type)) return done({ kind: 'bad', detail: `${r.name}: 503 as ${type}` });
          if (!res.headers['retry-after']) return done({ kind: 'bad', detail: `${r.name}: 503 without Retry-After` });
          return done({ kind: 'unavailable' });
        }
        done({ kind: 'bad', detail: `${r.name}: status ${res.statusCode}` });
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      done({ kind: 'bad', detail: `${r.name}: no answer in ${timeoutMs} ms` });
    }, timeoutMs);
    req.on('error', (e) => done({ kind: 'bad', detail: `${r.name}: ${e.message}` }));
    req.end();
  });
}

/** Why a body is not a whole document of its type, or undefined when it is. */
function wholeDocumentProblem(type: string, body: Buffer): string | undefined {
  if (/json/.test(type)) {
    try {
      JSON.parse(body.toString('utf8'));
      return undefined;
    } catch {
      return 'the JSON is truncated';
    }
  }
  if (/xml/.test(type)) return /<\/[\w.:-]+>\s*$/.test(body.toString('utf8')) ? undefined : 'the XML has no closing root tag';
  if (/geopackage|sqlite/.test(type)) return body.subarray(0, 16).toString('latin1') === 'SQLite format 3\u0000' ? undefined : 'not a GeoPackage';
  return undefined;
}

export interface LoadReport {
  counts: Record<string, Record<Outcome['kind'], number>>;
  bad: string[];
  total: number;
}

/**
 * `clients` loops over the requests (each starting at its own offset) until `until` settles; `onOutcome`
 * sees each answer with the time it was sent and the time it ended (the soak places errors against restarts).
 */
export async function mixedLoad(
  base: string,
  clients: number,
  until: Promise<unknown>,
  requests = MIXED_REQUESTS,
  onOutcome?: (r: FaultRequest, o: Outcome, sentAt: number, endedAt: number) => void,
): Promise<LoadReport> {
  let stop = false;
  void until.then(() => (stop = true));
  const report: LoadReport = { counts: {}, bad: [], total: 0 };
  const one = async (offset: number) => {
    for (let k = offset; !stop; k++) {
      const r = requests[k % requests.length]!;
      const sentAt = Date.now();
      const o = await fetchClassified(base, r);
      onOutcome?.(r, o, sentAt, Date.now());
      const c = (report.counts[r.name] ??= { ok: 0, unavailable: 0, cut: 0, bad: 0 });
      c[o.kind]++;
      report.total++;
      if (o.kind === 'bad') report.bad.push(o.detail);
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, i) => one(i)));
  return report;
}

/** Every kind of request once, in turn: each must answer 200, complete. */
export async function everyRequestSucceeds(base: string, requests = MIXED_REQUESTS): Promise<string[]> {
  const failures: string[] = [];
  for (const r of requests) {
    const o = await fetchClassified(base, r, 20_000);
    if (o.kind !== 'ok') failures.push(`${r.name}: ${o.kind}${o.kind === 'bad' ? ` (${o.detail})` : ''}`);
  }
  return failures;
}
