#!/usr/bin/env bash
# scripts/bench.sh — `npm run bench`: side-by-side benchmark of this server against the
# MapServer 8 anchor and the raw PostGIS floor, on the shared anchor data set.
#
# Uses the shared benchmark kit in ../shared/bench (SHARED_DIR overrides ../shared):
#   setup-pg.sh     private PostgreSQL 15 + PostGIS cluster, 127.0.0.1:5433, db "anchor"
#                   (1M parcels, 208k roads, 500k addresses; first load ~3.5 min)
#   mapserver.sh    MapServer 8 FastCGI x2 behind nginx on 127.0.0.1:8091
#   run-workloads.sh / run-floor.sh   the workloads (wrk, curl) and the PostGIS floors (hyperfine)
#
# Steps: install missing Debian packages -> cluster up + data load -> build this server,
# migrate, publish parcels/roads/addresses, start it on 127.0.0.1:$OURS_PORT -> MapServer start
# -> W1 W2 W3 W6 against MapServer, then against ours (same parameters) -> floors F0 F1 F2 F3 F6a
# -> bench-results/<timestamp>/summary.md (printed) -> stop our server and MapServer.
# The anchor PostgreSQL cluster is LEFT RUNNING (data and caches stay warm for the next run;
# stop it with `BENCH_STOP_PG=1` or `../shared/bench/setup-pg.sh stop`).
#
# Environment:
#   BENCH_QUICK=1        quick mode: DURATION=5 REPEATS=1 WARMUP=2 W6_REPEATS=1, floor RUNS=3 RUNS_BIG=2
#   DURATION REPEATS WARMUP W6_REPEATS CONC THREADS   override the load parameters (default 20/3/5/3/8/2)
#   BENCH_TARGETS="mapserver ours"   which servers to measure (default both)
#   BENCH_FLOOR=0        skip the PostGIS floors
#   BENCH_WMS=1          also run W4/W5 (WMS GetMap 1024² PNG, 2 km and 50 km) against both servers, each
#                        workload after a restart of the server so that its peak memory (VmHWM) is its own,
#                        and floors F4/F5; ours draws with bench/anchor-styles.json (anchor.map's CLASSes) as
#                        the layers' default styles. Ours also: T1 a warm WMTS tile (PNG, WebMercatorQuad 14,
#                        from the disk cache), T2 the parcels' vector tile at the 50 km extent (level 9,
#                        drawn every time: cache off; bench/vector-tile-bench.mjs)
#   BENCH_DOWNLOAD=0     skip the download service vs ogr2ogr (bench/download.sh: D1–D4; DOWNLOAD_RUNS, default 3)
#   BENCH_IMPORT=0       skip the import of the 1M-parcel GeoPackage vs ogr2ogr -f PostgreSQL (bench/import.sh; IMPORT_RUNS, default 3)
#   BENCH_OGCAPI=0       skip O1 (ours only: OGC API Features /items, W1's bbox, limit=5000)
#   BENCH_RIGHTS=0       skip W1T/O1T (issue 11: W1 and O1 as a territorial user, département BENCH_RIGHTS_DEPT=45)
#   BENCH_CSW=0          skip the CSW section (bench/csw.sh: 100,000 gen-records.py records in their own
#                        database sdi_csw_bench, loaded once; run-csw.py C1–C5 vs pycsw 2.6.2's figures; CSW_* knobs there)
#   BENCH_ONLY=csw       only the CSW section (no packages, no anchor data load, no WFS/download workloads)
#   BENCH_ONLY=maps      only the map workloads (BENCH_WMS=1: W4 W5 on both servers, T1 T2 on ours; floors F0 F4 F5)
#   BENCH_SKIP_INSTALL=1 do not check/install Debian packages
#   BENCH_NO_BUILD=1     do not (re)build dist/
#   BENCH_STOP_PG=1      stop the anchor cluster at the end (default: leave it running)
#   BENCH_OUT=dir        results dir (default bench-results/<timestamp>)
#   OURS_PORT=8081  OURS_LOG_LEVEL=warn  OURS_DB_URL=postgres://postgres@127.0.0.1:5433/anchor
#   OURS_RESTART_W6=0    do not restart our server before each W6 download (default: restart, as the
#                        kit does for mapserv, so the sampled peak RSS and VmHWM belong to W6 alone)
# Exit status: 0 if every selected target ran, 1 if one could not be measured (summary still written).
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED_DIR="${SHARED_DIR:-$(dirname "$REPO")/shared}"
KIT="$SHARED_DIR/bench"
[ -x "$KIT/run-workloads.sh" ] || { echo "bench: shared kit not found in $KIT (set SHARED_DIR)" >&2; exit 2; }

STAMP="$(date +%Y%m%d-%H%M%S)"
OUTDIR="${BENCH_OUT:-$REPO/bench-results/$STAMP}"
mkdir -p "$OUTDIR"
OUTDIR="$(cd "$OUTDIR" && pwd)"
# PORT belongs to mapserver.sh (8091) and PG* to the anchor cluster (workloads.env defaults):
# inherited values would point the kit elsewhere
unset PORT PGHOST PGPORT PGUSER PGDATABASE PGOPTIONS

OURS_PORT="${OURS_PORT:-8081}"
OURS_DB_URL="${OURS_DB_URL:-postgres://postgres@127.0.0.1:5433/anchor}"
OURS_LOG_LEVEL="${OURS_LOG_LEVEL:-warn}"
OURS_URL="http://127.0.0.1:$OURS_PORT"
export OURS_PORT OURS_DB_URL OURS_LOG_LEVEL OURS_LOG="$OUTDIR/ours-server.log"   # for bench/ours-server.sh
# our server's admin credential for this run only (bench/anchor-styles.json goes in through the admin API) and
# a tile cache of this run (T1)
SDI_ADMIN_TOKEN="$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
export SDI_ADMIN_TOKEN SDI_TILE_CACHE_DIR="$OUTDIR/tile-cache"
BENCH_TARGETS="${BENCH_TARGETS:-mapserver ours}"

if [ "${BENCH_QUICK:-0}" = 1 ]; then
  : "${DURATION:=5}" "${REPEATS:=1}" "${WARMUP:=2}" "${W6_REPEATS:=1}" "${FLOOR_RUNS:=3}" "${FLOOR_RUNS_BIG:=2}"
fi
: "${CONC:=8}" "${THREADS:=2}" "${DURATION:=20}" "${REPEATS:=3}" "${WARMUP:=5}" "${W6_REPEATS:=3}"
: "${FLOOR_RUNS:=10}" "${FLOOR_RUNS_BIG:=5}"
export CONC THREADS DURATION REPEATS WARMUP W6_REPEATS

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
has_target() { [[ " $BENCH_TARGETS " == *" $1 "* ]]; }
T0=$SECONDS

# ------------------------------------------------------------------ cleanup
OURS_PID=""
MS_STARTED=0
POLICY_CREATED=0
cleanup() {
  local rc=$?
  set +e
  stop_ours
  if [ "$MS_STARTED" = 1 ]; then "$KIT/mapserver.sh" stop >/dev/null 2>&1 && log "MapServer stopped"; MS_STARTED=0; fi
  if [ "$POLICY_CREATED" = 1 ]; then rm -f /usr/sbin/policy-rc.d; POLICY_CREATED=0; fi
  if [ "${BENCH_STOP_PG:-0}" = 1 ]; then "$KIT/setup-pg.sh" stop; fi
  return $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop_ours() { "$REPO/bench/ours-server.sh" stop | sed 's/^/[bench] /' || true; OURS_PID=""; }

# peak_memory DIR PID…: the largest VmHWM (peak resident set) of the server processes, and their sum, in
# DIR/memory.json (bench/summarize.py shows it beside the workload)
peak_memory() {
  local d=$1 p v max=0 sum=0; shift
  for p in "$@"; do
    v=$(awk '/^VmHWM:/{print $2}' "/proc/$p/status" 2>/dev/null || true)
    v=${v:-0}; sum=$((sum + v)); [ "$v" -gt "$max" ] && max=$v
  done
  mkdir -p "$d"
  printf '{"max_vmhwm_kb":%s,"sum_vmhwm_kb":%s,"pids":"%s"}\n' "$max" "$sum" "$*" > "$d/memory.json"
}

# ------------------------------------------------------------------ 1. packages
install_packages() {
  local pkgs=(cgi-mapserver mapserver-bin nginx spawn-fcgi wrk hyperfine postgresql-15-postgis-3 gdal-bin)
  local missing=() p
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && { log "packages present"; return; }
  [ "$(id -u)" = 0 ] || { echo "bench: missing packages ${missing[*]} and not root" >&2; exit 2; }
  log "installing: ${missing[*]}"
  # no system service (nginx, the Debian postgresql cluster) may start: deny via policy-rc.d
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# temporary, written by scripts/bench.sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d; POLICY_CREATED=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends "${missing[@]}" > "$OUTDIR/apt.log" 2>&1; then
    apt-get update >> "$OUTDIR/apt.log" 2>&1
    apt-get install -y --no-install-recommends "${missing[@]}" >> "$OUTDIR/apt.log" 2>&1 ||
      { tail -20 "$OUTDIR/apt.log" >&2; exit 2; }
  fi
  if [ "$POLICY_CREATED" = 1 ]; then rm -f /usr/sbin/policy-rc.d; POLICY_CREATED=0; fi
}
if [ "${BENCH_SKIP_INSTALL:-0}" != 1 ] && [ "${BENCH_ONLY:-}" != csw ]; then install_packages; fi

# ------------------------------------------------------------------ CSW (bench/csw.sh), also alone with BENCH_ONLY=csw
CSW_STATUS="skipped"
run_csw() {
  log "CSW: 100,000 records vs pycsw 2.6.2 (bench/csw.sh; first run generates and loads them, ~3 min)"
  if [ "${BENCH_NO_BUILD:-0}" != 1 ] && { [ ! -f "$REPO/dist/app/cli.js" ] ||
       [ -n "$(find "$REPO/src" "$REPO/services" "$REPO/app" -name '*.ts' -newer "$REPO/dist/app/server.js" -print -quit 2>/dev/null)" ]; }; then
    log "building (tsc)"
    (cd "$REPO" && npx --no-install tsc -p tsconfig.json > "$OUTDIR/csw-build.log" 2>&1) || { tail -20 "$OUTDIR/csw-build.log" >&2; }
  fi
  if bash "$REPO/bench/csw.sh" "$OUTDIR/csw" 2>&1 | tee "$OUTDIR/csw.log" | grep --line-buffered -E '^\[csw' ; then :; fi
  if [ -f "$OUTDIR/csw/csw.md" ]; then CSW_STATUS=ok; else CSW_STATUS="bench/csw.sh failed (see csw.log)"; tail -20 "$OUTDIR/csw.log" >&2; fi
}
if [ "${BENCH_ONLY:-}" = csw ]; then
  "$KIT/setup-pg.sh" up > "$OUTDIR/setup-pg.log" 2>&1 || { cat "$OUTDIR/setup-pg.log" >&2; exit 2; }
  run_csw
  if [ -f "$OUTDIR/csw/csw.md" ]; then echo; cat "$OUTDIR/csw/csw.md"; fi
  log "done in $((SECONDS - T0)) s; results in $OUTDIR"
  [ "$CSW_STATUS" = ok ]; exit $?
fi

if [ "${BENCH_ONLY:-}" = maps ]; then BENCH_WMS=1 BENCH_DOWNLOAD=0 BENCH_IMPORT=0 BENCH_CSW=0; fi

# ------------------------------------------------------------------ 2. anchor cluster + data
log "anchor cluster (state in /tmp/anchor-pg)"
"$KIT/setup-pg.sh" up > "$OUTDIR/setup-pg.log" 2>&1 || { cat "$OUTDIR/setup-pg.log" >&2; exit 2; }
log "data load (skipped when already loaded; first time ~3.5 min)"
"$KIT/setup-pg.sh" load >> "$OUTDIR/setup-pg.log" 2>&1 || { tail -30 "$OUTDIR/setup-pg.log" >&2; exit 2; }
PSQLA=(psql -X -q -tA -h 127.0.0.1 -p 5433 -U postgres -d anchor)
"${PSQLA[@]}" -c "SELECT string_agg(n || '=' || current_setting(n), ' ') FROM unnest(ARRAY['max_parallel_workers_per_gather',
   'jit','shared_buffers','work_mem','random_page_cost']) n" > "$OUTDIR/pg-settings.txt"
"${PSQLA[@]}" -c "SELECT 'postgresql=' || current_setting('server_version') || ' postgis=' || postgis_lib_version()" >> "$OUTDIR/pg-settings.txt"
"${PSQLA[@]}" -c "SELECT 'rows:parcels=' || (SELECT count(*) FROM parcels) || ',roads=' || (SELECT count(*) FROM roads)
   || ',addresses=' || (SELECT count(*) FROM addresses)" >> "$OUTDIR/pg-settings.txt"

# ------------------------------------------------------------------ 3a. our server
OURS_STATUS="not selected"
ours_cli() { (cd "$REPO" && DATABASE_URL="$OURS_DB_URL" node dist/app/cli.js "$@"); }

start_ours() {
  OURS_STATUS="failed"
  cd "$REPO"
  if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
    if [ ! -f dist/app/server.js ] || [ ! -f dist/app/cli.js ] ||
       [ -n "$(find src services app -name '*.ts' -newer dist/app/server.js -print -quit 2>/dev/null)" ] ||
       [ tsconfig.json -nt dist/app/server.js ]; then
      log "building (tsc)"
      if ! npx --no-install tsc -p tsconfig.json > "$OUTDIR/ours-build.log" 2>&1; then
        tail -30 "$OUTDIR/ours-build.log" >&2
        if [ ! -f dist/app/server.js ]; then OURS_STATUS="build failed (see ours-build.log)"; return 1; fi
        log "WARNING: tsc reported errors; using the emitted dist/ anyway (see ours-build.log)"
      fi
    fi
  fi
  for f in dist/app/server.js dist/app/cli.js; do
    [ -f "$f" ] || { OURS_STATUS="$f missing"; return 1; }
  done
  log "our store: migrate + publish parcels, roads, addresses in db anchor"
  if ! ours_cli migrate > "$OUTDIR/ours-publish.log" 2>&1; then
    cat "$OUTDIR/ours-publish.log" >&2; OURS_STATUS="migrate failed (see ours-publish.log)"; return 1
  fi
  local t out
  for t in parcels roads addresses; do
    if out=$(ours_cli publish --table "public.$t" --name "$t" --id id --geom geom 2>&1); then
      echo "$out" >> "$OUTDIR/ours-publish.log"
    else
      echo "$out" >> "$OUTDIR/ours-publish.log"
      # idempotency: a second run finds the layer already registered
      if echo "$out" | grep -qiE 'already|exists|duplicate'; then
        log "  $t already published"
      else
        echo "$out" | tail -5 >&2
        log "  WARNING: publish $t failed (its workloads will fail their pre-flight check)"
      fi
    fi
  done
  # The overviews of the large layers (issue 9, W5; src/publishing/overview-job.ts), built before the server starts:
  # its job workers' start sweep would otherwise build them (and bench_import's, stale after each import run) in
  # the background of the first workloads. Layers whose overviews are fresh are left as they are; a build of the
  # three anchor layers took 40–50 s here (load average 7).
  local ov="--layer parcels --layer roads --layer addresses"
  if ours_cli layers 2>/dev/null | cut -f1 | grep -qx bench_import; then ov="$ov --layer bench_import"; fi
  # shellcheck disable=SC2086
  if ours_cli build-overviews $ov >> "$OUTDIR/ours-publish.log" 2>&1; then log "  overviews built"; else log "  WARNING: overviews not built (see ours-publish.log)"; fi
  stop_ours   # a leftover from an aborted run
  log "starting our server on $OURS_URL"
  if ! "$REPO/bench/ours-server.sh" start; then OURS_STATUS="server did not start (see ours-server.log)"; return 1; fi
  OURS_PID="$("$REPO/bench/ours-server.sh" pid)"
  OURS_STATUS="ok"
  if [ "${BENCH_WMS:-0}" = 1 ]; then anchor_styles || { OURS_STATUS="styles not stored (see ours-publish.log)"; return 1; }; fi
  settle_overviews "$ov"
}

# Overviews fresh and no build left running before the workloads. The build before the server's start can be
# made stale by what the start does to a first-published layer (2026-12-07, fresh anchor database: parcels'
# sdi.layers.updated_at moved at the first start, the overviews were stale, and the server's job workers rebuilt
# them under W4/W5 and lost each build at the restart before the next workload: W5 0 req/s, W4 −30 %). So:
# build what is stale again (fresh levels are skipped), then wait for the server's own overview jobs to end.
settle_overviews() {
  # shellcheck disable=SC2086
  ours_cli build-overviews $1 >> "$OUTDIR/ours-publish.log" 2>&1 || log "  WARNING: overviews not rebuilt (see ours-publish.log)"
  local i n
  for i in $(seq 120); do
    n=$(psql -X -qtA "$OURS_DB_URL" -c "SELECT count(*) FROM sdi.jobs WHERE kind = 'layer-overview' AND state = 'running'" 2>/dev/null || echo 0)
    [ "${n:-0}" = 0 ] && break
    sleep 2
  done
  log "  overviews fresh: $(psql -X -qtA "$OURS_DB_URL" -c "SELECT string_agg(DISTINCT layer_name || '=' || sdi.overview_fresh(overview_table)::text, ' ') FROM sdi.layer_overviews" 2>/dev/null)"
}

# The anchor's CLASS styles as the layers' default styles (admin API, with this run's token).
anchor_styles() {
  local t code
  for t in parcels roads addresses; do
    code=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))[sys.argv[2]]))' "$REPO/bench/anchor-styles.json" "$t" |
      curl -s -o "$OUTDIR/style-$t.json" -w '%{http_code}' -X PUT -H "Authorization: Bearer $SDI_ADMIN_TOKEN" \
        -H 'Content-Type: application/json' --data-binary @- "$OURS_URL/admin/styles/$t/anchor?default=true")
    echo "style anchor of $t: http $code" >> "$OUTDIR/ours-publish.log"
    case "$code" in 200|201) ;; *) cat "$OUTDIR/style-$t.json" >&2; return 1 ;; esac
  done
  log "  anchor.map styles stored as the layers' defaults"
}
# W1T/O1T (issue 11): W1 and O1 as a user whose read grant is the territory of département $RIGHTS_DEPT. A table is
# published once only, so the parcels layer itself is made restricted for them (after the anonymous W1/O1) and public
# again afterwards (and at every start, should a run have stopped in between); bench/rights-setup.mjs makes a user of
# this run, its grant and an API token, which the URLs carry (wrk sends no header per workload).
RIGHTS_DEPT="${BENCH_RIGHTS_DEPT:-45}"
rights_layer() { SDI_ADMIN_TOKEN="$SDI_ADMIN_TOKEN" node "$REPO/bench/rights-setup.mjs" "$OURS_URL" parcels "$@" 2>> "$OUTDIR/ours-publish.log"; }
rights_setup() {
  local token
  token=$(rights_layer "$RIGHTS_DEPT") || return 1
  cat >> "$OUTDIR/ours-target.env" <<EOF
# W1T / O1T: W1 and O1 as a territorial user (read grant within département $RIGHTS_DEPT, bench/rights-setup.mjs)
W1T_URL='$OURS_URL/wfs?SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=sdi:parcels&BBOX={BBOX_2KM},{CRS_2154}&COUNT=5000&OUTPUTFORMAT={FMT_GEOJSON}&access_token=$token'
W1T_KIND=geojson
O1T_URL='$OURS_URL/ogcapi/collections/parcels/items?bbox={BBOX_2KM}&bbox-crs=http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F2154&crs=http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F2154&limit=5000&f=json&access_token=$token'
O1T_KIND=geojson
EOF
  log "W1T/O1T: parcels restricted, read by a user whose grant is département $RIGHTS_DEPT"
}
if has_target ours; then start_ours || log "ours unavailable: $OURS_STATUS"; fi
# the parcels public (a run stopped during W1T/O1T left them restricted)
if [ "$OURS_STATUS" = ok ]; then rights_layer public || true; fi
cd "$REPO"

# ------------------------------------------------------------------ 3b. MapServer
if has_target mapserver; then
  if "$KIT/mapserver.sh" status 2>/dev/null | grep -q '^nginx   pid'; then
    log "MapServer already running (left running afterwards)"
  else
    "$KIT/mapserver.sh" start > "$OUTDIR/mapserver-start.log" 2>&1 || { cat "$OUTDIR/mapserver-start.log" >&2; exit 2; }
    MS_STARTED=1; log "MapServer started on http://127.0.0.1:8091/wxs"
  fi
fi

# ------------------------------------------------------------------ 4. workloads
MS_STATUS="not selected"
if has_target mapserver; then
  wl="W1 W2 W3 W6"; rc=0
  if [ "${BENCH_ONLY:-}" != maps ]; then
  log "MapServer: $wl  (c=$CONC t=$THREADS, ${WARMUP}s warm-up + ${REPEATS} x ${DURATION}s, W6 x $W6_REPEATS)"
  set +e
  env -u RSS_PIDS -u RSS_PIDS_CMD -u TARGET_ENV -u BASE_URL -u WFS_URL -u WMS_URL \
    LABEL=mapserver WORKLOADS="$wl" OUT="$OUTDIR/mapserver" "$KIT/run-workloads.sh" 2>&1 |
    tee "$OUTDIR/mapserver.log" | { grep --line-buffered -E '^   [WO][0-9]' || true; }
  rc=${PIPESTATUS[0]}
  set -e
  fi
  if [ "$rc" = 0 ]; then MS_STATUS=ok
  else MS_STATUS="run-workloads failed (see mapserver.log)"; tail -20 "$OUTDIR/mapserver.log" >&2; fi
  if [ "${BENCH_WMS:-0}" = 1 ]; then
    # each GetMap workload on fresh mapserv processes: their VmHWM afterwards is that workload's peak memory
    for w in W4 W5; do
      "$KIT/mapserver.sh" restart > /dev/null 2>&1 || true
      set +e
      env -u RSS_PIDS -u RSS_PIDS_CMD -u TARGET_ENV -u BASE_URL -u WFS_URL -u WMS_URL \
        LABEL=mapserver WORKLOADS="$w" OUT="$OUTDIR/mapserver/$w" "$KIT/run-workloads.sh" 2>&1 |
        tee -a "$OUTDIR/mapserver.log" | { grep --line-buffered -E '^   [WO][0-9]' || true; }
      rc=${PIPESTATUS[0]}
      set -e
      # shellcheck disable=SC2046
      peak_memory "$OUTDIR/mapserver/$w" $("$KIT/mapserver.sh" pids 2>/dev/null)
      if [ "$rc" != 0 ]; then MS_STATUS="run-workloads failed on $w (see mapserver.log)"; fi
    done
  fi
  if [ "$MS_STARTED" = 1 ]; then "$KIT/mapserver.sh" stop >/dev/null 2>&1; MS_STARTED=0; log "MapServer stopped"; fi
fi

if [ "$OURS_STATUS" = ok ]; then
  cat > "$OUTDIR/ours-target.env" <<EOF
# target file for run-workloads.sh, written by scripts/bench.sh
LABEL=ours
BASE_URL=$OURS_URL
WFS_URL=$OURS_URL/wfs
WMS_URL=$OURS_URL/wms
PARCELS=sdi:parcels
ROADS=sdi:roads
ADDRESSES=sdi:addresses
FMT_GEOJSON=application%2Fjson
# O1: OGC API Features, same bbox and row cap as W1
O1_URL='$OURS_URL/ogcapi/collections/parcels/items?bbox={BBOX_2KM}&bbox-crs=http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F2154&crs=http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F2154&limit=5000&f=json'
O1_KIND=geojson
# T1: a warm WMTS tile, the parcels' WebMercatorQuad level-14 tile at the centre of W4/W5 (1.91° E, 47.90° N),
# drawn once by the pre-flight request, then read from the disk cache
T1_URL='$OURS_URL/wmts/1.0.0/parcels/default/WebMercatorQuad/14/5701/8278.png'
T1_KIND=png
EOF
  wl="W1 W2 W3 W6"; [ "${BENCH_OGCAPI:-1}" = 1 ] && wl="W1 W2 W3 O1 W6"
  # W1T/O1T (issue 11): W1 and O1 again, the parcels restricted, as a user whose grant is a département
  if [ "${BENCH_RIGHTS:-1}" = 1 ]; then
    if [ "${BENCH_OGCAPI:-1}" = 1 ]; then wl="${wl/O1/O1 W1T O1T}"; else wl="${wl/W3/W3 W1T}"; fi
  fi
  [ "${BENCH_WMS:-0}" = 1 ] && wl="${wl/W6/W4 W5 T1 W6}"
  [ "${BENCH_ONLY:-}" = maps ] && wl="W4 W5 T1"
  pre_w6=""
  # like the anchor (mapserv restarted before each W6 run): a fresh process, so peak RSS is W6's own
  if [ "${OURS_RESTART_W6:-1}" = 1 ]; then pre_w6="$REPO/bench/ours-server.sh restart"; fi
  log "ours: $wl  (same parameters)"
  # one run-workloads.sh call per workload (OUT=ours/<W>), so that a server that died or stopped
  # answering is noticed, noted and restarted before the next workload
  OURS_NOTES=""
  for w in $wl; do
    if ! "$REPO/bench/ours-server.sh" check; then
      log "our server is not answering before $w — restarting it (noted in the summary)"
      OURS_NOTES="${OURS_NOTES}our server was down or not answering before $w and was restarted (see ours-server.log); "
      "$REPO/bench/ours-server.sh" restart || { OURS_STATUS="server could not be restarted before $w"; break; }
    fi
    if [ "$w" = W1T ] && ! rights_setup; then
      OURS_NOTES="${OURS_NOTES}W1T/O1T skipped: the territorial user could not be set up (see ours-publish.log); "
      rights_layer public || true; wl_skip="W1T O1T"
    fi
    case " ${wl_skip:-} " in *" $w "*) continue ;; esac
    # the map workloads on a fresh process, as MapServer's: VmHWM afterwards is the workload's own peak
    case "$w" in W4|W5|T1) "$REPO/bench/ours-server.sh" restart > /dev/null || { OURS_STATUS="server could not be restarted before $w"; break; } ;; esac
    set +e
    env -u RSS_PIDS -u BASE_URL -u WFS_URL -u WMS_URL \
      TARGET_ENV="$OUTDIR/ours-target.env" RSS_PIDS_CMD="$REPO/bench/ours-server.sh pid" PRE_W6_CMD="$pre_w6" \
      WORKLOADS="$w" OUT="$OUTDIR/ours/$w" "$KIT/run-workloads.sh" 2>&1 |
      tee -a "$OUTDIR/ours.log" | { grep --line-buffered -E '^   [WOT][0-9]' || true; }
    rc=${PIPESTATUS[0]}
    set -e
    # the parcels public again once the territorial workloads are done
    if [ "$w" = "$(echo "$wl" | grep -o '[WO]1T' | tail -1)" ]; then rights_layer public || OURS_NOTES="${OURS_NOTES}parcels could not be made public again after $w; "; fi
    # the PIDs unquoted: one word each (quoted, "supervisor child child" was one /proc path and memory.json said 0)
    case "$w" in W4|W5|T1) peak_memory "$OUTDIR/ours/$w" $("$REPO/bench/ours-server.sh" pid) ;; esac
    if [ "$rc" != 0 ]; then OURS_STATUS="run-workloads failed on $w (see ours.log)"; tail -20 "$OUTDIR/ours.log" >&2; fi
  done
  if ! "$REPO/bench/ours-server.sh" check; then
    OURS_NOTES="${OURS_NOTES}our server was down or not answering at the end of the run (see ours-server.log); "
  fi
  if [ "${BENCH_WMS:-0}" = 1 ] && [ "$OURS_STATUS" = ok ]; then
    # T2: the vector tile drawn on every request (no tile cache), on a fresh process
    log "ours: T2 (vector tile, level 9, tile cache off)"
    if SDI_TILE_CACHE_DIR='' "$REPO/bench/ours-server.sh" restart > /dev/null; then
      node "$REPO/bench/vector-tile-bench.mjs" "$OURS_URL" "$OUTDIR/ours/T2" 2>&1 | tee -a "$OUTDIR/ours.log" ||
        OURS_NOTES="${OURS_NOTES}T2 failed (see ours.log); "
      peak_memory "$OUTDIR/ours/T2" $("$REPO/bench/ours-server.sh" pid)
    else
      OURS_NOTES="${OURS_NOTES}our server did not restart for T2; "
    fi
  fi
  stop_ours
fi

FLOOR_STATUS="skipped"
if [ "${BENCH_FLOOR:-1}" = 1 ]; then
  fl="F0 F1 F2 F3 F6a"; [ "${BENCH_WMS:-0}" = 1 ] && fl="F0 F1 F2 F3 F4 F5 F6a"
  [ "${BENCH_ONLY:-}" = maps ] && fl="F0 F4 F5"
  log "PostGIS floors: $fl  (hyperfine $FLOOR_RUNS runs, F6a $FLOOR_RUNS_BIG)"
  if FLOORS="$fl" RUNS="$FLOOR_RUNS" RUNS_BIG="$FLOOR_RUNS_BIG" OUT="$OUTDIR/floor" \
       "$KIT/run-floor.sh" > "$OUTDIR/floor.log" 2>&1; then
    FLOOR_STATUS=ok
  else
    FLOOR_STATUS="run-floor failed (see floor.log)"; tail -20 "$OUTDIR/floor.log" >&2
  fi
fi

# ------------------------------------------------------------------ 4b. download service vs ogr2ogr
DOWNLOAD_STATUS="skipped"
if [ "${BENCH_DOWNLOAD:-1}" = 1 ]; then
  log "download service vs ogr2ogr (bench/download.sh)"
  if BENCH_NO_BUILD=1 RUNS="${DOWNLOAD_RUNS:-$([ "${BENCH_QUICK:-0}" = 1 ] && echo 1 || echo 3)}" \
       bash "$REPO/bench/download.sh" "$OUTDIR/download" > "$OUTDIR/download.log" 2>&1; then
    DOWNLOAD_STATUS=ok
  else
    DOWNLOAD_STATUS="bench/download.sh failed (see download.log)"; tail -20 "$OUTDIR/download.log" >&2
  fi
fi

# ------------------------------------------------------------------ 4c. import vs ogr2ogr -f PostgreSQL
IMPORT_STATUS="skipped"
if [ "${BENCH_IMPORT:-1}" = 1 ]; then
  log "import vs ogr2ogr (bench/import.sh)"
  if BENCH_NO_BUILD=1 RUNS="${IMPORT_RUNS:-$([ "${BENCH_QUICK:-0}" = 1 ] && echo 1 || echo 3)}" \
       bash "$REPO/bench/import.sh" "$OUTDIR/import" > "$OUTDIR/import.log" 2>&1; then
    IMPORT_STATUS=ok
  else
    IMPORT_STATUS="bench/import.sh failed (see import.log)"; tail -20 "$OUTDIR/import.log" >&2
  fi
fi

if [ "${BENCH_CSW:-1}" = 1 ]; then run_csw; fi

# ------------------------------------------------------------------ 5. summary
python3 "$REPO/bench/summarize.py" "$OUTDIR" \
  --mapserver-status "$MS_STATUS" --ours-status "$OURS_STATUS" --floor-status "$FLOOR_STATUS" \
  --quick "${BENCH_QUICK:-0}" --elapsed "$((SECONDS - T0))" --ours-notes "${OURS_NOTES:-}"
if [ -f "$OUTDIR/download/download.md" ]; then echo; cat "$OUTDIR/download/download.md"; else echo "download bench: $DOWNLOAD_STATUS"; fi
if [ -f "$OUTDIR/csw/csw.md" ]; then echo; cat "$OUTDIR/csw/csw.md"; else echo "CSW bench: $CSW_STATUS"; fi
if [ -f "$OUTDIR/import/import.md" ]; then echo; cat "$OUTDIR/import/import.md"; else echo "import bench: $IMPORT_STATUS"; fi
log "done in $((SECONDS - T0)) s; results in $OUTDIR"
[ "${BENCH_STOP_PG:-0}" = 1 ] || log "anchor cluster left running on 127.0.0.1:5433 (stop: $KIT/setup-pg.sh stop)"

rc=0
if has_target ours && [ "$OURS_STATUS" != ok ]; then rc=1; fi
if has_target mapserver && [ "$MS_STATUS" != ok ]; then rc=1; fi
exit $rc
