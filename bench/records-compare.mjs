// bench/records-compare.mjs URL_A URL_B — the catalogue tables of two databases, row by row (issue 12).
//
// Each record's row of sdi.metadata_records and of sdi.record_search (the narrow search table its triggers keep),
// ids and timestamps aside (footprints compared as EWKB), matched by identifier: load the same files with two
// loaders (bench/records-load-cpu.mjs with two builds) and check they stored the same thing. Exit 1 on any difference.
import pg from 'pg';
const q = {
  records: `SELECT identifier, md5((to_jsonb(m) - 'id' - 'created_at' - 'updated_at' - 'bbox')::text || coalesce(encode(ST_AsEWKB(bbox), 'hex'), '-')) AS d FROM sdi.metadata_records m ORDER BY identifier`,
  search: `SELECT identifier, md5((to_jsonb(s) - 'id' - 'bbox')::text || coalesce(encode(ST_AsEWKB(bbox), 'hex'), '-')) AS d FROM sdi.record_search s ORDER BY identifier`,
  ids: `SELECT count(*)::int AS n, count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM sdi.record_search s WHERE s.id = m.id AND s.identifier = m.identifier))::int AS unmatched FROM sdi.metadata_records m`,
};
const read = async (url) => {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const out = {};
  for (const [k, sql] of Object.entries(q)) out[k] = (await c.query(sql)).rows;
  await c.end();
  return out;
};
const [a, b] = await Promise.all(process.argv.slice(2, 4).map(read));
let bad = 0;
for (const k of ['records', 'search']) {
  const mb = new Map(b[k].map((r) => [r.identifier, r.d]));
  let diff = 0;
  for (const r of a[k]) if (mb.get(r.identifier) !== r.d) { if (diff++ < 3) console.log(`${k}: ${r.identifier} differs`); }
  if (a[k].length !== b[k].length) diff++;
  console.log(`${k}: ${a[k].length} / ${b[k].length} rows, ${diff} differing`);
  bad += diff;
}
console.log('ids', JSON.stringify(a.ids), JSON.stringify(b.ids));
if (a.ids[0].unmatched || b.ids[0].unmatched) bad++;
process.exit(bad ? 1 : 0);
