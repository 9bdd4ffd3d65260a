#!/usr/bin/env bash
# Property-based tests of the whole REST API from its OpenAPI document: schemathesis
# runs every check (5xx, status codes, content types, headers and bodies against the
# schemas, negative data rejection, auth) against a real `portal serve --demo` on a
# temp SQLite database, signed in as the demo admin. Fails when any check fails or
# when no test case ran at all.
# Usage: tests/schemathesis/run.sh [path/to/portal]   (default: target/debug/portal)
# Environment: SCHEMATHESIS_MAX_EXAMPLES (default 30), SCHEMATHESIS_MAX_TIME (s, 300).
set -euo pipefail
cd "$(dirname "$0")/../.."

portal=${1:-target/debug/portal}
command -v schemathesis >/dev/null 2>&1 || { echo "schemathesis: not installed (pip install schemathesis)" >&2; exit 1; }

source tests/lib/throwaway_portal.sh
# The request and sign-in rate limits are off: a 429 is documented, but the point is
# to reach the handlers. No push comes due while it runs: the endpoints it registers
# are made up, and are never contacted.
serve_throwaway schemathesis "$portal" PORTAL_RATE_LIMIT_PER_SECOND=0 \
  PORTAL_AUTH_RATE_PER_IP=1000000 PORTAL_AUTH_RATE_PER_EMAIL=1000000 \
  PORTAL_PUSH_DELAY_MS=86400000 PORTAL_LOG_FORMAT=json -- --demo

token=$(curl -fsS "$base/v1/auth/login" -H 'content-type: application/json' \
  -d '{"email":"admin@demo.example","password":"portal-demo-password"}' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')

set +e
schemathesis --config-file tests/schemathesis/schemathesis.toml run "$base/openapi.json" \
  --checks all \
  --header "Authorization: Bearer $token" \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-30}" \
  --max-time "${SCHEMATHESIS_MAX_TIME:-300}" \
  --request-timeout 30 \
  --seed 20261126 \
  --workers 1 \
  --no-color \
  --generation-database none \
  --report junit --report-junit-path "$work/junit.xml" \
  2>&1 | tee "$work/schemathesis.log"
status=${PIPESTATUS[0]}
set -e

cases=$(python3 - "$work/junit.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print(0)
    sys.exit()
print(len(root.findall(".//testcase")))
PY
)
if [[ $cases -eq 0 ]]; then
  echo "schemathesis: no test ran" >&2
  exit 1
fi
if grep -q '"level":"ERROR"\|panicked' "$work/portal.log"; then
  echo "--- portal errors" >&2; grep '"level":"ERROR"\|panicked' "$work/portal.log" >&2 | head -20
fi
echo "schemathesis: $cases operations tested, exit status $status"
exit "$status"
