#!/usr/bin/env bash
# bench/import.sh — `cli.js import` (the function behind POST /admin/imports: staging table, checks, swap,
# record) side by side with `ogr2ogr -f PostgreSQL`, on the million-parcel GeoPackage written once from the
# anchor table (../shared/bench/setup-pg.sh, 127.0.0.1:5433). Called by scripts/bench.sh (BENCH_IMPORT=0
# skips it), or alone: `bash bench/import.sh [outdir]`. Figures (wall time, /usr/bin/time's maximum RSS) go to
# import.md; RUNS (default 3) runs each, medians. Nothing is asserted.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$REPO/bench-results/import-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"; OUT="$(cd "$OUT" && pwd)"
RUNS="${RUNS:-3}"
DB_URL="${OURS_DB_URL:-postgres://postgres@127.0.0.1:5433/anchor}"
# GDAL's connection string from the URL (postgres://user@host:port/db).
PGCONN="$(node -e 'const u = new URL(process.argv[1]); console.log(`PG:dbname=${u.pathname.slice(1)} host=${u.hostname} port=${u.port || 5432} user=${u.username || "postgres"}`)' "$DB_URL")"
GPKG="${IMPORT_GPKG:-$REPO/bench-results/parcels-1m.gpkg}"
log() { echo "[bench-import] $*" >&2; }
unset PORT PGHOST PGPORT PGUSER PGDATABASE PGOPTIONS
PSQL=(psql -X -q -At "$DB_URL")

if [ ! -s "$GPKG" ]; then
  log "writing $GPKG from the anchor parcels (once)"
  mkdir -p "$(dirname "$GPKG")"
  ogr2ogr -f GPKG "$GPKG" "$PGCONN" -sql 'SELECT * FROM parcels' -nln parcels
fi
[ "${BENCH_NO_BUILD:-0}" = 1 ] || (cd "$REPO" && npx tsc -p tsconfig.json)

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
: > "$OUT/ogr2ogr.txt"; : > "$OUT/ours.txt"
for i in $(seq "$RUNS"); do
  "${PSQL[@]}" -c 'DROP TABLE IF EXISTS public.bench_import_ogr'
  /usr/bin/time -f '%e %M' -o "$OUT/t" ogr2ogr -f PostgreSQL "$PGCONN" "$GPKG" -nln public.bench_import_ogr -lco GEOMETRY_NAME=geom -lco FID=fid
  cat "$OUT/t" >> "$OUT/ogr2ogr.txt"
  # Replace mode: from the second run on, the previous table is kept as a version (SDI_IMPORT_KEEP_VERSIONS=1).
  (cd "$REPO" && DATABASE_URL="$DB_URL" SDI_IMPORT_KEEP_VERSIONS=1 /usr/bin/time -f '%e %M' -o "$OUT/t" node dist/app/cli.js import "$GPKG" --name bench_import > "$OUT/report-$i.json" 2> "$OUT/progress-$i.log")
  cat "$OUT/t" >> "$OUT/ours.txt"
  log "run $i: ogr2ogr $(tail -1 "$OUT/ogr2ogr.txt"), ours $(tail -1 "$OUT/ours.txt") (s, KB)"
done
O_T=$(cut -d' ' -f1 "$OUT/ogr2ogr.txt" | median); O_M=$(cut -d' ' -f2 "$OUT/ogr2ogr.txt" | median)
U_T=$(cut -d' ' -f1 "$OUT/ours.txt" | median); U_M=$(cut -d' ' -f2 "$OUT/ours.txt" | median)
{
  echo "## Import: 1M-parcel GeoPackage into PostGIS ($RUNS runs, medians)"
  echo
  echo "| | wall (s) | peak RSS (MB) |"
  echo "|---|---|---|"
  echo "| ogr2ogr -f PostgreSQL | $O_T | $((O_M / 1024)) |"
  echo "| cli.js import (staging, checks, swap, record) | $U_T | $((U_M / 1024)) |"
  echo
  echo "ratio ours / ogr2ogr: $(awk -v a="$U_T" -v b="$O_T" 'BEGIN {printf "%.2f", a / b}') (aim: ≤ 1.2)"
} > "$OUT/import.md"
cat "$OUT/import.md"
