// Tile latency probe (issue 9): p50/p99 and throughput of a cached WMTS tile, WMTS tiles drawn (cache misses)
// and vector tiles, against a running server. Not part of `npm run bench` (which compares with MapServer on the
// shared bench tables); for a quick figure on any deployment:
//   node bench/tiles.mjs http://127.0.0.1:8080 communes [concurrency]
const [base = 'http://127.0.0.1:8080', layer = 'communes', conc = '8'] = process.argv.slice(2);
const C = Number(conc);

async function run(name, urls, n) {
  const times = [];
  let i = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (i < n) {
      const url = urls[i++ % urls.length];
      const s = performance.now();
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.status !== 200 && r.status !== 204) throw new Error(`${url}: ${r.status}`);
      times.push(performance.now() - s);
    }
  };
  await Promise.all(Array.from({ length: C }, worker));
  const wall = (performance.now() - t0) / 1000;
  times.sort((a, b) => a - b);
  const q = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))].toFixed(1);
  console.log(`${name.padEnd(44)} n=${String(times.length).padStart(5)}  ${(times.length / wall).toFixed(0).padStart(6)} req/s  p50 ${q(0.5)} ms  p99 ${q(0.99)} ms`);
}

// LAMB93_10cm level 12 (13 km tiles) over the Loiret, WebMercatorQuad level 9 (about 50 km of ground at 47° N).
const l93 = [];
for (let row = 413; row < 421; row++) for (let col = 47; col < 55; col++) l93.push(`${base}/wmts/1.0.0/${layer}/default/LAMB93_10cm/12/${row}/${col}.png`);
const mvt9 = [];
for (let x = 257; x < 261; x++) for (let y = 177; y < 181; y++) mvt9.push(`${base}/tiles/${layer}/9/${x}/${y}.pbf`);
await run('WMTS PNG, cache misses (first drawing)', l93, l93.length);
await run('WMTS PNG, cached (hits)', l93, 2000);
await run('MVT level 9 (~50 km), first drawing', mvt9, mvt9.length);
await run('MVT level 9 (~50 km), cached', mvt9, 500);
