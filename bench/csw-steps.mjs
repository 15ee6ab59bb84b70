#!/usr/bin/env node
/**
 * bench/csw-steps.mjs — where a first-seen CSW GetRecords spends its time, step by step (issue 12).
 *
 *   DATABASE_URL=… SDI_CSW_PAGE_CACHE=0 node bench/csw-steps.mjs [--runs 40] [--only C1,C2]
 *
 * Runs the server's own code (dist/: the XML reader, the record visibility, getRecords with its planner, its
 * catalogue snapshot and repository, the record writers) on the bench's C1 / C2 bodies (../shared/bench/csw/
 * run-csw.py), one request at a time, with every statement sent on the pool timed by its kind (BEGIN, the
 * snapshot's settings, the planner's estimate, count, page, COMMIT, the visibility's reads…). Per workload:
 * p50 of each step, of the whole request, of the request's time outside the database (node's own work:
 * parsing, compiling, writing the XML), and CPU per request of node (process.cpuUsage) and of the PostgreSQL
 * backend (/proc/PID/stat of the connection, when the server is on this machine). A statement's time is its
 * round trip: the server's execution plus the client's send, wait and decode.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createPlatform, closePlatform } from '../dist/src/platform.js';
import { readCswXml } from '../dist/services/catalogue/csw/xml-reader.js';
import { getRecords } from '../dist/services/catalogue/csw/get-records.js';
import { catalogueLimits } from '../dist/services/catalogue/csw/context.js';
import { recordVisibility } from '../dist/src/access/records.js';
import { ANONYMOUS } from '../dist/src/access/policy.js';
import { withCrsFacts } from '../dist/src/crs/facts.js';

const { values: values_ } = parseArgs({ options: { sql: { type: 'boolean' }, runs: { type: 'string' }, only: { type: 'string' }, warmup: { type: 'string' } } });
const values = values_;
const RUNS = Number(values.runs ?? 40);
const WARMUP = Number(values.warmup ?? 5);
const ONLY = (values.only ?? 'C1,C2').split(',');

// The bench's bodies, as run-csw.py sends them (C2's box: Ille-et-Vilaine, lat/lon).
const C1 = `<?xml version="1.0" encoding="UTF-8"?>
<csw:GetRecords xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" xmlns:ogc="http://www.opengis.net/ogc"
    service="CSW" version="2.0.2" resultType="results" startPosition="1" maxRecords="10"
    outputSchema="http://www.opengis.net/cat/csw/2.0.2">
  <csw:Query typeNames="csw:Record"><csw:ElementSetName>summary</csw:ElementSetName>
    <csw:Constraint version="1.1.0"><ogc:Filter>
        <ogc:PropertyIsLike wildCard="%" singleChar="_" escapeChar="\\"><ogc:PropertyName>csw:AnyText</ogc:PropertyName><ogc:Literal>%cadastre%</ogc:Literal></ogc:PropertyIsLike>
    </ogc:Filter></csw:Constraint></csw:Query></csw:GetRecords>`;
const C2 = `<?xml version="1.0" encoding="UTF-8"?>
<csw:GetRecords xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" xmlns:ogc="http://www.opengis.net/ogc" xmlns:gml="http://www.opengis.net/gml"
    service="CSW" version="2.0.2" resultType="results" startPosition="1" maxRecords="10"
    outputSchema="http://www.opengis.net/cat/csw/2.0.2">
  <csw:Query typeNames="csw:Record"><csw:ElementSetName>summary</csw:ElementSetName>
    <csw:Constraint version="1.1.0"><ogc:Filter><ogc:And>
        <ogc:PropertyIsLike wildCard="%" singleChar="_" escapeChar="\\"><ogc:PropertyName>csw:AnyText</ogc:PropertyName><ogc:Literal>%cadastre%</ogc:Literal></ogc:PropertyIsLike>
        <ogc:BBOX><ogc:PropertyName>ows:BoundingBox</ogc:PropertyName>
          <gml:Envelope srsName="urn:ogc:def:crs:EPSG::4326"><gml:lowerCorner>47.60 -2.30</gml:lowerCorner><gml:upperCorner>48.75 -1.00</gml:upperCorner></gml:Envelope></ogc:BBOX>
    </ogc:And></ogc:Filter></csw:Constraint></csw:Query></csw:GetRecords>`;
const BODIES = { C1, C2 };

/** A statement's kind, from its text. */
function kindOf(text) {
  const t = text.trimStart();
  if (/^BEGIN/i.test(t)) return 'begin';
  if (/^COMMIT/i.test(t)) return 'commit';
  if (/set_config|^SET /i.test(t)) return 'settings';
  if (/^EXPLAIN/i.test(t)) return 'estimate';
  if (/__n/.test(t)) return 'count+page';
  if (/^SELECT count\(\*\)/i.test(t)) return 'count';
  if (/raster_layers/.test(t)) return 'visibility:rasters';
  if (/sdi\.layers|revision/i.test(t) && !/metadata_records|record_search/.test(t)) return 'visibility:layers';
  if (/metadata_records|record_search/.test(t)) return 'page';
  return 'other';
}

let current = null; // the request being timed: { steps: Map<kind, ms> }
const add = (kind, ms) => current && current.steps.set(kind, (current.steps.get(kind) ?? 0) + ms);
function timed(query) {
  return function (config, values, cb) {
    const text = typeof config === 'string' ? config : config.text;
    if (values_.sql && current) console.log(`-- ${kindOf(text)}\n${text};\n-- ${JSON.stringify(Array.isArray(values) ? values : config.values ?? [])}`);
    const t0 = performance.now();
    const p = query.call(this, config, values, cb);
    if (p && typeof p.then === 'function') return p.finally(() => add(kindOf(text), performance.now() - t0));
    return p;
  };
}

process.env.SDI_CSW_PAGE_CACHE ??= '0';
const platform = await createPlatform();
const pool = platform.pool;
// (pool.query runs on a client checked out through pool.connect: timed there, once)
const connect = pool.connect.bind(pool);
const wrapped = new WeakSet();
const backends = new Set();
const wrap = (c) => {
  if (c && !wrapped.has(c)) {
    wrapped.add(c);
    backends.add(c.processID);
    c.query = timed(c.query);
  }
  return c;
};
// pool.query checks a client out with a callback; the server's code awaits pool.connect().
pool.connect = (cb) => (cb ? connect((err, c, done) => cb(err, wrap(c), done)) : connect().then(wrap));
const limits = catalogueLimits(platform);
const caller = ANONYMOUS;

function backendCpuMs(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, clock ticks of 10 ms
  } catch {
    return NaN;
  }
}

async function once(body) {
  current = { steps: new Map() };
  const t0 = performance.now();
  let t = performance.now();
  const req = await withCrsFacts(() => readCswXml(body, limits));
  add('node:read', performance.now() - t);
  t = performance.now();
  const v = await recordVisibility(platform, caller);
  add('visibility', performance.now() - t);
  const ctx = { platform, serviceUrl: 'http://127.0.0.1/csw', limits, hiddenRecords: v.hidden, linklessRecords: v.withoutLinks };
  const out = await getRecords(ctx, req);
  const total = performance.now() - t0;
  const steps = current.steps;
  current = null;
  const db = [...steps].filter(([k]) => !k.startsWith('node:') && k !== 'visibility').reduce((s, [, ms]) => s + ms, 0);
  steps.set('total', total);
  steps.set('outside the database', total - db);
  return { steps, out };
}

const p50 = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor((s.length - 1) / 2)];
};

const backendsCpuMs = () => [...backends].reduce((s, pid) => s + backendCpuMs(pid), 0);
console.log(`database ${process.env.DATABASE_URL?.replace(/\/\/[^@]*@/, '//')} — ${RUNS} runs after ${WARMUP} warm-up, one at a time, page cache ${platform.config.catalogue.pageCache ? 'on' : 'off'}`);
if (values.sql) {
  for (const name of ONLY) await once(BODIES[name]);
  process.exit(0);
}
for (const name of ONLY) {
  const body = BODIES[name];
  for (let i = 0; i < WARMUP; i++) await once(body);
  const all = new Map();
  const cpu0 = process.cpuUsage();
  const pg0 = backendsCpuMs();
  let matched = '';
  for (let i = 0; i < RUNS; i++) {
    const { steps, out } = await once(body);
    matched = /numberOfRecordsMatched="(\d+)" numberOfRecordsReturned="(\d+)"/.exec(String(out))?.slice(1).join(' / ') ?? '?';
    for (const [k, ms] of steps) (all.get(k) ?? all.set(k, []).get(k)).push(ms);
  }
  const cpu = process.cpuUsage(cpu0);
  const pgCpu = backendsCpuMs() - pg0;
  console.log(`\n${name}: matched / returned ${matched}`);
  for (const [k, a] of all) console.log(`  ${k.padEnd(22)} p50 ${p50(a).toFixed(2).padStart(7)} ms  (×${(a.length / RUNS).toFixed(0)})`);
  console.log(`  node CPU / request      ${((cpu.user + cpu.system) / 1000 / RUNS).toFixed(2)} ms`);
  console.log(`  postgres CPU / request  ${(pgCpu / RUNS).toFixed(2)} ms (backends ${[...backends].join(' ')}, 10 ms ticks)`);
}
await closePlatform(platform);
