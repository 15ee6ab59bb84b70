#!/usr/bin/env bash
# bench/ours-server.sh — start / stop our server for the benchmark (used by scripts/bench.sh).
#
#   bench/ours-server.sh start     node dist/app/server.js on 127.0.0.1:$OURS_PORT, waits until it answers
#   bench/ours-server.sh stop      SIGTERM (then SIGKILL after 10 s) the PID in $SDI_BENCH_RUN/ours.pid
#   bench/ours-server.sh restart   (the W6 hook: a fresh process, so its peak RSS is W6's own)
#   bench/ours-server.sh pid       print the server PIDs: the supervisor and its serving processes (RSS sampling)
#   bench/ours-server.sh status
#   bench/ours-server.sh check     exit 0 if the process is alive and answers GetCapabilities
#
# The process runs dist/app/server.js through bench/ours-entry.mjs (own command line, see there), with the node flag
# scripts/serve.sh and the Dockerfile give it (--max-semi-space-size=32: services/maps/README.md *Young generation*).
#
# Environment: OURS_PROCESSES (serving processes, SDI_PROCESSES; default 2, as MapServer's 2 FastCGI processes),
# OURS_PORT (8081), OURS_DB_URL (postgres://postgres@127.0.0.1:5433/anchor),
# OURS_LOG_LEVEL (warn), OURS_LOG (log file, default $SDI_BENCH_RUN/ours-server.log),
# SDI_BENCH_RUN (/tmp/sdi-bench). Stops only the process it started (by its recorded PID).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="${SDI_BENCH_RUN:-/tmp/sdi-bench}"
PIDFILE="$RUN/ours.pid"
OURS_PORT="${OURS_PORT:-8081}"
OURS_DB_URL="${OURS_DB_URL:-postgres://postgres@127.0.0.1:5433/anchor}"
OURS_LOG_LEVEL="${OURS_LOG_LEVEL:-warn}"
OURS_PROCESSES="${OURS_PROCESSES:-2}"
OURS_LOG="${OURS_LOG:-$RUN/ours-server.log}"
PROBE="http://127.0.0.1:$OURS_PORT/wfs?SERVICE=WFS&REQUEST=GetCapabilities"
mkdir -p "$RUN"

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
ours_pid() {  # the recorded PID, if it is still our node server
  local p; p="$(cat "$PIDFILE" 2>/dev/null || true)"
  if alive "$p" && tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -q 'bench/ours-entry.mjs'; then echo "$p"; fi
}

stop() {
  local p; p="$(ours_pid)"
  if [ -n "$p" ]; then
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 100); do alive "$p" || break; sleep 0.1; done
    if alive "$p"; then
      kill -KILL "$p" 2>/dev/null || true
      echo "[bench] $(date -u +%FT%TZ) pid $p still running 10 s after SIGTERM: SIGKILL" | tee -a "$OURS_LOG" >&2
    fi
    for _ in $(seq 20); do alive "$p" || break; sleep 0.1; done
    echo "our server stopped (pid $p)"
  fi
  rm -f "$PIDFILE"
}

start() {
  local p code=000
  p="$(ours_pid)"
  if [ -n "$p" ]; then echo "our server already running (pid $p)"; return 0; fi
  [ -f "$REPO/dist/app/server.js" ] || { echo "no $REPO/dist/app/server.js (build first)" >&2; return 1; }
  if ss -ltnH "sport = :$OURS_PORT" | grep -q .; then echo "port $OURS_PORT busy — refusing" >&2; return 1; fi
  cd "$REPO"
  DATABASE_URL="$OURS_DB_URL" SDI_DEMO=0 SDI_PROCESSES="$OURS_PROCESSES" PORT="$OURS_PORT" HOST=127.0.0.1 LOG_LEVEL="$OURS_LOG_LEVEL" \
    NODE_ENV=production nohup node --max-semi-space-size=32 bench/ours-entry.mjs >> "$OURS_LOG" 2>&1 < /dev/null &
  p=$!
  echo "$p" > "$PIDFILE"
  for _ in $(seq 300); do
    alive "$p" || break
    code=$(curl -s -o /dev/null -w '%{http_code}' "$PROBE" || true)
    [ "$code" != 000 ] && break
    sleep 0.1
  done
  if ! alive "$p" || [ "$code" = 000 ]; then
    echo "our server did not start; last lines of $OURS_LOG:" >&2; tail -20 "$OURS_LOG" >&2
    stop >/dev/null; return 1
  fi
  echo "our server up: pid $p, http://127.0.0.1:$OURS_PORT (GetCapabilities http $code)"
}

case "${1:-status}" in
  start) start ;;
  stop) stop ;;
  restart) stop >/dev/null; start ;;
  pid) p="$(ours_pid)"; if [ -n "$p" ]; then echo "$p" $(pgrep -P "$p" | tr '\n' ' '); fi ;;
  check) [ -n "$(ours_pid)" ] && [ "$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$PROBE" || true)" != 000 ] ;;
  status) p="$(ours_pid)"; if [ -n "$p" ]; then echo "running pid $p rss $(awk '/VmRSS/{print $2" "$3}' /proc/$p/status)"; else echo "stopped"; fi ;;
  *) echo "usage: $0 {start|stop|restart|pid|status}" >&2; exit 2 ;;
esac
