#!/usr/bin/env bash
# Prepare this machine to serve or test the platform, installing only what is missing, so that a second
# run takes seconds. Sourced by serve.sh and test.sh; exports DATABASE_URL.
#   SETUP_PROFILE=serve : PostGIS, GDAL, npm deps, build
#   SETUP_PROFILE=test  : the same plus the real clients used by the tests (QGIS, OWSLib, xmllint, chromium)
# Database: DATABASE_URL if set; else the server on 127.0.0.1:5432; else a cluster created here (port 5499).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROFILE="${SETUP_PROFILE:-serve}"
say() { echo "[setup] $*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing_pkgs() {
  local out=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || out+=("$p")
  done
  echo "${out[@]:-}"
}

apt_install() {
  local need
  need="$(missing_pkgs "$@")"
  [ -z "$need" ] && return 0
  say "installing: $need"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  # shellcheck disable=SC2086
  as_root apt-get install -y -qq --no-install-recommends $need >/dev/null
}

# --- system packages ---------------------------------------------------------------------------
PKGS=(libgdal-dev gdal-bin postgresql-client fonts-dejavu-core)
if [ "$PROFILE" = test ]; then
  PKGS+=(python3-owslib python3-qgis qgis-providers libxml2-utils python3-lxml python3-rdflib chromium)
fi
apt_install "${PKGS[@]}"

# --- database ----------------------------------------------------------------------------------
pg_up() { pg_isready -q -h "$1" -p "$2" -t 2 >/dev/null 2>&1; }

local_cluster() {
  # A cluster of our own, for machines without a PostgreSQL server we may use.
  local port=5499
  if ! pg_up 127.0.0.1 "$port"; then
    apt_install postgresql-15 postgresql-15-postgis-3
    if command -v pg_createcluster >/dev/null && [ ! -d /etc/postgresql/15/sdi ]; then
      say "creating PostgreSQL cluster 15/sdi on port $port"
      as_root pg_createcluster 15 sdi -p "$port" -- --auth=trust >/dev/null
    fi
    if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql/15/sdi ]; then
      as_root pg_ctlcluster --skip-systemctl-redirect 15 sdi start || as_root pg_ctlcluster 15 sdi start
    else
      # No Debian wrappers: initdb as the postgres user.
      local data="$ROOT/.sdi/pgdata"
      mkdir -p "$ROOT/.sdi" && chown postgres "$ROOT/.sdi"
      [ -f "$data/PG_VERSION" ] || su postgres -c "/usr/lib/postgresql/15/bin/initdb -D '$data' --auth=trust -U postgres" >/dev/null
      su postgres -c "/usr/lib/postgresql/15/bin/pg_ctl -D '$data' -o '-p $port -k /tmp' -l '$ROOT/.sdi/pg.log' -w start" >/dev/null
    fi
  fi
  echo "postgres://postgres@127.0.0.1:$port/sdi"
}

if [ -z "${DATABASE_URL:-}" ]; then
  if pg_up 127.0.0.1 5432 && psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -Atqc 'SELECT 1' >/dev/null 2>&1; then
    DATABASE_URL="postgres://postgres@127.0.0.1:5432/sdi"
  else
    DATABASE_URL="$(local_cluster)"
  fi
fi
export DATABASE_URL

# PostGIS for the server's major version when the server runs on this machine.
server_major="$(psql "${DATABASE_URL%/*}/postgres" -Atqc 'SHOW server_version_num' 2>/dev/null | cut -c1-2 || true)"
if [ -n "$server_major" ] && [ -d "/usr/lib/postgresql/$server_major" ]; then
  apt_install "postgresql-$server_major-postgis-3"
fi

ensure_db() {
  local url="$1" db="${1##*/}"
  db="${db%%\?*}"
  if ! psql "$url" -Atqc 'SELECT 1' >/dev/null 2>&1; then
    say "creating database $db"
    psql "${url%/*}/postgres" -qc "CREATE DATABASE \"$db\"" >/dev/null
  fi
  psql "$url" -qc 'CREATE EXTENSION IF NOT EXISTS postgis' >/dev/null
}
ensure_db "$DATABASE_URL"

# --- npm dependencies (gdal-async linked against the system GDAL) ------------------------------
export npm_config_build_from_source=true npm_config_shared_gdal=true
cd "$ROOT"
# Installed when the lock file's content differs from the one last installed (a stamp of its hash), not by dates:
# a new checkout or worktree sharing node_modules (cp -al) has a newer lock file with the same content.
lock_sum="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -f node_modules/.package-lock.json ] || [ "$(cat node_modules/.sdi-lock-sha256 2>/dev/null)" != "$lock_sum" ]; then
  say "installing npm dependencies (gdal-async builds against the system GDAL: about 2 minutes the first time)"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  echo "$lock_sum" > node_modules/.sdi-lock-sha256
fi
# (grep without -q reads all of ldd's output: with pipefail, grep -q exiting early SIGPIPEs ldd and fails the test at random)
if ! node -e "require('gdal-async')" >/dev/null 2>&1 || ! ldd node_modules/gdal-async/lib/binding/*/gdal.node 2>/dev/null | grep '/libgdal.so' >/dev/null; then
  say "building gdal-async against the system GDAL"
  (cd node_modules/gdal-async && npx --yes node-gyp rebuild --shared_gdal -j max >/dev/null 2>&1) || npm rebuild gdal-async --build-from-source --shared_gdal >/dev/null
fi

# --- build -------------------------------------------------------------------------------------
if [ ! -f dist/app/server.js ] || [ -n "$(find src services app tsconfig.json package.json -newer dist/app/server.js -print -quit)" ]; then
  say "compiling TypeScript"
  npx tsc -p tsconfig.json
fi
# The map viewer's browser bundle (OpenLayers, esbuild): skipped in milliseconds when up to date.
node scripts/build-viewer.mjs
