#!/usr/bin/env bash
# Opens /docs (Swagger UI) and GET /graphql (GraphiQL) in headless Chromium against a
# real `portal serve` on a temp SQLite database, with every host but 127.0.0.1
# unresolvable, and checks the rendered pages: proof that both work with no CDN.
# Usage: tests/browser/check_docs.sh [path/to/portal]   (default: target/debug/portal)
# Needs node and npm; GRAPHIQL_SCREENSHOTS=DIR keeps a screenshot of a failed GraphiQL step.
set -euo pipefail
cd "$(dirname "$0")/../.."

portal=${1:-target/debug/portal}
browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $browser ]]; then
  echo "check_docs: chromium is not installed" >&2
  exit 1
fi
source tests/lib/throwaway_portal.sh
serve_throwaway check_docs "$portal"

render() { # url, output file
  timeout 60 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1" \
    --user-data-dir="$work/profile-$RANDOM" --virtual-time-budget=10000 \
    --dump-dom "$1" >"$2" 2>"$2.err"
}

failed=0
expect() { # file, pattern, what
  if grep -q -- "$2" "$1"; then
    echo "check_docs: ok: $3"
  else
    echo "check_docs: FAILED: $3 (no '$2' in the rendered DOM, $(wc -c <"$1") bytes)" >&2
    failed=1
  fi
}

render "$base/docs" "$work/docs.html"
expect "$work/docs.html" 'class="swagger-ui' "Swagger UI renders at /docs"
expect "$work/docs.html" '/v1/therapists' "Swagger UI lists /v1/therapists"
expect "$work/docs.html" 'Therapist portal API' "Swagger UI shows the document's title"
expect "$work/docs.html" 'authorize' "Swagger UI offers the bearer scheme"

render "$base/graphql" "$work/graphql.html"
expect "$work/graphql.html" 'graphiql-container' "GraphiQL renders at GET /graphql"
expect "$work/graphql.html" 'CodeMirror\|cm-editor\|monaco-editor' "GraphiQL shows its query editor"

# The docs explorer needs GraphiQL's introspection query to pass the depth limit.
render "$base/graphql?explorer=docs" "$work/explorer.html"
expect "$work/explorer.html" 'graphiql-doc-explorer' "GraphiQL opens its docs explorer"
expect "$work/explorer.html" 'TherapistConnection' "the docs explorer lists the schema's types"
if grep -q 'nested too deep' "$work/explorer.html"; then
  echo "check_docs: FAILED: GraphiQL's introspection was refused as too deep" >&2
  failed=1
fi

# --dump-dom cannot type or tell a shown pane from a hidden one: drive GraphiQL as a person
# would, with playwright-core (pinned, kept outside the repo, no browser download of its own).
playwright_version=1.65.1
node_prefix=${XDG_CACHE_HOME:-$HOME/.cache}/portal-browser/node
if [[ $(cat "$node_prefix/node_modules/playwright-core/package.json" 2>/dev/null) != *"\"version\": \"$playwright_version\""* ]] &&
  ! PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$node_prefix" --no-audit --no-fund \
    --loglevel=error "playwright-core@$playwright_version" >&2; then
  echo "check_docs: FAILED: npm could not install playwright-core@$playwright_version" >&2
  failed=1
elif ! PORTAL_BROWSER_NODE=$node_prefix CHROMIUM=$browser timeout 120 node tests/browser/graphiql.mjs "$base"; then
  echo "check_docs: FAILED: GraphiQL in a driven browser (graphiql: lines above)" >&2
  failed=1
fi

if [[ $failed -ne 0 ]]; then
  echo "--- portal log" >&2; cat "$work/portal.log" >&2
  exit 1
fi
echo "check_docs: both pages render offline"
