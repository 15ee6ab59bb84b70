#!/usr/bin/env bash
# Serve the whole platform with the demo data on http://127.0.0.1:${PORT:-8080}.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SETUP_PROFILE=serve source "$ROOT/scripts/setup.sh"
cd "$ROOT"
echo "[serve] database: ${DATABASE_URL%%@*}@${DATABASE_URL#*@}" >&2
echo "[serve] WFS:            http://127.0.0.1:${PORT:-8080}/wfs?SERVICE=WFS&REQUEST=GetCapabilities" >&2
echo "[serve] OGC API Features: http://127.0.0.1:${PORT:-8080}/ogcapi/" >&2
# A larger young generation for the serving processes (node:cluster forks inherit the flag): a W5 map (GetMap 1024² at
# 50 km) makes ~22 scavenges at V8's default 16 MB semi-space, 10 at 32 MB. Measured, rationale and figures: services/maps/README.md
# *Young generation*. Same flag in scripts/serve.sh, Dockerfile and bench/ours-server.sh.
exec node --max-semi-space-size=32 dist/app/server.js
