#!/usr/bin/env bash
# bench/pycsw.sh — pycsw 2.6.2, live, beside our catalogue in the CSW bench (issue 12; called by bench/csw.sh).
#
#   bench/pycsw.sh check           exit 0 when pycsw and its Python dependencies can be imported (prints the version)
#   bench/pycsw.sh load DIR        setup_db + load_records DIR + optimize_db into the `pycsw` database of the anchor
#                                  cluster, as ../shared/bench/csw/results-pycsw.md describes; skipped when the
#                                  database comment says the same records are already there (CSW_RELOAD=1 forces)
#   bench/pycsw.sh loaded          exit 0 when they are
#   bench/pycsw.sh start | stop    gunicorn, 2 sync workers, pycsw.wsgi:application on 127.0.0.1:$PYCSW_PORT
#
# pycsw's code is never copied into this repository: it is looked for in $PYCSW_HOME (default /work/pycsw, a
# checkout of the 2.6.2 tag: `git -C pycsw checkout 2.6.2`), else in Debian's python3-pycsw (2.6.1). Its
# dependencies are Debian packages (python3-sqlalchemy python3-lxml python3-shapely python3-pyproj
# python3-owslib python3-geolinks python3-psycopg2 python3-xmltodict python3-dateutil gunicorn), as in the anchor.
#
# The repository: pycsw's own schema (setup_db: a PostGIS geometry column, the `anytext_tsvector` GIN index),
# its FTS trigger switched to French as in the anchor, one commit per record (load_records), VACUUM ANALYZE.
#
# Environment: PYCSW_HOME, PYCSW_DB_URL (postgres://postgres@127.0.0.1:5433/pycsw), PYCSW_PORT (8092),
# PYCSW_WORKERS (2), PYCSW_RUN (/tmp/sdi-bench-pycsw: config, pid, logs), CSW_COUNT CSW_SEED (the WANT comment).
set -euo pipefail
RUN="${PYCSW_RUN:-/tmp/sdi-bench-pycsw}"
DB_URL="${PYCSW_DB_URL:-postgres://postgres@127.0.0.1:5433/pycsw}"
PORT_="${PYCSW_PORT:-8092}"
WORKERS="${PYCSW_WORKERS:-2}"
COUNT="${CSW_COUNT:-100000}"
SEED="${CSW_SEED:-20261123}"
WANT="pycsw csw bench: gen-records.py --count $COUNT --seed $SEED"
mkdir -p "$RUN"
PIDFILE="$RUN/gunicorn.pid"
CFG="$RUN/pycsw.cfg"
db_name="${DB_URL##*/}"; db_name="${db_name%%\?*}"
admin_url="${DB_URL%/*}/postgres"
psql_() { psql -X -q -tA -v ON_ERROR_STOP=1 "$@"; }
log() { printf '[pycsw %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# Debian's Python (its packages are pycsw's dependencies; a pyenv python3 earlier on the PATH has none of them).
PY=/usr/bin/python3
# Where pycsw is: a checkout (PYTHONPATH) or the Debian package (already on the path).
PYCSW_HOME="${PYCSW_HOME:-/work/pycsw}"
if [ -f "$PYCSW_HOME/pycsw/__init__.py" ]; then
  export PYTHONPATH="$PYCSW_HOME${PYTHONPATH:+:$PYTHONPATH}"
  # pycsw/__init__.py reads its version with pkg_resources.require("pycsw"): a bare checkout needs its egg-info
  ls -d "$PYCSW_HOME"/*.egg-info >/dev/null 2>&1 || (cd "$PYCSW_HOME" && "$PY" setup.py -q egg_info >/dev/null 2>&1) || true
  ADMIN=("$PY" "$PYCSW_HOME/bin/pycsw-admin.py")
elif "$PY" -c 'import pycsw' 2>/dev/null; then
  PYCSW_HOME="$("$PY" -c 'import os, pycsw; print(os.path.dirname(os.path.dirname(pycsw.__file__)))')"
  ADMIN=(pycsw-admin)
  command -v pycsw-admin >/dev/null || ADMIN=("$PY" /usr/bin/pycsw-admin.py)
else
  PYCSW_HOME=""
fi

version() { "$PY" -c 'import pycsw; print(pycsw.__version__)'; }

check() {
  [ -n "$PYCSW_HOME" ] || { echo "pycsw not found (no $PYCSW_HOME checkout, no python3-pycsw)" >&2; return 1; }
  "$PY" -c 'import pycsw.server, sqlalchemy, lxml, shapely, pyproj, owslib, psycopg2, geolinks, xmltodict' 2>"$RUN/check.log" ||
    { echo "pycsw's Python dependencies are missing: $(tail -1 "$RUN/check.log")" >&2; return 1; }
  [ -x /usr/bin/gunicorn ] || { echo "gunicorn (Debian package) is missing" >&2; return 1; }
  echo "pycsw $(version) from $PYCSW_HOME, SQLAlchemy $("$PY" -c 'import sqlalchemy; print(sqlalchemy.__version__)'), gunicorn $(/usr/bin/gunicorn --version 2>&1 | grep -oE '[0-9.]+' | head -1)"
}

write_config() {
  local dsn="postgresql://${DB_URL#postgres://}"
  cat > "$CFG" <<EOF
[server]
home=$PYCSW_HOME
url=http://127.0.0.1:$PORT_/csw
mimetype=application/xml; charset=UTF-8
encoding=UTF-8
language=fr-FR
maxrecords=100
profiles=apiso

[manager]
transactions=false
allowed_ips=127.0.0.1

[metadata:main]
identification_title=pycsw bench
identification_abstract=pycsw 2.6 beside the SDI catalogue
identification_keywords=catalogue
identification_keywords_type=theme
identification_fees=None
identification_accessconstraints=None
provider_name=bench
provider_url=http://127.0.0.1/
contact_name=bench
contact_position=bench
contact_address=bench
contact_city=bench
contact_stateorprovince=bench
contact_postalcode=00000
contact_country=France
contact_phone=+33-0
contact_fax=+33-0
contact_email=bench@example.org
contact_url=http://127.0.0.1/
contact_hours=always
contact_instructions=none
contact_role=pointOfContact

[repository]
database=$dsn
table=records

[metadata:inspire]
enabled=false
EOF
}

# The same records are already in the database (its comment says which, set only after a complete load).
loaded() {
  [ "${CSW_RELOAD:-0}" != 1 ] || return 1
  [ -n "$(psql_ "$admin_url" -c "SELECT 1 FROM pg_database WHERE datname = '$db_name'")" ] || return 1
  local have n
  have="$(psql_ "$DB_URL" -c "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()")"
  n="$(psql_ "$DB_URL" -c "SELECT count(*) FROM records" 2>/dev/null || true)"
  [ "$have" = "$WANT" ] && [ "$n" = "$COUNT" ]
}

load() {
  local dir="${1:?usage: bench/pycsw.sh load RECORDS_DIR}"
  check >/dev/null
  write_config
  if [ -z "$(psql_ "$admin_url" -c "SELECT 1 FROM pg_database WHERE datname = '$db_name'")" ]; then
    psql_ "$admin_url" -c "CREATE DATABASE \"$db_name\""
  fi
  local n
  if loaded; then
    log "$COUNT records already loaded in $db_name: not reloading"
    return 0
  fi
  log "loading $COUNT records into $db_name with pycsw $(version) (~630 s)"
  psql_ "$DB_URL" -c "COMMENT ON DATABASE \"$db_name\" IS NULL" -c 'DROP TABLE IF EXISTS records CASCADE' -c 'CREATE EXTENSION IF NOT EXISTS postgis'
  "${ADMIN[@]}" -c setup_db -f "$CFG" > "$RUN/setup_db.log" 2>&1
  # the anchor's French full-text search (setup_db's default is English)
  psql_ "$DB_URL" -c 'DROP TRIGGER ftsupdate ON records' \
    -c "CREATE TRIGGER ftsupdate BEFORE INSERT OR UPDATE ON records FOR EACH ROW EXECUTE PROCEDURE tsvector_update_trigger('anytext_tsvector', 'pg_catalog.french', 'anytext')"
  local t=$SECONDS
  "${ADMIN[@]}" -c load_records -p "$dir" -r -y -f "$CFG" > "$RUN/load_records.log" 2>&1
  local load_s=$((SECONDS - t))
  t=$SECONDS
  "${ADMIN[@]}" -c optimize_db -f "$CFG" > "$RUN/optimize_db.log" 2>&1
  n="$(psql_ "$DB_URL" -c "SELECT count(*) FROM records")"
  log "load_records: $n records in $load_s s, optimize_db $((SECONDS - t)) s"
  echo "$load_s" > "$RUN/load-s.txt"
  [ "$n" = "$COUNT" ] || { echo "pycsw: $n records after the load, expected $COUNT" >&2; return 1; }
  psql_ "$DB_URL" -c "COMMENT ON DATABASE \"$db_name\" IS '$WANT'"
}

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
gunicorn_pid() {
  local p; p="$(cat "$PIDFILE" 2>/dev/null || true)"
  if alive "$p" && tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -q 'pycsw.wsgi'; then echo "$p"; fi
}

start() {
  check >/dev/null
  write_config
  [ -z "$(gunicorn_pid)" ] || { echo "pycsw already running (pid $(gunicorn_pid))"; return 0; }
  if ss -ltnH "sport = :$PORT_" | grep -q .; then echo "port $PORT_ busy — refusing" >&2; return 1; fi
  # pycsw's own Docker entrypoint: gunicorn, 2 sync workers (results-pycsw.md, finding 6)
  PYCSW_CONFIG="$CFG" PYCSW_ROOT="$PYCSW_HOME" /usr/bin/gunicorn --workers "$WORKERS" --bind "127.0.0.1:$PORT_" --timeout 600 \
    --pid "$PIDFILE" --daemon --log-file "$RUN/gunicorn.log" --chdir "$RUN" pycsw.wsgi:application
  local url="http://127.0.0.1:$PORT_/csw?service=CSW&version=2.0.2&request=GetCapabilities"
  for _ in $(seq 150); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then echo "pycsw started on 127.0.0.1:$PORT_ (pid $(gunicorn_pid), $WORKERS workers)"; return 0; fi
    sleep 0.2
  done
  echo "pycsw did not answer on $url (see $RUN/gunicorn.log)" >&2
  tail -20 "$RUN/gunicorn.log" >&2
  return 1
}

stop() {
  local p; p="$(gunicorn_pid)"
  [ -n "$p" ] || return 0
  kill -TERM "$p"
  for _ in $(seq 100); do alive "$p" || break; sleep 0.1; done
  rm -f "$PIDFILE"
  echo "pycsw stopped (pid $p)"
}

case "${1:-}" in
  check) check ;;
  loaded) loaded ;;
  load) load "${2:-}" ;;
  start) start ;;
  stop) stop ;;
  pid) gunicorn_pid ;;
  *) echo "usage: bench/pycsw.sh check|loaded|load DIR|start|stop|pid" >&2; exit 2 ;;
esac
