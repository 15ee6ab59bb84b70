#!/usr/bin/env bash
# Serve the whole platform with the demo data on http://127.0.0.1:${PORT:-8080}.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SETUP_PROFILE=serve source "$ROOT/scripts/setup.sh"
cd "$ROOT"
echo "[serve] database: ${DATABASE_URL%%@*}@${DATABASE_URL#*@}" >&2
echo "[serve] WFS:            http://127.0.0.1:${PORT:-8080}/wfs?SERVICE=WFS&REQUEST=GetCapabilities" >&2
echo "[serve] OGC API Features: http://127.0.0.1:${PORT:-8080}/ogcapi/" >&2
exec node dist/app/server.js
