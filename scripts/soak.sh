#!/usr/bin/env bash
# `npm run soak`: ten minutes of mixed traffic at 8 connections with a PostgreSQL restart every 2 minutes
# (test/soak/db-restart.soak.ts), on a cluster the soak creates itself. SOAK_MINUTES, SOAK_CLIENTS,
# SOAK_RESTART_EVERY_S override. Results in bench-results/soak-<timestamp>/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SETUP_PROFILE=serve source "$ROOT/scripts/setup.sh"
cd "$ROOT"
exec npx vitest run --config vitest.soak.config.ts "$@"
