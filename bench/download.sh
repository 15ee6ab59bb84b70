#!/usr/bin/env bash
# bench/download.sh — the download service side by side with the ogr2ogr command line, on the anchor
# PostGIS data (1M parcels, 500k addresses; ../shared/bench/setup-pg.sh) plus the demo reference tables
# (départements, communes) loaded into the same database. Called by scripts/bench.sh (BENCH_DOWNLOAD=0
# skips it), or alone: `bash bench/download.sh [outdir]`.
#
#   D1  département 45 (Loiret) clipped parcels, reprojected to EPSG:4326, GeoPackage
#       ours: GET /download/extract?layer=parcels&format=gpkg&crs=EPSG:4326&departement=45
#       ogr2ogr (a) -clipsrc <département WKT> -spat <its bbox> -t_srs EPSG:4326   (the kit's F6c recipe)
#       ogr2ogr (b) -sql with ST_Intersection in PostGIS (what an expert writes)
#   D2  all 500,000 addresses as GeoJSON (ours: streamed; ogr2ogr -f GeoJSON)
#   D3  one commune (Orléans, 45234) of parcels as GeoPackage, 8 concurrent clients, N requests
#   D4  20 deferred jobs through 2 worker processes (bench/download-jobs.mjs, if present)
# Wall times are medians of $RUNS runs (ogr2ogr -clipsrc, ~3 min a run, only $CLIPSRC_RUNS, default 1); peak memory is the server's sampled VmRSS (ours) and
# /usr/bin/time's maximum RSS (ogr2ogr). Nothing is asserted: figures and ratios go to download.md.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED_DIR="${SHARED_DIR:-$(dirname "$REPO")/shared}"
KIT="$SHARED_DIR/bench"
OUT="${1:-$REPO/bench-results/download-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"; OUT="$(cd "$OUT" && pwd)"
RUNS="${RUNS:-3}"
D3_REQUESTS="${D3_REQUESTS:-40}"
PORT_DL="${DL_PORT:-8085}"
DB_URL="${OURS_DB_URL:-postgres://postgres@127.0.0.1:5433/anchor}"
PGCONN="PG:dbname=anchor host=127.0.0.1 port=5433 user=postgres"
RUN="$OUT/run"; mkdir -p "$RUN"
log() { echo "[bench-download] $*" >&2; }
unset PORT PGHOST PGPORT PGUSER PGDATABASE PGOPTIONS
PSQL=(psql -X -q -At -h 127.0.0.1 -p 5433 -U postgres anchor)

"$KIT/setup-pg.sh" up >&2
"$KIT/setup-pg.sh" load >&2
[ "${BENCH_NO_BUILD:-0}" = 1 ] || (cd "$REPO" && npx tsc -p tsconfig.json)

cli() { (cd "$REPO" && DATABASE_URL="$DB_URL" LOG_LEVEL=warn node dist/app/cli.js "$@"); }
log "our store in db anchor: migrate, demo reference layers, publish parcels and addresses"
cli migrate > "$RUN/publish.log" 2>&1
cli demo >> "$RUN/publish.log" 2>&1
for t in parcels addresses; do cli publish --table "public.$t" --name "$t" --id id --geom geom >> "$RUN/publish.log" 2>&1 || true; done
"${PSQL[@]}" -c "ANALYZE parcels; ANALYZE addresses"

# --- our server (download service only) ------------------------------------------------------------
(cd "$REPO"; DATABASE_URL="$DB_URL" SDI_SERVICES=download SDI_DEMO=0 SDI_HARVEST=0 PORT="$PORT_DL" HOST=127.0.0.1 LOG_LEVEL=warn \
  SDI_DOWNLOAD_DIR="$RUN/downloads" SDI_DOWNLOAD_WORKERS=0 SDI_DOWNLOAD_JOBS_PER_CLIENT=100 SDI_DOWNLOAD_DIRECT_MAX_FEATURES=2000000 NODE_ENV=production \
  nohup node dist/app/server.js > "$RUN/server.log" 2>&1 < /dev/null & echo $! > "$RUN/server.pid")
SPID="$(cat "$RUN/server.pid")"
trap 'kill "$SPID" 2>/dev/null || true' EXIT
for _ in $(seq 120); do curl -sf "http://127.0.0.1:$PORT_DL/healthz" >/dev/null && break; sleep 0.5; done
BASE="http://127.0.0.1:$PORT_DL/download"

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$SPID/status"; }
# run_ours NAME URL FILE: one timed download, peak RSS of the server sampled every 50 ms
run_ours() {
  local name="$1" url="$2" file="$3" peak=0 t0 t1 r
  curl -s -o "$file" "$url" & local c=$!
  t0=$(date +%s.%N)
  while kill -0 "$c" 2>/dev/null; do r=$(rss_kb); [ "$r" -gt "$peak" ] && peak=$r; sleep 0.05; done
  wait "$c"; t1=$(date +%s.%N)
  echo "$name ours $(echo "$t1 - $t0" | bc) $peak $(stat -c %s "$file")" >> "$RUN/times.txt"
}
# run_cmd NAME TOOL FILE -- command...: timed by /usr/bin/time (wall and max RSS)
run_cmd() {
  local name="$1" tool="$2" file="$3"; shift 4
  rm -f "$file"
  /usr/bin/time -f '%e %M' -o "$RUN/time.tmp" "$@" > /dev/null 2>> "$RUN/ogr2ogr.log"
  echo "$name $tool $(cut -d' ' -f1 "$RUN/time.tmp") $(cut -d' ' -f2 "$RUN/time.tmp") $(stat -c %s "$file")" >> "$RUN/times.txt"
}
: > "$RUN/times.txt"
count() { ogrinfo -ro -so -al "$1" 2>/dev/null | awk -F': ' '/Feature Count/ {s+=$2} END {print s+0}'; }

# --- D1 ------------------------------------------------------------------------------------------
WKT="$("${PSQL[@]}" -c "SELECT ST_AsText(geom) FROM data.departements WHERE code = '45'")"
read -r X1 Y1 X2 Y2 < <("${PSQL[@]}" -F' ' -c "SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM data.departements WHERE code = '45'")
echo "$WKT" > "$RUN/dept45.wkt"
D1_SQL="SELECT p.id, p.idu, p.commune, p.section, p.numero, p.contenance, ST_Transform(ST_Multi(ST_CollectionExtract(ST_Intersection(p.geom, d.geom), 3)), 4326) AS geom FROM parcels p JOIN data.departements d ON d.code = '45' AND ST_Intersects(p.geom, d.geom)"
"${PSQL[@]}" -c "SELECT 1 FROM parcels LIMIT 1" >/dev/null
cols="$("${PSQL[@]}" -c "SELECT string_agg(column_name, ',') FROM information_schema.columns WHERE table_name = 'parcels' AND table_schema = 'public'")"
log "parcels columns: $cols"
D1_SQL="SELECT $(echo "$cols" | tr ',' '\n' | grep -v '^geom$' | sed 's/^/p./' | paste -sd,), ST_Transform(ST_Multi(ST_CollectionExtract(ST_Intersection(p.geom, d.geom), 3)), 4326) AS geom FROM parcels p JOIN data.departements d ON d.code = '45' AND ST_Intersects(p.geom, d.geom)"
# (c) ogr2ogr given the statement our compiler writes (prepared ST_ContainsProperly skips the intersection of
# parcels well inside): the difference to ours is then our pipeline alone (work table + GDAL in-process).
D1_SQLP="${D1_SQL/ST_Transform(ST_Multi(ST_CollectionExtract(ST_Intersection(p.geom, d.geom), 3)), 4326)/ST_Transform(CASE WHEN ST_ContainsProperly(d.geom, p.geom) THEN p.geom ELSE ST_Multi(ST_CollectionExtract(ST_Intersection(p.geom, d.geom), 3)) END, 4326)}"
for i in $(seq "$RUNS"); do
  log "D1 run $i"
  run_ours D1 "$BASE/extract?layer=parcels&format=gpkg&crs=EPSG:4326&departement=45" "$RUN/d1-ours.gpkg"
  [ "$i" -le "${CLIPSRC_RUNS:-1}" ] && run_cmd D1 ogr2ogr-clipsrc "$RUN/d1-clipsrc.gpkg" -- ogr2ogr -f GPKG "$RUN/d1-clipsrc.gpkg" "$PGCONN" parcels -nln parcels -nlt MULTIPOLYGON -spat "$X1" "$Y1" "$X2" "$Y2" -clipsrc "$WKT" -t_srs EPSG:4326
  run_cmd D1 ogr2ogr-sql "$RUN/d1-sql.gpkg" -- ogr2ogr -f GPKG "$RUN/d1-sql.gpkg" "$PGCONN" -sql "$D1_SQL" -nln parcels -nlt MULTIPOLYGON -a_srs EPSG:4326
  run_cmd D1 ogr2ogr-sql-ours "$RUN/d1-sqlp.gpkg" -- ogr2ogr -f GPKG "$RUN/d1-sqlp.gpkg" "$PGCONN" -sql "$D1_SQLP" -nln parcels -nlt MULTIPOLYGON -a_srs EPSG:4326
done
echo "D1 counts: ours $(count "$RUN/d1-ours.gpkg") ogr2ogr-clipsrc $(count "$RUN/d1-clipsrc.gpkg") ogr2ogr-sql $(count "$RUN/d1-sql.gpkg") ogr2ogr-sql-ours $(count "$RUN/d1-sqlp.gpkg")" >> "$RUN/counts.txt"
rm -f "$RUN"/d1-*.gpkg

# --- D2 ------------------------------------------------------------------------------------------
for i in $(seq "$RUNS"); do
  log "D2 run $i"
  run_ours D2 "$BASE/extract?layer=addresses&format=geojson&crs=EPSG:2154" "$RUN/d2-ours.geojson"
  run_cmd D2 ogr2ogr "$RUN/d2-ogr.geojson" -- ogr2ogr -f GeoJSON "$RUN/d2-ogr.geojson" "$PGCONN" addresses
done
echo "D2 counts: ours $(count "$RUN/d2-ours.geojson") ogr2ogr $(count "$RUN/d2-ogr.geojson")" >> "$RUN/counts.txt"
rm -f "$RUN"/d2-*.geojson

# --- D3: one commune, 8 concurrent clients -------------------------------------------------------
CWKT="$("${PSQL[@]}" -c "SELECT ST_AsText(geom) FROM data.communes WHERE code = '45234'")"
read -r CX1 CY1 CX2 CY2 < <("${PSQL[@]}" -F' ' -c "SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM data.communes WHERE code = '45234'")
export BASE RUN PGCONN CWKT CX1 CY1 CX2 CY2
mkdir -p "$RUN/d3"
log "D3 ours: $D3_REQUESTS requests, 8 clients"
t0=$(date +%s.%N)
seq "$D3_REQUESTS" | xargs -P 8 -I{} sh -c 'curl -s -o "$RUN/d3/ours-{}.gpkg" -w "%{http_code}\n" "$BASE/extract?layer=parcels&format=gpkg&crs=EPSG:2154&commune=45234"' > "$RUN/d3-ours-codes.txt"
t1=$(date +%s.%N)
echo "D3 ours $(echo "$t1 - $t0" | bc) $D3_REQUESTS $(grep -c '^200$' "$RUN/d3-ours-codes.txt")" >> "$RUN/d3.txt"
log "D3 ogr2ogr: $D3_REQUESTS runs, 8 in parallel"
t0=$(date +%s.%N)
seq "$D3_REQUESTS" | xargs -P 8 -I{} sh -c 'rm -f "$RUN/d3/ogr-{}.gpkg"; ogr2ogr -f GPKG "$RUN/d3/ogr-{}.gpkg" "$PGCONN" parcels -nln parcels -nlt MULTIPOLYGON -spat $CX1 $CY1 $CX2 $CY2 -clipsrc "$CWKT" 2>/dev/null && echo 200'  > "$RUN/d3-ogr-codes.txt"
t1=$(date +%s.%N)
echo "D3 ogr2ogr $(echo "$t1 - $t0" | bc) $D3_REQUESTS $(grep -c '^200$' "$RUN/d3-ogr-codes.txt")" >> "$RUN/d3.txt"
echo "D3 counts: ours $(count "$RUN/d3/ours-1.gpkg") ogr2ogr $(count "$RUN/d3/ogr-1.gpkg")" >> "$RUN/counts.txt"
rm -rf "$RUN/d3"

# --- D4: deferred jobs ---------------------------------------------------------------------------
if [ -f "$REPO/bench/download-jobs.mjs" ]; then
  log "D4: 20 deferred jobs, 2 workers"
  (cd "$REPO" && DATABASE_URL="$DB_URL" BASE="$BASE" SDI_DOWNLOAD_DIR="$RUN/downloads" node bench/download-jobs.mjs > "$RUN/d4.txt" 2>&1) || echo "D4 failed (see run/d4.txt)" >> "$RUN/d4.txt"
fi

python3 - "$RUN" > "$OUT/download.md" <<'PY'
import sys, statistics, collections
run = sys.argv[1]
rows = collections.defaultdict(list)
for line in open(f"{run}/times.txt"):
    name, tool, wall, rss, size = line.split()
    rows[(name, tool)].append((float(wall), int(rss), int(size)))
print("# Download benchmark: ours vs ogr2ogr (anchor data)\n")
print("| workload | tool | median wall s | peak RSS MB | output bytes | ratio to ogr2ogr |")
print("|---|---|---:|---:|---:|---:|")
for w in ("D1", "D2"):
    ogr = [statistics.median(x[0] for x in v) for (n, t), v in rows.items() if n == w and t.startswith("ogr2ogr")]
    best = min(ogr) if ogr else None
    for (n, t), v in rows.items():
        if n != w: continue
        m = statistics.median(x[0] for x in v)
        print(f"| {n} | {t} | {m:.2f} | {max(x[1] for x in v)/1024:.0f} | {v[-1][2]:,} | {m/best:.2f}× |" if best else f"| {n} | {t} | {m:.2f} | | | |")
print()
for line in open(f"{run}/d3.txt"):
    name, tool, wall, n, ok = line.split()
    print(f"- D3 {tool}: {n} one-commune GeoPackages, 8 concurrent, {float(wall):.1f} s → {int(ok)/float(wall):.1f} extracts/s ({ok}/{n} ok)")
print()
for line in open(f"{run}/counts.txt"): print(f"- {line.strip()}")
try:
    print("\n## D4 deferred jobs\n\n" + open(f"{run}/d4.txt").read())
except FileNotFoundError:
    pass
PY
cat "$OUT/download.md"
