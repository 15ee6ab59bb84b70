// T2 of scripts/bench.sh (issue 9): a Mapbox Vector Tile of the million-parcel table at the 50 km extent
// (WebMercatorQuad level 9: a tile is ~53 km wide at 47.9° N), drawn by PostGIS on every request. wrk cannot be
// used: the shared kit's pre-flight check knows no MVT, and a cached tile would measure the disk cache, not the
// drawing (T1 does that). So bench.sh runs our server with the tile cache off and this script sends the tile
// URLs, one at a time (the service time) and then CONC at a time (throughput), and writes what the kit writes
// (meta.json, checks.jsonl, results.jsonl) so that bench/summarize.py reads it like any workload.
//
//   node bench/vector-tile-bench.mjs BASE_URL OUT_DIR   (env: T2_LAYER=parcels T2_Z/X/Y, T2_SINGLE=20 requests one at a time,
//   T2_LOAD=1 (0: no run under load), CONC=8, DURATION=20, REPEATS=3, WARMUP=5)
import { mkdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';

const [base = 'http://127.0.0.1:8081', out = '/tmp/t2'] = process.argv.slice(2);
const env = process.env;
const layer = env.T2_LAYER ?? 'parcels';
// The level-9 tile holding the centre of the kit's BBOX_50KM (618500, 6756400 in EPSG:2154 ≈ 1.93° E, 47.90° N).
const z = Number(env.T2_Z ?? 9), x = Number(env.T2_X ?? 258), y = Number(env.T2_Y ?? 178);
const single = Number(env.T2_SINGLE ?? 20), underLoad = env.T2_LOAD !== '0';
const conc = Number(env.CONC ?? 8), duration = Number(env.DURATION ?? 20), repeats = Number(env.REPEATS ?? 3), warmup = Number(env.WARMUP ?? 5);
const url = `${base}/tiles/${layer}/${z}/${x}/${y}.pbf`;
mkdirSync(out, { recursive: true });

/** Features in the tile's layers (MVT: Tile.layers = field 3, Layer.features = field 2): the pre-flight check. */
function countFeatures(buf) {
  let pos = 0;
  const varint = () => {
    let v = 0, m = 1, b;
    do { b = buf[pos++]; v += (b & 0x7f) * m; m *= 128; } while (b & 0x80);
    return v;
  };
  // A length first, then the move: `pos += varint()` would read pos before varint() moves it past the length.
  const skip = (wire) => {
    if (wire === 0) varint();
    else if (wire === 1) pos += 8;
    else if (wire === 2) {
      const len = varint();
      pos += len;
    } else pos += 4;
  };
  let n = 0;
  while (pos < buf.length) {
    const key = varint();
    if (key >> 3 !== 3 || (key & 7) !== 2) { skip(key & 7); continue; }
    const end = varint() + pos;
    while (pos < end) {
      const k = varint();
      if (k >> 3 === 2) n++;
      skip(k & 7);
    }
  }
  return n;
}

async function one() {
  const s = performance.now();
  const r = await fetch(url);
  const body = new Uint8Array(await r.arrayBuffer());
  return { ms: performance.now() - s, status: r.status, body, type: r.headers.get('content-type') };
}

/** CONC clients for `seconds`: requests/s and latency quantiles, as wrk reports them. */
async function load(seconds) {
  const times = [];
  let errors = 0, bytes = 0;
  const stop = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: conc }, async () => {
    while (performance.now() < stop) {
      const r = await one();
      if (r.status !== 200) errors++;
      bytes += r.body.length;
      times.push(r.ms);
    }
  }));
  const wall = (performance.now() - t0) / 1000;
  times.sort((a, b) => a - b);
  const q = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
  return { rps: times.length / wall, requests: times.length, p50_ms: q(0.5), p90_ms: q(0.9), p99_ms: q(0.99), max_ms: times.at(-1), bytes_per_resp_wire: bytes / times.length, errors };
}

writeFileSync(join(out, 'meta.json'), JSON.stringify({ label: 'ours', base_url: base, date: new Date().toISOString().slice(0, 16) + 'Z', conc, duration, warmup, repeats, workloads: 'T2' }, null, 1));
writeFileSync(join(out, 'urls.tsv'), `T2\t${url}\n`);
const first = await one();
const n = first.status === 200 ? countFeatures(first.body) : 0;
const result = first.status !== 200 ? `FAIL http ${first.status}` : n > 0 ? `ok ${n}` : 'FAIL no feature';
writeFileSync(join(out, 'checks.jsonl'), JSON.stringify({ workload: 'T2', http: first.status, content_type: first.type, bytes: first.body.length, time_s: first.ms / 1000, result }) + '\n');
console.log(`   T2  preflight: http ${first.status}, ${first.body.length} bytes, ${first.ms.toFixed(0)} ms, ${result}`);
writeFileSync(join(out, 'results.jsonl'), '');
if (result.startsWith('ok')) {
  // Service time: one request at a time.
  const times = [];
  for (let i = 0; i < single; i++) times.push((await one()).ms);
  times.sort((a, b) => a - b);
  const p50 = times[Math.floor(times.length / 2)];
  writeFileSync(join(out, 'single.json'), JSON.stringify({ n: times.length, p50_ms: p50, min_ms: times[0], max_ms: times.at(-1) }));
  console.log(`   T2  one at a time (${times.length}): p50 ${p50.toFixed(1)} ms (min ${times[0].toFixed(1)}, max ${times.at(-1).toFixed(1)})`);
  if (underLoad) await load(warmup);
  for (let r = 1; underLoad && r <= repeats; r++) {
    const rec = { workload: 'T2', run: r, ...(await load(duration)) };
    appendFileSync(join(out, 'results.jsonl'), JSON.stringify(rec) + '\n');
    console.log(`   T2  run ${r}: ${rec.rps.toFixed(1)} req/s  p50 ${rec.p50_ms.toFixed(1)} ms  p99 ${rec.p99_ms.toFixed(1)} ms  errors ${rec.errors}`);
  }
}
