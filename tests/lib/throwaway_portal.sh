# A `portal serve` for one test script: a free loopback port, a temp SQLite database,
# stopped and removed when the script exits. Sourced, not run.
#
# serve_throwaway LABEL PORTAL [NAME=VALUE ...] [-- SERVE ARGS ...]
# starts it and waits until /readyz answers; sets `work` (the temp directory, also
# for the caller's files), `base` (its URL) and `server` (its pid).

work=$(mktemp -d)
server=""
cleanup() {
  if [[ -n $server ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

serve_throwaway() {
  local label=$1 portal=$2 port
  shift 2
  local settings=()
  while [[ $# -gt 0 && $1 != -- ]]; do settings+=("$1"); shift; done
  [[ ${1:-} == -- ]] && shift
  [[ -x $portal ]] || { echo "$label: $portal is not built (cargo build --bin portal)" >&2; exit 1; }
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  env PORTAL_DATABASE_URL="sqlite://$work/portal.db?mode=rwc" PORTAL_BIND="127.0.0.1:$port" \
    PORTAL_LOG=warn "${settings[@]}" "$portal" serve "$@" >"$work/portal.log" 2>&1 &
  server=$!
  base="http://127.0.0.1:$port"
  for _ in $(seq 1 300); do
    curl -fsS "$base/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$server" 2>/dev/null || { cat "$work/portal.log" >&2; echo "$label: portal exited" >&2; exit 1; }
    sleep 0.2
  done
  cat "$work/portal.log" >&2
  echo "$label: portal did not become ready" >&2
  exit 1
}
