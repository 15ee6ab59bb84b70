#!/usr/bin/env bash
# Run the whole test suite against real PostGIS, GDAL, OWSLib and QGIS. Tests use their own database
# (<name>_test on the same server) so that a served instance is not disturbed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SETUP_PROFILE=test source "$ROOT/scripts/setup.sh"
TEST_DATABASE_URL="${TEST_DATABASE_URL:-${DATABASE_URL%/*}/$(basename "${DATABASE_URL%%\?*}")_test}"
# Every run starts from an empty test database: migrations and demo data are applied by the server under
# test, so a run never depends on what an earlier run (or an earlier version of a migration) left behind.
test_db="${TEST_DATABASE_URL##*/}"
test_db="${test_db%%\?*}"
psql "${TEST_DATABASE_URL%/*}/postgres" -qc "DROP DATABASE IF EXISTS \"$test_db\" WITH (FORCE)" >/dev/null
ensure_db "$TEST_DATABASE_URL"
export TEST_DATABASE_URL
# The platform's identity (issue 10: no placeholder is served): every process of a run (the suite's server, the
# servers and CLI commands tests start) gets the same, so none rewrites the records with another.
export SDI_CONTACT_EMAIL="${SDI_CONTACT_EMAIL:-donnees@plateforme.test}"
export SDI_PROVIDER_SITE="${SDI_PROVIDER_SITE:-https://plateforme.test/}"
export SHARED_DIR="${SHARED_DIR:-$(cd "$ROOT/.." && pwd)/shared}"
cd "$ROOT"
exec npx vitest run "$@"
