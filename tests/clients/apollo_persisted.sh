#!/usr/bin/env bash
# Apollo Client (@apollo/client 3, its persisted-query link) against a real `portal
# serve` on a temp SQLite database with demo data: automatic persisted queries as the
# web portal's own library speaks them. Needs node and npm.
# Usage: tests/clients/apollo_persisted.sh [path/to/portal]   (default: target/debug/portal)
set -euo pipefail
cd "$(dirname "$0")/../.."

portal=${1:-target/debug/portal}
source tests/lib/throwaway_portal.sh
serve_throwaway apollo_persisted "$portal" PORTAL_DEMO=true

# Pinned, kept outside the repo like the browser check's playwright-core.
packages=("@apollo/client@3.13.8" "graphql@16.11.0")
node_prefix=${XDG_CACHE_HOME:-$HOME/.cache}/portal-clients/node
if [[ $(cat "$node_prefix/node_modules/@apollo/client/package.json" 2>/dev/null) != *'"version": "3.13.8"'* ]] &&
  ! npm install --prefix "$node_prefix" --no-audit --no-fund --loglevel=error "${packages[@]}" >&2; then
  echo "apollo_persisted: FAILED: npm could not install ${packages[*]}" >&2
  exit 1
fi

email="apollo-$RANDOM@example.org" password="apollo-password-1"
curl -fsS "$base/v1/auth/signup" -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$password\",\"display_name\":\"Apollo\"}" >/dev/null
token=$(curl -fsS "$base/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$password\"}" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
if ! PORTAL_CLIENTS_NODE=$node_prefix timeout 60 node tests/clients/apollo_persisted.mjs "$base" "$token"; then
  echo "--- portal log" >&2; cat "$work/portal.log" >&2
  exit 1
fi
