#!/usr/bin/env bash
# bench/csw.sh OUTDIR — the CSW benchmark of issue 3 (called by scripts/bench.sh; can run alone).
#
# 100,000 ISO 19139 records from ../shared/bench/csw/gen-records.py (seed 20261123, as pycsw's anchor) in a
# database of their own (default sdi_csw_bench on the anchor cluster 127.0.0.1:5433, where pycsw was
# measured: shared_buffers 2 GB, no parallel query, no JIT), loaded once with `cli.js records-load`; a second
# run finds them (count and seed kept in the database comment) and starts measuring at once. Then our server
# alone on that database, and ../shared/bench/csw/run-csw.py C1–C5 against its /csw, with pycsw's
# parameters (5 s warm-up, 3 × 20 s, concurrency 1 and 8; C4 = data.gouv.fr's full harvest, its request
# verbatim, then the plain one). bench/csw-summary.py puts the figures next to pycsw 2.6.2's.
#
# Environment:
#   CSW_BENCH_DB_URL  postgres://postgres@127.0.0.1:5433/sdi_csw_bench   (never the test or demo database)
#   CSW_RECORDS_DIR   /tmp/sdi-csw-bench/records   where gen-records.py writes (removed after the load unless
#                     CSW_KEEP_RECORDS=1; 1.7 GB)
#   CSW_COUNT 100000  CSW_SEED 20261123
#   CSW_PORT 8093     our server for this run (bench/ours-server.sh, state in /tmp/sdi-bench-csw)
#   CSW_DURATION CSW_REPEATS CSW_WARMUP CSW_CONC CSW_C4 CSW_ONLY   run-csw.py's --duration --repeats --warmup
#                     --conc --c4 --only (defaults 20 3 5 1,8 udata,plain C1,C2,C3,C5,C4; BENCH_QUICK=1: 5 1 2)
#   CSW_RELOAD=1      drop the records and load them again (measures the loader)
#   CSW_PYCSW=1       pycsw 2.6.2 live, same records, same workloads, right after ours (bench/pycsw.sh: a checkout
#                     in PYCSW_HOME=/work/pycsw or Debian's python3-pycsw, gunicorn 2 workers, database `pycsw` on
#                     the same cluster, loaded once, ~630 s); 0, or pycsw not installed: its recorded figures
#   PYCSW_PORT 8092   PYCSW_DB_URL postgres://postgres@127.0.0.1:5433/pycsw
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED_DIR="${SHARED_DIR:-$(dirname "$REPO")/shared}"
KIT="$SHARED_DIR/bench/csw"
OUT="${1:?usage: bench/csw.sh OUTDIR}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

DB_URL="${CSW_BENCH_DB_URL:-postgres://postgres@127.0.0.1:5433/sdi_csw_bench}"
RECORDS="${CSW_RECORDS_DIR:-/tmp/sdi-csw-bench/records}"
COUNT="${CSW_COUNT:-100000}"
SEED="${CSW_SEED:-20261123}"
PORT_="${CSW_PORT:-8093}"
if [ "${BENCH_QUICK:-0}" = 1 ]; then : "${CSW_DURATION:=5}" "${CSW_REPEATS:=1}" "${CSW_WARMUP:=2}"; fi
DURATION="${CSW_DURATION:-20}" REPEATS="${CSW_REPEATS:-3}" WARMUP="${CSW_WARMUP:-5}"
CONC="${CSW_CONC:-1,8}" C4="${CSW_C4:-udata,plain}" ONLY="${CSW_ONLY:-C1,C2,C3,C5,C4}"
log() { printf '[csw %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
[ -f "$KIT/run-csw.py" ] || { echo "csw bench: $KIT/run-csw.py not found (set SHARED_DIR)" >&2; exit 2; }
case "$DB_URL" in *_test|*_test\?*|*/sdi|*/sdi\?*) echo "csw bench: refusing $DB_URL (test or demo database)" >&2; exit 2 ;; esac

db_name="${DB_URL##*/}"; db_name="${db_name%%\?*}"
admin_url="${DB_URL%/*}/postgres"
psql_() { psql -X -q -tA -v ON_ERROR_STOP=1 "$@"; }
if [ -z "$(psql_ "$admin_url" -c "SELECT 1 FROM pg_database WHERE datname = '$db_name'")" ]; then
  log "creating database $db_name"
  psql_ "$admin_url" -c "CREATE DATABASE \"$db_name\""
fi
cli() { (cd "$REPO" && DATABASE_URL="$DB_URL" LOG_LEVEL=warn node dist/app/cli.js "$@"); }
cli migrate > "$OUT/migrate.log" 2>&1 || { cat "$OUT/migrate.log" >&2; exit 2; }

# ---------------------------------------------------------------- data (once)
ensure_records() {  # the generated files, for a load (ours or pycsw's)
  if [ "$(find "$RECORDS" -name '*.xml' 2>/dev/null | head -n "$COUNT" | wc -l)" != "$COUNT" ]; then
    rm -rf "$RECORDS"
    local t=$SECONDS
    python3 "$SHARED_DIR/bench/csw/gen-records.py" --count "$COUNT" --seed "$SEED" --out "$RECORDS" > "$OUT/gen-records.log" 2>&1
    log "generated in $((SECONDS - t)) s: $(tail -1 "$OUT/gen-records.log")"
  fi
}
PYCSW_ON=0
if [ "${CSW_PYCSW:-1}" = 1 ]; then
  if pycsw_version="$("$REPO/bench/pycsw.sh" check 2>"$OUT/pycsw-check.log")"; then PYCSW_ON=1; log "live pycsw: $pycsw_version"
  else log "pycsw not available ($(tail -1 "$OUT/pycsw-check.log")): its recorded figures are used"; fi
fi
# the generated records (the server adds its own service records, managed_by service:…, at start)
COUNT_SQL="SELECT count(*) FROM sdi.metadata_records WHERE managed_by IS NULL"
WANT="sdi csw bench: gen-records.py --count $COUNT --seed $SEED"
HAVE="$(psql_ "$DB_URL" -c "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()")"
N="$(psql_ "$DB_URL" -c "$COUNT_SQL")"
if [ "${CSW_RELOAD:-0}" = 1 ] || [ "$HAVE" != "$WANT" ] || [ "$N" != "$COUNT" ]; then
  log "loading $COUNT records (seed $SEED) into $db_name (have: ${N} records, '${HAVE}')"
  psql_ "$DB_URL" -c "COMMENT ON DATABASE \"$db_name\" IS NULL" -c "DELETE FROM sdi.metadata_records"
  ensure_records
  t=$SECONDS
  cli records-load "$RECORDS" > "$OUT/load.json" 2> "$OUT/load.log" || { tail "$OUT/load.log" "$OUT/load.json" >&2; exit 2; }
  log "records-load: $(cat "$OUT/load.json") (wall $((SECONDS - t)) s)"
  echo "$((SECONDS - t))" > "$OUT/load-wall-s.txt"
  N="$(psql_ "$DB_URL" -c "$COUNT_SQL")"
  [ "$N" = "$COUNT" ] || { echo "csw bench: $N records after the load, expected $COUNT" >&2; exit 2; }
  psql_ "$DB_URL" -c "COMMENT ON DATABASE \"$db_name\" IS '$WANT'"
  [ "${CSW_KEEP_RECORDS:-0}" = 1 ] || [ "$PYCSW_ON" = 1 ] || rm -rf "$RECORDS"
else
  log "$N records already loaded in $db_name (seed $SEED): not reloading"
fi
psql_ "$DB_URL" -c "SELECT pg_size_pretty(pg_database_size(current_database()))" > "$OUT/db-size.txt"
# C3's identifiers, from the database (the generated files need not be kept)
psql_ "$DB_URL" -c "SELECT identifier FROM sdi.metadata_records ORDER BY identifier" > "$OUT/ids.txt"

# ---------------------------------------------------------------- our server, catalogue only
export SDI_BENCH_RUN=/tmp/sdi-bench-csw OURS_PORT="$PORT_" OURS_DB_URL="$DB_URL" OURS_LOG="$OUT/server.log"
export SDI_SERVICES=catalogue SDI_HARVEST=0
stop_server() { "$REPO/bench/ours-server.sh" stop >/dev/null 2>&1 || true; }
trap stop_server EXIT
stop_server
"$REPO/bench/ours-server.sh" start | sed 's/^/[csw] /'
# the generated records, plus the platform's service records (WFS, Atom) that every start writes
N="$(psql_ "$DB_URL" -c "$COUNT_SQL")"
[ "$N" = "$COUNT" ] || log "WARNING: $N generated records in the catalogue, not $COUNT"
log "catalogue: $(psql_ "$DB_URL" -c "SELECT count(*) || ' records, of which ' || count(managed_by) || ' service records of the platform' FROM sdi.metadata_records")"

# ---------------------------------------------------------------- workloads
log "run-csw.py $ONLY (c=$CONC, ${WARMUP}s warm-up + $REPEATS x ${DURATION}s, C4 $C4)"
python3 "$KIT/run-csw.py" --url "http://127.0.0.1:$PORT_/csw" --only "$ONLY" --duration "$DURATION" --warmup "$WARMUP" \
  --repeats "$REPEATS" --conc "$CONC" --c4 "$C4" --ids "$OUT/ids.txt" --records "$RECORDS" --label ours \
  --out "$OUT/run" --server-pidfile "$SDI_BENCH_RUN/ours.pid" > "$OUT/run-csw.log" 2>&1 ||
  { tail -30 "$OUT/run-csw.log" >&2; exit 1; }
grep -E '^(check|C[1-5])' "$OUT/run-csw.log" | cut -c1-220 | sed 's/^/[csw] /' || true
stop_server

# The same C1/C2 with the paging caches off (every request counts its matches, as pycsw does): what a
# first, never-seen search costs. Short (1 x 10 s, c=1); CSW_NOCACHE=0 skips it.
if [ "${CSW_NOCACHE:-1}" = 1 ] && [[ "$ONLY" == *C1* || "$ONLY" == *C2* ]]; then
  SDI_CSW_PAGE_CACHE=0 "$REPO/bench/ours-server.sh" start | sed 's/^/[csw] (no cache) /'
  nc_only="$(echo "$ONLY" | tr ',' '\n' | grep -E '^C[12]$' | paste -sd, -)"
  python3 "$KIT/run-csw.py" --url "http://127.0.0.1:$PORT_/csw" --only "$nc_only" --duration 10 --warmup 2 --repeats 1 --conc 1 \
    --ids "$OUT/ids.txt" --records "$RECORDS" --label ours-nocache --out "$OUT/run-nocache" \
    --server-pidfile "$SDI_BENCH_RUN/ours.pid" > "$OUT/run-csw-nocache.log" 2>&1 || tail -5 "$OUT/run-csw-nocache.log" >&2
  grep -E '^C[1-5] ' "$OUT/run-csw-nocache.log" | cut -c1-160 | sed 's/^/[csw] (no cache) /' || true
  stop_server
fi
# pycsw 2.6.2, live, on the same machine and cluster, right after ours (never both at once): the same
# workloads, parameters and identifiers. Its searches are all first-seen (it counts every request).
if [ "$PYCSW_ON" = 1 ]; then
  export PYCSW_RUN=/tmp/sdi-bench-pycsw CSW_COUNT="$COUNT" CSW_SEED="$SEED"
  pycsw_port="${PYCSW_PORT:-8092}"
  stop_pycsw() { "$REPO/bench/pycsw.sh" stop >/dev/null 2>&1 || true; }
  trap 'stop_server; stop_pycsw' EXIT
  "$REPO/bench/pycsw.sh" loaded || ensure_records
  "$REPO/bench/pycsw.sh" load "$RECORDS" > "$OUT/pycsw-load.log" 2>&1 || { PYCSW_ON=0; tail -5 "$OUT/pycsw-load.log" >&2; }
  sed 's/^/[csw] /' "$OUT/pycsw-load.log"
fi
if [ "$PYCSW_ON" = 1 ] && "$REPO/bench/pycsw.sh" start | sed 's/^/[csw] /'; then
  log "run-csw.py $ONLY against pycsw (c=$CONC, ${WARMUP}s warm-up + $REPEATS x ${DURATION}s, C4 $C4)"
  python3 "$KIT/run-csw.py" --url "http://127.0.0.1:$pycsw_port/csw" --only "$ONLY" --duration "$DURATION" --warmup "$WARMUP" \
    --repeats "$REPEATS" --conc "$CONC" --c4 "$C4" --ids "$OUT/ids.txt" --records "$RECORDS" --label pycsw \
    --out "$OUT/run-pycsw" --server-pidfile "$PYCSW_RUN/gunicorn.pid" > "$OUT/run-csw-pycsw.log" 2>&1 ||
    { tail -30 "$OUT/run-csw-pycsw.log" >&2; }
  grep -E '^(check|C[1-5])' "$OUT/run-csw-pycsw.log" | cut -c1-220 | sed 's/^/[csw] (pycsw) /' || true
  "$REPO/bench/pycsw.sh" stop | sed 's/^/[csw] /'
  [ -f "$PYCSW_RUN/load-s.txt" ] && cp "$PYCSW_RUN/load-s.txt" "$OUT/pycsw-load-s.txt"
fi
[ "${CSW_KEEP_RECORDS:-0}" = 1 ] || rm -rf "$RECORDS"
python3 "$REPO/bench/csw-summary.py" "$OUT" | tee "$OUT/csw.md"
